"""Columns of the document lists and exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harken.core.tables import Column
from harken.core.templatetags.harken import badge

from .choices import VERSION_COLOURS


@dataclass(frozen=True)
class StatusColumn(Column):
    """A version's status as a coloured badge (plain text in exports is the label)."""

    def value(self, obj: Any) -> Any:
        target = obj
        for part in self.accessor.split(".")[:-1]:
            target = getattr(target, part, None)
            if target is None:
                return None
        return badge(target.get_status_display(), VERSION_COLOURS.get(target.status, "secondary"))


DOCUMENT_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("title", "Title", order_by="title", link=True),
    Column("kind", "Kind", order_by="kind"),
    Column("current_label", "Current version"),
    Column("current_effective", "Effective from"),
    Column("owner_role", "Owner role", order_by="owner_role"),
    Column("clauses", "Clauses"),
)

VERSION_COLUMNS: tuple[Column, ...] = (
    Column("label", "Version", link=True),
    StatusColumn("status", "Status"),
    Column("is_current", "Current"),
    Column("effective_from", "Effective from"),
    Column("approved_by", "Approved by"),
    Column("approved_at", "Approved at"),
    Column("change_summary", "What changed"),
)

DISTRIBUTION_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("distributed_at", "Provided at", order_by="distributed_at"),
    Column("version", "Version"),
    Column("customer.name", "Customer", order_by="customer__name"),
    Column("contact.name", "Contact"),
    Column("occasion", "Occasion", order_by="occasion"),
    Column("reason", "Why"),
    Column("reference", "Reference"),
    Column("distributed_by.username", "By"),
)
DISTRIBUTION_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number"),
    Column("distributed_at", "Provided at"),
    Column("version.document.number", "Document"),
    Column("version.document.title", "Title"),
    Column("version.label", "Version"),
    Column("version.status", "Version status now"),
    Column("customer.number", "Customer number"),
    Column("customer.name", "Customer"),
    Column("contact.name", "Contact"),
    Column("contact.email", "Contact e-mail"),
    Column("occasion", "Occasion"),
    Column("reason", "Why"),
    Column("reference", "Reference"),
    Column("distributed_by.username", "Provided by"),
)

ACKNOWLEDGEMENT_COLUMNS: tuple[Column, ...] = (
    Column("acknowledged_at", "Acknowledged at", order_by="acknowledged_at"),
    Column("user.username", "Person"),
    Column("version.document.number", "Document"),
    Column("version.document.title", "Title"),
    Column("version.label", "Version"),
)
