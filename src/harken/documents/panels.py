"""The documents panel of the home page: what the person must read, what waits for approval."""

from typing import Any

from django.http import HttpRequest

from .choices import VersionStatus
from .models import DocumentVersion
from .services import waiting_for


def documents_panel(request: HttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not user.has_perm("documents.view_document"):
        return None
    to_read = list(waiting_for(user))
    in_review = None
    if user.has_perm("documents.approve_documentversion"):
        in_review = DocumentVersion.objects.filter(status=VersionStatus.IN_REVIEW).count()
    if not to_read and not in_review:
        return None
    return {"template": "documents/_panel.html", "to_read": to_read, "in_review": in_review}
