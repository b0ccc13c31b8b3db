"""Customer property in the API: the register, the append-only custody log, incidents with
the customer's notification and the corrective action, inventory checks, what is due."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from tests.communications.factories import CommunicationFactory
from tests.factories import CustomerFactory
from tests.property.factories import PropertyIncidentFactory, a_file, received_item

from harken.core.models import AuditEvent
from harken.property.choices import IncidentStatus, PropertyStatus
from harken.property.models import CustodyEvent, PropertyIncident, PropertyItem

pytestmark = pytest.mark.django_db


def api_for(user: Any) -> Client:
    token = Token.objects.create(user=user)
    return Client(headers={"Authorization": f"Token {token.key}"})


@pytest.fixture
def api(quality_manager) -> Client:
    return api_for(quality_manager)


def post(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data, content_type="application/json")


def test_registering_and_receiving_an_item(api):
    customer = CustomerFactory()
    response = post(
        api,
        "/api/property-items/",
        {
            "customer": customer.pk,
            "kind": "tooling",
            "name": "Mould T-4471",
            "storage_conditions": "Dry",
            "status": "returned",  # read-only: custody decides
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("PRP-")
    assert body["status"] == "expected"
    item = PropertyItem.objects.get()
    received = post(
        api,
        "/api/custody-events/",
        {"item": item.pk, "kind": "received", "to_location": "Rack T3", "condition": "Complete"},
    )
    assert received.status_code == 201, received.content
    assert received.json()["sequence"] == 1
    assert received.json()["status_after"] == "received"
    chain = api.get(f"/api/property-items/{item.pk}/custody/").json()
    assert [e["kind"] for e in chain] == ["received"]
    assert api.get(f"/api/property-items/{item.pk}/").json()["location"] == "Rack T3"
    assert AuditEvent.objects.filter(action="propertyitem.received").get().actor_type == "token"


def test_the_api_refuses_a_secret_on_a_credentials_item(api):
    response = post(
        api,
        "/api/property-items/",
        {
            "customer": CustomerFactory().pk,
            "kind": "credentials",
            "name": "VPN",
            "access_restrictions": "Connect with sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        },
    )
    assert response.status_code == 400
    errors = response.json()["errors"] if "errors" in response.json() else response.json()
    assert "access_restrictions" in errors
    assert not PropertyItem.objects.exists()


def test_custody_events_are_never_changed_through_the_api(api):
    item = received_item()
    event = item.custody_events.get()
    url = f"/api/custody-events/{event.pk}/"
    assert api.patch(url, {"purpose": "x"}, content_type="application/json").status_code == 405
    assert api.put(url, {"purpose": "x"}, content_type="application/json").status_code == 405
    assert api.delete(url).status_code == 405
    assert CustodyEvent.objects.count() == 1


def test_a_custody_event_names_the_field_it_lacks(api):
    item = received_item()
    response = post(api, "/api/custody-events/", {"item": item.pk, "kind": "returned"})
    assert response.status_code == 400
    assert "acknowledgement" in str(response.json())


def test_a_return_with_an_acknowledgement_by_number_and_a_file(api):
    item = received_item()
    acknowledgement = CommunicationFactory(customer=item.customer)
    response = api.post(
        "/api/custody-events/",
        {
            "item": item.pk,
            "kind": "returned",
            "acknowledgement": acknowledgement.number,
            "upload": [a_file("delivery-note.txt")],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["acknowledgement"] == acknowledgement.number
    assert [f["name"] for f in body["files"]] == ["delivery-note.txt"]
    item.refresh_from_db()
    assert item.status == PropertyStatus.RETURNED


def test_an_item_whose_custody_began_is_not_deleted(api):
    item = received_item()
    response = api.delete(f"/api/property-items/{item.pk}/")
    assert response.status_code == 400
    assert PropertyItem.objects.filter(pk=item.pk).exists()


def test_an_incident_cannot_be_closed_through_the_api_before_the_customer_is_told(api, owner):
    item = received_item()
    response = post(
        api,
        "/api/property-incidents/",
        {"item": item.pk, "kind": "damage", "what_happened": "Dropped.", "impact": "Bent pin."},
    )
    assert response.status_code == 201, response.content
    incident = PropertyIncident.objects.get()
    assert response.json()["notify_by"]
    close = {"transition": "close", "values": {"resolution": "Repaired."}}
    refused = post(api, f"/api/property-incidents/{incident.pk}/transition/", close)
    assert refused.status_code == 400
    assert "Record the customer notification first" in str(refused.json())
    told = post(
        api,
        f"/api/property-incidents/{incident.pk}/notify/",
        {"channel": "phone", "subject": "Your fixture", "body": "We dropped it; we repair it."},
    )
    assert told.status_code == 200, told.content
    assert told.json()["notification"].startswith("COM-")
    acted = post(
        api,
        f"/api/property-incidents/{incident.pk}/corrective-action/",
        {"owner": owner.pk, "due_date": (timezone.localdate() + dt.timedelta(days=9)).isoformat()},
    )
    assert acted.status_code == 200, acted.content
    assert acted.json()["action"].startswith("ACT-")
    closed = post(api, f"/api/property-incidents/{incident.pk}/transition/", close)
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == IncidentStatus.CLOSED


def test_a_notification_must_say_something(api):
    incident = PropertyIncidentFactory()
    response = post(api, f"/api/property-incidents/{incident.pk}/notify/", {"channel": "email"})
    assert response.status_code == 400
    assert "body" in str(response.json())


def test_an_incident_is_corrected_with_patch_and_never_deleted(api):
    incident = PropertyIncidentFactory()
    url = f"/api/property-incidents/{incident.pk}/"
    response = api.patch(url, {"impact": "Worse."}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert api.patch(url, {"kind": "loss"}, content_type="application/json").status_code == 400
    assert api.delete(url).status_code == 405


def test_an_inventory_check_through_the_api(api):
    seen, missing = received_item(), received_item()
    response = post(
        api,
        "/api/inventory-checks/",
        {"seen": [seen.pk], "missing": [missing.pk], "location": "Rack"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["seen_count"], body["missing_count"]) == (1, 1)
    outcomes = {line["item"]: (line["outcome"], bool(line["incident"])) for line in body["lines"]}
    assert outcomes == {seen.pk: ("seen", False), missing.pk: ("missing", True)}


def test_what_is_due_through_the_api(api):
    late = received_item(due_date=timezone.localdate() - dt.timedelta(days=1))
    body = api.get("/api/property-items/due/").json()
    assert [row["number"] for row in body["overdue"]] == [late.number]
    assert body["check_due"] == [] and body["past_retention"] == []


def test_the_api_uses_the_pages_filters(api):
    customer = CustomerFactory()
    mine = received_item(customer=customer)
    received_item()
    rows = api.get(f"/api/property-items/?customer={customer.number}").json()["results"]
    assert [r["number"] for r in rows] == [mine.number]
    events = api.get(f"/api/custody-events/?item={mine.number}").json()["results"]
    assert [e["item"] for e in events] == [mine.pk]


def test_the_auditor_reads_and_changes_nothing(auditor):
    item = received_item()
    client = api_for(auditor)
    assert client.get("/api/property-items/").status_code == 200
    assert client.get(f"/api/property-items/{item.pk}/history/").status_code == 200
    before = AuditEvent.objects.exclude(action="auth.access_denied").count()
    for url, data in (
        ("/api/property-items/", {"customer": item.customer_id, "kind": "other", "name": "X"}),
        ("/api/custody-events/", {"item": item.pk, "kind": "checked"}),
        ("/api/inventory-checks/", {"seen": [item.pk]}),
    ):
        assert post(client, url, data).status_code == 403
    assert AuditEvent.objects.exclude(action="auth.access_denied").count() == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/property-items/",
        "/api/custody-events/",
        "/api/property-incidents/",
        "/api/inventory-checks/",
    ],
)
def test_api_lists_cost_the_same_for_one_row_as_for_three(api, url):
    from harken.property import services

    def add_rows() -> None:
        PropertyIncidentFactory()
        services.record_inventory_check(actor=None, seen=[received_item()], missing=[])

    add_rows()
    api.get(url)
    with CaptureQueriesContext(connection) as one:
        assert api.get(url).status_code == 200
    add_rows()
    add_rows()
    with CaptureQueriesContext(connection) as three:
        assert api.get(url).status_code == 200
    assert len(three) == len(one), url
