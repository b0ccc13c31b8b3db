"""A customer's timeline: communications, documents provided and feedback, newest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch

from harken.customers.models import Contact, Customer
from harken.documents.models import Distribution
from harken.feedback.models import FeedbackItem

from .choices import CHANNEL_ICONS, STATUS_COLOURS, CommunicationStatus, Direction
from .models import Communication


@dataclass
class Entry:
    at: dt.datetime
    kind: str  # communication, document, feedback
    icon: str
    title: str
    url: str
    summary: str = ""
    details: list[str] = field(default_factory=list)
    badge: tuple[str, str] | None = None
    record: Any = None


def customer_timeline(customer: Customer, *, user: Any, limit: int = 50) -> list[Entry]:
    """The latest `limit` entries of each kind the user may see, merged by time.

    Three queries plus one for contacts, whatever the number of entries.
    """
    entries: list[Entry] = []
    if user.has_perm("communications.view_communication"):
        communications = (
            Communication.objects.filter(customer=customer)
            .exclude(status=CommunicationStatus.DISMISSED)
            .select_related("staff")
            .prefetch_related(Prefetch("contacts", queryset=Contact.objects.only("name")))
            .order_by("-occurred_at", "-pk")[:limit]
        )
        for c in communications:
            arrow = "from" if c.direction == Direction.INBOUND else "to"
            details = [
                f"{c.get_channel_display()} {arrow} {', '.join(x.name for x in c.contacts.all()) or customer.name}"
            ]
            if c.staff:
                details.append(f"our side: {c.staff.get_full_name() or c.staff.username}")
            entries.append(
                Entry(
                    at=c.occurred_at,
                    kind="communication",
                    icon=CHANNEL_ICONS.get(c.channel, "chat"),
                    title=c.subject or c.get_channel_display(),
                    url=c.get_absolute_url(),
                    summary=c.body[:240],
                    details=details,
                    badge=(c.get_status_display(), STATUS_COLOURS[c.status])
                    if c.status != CommunicationStatus.FILED
                    else None,
                    record=c,
                )
            )
    if user.has_perm("documents.view_distribution"):
        for d in (
            Distribution.objects.filter(customer=customer)
            .select_related("version__document")
            .order_by("-distributed_at", "-pk")[:limit]
        ):
            document = d.version.document
            entries.append(
                Entry(
                    at=d.distributed_at,
                    kind="document",
                    icon="file-earmark-text",
                    title=f"{document.title} v{d.version.label} provided",
                    url=d.get_absolute_url(),
                    summary=d.reason,
                    details=[f"{d.number}, {d.get_occasion_display().lower()}"],
                    record=d,
                )
            )
    if user.has_perm("feedback.view_feedbackitem"):
        for item in FeedbackItem.objects.filter(customer=customer).order_by("-received_at", "-pk")[
            :limit
        ]:
            entries.append(
                Entry(
                    at=item.received_at,
                    kind="feedback",
                    icon="megaphone",
                    title=f"{item.get_kind_display()} {item.complaint_number or item.number}",
                    url=item.get_absolute_url(),
                    summary=(item.title or item.text)[:240],
                    record=item,
                )
            )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
