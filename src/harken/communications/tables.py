"""Columns of the communication lists and exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.html import format_html

from harken.core.tables import Column
from harken.core.templatetags.harken import badge

from .choices import CHANNEL_ICONS, STATUS_COLOURS, Direction


@dataclass(frozen=True)
class ChannelColumn(Column):
    """The channel with its icon and an arrow for the direction."""

    def value(self, obj: Any) -> Any:
        arrow = "arrow-down-left" if obj.direction == Direction.INBOUND else "arrow-up-right"
        return format_html(
            '<i class="bi bi-{}" aria-hidden="true"></i> {} '
            '<i class="bi bi-{}" title="{}" aria-label="{}"></i>',
            CHANNEL_ICONS.get(obj.channel, "chat"),
            obj.get_channel_display(),
            arrow,
            obj.get_direction_display(),
            obj.get_direction_display(),
        )


@dataclass(frozen=True)
class StatusColumn(Column):
    def value(self, obj: Any) -> Any:
        return badge(obj.get_status_display(), STATUS_COLOURS.get(obj.status, "secondary"))


@dataclass(frozen=True)
class ProblemsColumn(Column):
    def value(self, obj: Any) -> Any:
        return " ".join(obj.problems) if obj.problems else None


COMMUNICATION_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("occurred_at", "When", order_by="occurred_at"),
    ChannelColumn("channel", "Channel", order_by="channel"),
    Column("customer.name", "Customer", order_by="customer__name"),
    Column("subject", "Subject", link=True),
    Column("staff.username", "Our side"),
    StatusColumn("status", "Status", order_by="status"),
)
COMMUNICATION_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number"),
    Column("occurred_at", "When"),
    Column("direction", "Direction"),
    Column("channel", "Channel"),
    Column("customer.number", "Customer number"),
    Column("customer.name", "Customer"),
    Column("contacts", "Contacts"),
    Column("staff.username", "Our staff member"),
    Column("subject", "Subject"),
    Column("phase", "Lifecycle phase"),
    Column("status", "Status"),
    Column("from_address", "From"),
    Column("to_addresses", "To"),
    Column("message_key", "Message-ID"),
    Column("thread_id", "Thread"),
    Column("body", "Text"),
)
TRIAGE_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("occurred_at", "When", order_by="occurred_at"),
    Column("from_address", "From", order_by="from_address"),
    Column("subject", "Subject", link=True),
    Column("mailbox.name", "Mailbox"),
    ProblemsColumn("problems", "Why it waits"),
)
TIMELINE_COLUMNS: tuple[Column, ...] = (
    Column("occurred_at", "When"),
    ChannelColumn("channel", "Channel"),
    Column("subject", "Subject", link=True),
    Column("staff.username", "Our side"),
)
