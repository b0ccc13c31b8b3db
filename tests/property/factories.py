"""Factories for the customer property models. Custody events, incidents and checks are
made through their services (the chain of custody has no other door)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from tests.factories import CustomerFactory

from harken.property import services
from harken.property.choices import (
    Confidentiality,
    CustodyKind,
    EndAction,
    IncidentKind,
    PropertyKind,
    Severity,
)
from harken.property.models import CustodyEvent, InventoryCheck, PropertyIncident, PropertyItem


class PropertyItemFactory(factory.django.DjangoModelFactory):
    """An expected item with its protection requirements."""

    class Meta:
        model = PropertyItem

    customer = factory.SubFactory(CustomerFactory)
    kind = PropertyKind.TOOLING
    name = factory.Sequence(lambda n: f"Fixture {n:03d}")
    identifiers = factory.Sequence(lambda n: f"FX-{n:04d}")
    storage_conditions = "Dry, covered."
    handling_instructions = "Two people to lift."
    confidentiality = Confidentiality.CONFIDENTIAL
    storage_location = "Tool store, rack T1"
    permitted_use = "This customer's orders only."
    end_action = EndAction.RETURN


def a_file(
    name: str = "note.txt", content: bytes = b"Signed by the customer."
) -> SimpleUploadedFile:
    content_type = "image/png" if name.endswith(".png") else "text/plain"
    return SimpleUploadedFile(name, content, content_type=content_type)


class CustodyEventFactory(factory.Factory):
    """A custody event appended by `services.record_custody` (a receipt by default)."""

    class Meta:
        model = CustodyEvent

    item = factory.SubFactory(PropertyItemFactory)
    kind = CustodyKind.RECEIVED
    to_location = "Tool store, rack T1"
    condition = "Complete, no damage."

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> CustodyEvent:
        item = kwargs.pop("item")
        return services.record_custody(item, actor=None, **kwargs)

    @classmethod
    def _build(cls, model_class: Any, *args: Any, **kwargs: Any) -> CustodyEvent:
        raise NotImplementedError("Custody events exist only once appended.")


def received_item(*, at: dt.datetime | None = None, **kwargs: Any) -> PropertyItem:
    """An item received into the tool store (`at`: when)."""
    item = PropertyItemFactory(**kwargs)
    CustodyEventFactory(item=item, occurred_at=at or timezone.now() - dt.timedelta(days=1))
    item.refresh_from_db()
    return item


class PropertyIncidentFactory(factory.Factory):
    """A damage incident recorded by `services.record_incident` on a received item."""

    class Meta:
        model = PropertyIncident

    item = factory.LazyFunction(received_item)
    kind = IncidentKind.DAMAGE
    severity = Severity.MEDIUM
    what_happened = "Dropped while being moved."
    impact = "The locating pin is bent; the fixture cannot be used."

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> PropertyIncident:
        item = kwargs.pop("item")
        return services.record_incident(item, actor=None, **kwargs)

    @classmethod
    def _build(cls, model_class: Any, *args: Any, **kwargs: Any) -> PropertyIncident:
        raise NotImplementedError("Incidents are recorded through the service.")


class InventoryCheckFactory(factory.Factory):
    """A check that saw `seen` and missed `missing` (lists of held items)."""

    class Meta:
        model = InventoryCheck

    seen = factory.LazyFunction(lambda: [received_item()])
    missing = factory.LazyFunction(list)
    location = "Tool store, rack T1"

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> InventoryCheck:
        return services.record_inventory_check(actor=None, **kwargs)

    @classmethod
    def _build(cls, model_class: Any, *args: Any, **kwargs: Any) -> InventoryCheck:
        raise NotImplementedError("Checks are recorded through the service.")
