"""Feedback's periodic duty: report complaints past their targets, once each."""

from __future__ import annotations

import datetime as dt

from harken.core import audit

from .services import overdue_complaints


def flag_overdue_complaints(now: dt.datetime) -> str:
    """Record one `feedbackitem.overdue` event per complaint the first time it is late.

    An item is flagged again only for a different deadline (acknowledge, then resolve).
    """
    from harken.core.models import AuditEvent

    flagged = 0
    for item in overdue_complaints(now).select_related("source").iterator(chunk_size=500):
        late = []
        if item.acknowledged_at is None and item.acknowledge_due and item.acknowledge_due < now:
            late.append("acknowledge")
        if item.resolved_at is None and item.resolve_due and item.resolve_due < now:
            late.append("resolve")
        already = set(
            AuditEvent.objects.filter(
                action="feedbackitem.overdue",
                object_type="feedback.feedbackitem",
                object_id=str(item.pk),
            ).values_list("changes__deadline", flat=True)
        )
        for deadline in late:
            if deadline not in already:
                audit.record("feedbackitem.overdue", item, changes={"deadline": deadline})
                flagged += 1
    return f"{flagged} newly overdue complaint deadlines flagged"
