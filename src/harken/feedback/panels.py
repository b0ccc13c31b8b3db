"""The feedback panel of the home page: what came in, what waits, what is late."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from .choices import ItemKind, ItemStatus
from .models import FeedbackItem
from .services import overdue_count


def feedback_panel(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.has_perm("feedback.view_feedbackitem"):
        return None
    since = timezone.now() - dt.timedelta(days=30)
    recent = FeedbackItem.objects.filter(received_at__gte=since)
    return {
        "template": "feedback/_panel.html",
        "received_30d": recent.count(),
        "complaints_30d": recent.filter(kind=ItemKind.COMPLAINT).count(),
        "unconfirmed": FeedbackItem.objects.filter(
            classification_confirmed=False, status=ItemStatus.NEW
        ).count(),
        "overdue": overdue_count(open_only=True),
    }
