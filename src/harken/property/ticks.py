"""Customer property's periodic duty: flag, once each, the items overdue for return or
destruction, the items due for a check, the data past its retention, and the incidents
whose customer was not told in time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Model
from django.utils import timezone

from harken.core import audit
from harken.core.audit import Actor, audit_context
from harken.core.models import AuditEvent

from . import services


def flag_once(
    records: Iterable[Model], action: str, details: Callable[[Any], dict[str, Any]], key: str
) -> int:
    """Record one `action` event per record the first time it is found in this state.

    `details(record)` gives the event's changes; `key` names the one that identifies the
    state (the due date, the last event), so a record is flagged again only once that
    changes (a new due date, a later check that lapsed again).
    """
    records = list(records)
    if not records:
        return 0
    object_type = records[0]._meta.label_lower
    seen = {
        (object_id, audit.jsonable(changes.get(key)) if isinstance(changes, dict) else None)
        for object_id, changes in AuditEvent.objects.filter(
            action=action, object_type=object_type, object_id__in=[str(r.pk) for r in records]
        ).values_list("object_id", "changes")
    }
    flagged = 0
    for record in records:
        changes = audit.jsonable(details(record))
        if (str(record.pk), changes.get(key)) in seen:
            continue
        audit.record(action, record, changes=changes)
        flagged += 1
    return flagged


def property_duties(now: dt.datetime) -> str:
    today = timezone.localdate(now)
    with audit_context(actor=Actor.system("property")):
        overdue = flag_once(
            services.overdue_end(today).order_by("due_date"),
            "propertyitem.overdue",
            lambda i: {"due_date": i.due_date, "end_action": i.end_action},
            "due_date",
        )
        checks = flag_once(
            services.check_due(now).order_by("last_event_at"),
            "propertyitem.check_due",
            lambda i: {"last_event_at": i.last_event_at},
            "last_event_at",
        )
        retention = flag_once(
            services.past_retention(today).order_by("retain_until"),
            "propertyitem.retention_passed",
            lambda i: {"retain_until": i.retain_until},
            "retain_until",
        )
        late = flag_once(
            services.notifications_overdue(now).order_by("notify_by"),
            "propertyincident.notification_overdue",
            lambda n: {"notify_by": n.notify_by},
            "notify_by",
        )
    return (
        f"{counted(overdue, 'item')} newly overdue for return or destruction, "
        f"{counted(checks, 'item')} newly due for a check, "
        f"{counted(retention, 'item')} newly past retention, "
        f"{counted(late, 'incident notification')} newly late"
    )


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
