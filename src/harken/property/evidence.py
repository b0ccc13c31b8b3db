"""The customer property part of the evidence pack (clause 8.2.1 d): the register, the
custody events, the incidents and the inventory checks of the period, as CSV and XLSX."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from .models import CustodyEvent, InventoryCheck, PropertyIncident, PropertyItem


def _user(user: Any) -> str:
    return user.get_username() if user is not None else ""


def property_evidence(start: dt.date, end: dt.date) -> list[Any]:
    """Registered with `core.registry.add_evidence`; assurance calls it for a period."""
    from harken.assurance.evidence import Part, bounds, register_files

    lo, hi = bounds(start, end)
    items = (
        PropertyItem.objects.filter(created_at__lt=hi)
        .select_related("customer", "received_by", "holder_user", "order")
        .order_by("number")
    )
    item_rows = [
        [
            i.number,
            i.customer.number,
            i.customer.name,
            i.get_kind_display(),
            i.name,
            i.identifiers,
            i.quantity,
            i.unit,
            i.order.number if i.order else "",
            i.order_reference,
            i.received_at,
            _user(i.received_by),
            i.condition_on_receipt,
            i.storage_conditions,
            i.access_restrictions,
            i.handling_instructions,
            i.get_confidentiality_display(),
            i.storage_location,
            i.permitted_use,
            i.get_end_action_display(),
            i.due_date,
            i.retain_until,
            i.get_status_display(),
            i.holder_label,
            i.location,
            i.last_event_at,
        ]
        for i in items.iterator(chunk_size=2000)
    ]
    events = (
        CustodyEvent.objects.filter(occurred_at__gte=lo, occurred_at__lt=hi)
        .select_related("item", "performed_by", "to_user", "acknowledgement", "incident")
        .prefetch_related("files__file")
        .order_by("item__number", "sequence")
    )
    event_rows = [
        [
            e.item.number,
            e.sequence,
            e.get_kind_display(),
            e.occurred_at,
            _user(e.performed_by),
            e.from_holder,
            e.from_location,
            e.to_label,
            e.to_location,
            e.purpose,
            e.note,
            e.acknowledgement.number if e.acknowledgement else "",
            " ".join(f"{f.file.name} (SHA-256 {f.file.sha256})" for f in e.files.all()),
            e.incident.number if e.incident else "",
            e.get_status_after_display(),
            e.created_at,
        ]
        for e in events.iterator(chunk_size=2000)
    ]
    incidents = (
        PropertyIncident.objects.filter(
            Q(discovered_at__gte=lo, discovered_at__lt=hi)
            | Q(closed_at__gte=lo, closed_at__lt=hi)
            | Q(discovered_at__lt=hi, closed_at__isnull=True)
        )
        .select_related("item__customer", "notification", "action")
        .order_by("number")
    )
    incident_rows = [
        [
            n.number,
            n.item.number,
            n.item.customer.name,
            n.get_kind_display(),
            n.get_severity_display(),
            n.occurred_at,
            n.discovered_at,
            n.what_happened,
            n.impact,
            n.immediate_action,
            n.notify_by,
            n.notification.number if n.notification else "",
            n.notification.occurred_at if n.notification else "",
            n.action.number if n.action else "",
            n.get_status_display(),
            n.resolution,
            n.closed_at,
        ]
        for n in incidents
    ]
    checks = InventoryCheck.objects.filter(
        performed_at__gte=lo, performed_at__lt=hi
    ).select_related("performed_by", "customer")
    check_rows = [
        [
            c.performed_at,
            _user(c.performed_by),
            c.location,
            c.customer.name if c.customer else "",
            c.seen_count,
            c.missing_count,
            c.notes,
        ]
        for c in checks
    ]
    files: dict[str, bytes] = {}
    files.update(
        register_files(
            "property_items",
            [
                "Number",
                "Customer number",
                "Customer",
                "Kind",
                "Name",
                "Identifiers",
                "Quantity",
                "Unit",
                "Order",
                "Order reference",
                "Received at",
                "Received by",
                "Condition on receipt",
                "Storage conditions",
                "Access restrictions",
                "Handling instructions",
                "Confidentiality",
                "Home location",
                "Permitted use",
                "At the end",
                "Due back or for destruction",
                "Retain until",
                "Status",
                "Held by",
                "Location",
                "Last custody event",
            ],
            item_rows,
        )
    )
    files.update(
        register_files(
            "property_custody_events",
            [
                "Item",
                "Sequence",
                "Event",
                "When",
                "Who",
                "From (holder)",
                "From (location)",
                "To (holder)",
                "To (location)",
                "Purpose",
                "Note",
                "Customer acknowledgement",
                "Files",
                "Incident",
                "Status after",
                "Recorded at",
            ],
            event_rows,
        )
    )
    files.update(
        register_files(
            "property_incidents",
            [
                "Number",
                "Item",
                "Customer",
                "Kind",
                "Severity",
                "Happened",
                "Found",
                "What happened",
                "Impact",
                "Immediate action",
                "Tell the customer by",
                "Notification",
                "Notified at",
                "Corrective action",
                "Status",
                "Resolution",
                "Closed at",
            ],
            incident_rows,
        )
    )
    files.update(
        register_files(
            "property_inventory_checks",
            ["When", "Who", "Location", "Customer", "Seen", "Missing", "Notes"],
            check_rows,
        )
    )
    return [
        Part(
            "8.2.1 d",
            "Customer property: the register, the custody log, incidents and inventory checks",
            files,
            note=(
                f"{len(item_rows)} items on the register by the period's end (with their "
                f"current state), {len(event_rows)} custody events and {len(check_rows)} "
                f"inventory checks in the period, {len(incident_rows)} incidents found, "
                "closed or open in it."
            ),
        )
    ]
