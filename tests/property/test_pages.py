"""Customer property pages, each with the personas who may and the ones who must be
refused: the register, an item and its custody, the custody form, labels and the scan
page, what is due, incidents with the notification and the action, inventory checks."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tests.communications.factories import CommunicationFactory
from tests.conftest import client_for
from tests.factories import CustomerFactory
from tests.property.factories import (
    PropertyIncidentFactory,
    PropertyItemFactory,
    a_file,
    received_item,
)

from harken.actions.models import Action
from harken.communications.models import Communication
from harken.core.models import AuditEvent
from harken.core.registry import registry
from harken.property import services
from harken.property.choices import CustodyKind, IncidentStatus, PropertyKind, PropertyStatus
from harken.property.models import CustodyEvent, InventoryCheck, PropertyIncident, PropertyItem

pytestmark = pytest.mark.django_db


def told(client: Any, url: str, data: dict[str, Any] | None = None) -> list[str]:
    response = client.post(url, data or {}, follow=True)
    assert response.redirect_chain, response.status_code
    return [str(m) for m in response.context["messages"]]


def local_input(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


# --------------------------------------------------------------------------------------
# Who may see and do what
# --------------------------------------------------------------------------------------


def test_every_property_page_answers_a_reader_and_refuses_an_outsider(auditor, outsider):
    item = received_item()
    incident = PropertyIncidentFactory(item=item)
    event = item.custody_events.first()
    check = services.record_inventory_check(actor=None, seen=[received_item()], missing=[])
    urls = [
        "/property/",
        f"/property/{item.pk}/",
        f"/property/{item.pk}/history/",
        f"/property/{item.pk}/label/",
        "/property/labels/",
        "/property/custody/",
        f"/property/custody/{event.pk}/",
        f"/property/files/{item.files.first().pk}/" if item.files.exists() else None,
        f"/property/scan/{item.number}/",
        "/property/scan/",
        "/property/due/",
        "/property/incidents/",
        f"/property/incidents/{incident.pk}/",
        "/property/checks/",
        f"/property/checks/{check.pk}/",
    ]
    reader, stranger = client_for(auditor), client_for(outsider)
    for url in filter(None, urls):
        assert reader.get(url).status_code == 200, url
        assert stranger.get(url).status_code == 403, url


def test_the_auditor_reads_but_records_nothing(auditor):
    item = received_item()
    client = client_for(auditor)
    before = AuditEvent.objects.exclude(action="auth.access_denied").count()
    assert client.get(f"/property/{item.pk}/custody/?kind=moved").status_code == 403
    assert (
        client.post(
            f"/property/{item.pk}/custody/", {"kind": "moved", "to_location": "X"}
        ).status_code
        == 403
    )
    assert client.get("/property/add/").status_code == 403
    assert client.get(f"/property/incidents/add/?item={item.pk}").status_code == 403
    page = client.get(f"/property/scan/{item.number}/").content.decode()
    assert 'data-testid="next-event"' not in page
    assert AuditEvent.objects.exclude(action="auth.access_denied").count() == before


def test_the_menu_offers_the_property_pages(staff):
    names = {m.url_name for m in registry.menu if m.section == "Communication"}
    assert {
        "property:propertyitem_list",
        "property:custodyevent_list",
        "property:propertyincident_list",
        "property:due",
        "property:inventorycheck_list",
        "property:scan_lookup",
    } <= names
    page = client_for(staff).get("/").content.decode()
    assert "Customer property" in page
    assert 'data-testid="property-panel"' in page


# --------------------------------------------------------------------------------------
# The register
# --------------------------------------------------------------------------------------


def test_staff_record_property_from_the_customers_page(staff):
    customer = CustomerFactory()
    client = client_for(staff)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert f'href="/property/add/?customer={customer.pk}"' in page
    form = client.get(f"/property/add/?customer={customer.pk}")
    assert form.context["form"].initial["customer"] == customer.pk
    response = client.post(
        "/property/add/",
        {
            "customer": customer.pk,
            "kind": PropertyKind.TOOLING,
            "name": "Injection mould T-4471",
            "quantity": 1,
            "confidentiality": "confidential",
            "storage_conditions": "Dry, oiled.",
            "end_action": "return",
            "due_date": "2027-01-31",
        },
    )
    item = PropertyItem.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/property/{item.pk}/"
    assert (item.customer, item.status, item.created_by) == (
        customer,
        PropertyStatus.EXPECTED,
        staff,
    )
    detail = client.get(response["Location"]).content.decode()
    assert "Record receipt" in detail
    assert "Expected: nothing received yet." in detail


def test_the_form_refuses_a_secret_on_a_credentials_item_naming_the_field(staff):
    response = client_for(staff).post(
        "/property/add/",
        {
            "customer": CustomerFactory().pk,
            "kind": PropertyKind.CREDENTIALS,
            "name": "Customer portal login",
            "quantity": 1,
            "confidentiality": "strict",
            "identifiers": "user svc-harken, password: Tr0ub4dor&3",
        },
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == ["identifiers"]
    assert errors["identifiers"][0].startswith(
        "This looks like a secret: it gives a value for “password”"
    )
    assert 'data-field="identifiers"' in response.content.decode()
    assert not PropertyItem.objects.exists()


def test_editing_an_item_records_what_changed(quality_manager):
    item = received_item()
    client = client_for(quality_manager)
    form = client.get(f"/property/{item.pk}/edit/").context["form"]
    assert form.fields["customer"].disabled
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(customer=item.customer_id, handling_instructions="Crane lift only.")
    response = client.post(f"/property/{item.pk}/edit/", data)
    assert response.status_code == 302, response.context["form"].errors
    event = AuditEvent.objects.filter(action="propertyitem.updated").get()
    assert event.changes == {"handling_instructions": ["Two people to lift.", "Crane lift only."]}


def test_only_an_item_never_received_can_be_deleted(quality_manager):
    client = client_for(quality_manager)
    expected, received = PropertyItemFactory(), received_item()
    assert client.post(f"/property/{expected.pk}/delete/").status_code == 302
    assert not PropertyItem.objects.filter(pk=expected.pk).exists()
    messages = told(client, f"/property/{received.pk}/delete/")
    assert any("cannot be deleted: it is used by" in m for m in messages), messages
    assert PropertyItem.objects.filter(pk=received.pk).exists()


def test_the_register_filters_and_exports(auditor):
    customer = CustomerFactory(name="Acme Moulding")
    mine = received_item(customer=customer, due_date=timezone.localdate() - dt.timedelta(days=1))
    other = received_item()
    client = client_for(auditor)
    page = client.get(f"/property/?customer={customer.number}").content.decode()
    assert mine.number in page and other.number not in page
    page = client.get("/property/?attention=overdue").content.decode()
    assert mine.number in page and other.number not in page
    export = client.get("/property/?export=csv")
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Number,Customer number,Customer,Kind,Name")
    assert mine.number in text and other.number in text
    assert AuditEvent.objects.filter(action="propertyitem.exported").count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "/property/",
        "/property/custody/",
        "/property/incidents/",
        "/property/checks/",
        "/property/due/",
    ],
)
def test_lists_cost_the_same_queries_for_one_row_as_for_three(quality_manager, url):
    client = client_for(quality_manager)

    def add_rows() -> None:
        item = received_item(due_date=timezone.localdate() - dt.timedelta(days=1))
        services.record_custody(
            item,
            actor=quality_manager,
            kind=CustodyKind.ISSUED,
            to_user=quality_manager,
            purpose="Run",
        )
        PropertyIncidentFactory(item=item)
        services.record_inventory_check(actor=None, seen=[received_item()], missing=[])

    add_rows()
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    add_rows()
    add_rows()
    with CaptureQueriesContext(connection) as three:
        assert client.get(url).status_code == 200
    assert len(three) == len(one), url


def test_the_item_page_has_a_bounded_number_of_queries(quality_manager):
    item = received_item()
    for index in range(4):
        services.record_custody(
            item,
            actor=quality_manager,
            kind=CustodyKind.USED,
            purpose=f"Run {index}",
            files=[a_file(f"{index}.png")],
        )
    PropertyIncidentFactory(item=item)
    client = client_for(quality_manager)
    client.get(f"/property/{item.pk}/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/property/{item.pk}/").status_code == 200
    assert len(queries) <= 25


# --------------------------------------------------------------------------------------
# Custody
# --------------------------------------------------------------------------------------


def test_the_item_page_shows_the_chain_of_custody_newest_first(quality_manager):
    item = received_item()
    services.record_custody(
        item, actor=quality_manager, kind=CustodyKind.MOVED, to_location="Rack T3"
    )
    page = client_for(quality_manager).get(f"/property/{item.pk}/").content.decode()
    timeline = page[page.index('data-testid="custody"') :]
    assert timeline.index("Moved") < timeline.index("Received")
    assert "Derived from the 2 custody events below." in page
    assert re.search(r'data-testid="location">\s*Rack T3', page)


def test_recording_a_move_through_the_form(staff):
    item = received_item()
    client = client_for(staff)
    form = client.get(f"/property/{item.pk}/custody/?kind=moved")
    assert form.status_code == 200
    assert set(form.context["form"].fields) >= {"to_location", "to_user", "to_holder", "purpose"}
    response = client.post(
        f"/property/{item.pk}/custody/?kind=moved",
        {"kind": "moved", "occurred_at": local_input(timezone.now()), "to_location": "Rack T3"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/property/{item.pk}/#custody"
    event = item.custody_events.last()
    assert (event.kind, event.performed_by, event.to_location) == (
        CustodyKind.MOVED,
        staff,
        "Rack T3",
    )
    item.refresh_from_db()
    assert (item.status, item.location) == (PropertyStatus.STORED, "Rack T3")


def test_the_form_puts_the_services_refusal_on_the_field(staff):
    item = received_item()
    response = client_for(staff).post(
        f"/property/{item.pk}/custody/",
        {"kind": "returned", "occurred_at": local_input(timezone.now()), "to_holder": "Acme"},
    )
    assert response.status_code == 422
    assert "needs its confirmation" in response.context["form"].errors["acknowledgement"][0]
    assert item.custody_events.count() == 1


def test_an_event_the_state_does_not_allow_is_sent_back(staff):
    item = PropertyItemFactory()
    response = client_for(staff).get(f"/property/{item.pk}/custody/?kind=issued", follow=True)
    assert "That cannot be recorded now" in next(str(m) for m in response.context["messages"])


def test_a_receipt_keeps_the_photos_of_the_condition(staff):
    item = PropertyItemFactory()
    response = client_for(staff).post(
        f"/property/{item.pk}/custody/",
        {
            "kind": "received",
            "occurred_at": local_input(timezone.now()),
            "to_location": "Goods-in",
            "condition": "Two scratches on the cover.",
            "attachments": [
                a_file("front.png", b"\x89PNG one"),
                a_file("back.png", b"\x89PNG two"),
            ],
            "caption": "Scratches",
        },
    )
    assert response.status_code == 302
    event = item.custody_events.get()
    assert sorted(f.file.name for f in event.files.all()) == ["back.png", "front.png"]
    photo = event.files.first()
    download = client_for(staff).get(f"/property/files/{photo.pk}/")
    assert download["Content-Type"] == "image/png"
    assert "attachment" not in download.get("Content-Disposition", "")
    download.close()


def test_a_return_acknowledged_by_communication_number(staff):
    item = received_item()
    acknowledgement = CommunicationFactory(customer=item.customer)
    response = client_for(staff).post(
        f"/property/{item.pk}/custody/",
        {
            "kind": "returned",
            "occurred_at": local_input(timezone.now()),
            "to_holder": item.customer.name,
            "acknowledgement": acknowledgement.number.lower(),
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == PropertyStatus.RETURNED
    assert item.custody_events.last().acknowledgement == acknowledgement


def test_the_custody_log_lists_and_exports_every_event(auditor):
    item = received_item()
    services.record_custody(item, actor=None, kind=CustodyKind.MOVED, to_location="Rack T3")
    client = client_for(auditor)
    page = client.get(f"/property/custody/?item={item.number}").content.decode()
    assert page.count(item.number) >= 2
    text = b"".join(client.get("/property/custody/?export=csv").streaming_content).decode(
        "utf-8-sig"
    )
    assert len(text.strip().splitlines()) == 3
    detail = client.get(f"/property/custody/{item.custody_events.first().pk}/").content.decode()
    assert "never changed or deleted" in detail
    assert "Edit" not in re.sub(r"<title>.*?</title>", "", detail)


# --------------------------------------------------------------------------------------
# Labels and the scan page
# --------------------------------------------------------------------------------------


def test_a_label_carries_the_number_and_a_qr_code_of_the_scan_page(staff):
    item = received_item()
    page = client_for(staff).get(f"/property/{item.pk}/label/").content.decode()
    assert page.count("<svg") == 1
    assert f"QR code of {item.number}" in page
    assert f'data-url="http://testserver/property/scan/{item.number}/"' in page
    assert 'src="/static/property/print.js"' in page


def test_the_label_sheet_follows_the_registers_filters(staff):
    customer = CustomerFactory()
    mine = [received_item(customer=customer) for _ in range(2)]
    other = received_item()
    page = client_for(staff).get(f"/property/labels/?customer={customer.pk}").content.decode()
    assert page.count('data-testid="label"') == 2
    assert all(i.number in page for i in mine) and other.number not in page
    picked = client_for(staff).get(f"/property/labels/?item={other.pk}").content.decode()
    assert picked.count('data-testid="label"') == 1


def test_the_qr_code_encodes_the_scan_address():
    import segno

    from harken.property.labels import qr_svg

    url = "https://harken.example/property/scan/PRP-2026-0001/"
    svg = str(qr_svg(url))
    assert svg.startswith("<svg")
    assert segno.make(url, error="m", micro=False).svg_inline(scale=3, border=2) == svg


def test_the_scan_page_offers_the_next_custody_event(staff):
    item = received_item()
    client = client_for(staff)
    page = client.get(f"/property/scan/{item.number.lower()}/")
    assert page.context["first"]["kind"] == CustodyKind.MOVED
    content = page.content.decode()
    assert "Next: Move" in content
    assert f'action="/property/{item.pk}/custody/?kind=moved&amp;next=scan"' in content
    response = client.post(
        f"/property/{item.pk}/custody/?kind=moved&next=scan",
        {
            "kind": "moved",
            "next": "scan",
            "occurred_at": local_input(timezone.now()),
            "to_location": "Rack T2",
        },
    )
    assert response["Location"] == f"/property/scan/{item.number}/"
    assert (
        client.get(f"/property/scan/{item.number}/").context["first"]["kind"] == CustodyKind.ISSUED
    )


def test_the_scan_lookup_takes_a_number_or_a_scanned_address(staff):
    item = received_item()
    client = client_for(staff)
    response = client.get(
        "/property/scan/", {"number": f"https://x.example/property/scan/{item.number}/"}
    )
    assert response["Location"] == f"/property/scan/{item.number}/"
    missing = client.get("/property/scan/", {"number": "PRP-1999-0001"})
    assert "No property item has the number PRP-1999-0001." in missing.content.decode()
    assert client.get("/property/scan/PRP-1999-0001/").status_code == 404


# --------------------------------------------------------------------------------------
# Due and reviews
# --------------------------------------------------------------------------------------


def test_the_due_page_lists_what_needs_attention(staff, monkeypatch):
    monkeypatch.setenv("HARKEN_PROPERTY_REVIEW_DAYS", "30")
    today = timezone.localdate()
    overdue = received_item(due_date=today - dt.timedelta(days=3))
    stale = received_item(at=timezone.now() - dt.timedelta(days=40))
    old_data = received_item(kind=PropertyKind.DATA, retain_until=today - dt.timedelta(days=1))
    late = PropertyIncidentFactory(discovered_at=timezone.now() - dt.timedelta(days=9))
    page = client_for(staff).get("/property/due/").content.decode()

    def section(key: str) -> str:
        start = page.index(f'data-testid="due-{key}"')
        return page[start : page.index("</section>", start)]

    assert overdue.number in section("overdue") and stale.number not in section("overdue")
    assert stale.number in section("check")
    assert old_data.number in section("retention")
    assert late.number in section("notifications")


# --------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------


def test_reporting_an_incident_from_the_item(staff):
    item = received_item()
    client = client_for(staff)
    assert (
        f"/property/incidents/add/?item={item.pk}"
        in client.get(f"/property/{item.pk}/").content.decode()
    )
    assert client.get(f"/property/incidents/add/?item={item.pk}").context["form"].initial == {
        "item": item.pk
    }
    response = client.post(
        "/property/incidents/add/",
        {
            "item": item.pk,
            "kind": "loss",
            "severity": "high",
            "what_happened": "Not on its rack after the night shift.",
            "discovered_at": local_input(timezone.now()),
            "impact": "The customer's next run cannot start.",
        },
        follow=True,
    )
    incident = PropertyIncident.objects.get()
    assert response.redirect_chain[-1][0] == f"/property/incidents/{incident.pk}/"
    assert next(str(m) for m in response.context["messages"]).startswith(
        f"Recorded {incident.number}. Tell the customer by "
    )
    item.refresh_from_db()
    assert item.status == PropertyStatus.LOST_DAMAGED


def test_the_page_will_not_close_an_incident_without_the_customer_notification(quality_manager):
    incident = PropertyIncidentFactory()
    client = client_for(quality_manager)
    page = client.get(f"/property/incidents/{incident.pk}/").content.decode()
    assert "Record the customer notification first" in page
    assert re.search(
        r'<button type="submit" class="btn btn-success btn-sm"\s+disabled>Close</button>', page
    )
    messages = told(
        client, f"/property/incidents/{incident.pk}/transition/close/", {"resolution": "Repaired."}
    )
    assert messages[0].startswith("Record the customer notification first")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN


def test_telling_the_customer_then_closing_through_the_pages(quality_manager):
    incident = PropertyIncidentFactory()
    client = client_for(quality_manager)
    form = client.get(f"/property/incidents/{incident.pk}/notify/").context["form"]
    assert incident.number in form.fields["subject"].initial
    assert form.fields["body"].initial.startswith("We must inform you that your tooling or fixture")
    response = client.post(
        f"/property/incidents/{incident.pk}/notify/",
        {
            "channel": "email",
            "occurred_at": local_input(timezone.now()),
            "subject": form.fields["subject"].initial,
            "body": "Your fixture was dropped; we repair it at our cost.",
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    communication = Communication.objects.get()
    assert incident.notification == communication
    messages = told(
        client, f"/property/incidents/{incident.pk}/transition/close/", {"resolution": "Repaired."}
    )
    assert messages[-1] == f"{incident} is now Closed."
    incident.refresh_from_db()
    assert (incident.status, incident.resolution) == (IncidentStatus.CLOSED, "Repaired.")


def test_the_notification_can_name_a_communication_in_the_log(staff):
    incident = PropertyIncidentFactory()
    sent = CommunicationFactory(
        customer=incident.item.customer, direction="outbound", occurred_at=timezone.now()
    )
    client = client_for(staff)
    response = client.post(
        f"/property/incidents/{incident.pk}/notify/",
        {"communication": sent.number, "channel": "email"},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.notification == sent
    wrong = PropertyIncidentFactory()
    response = client.post(
        f"/property/incidents/{wrong.pk}/notify/",
        {"communication": sent.number, "channel": "email"},
    )
    assert response.status_code == 422
    assert "another customer" in response.context["form"].errors["communication"][0]


def test_staff_may_tell_the_customer_but_not_close(staff):
    incident = PropertyIncidentFactory()
    services.notify_customer(incident, actor=staff, channel="phone", subject="s", body="b")
    response = client_for(staff).post(
        f"/property/incidents/{incident.pk}/transition/close/", {"resolution": "x"}
    )
    assert response.status_code == 403


def test_opening_the_corrective_action_from_the_incident(quality_manager, owner):
    incident = PropertyIncidentFactory()
    client = client_for(quality_manager)
    assert client.get(f"/property/incidents/{incident.pk}/action/").status_code == 200
    response = client.post(
        f"/property/incidents/{incident.pk}/action/",
        {
            "owner": owner.pk,
            "due_date": (timezone.localdate() + dt.timedelta(days=20)).isoformat(),
            "priority": "high",
        },
    )
    assert response.status_code == 302
    action = Action.objects.get()
    incident.refresh_from_db()
    assert incident.action == action
    assert action.origin == f"Property incident {incident.number}"
    page = client.get(f"/property/incidents/{incident.pk}/").content.decode()
    assert action.number in page


def test_editing_an_open_incident(quality_manager):
    incident = PropertyIncidentFactory()
    response = client_for(quality_manager).post(
        f"/property/incidents/{incident.pk}/edit/",
        {"severity": "critical", "what_happened": incident.what_happened, "impact": "Worse."},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.severity, incident.impact) == ("critical", "Worse.")


# --------------------------------------------------------------------------------------
# Inventory checks and the customer's page
# --------------------------------------------------------------------------------------


def test_recording_an_inventory_check_of_a_location(staff):
    seen, missing = received_item(), received_item()
    elsewhere = received_item()
    services.record_custody(elsewhere, actor=None, kind=CustodyKind.MOVED, to_location="Yard")
    elsewhere.storage_location = "Yard"
    elsewhere.save()
    client = client_for(staff)
    form = client.get("/property/checks/add/", {"location": "Tool store, rack T1"}).context["form"]
    assert [i.pk for i in form.items] == sorted(
        [seen.pk, missing.pk], key=lambda pk: PropertyItem.objects.get(pk=pk).number
    )
    response = client.post(
        "/property/checks/add/",
        {
            "location": "Tool store, rack T1",
            "performed_at": local_input(timezone.now()),
            f"item_{seen.pk}": "seen",
            f"item_{missing.pk}": "missing",
        },
        follow=True,
    )
    check = InventoryCheck.objects.get()
    assert [str(m) for m in response.context["messages"]] == [
        "Recorded: 1 seen, 1 missing (each missing item is now a loss incident)."
    ]
    assert (check.seen_count, check.missing_count, check.performed_by) == (1, 1, staff)
    assert PropertyIncident.objects.get().item == missing
    assert CustodyEvent.objects.filter(inventory_check=check).count() == 2


def test_the_customer_page_card_shows_their_property(staff, outsider):
    customer = CustomerFactory()
    held = received_item(customer=customer)
    returned = received_item(customer=customer)
    services.record_custody(returned, actor=None, kind=CustodyKind.RETURNED, files=[a_file()])
    PropertyIncidentFactory(item=held)
    received_item()  # another customer's
    template = Template("{% load property %}{% customer_property customer %}")
    request = RequestFactory().get("/")
    request.user = staff
    html = template.render(Context({"request": request, "customer": customer}))
    assert "(1 held, 2 recorded)" in html
    assert html.index(held.number) < html.index(returned.number)
    assert "1 open incident" in html
    request.user = outsider
    assert template.render(Context({"request": request, "customer": customer})).strip() == ""
