"""The communication lifecycle map every installation starts with (edited afterwards)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from harken.core.audit import Actor, audit_context
from harken.core.choices import Role
from harken.documents.models import Document

from .choices import Channel, Phase
from .models import LifecycleStage

STAGES: tuple[dict[str, Any], ...] = (
    {
        "phase": Phase.PRE_SALE,
        "primary_channel": Channel.EMAIL,
        "other_channels": "Meetings, portal, trade fairs",
        "owner_role": Role.CUSTOMER_FACING,
        "record_type": "Communication log entry; distribution of the approved spec sheet",
        "response_target": "Information requests answered within 2 working days",
    },
    {
        "phase": Phase.ENQUIRY,
        "primary_channel": Channel.EMAIL,
        "other_channels": "Phone, portal",
        "owner_role": Role.CUSTOMER_FACING,
        "record_type": "Communication log entry (enquiries and requirement reviews: orders app)",
        "response_target": "Acknowledged within 1 working day",
    },
    {
        "phase": Phase.QUOTE_ORDER,
        "primary_channel": Channel.EMAIL,
        "other_channels": "Portal, letter (contracts)",
        "owner_role": Role.CUSTOMER_FACING,
        "record_type": "Quote and order records; distributions of quote templates and terms",
        "response_target": "Order confirmed within 2 working days",
    },
    {
        "phase": Phase.DELIVERY,
        "primary_channel": Channel.PORTAL,
        "other_channels": "E-mail, phone",
        "owner_role": Role.CUSTOMER_FACING,
        "record_type": "Communication log entry for every delay or change notice",
        "response_target": "Delays told before the promised date",
    },
    {
        "phase": Phase.FEEDBACK,
        "primary_channel": Channel.EMAIL,
        "other_channels": "Phone, surveys, meetings",
        "owner_role": Role.QUALITY_MANAGER,
        "record_type": "Feedback item (complaint number for complaints), linked communications",
        "response_target": "Complaints acknowledged within 2 working days",
    },
    {
        "phase": Phase.PROPERTY,
        "primary_channel": Channel.EMAIL,
        "other_channels": "Letter, meetings",
        "owner_role": Role.QUALITY_MANAGER,
        "record_type": "Property register entry; incident reports to the customer",
        "response_target": "Loss or damage reported to the customer the same working day",
    },
)


def seed_lifecycle(**kwargs: Any) -> None:
    """Create the six phases once, each governed by the 8.2.1 procedure when it exists."""
    if LifecycleStage.objects.exists():
        return
    procedure = Document.objects.filter(template_key="procedure-8.2.1").first()
    with audit_context(actor=Actor.system("seed")), transaction.atomic():
        for position, stage in enumerate(STAGES, start=1):
            LifecycleStage.objects.create(position=position, procedure=procedure, **stage)
