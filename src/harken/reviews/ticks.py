"""Reviews' periodic duty: say which review series are due or overdue (once per period)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from harken.core import audit
from harken.core.audit import Actor, audit_context
from harken.core.models import AuditEvent

from .models import ReviewSeries
from .services import series_state


def reviews_due(now: dt.datetime) -> str:
    today = timezone.localdate(now)
    overdue, due = [], []
    with audit_context(actor=Actor.system("reviews")):
        for series in ReviewSeries.objects.filter(active=True):
            state = series_state(series, today)
            if state.overdue:
                overdue.append(series.name)
                period = state.period[1].isoformat()
                seen = AuditEvent.objects.filter(
                    action="reviewseries.overdue",
                    object_id=str(series.pk),
                    changes__period_end=period,
                ).exists()
                if not seen:
                    audit.record("reviewseries.overdue", series, changes={"period_end": period})
            elif state.due_soon:
                due.append(f"{series.name} (by {state.due_on})")
    parts = []
    if overdue:
        parts.append("overdue: " + ", ".join(overdue))
    if due:
        parts.append("due: " + ", ".join(due))
    return "; ".join(parts) or "every review is up to date"
