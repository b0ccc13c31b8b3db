"""The communications panel of the home page: what was logged, what waits in triage."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from .choices import CommunicationStatus, RunStatus
from .models import Communication, MailRun


def communications_panel(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.has_perm("communications.view_communication"):
        return None
    since = timezone.now() - dt.timedelta(days=30)
    recent_runs = MailRun.objects.filter(started_at__gte=timezone.now() - dt.timedelta(days=1))
    return {
        "template": "communications/_panel.html",
        "logged_30d": Communication.objects.filter(occurred_at__gte=since).count(),
        "triage": Communication.objects.filter(status=CommunicationStatus.TRIAGE).count(),
        "failed_runs": list(
            recent_runs.filter(status=RunStatus.FAILED).select_related("mailbox")[:3]
        ),
    }
