"""The demo's customer property: every kind of story the issue asks to show."""

from __future__ import annotations

import pytest
from django.utils import timezone

from harken.core.demo import build_people
from harken.customers.demo import build_customers
from harken.property import services
from harken.property.choices import (
    CustodyKind,
    IncidentStatus,
    PropertyKind,
    PropertyStatus,
)
from harken.property.demo import build_property
from harken.property.models import PropertyIncident, PropertyItem

pytestmark = pytest.mark.django_db


def test_the_demo_shows_tooling_drawings_data_a_return_and_a_damaged_item():
    build_people(seed=2026)
    build_customers(seed=2026)
    summary = build_property(seed=2026)
    assert summary.startswith("11 property items of 6 customers")
    items = PropertyItem.objects.all()
    kinds = set(items.values_list("kind", flat=True))
    assert {
        PropertyKind.TOOLING,
        PropertyKind.DRAWING,
        PropertyKind.DATA,
        PropertyKind.CREDENTIALS,
    } <= kinds
    assert items.filter(kind=PropertyKind.TOOLING).values("customer").distinct().count() == 2
    assert items.filter(kind=PropertyKind.DATA, retain_until__isnull=False).count() == 2
    returned = items.get(status=PropertyStatus.RETURNED)
    event = returned.custody_events.get(kind=CustodyKind.RETURNED)
    assert event.acknowledgement is not None and event.files.exists()
    incident = PropertyIncident.objects.get()
    assert incident.status == IncidentStatus.CLOSED
    assert incident.notification.customer == incident.item.customer
    assert incident.action.origin == f"Property incident {incident.number}"
    today = timezone.localdate()
    assert services.overdue_end(today).count() == 1
    assert services.past_retention(today).count() == 1
    for item in items:
        assert services.derived_custody(item) == services.stored_custody(item), item
    assert items.filter(status=PropertyStatus.EXPECTED).count() == 1
