"""The customer property panel of the home page: what we hold, what is due, what went wrong."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from . import services
from .choices import HELD_STATES, IncidentStatus
from .models import PropertyIncident, PropertyItem


def property_panel(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.has_perm("property.view_propertyitem"):
        return None
    now = timezone.now()
    today = timezone.localdate(now)
    return {
        "template": "property/_panel.html",
        "held": PropertyItem.objects.filter(status__in=HELD_STATES).count(),
        "overdue": services.overdue_end(today).count(),
        "check_due": services.check_due(now).count(),
        "retention": services.past_retention(today).count(),
        "open_incidents": PropertyIncident.objects.filter(status=IncidentStatus.OPEN).count(),
        "late_notifications": services.notifications_overdue(now).count(),
    }
