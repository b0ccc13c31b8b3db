"""The auditor's questions about customer property, asked of the data by the readiness
check (assurance). Each check returns (count, message, records) as the check expects."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q

from .choices import CustodyKind, PropertyStatus
from .models import CustodyEvent, PropertyIncident, PropertyItem

MAX_RECORDS = 50


def _link(obj: Any) -> tuple[str, str]:
    return str(obj), obj.get_absolute_url()


def receipts_and_protection(now: dt.datetime) -> tuple[int, str, list]:
    """Every item we received has its receipt in the custody chain, and every item says
    how it is protected (storage conditions, access restrictions or handling)."""
    receipt = CustodyEvent.objects.filter(item=OuterRef("pk"), kind=CustodyKind.RECEIVED)
    no_receipt = PropertyItem.objects.exclude(status=PropertyStatus.EXPECTED).exclude(
        Exists(receipt)
    )
    unprotected = PropertyItem.objects.filter(
        Q(storage_conditions="") & Q(access_restrictions="") & Q(handling_instructions="")
    )
    failing = (no_receipt | unprotected).distinct().order_by("number")
    count = failing.count()
    if not count:
        total = PropertyItem.objects.count()
        return (
            0,
            f"All {total} property items have a receipt record and protection requirements.",
            [],
        )
    parts = []
    if n := no_receipt.count():
        parts.append(f"{n} received without a receipt record")
    if n := unprotected.count():
        parts.append(f"{n} without protection requirements")
    return (
        count,
        f"{count} property items fall short: {'; '.join(parts)}.",
        [_link(i) for i in failing[:MAX_RECORDS]],
    )


def incidents_notified(now: dt.datetime) -> tuple[int, str, list]:
    """Every incident has the communication that told the customer (past its deadline)."""
    late = PropertyIncident.objects.filter(notification__isnull=True, notify_by__lt=now)
    pending = PropertyIncident.objects.filter(notification__isnull=True, notify_by__gte=now).count()
    count = late.count()
    waiting = f" {pending} more are within their deadline." if pending else ""
    if count:
        return (
            count,
            f"{count} property incidents have no customer notification past their deadline.{waiting}",
            [_link(i) for i in late.select_related("item").order_by("notify_by")[:MAX_RECORDS]],
        )
    total = PropertyIncident.objects.count()
    return (
        0,
        f"Every property incident ({total}) has a customer notification or is within its deadline.{waiting}",
        [],
    )


QUESTIONS = (
    (
        "property_receipts",
        "Does every customer property item have a receipt record and protection requirements?",
        receipts_and_protection,
    ),
    (
        "property_notified",
        "Was the customer told of every incident with their property (lost, damaged, unsuitable)?",
        incidents_notified,
    ),
)
