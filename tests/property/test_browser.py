"""In a real browser: receive a customer's fixture with a photo of its condition, move it
into the tool store, open its label's QR address as a phone would, and return it to the
customer with their acknowledgement."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from tests.communications.factories import CommunicationFactory
from tests.conftest import login
from tests.factories import CustomerFactory

from harken.communications.choices import Direction
from harken.property import services
from harken.property.choices import CustodyKind, PropertyKind, PropertyStatus
from harken.property.models import PropertyItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU"
    b"\x00\x00\x00\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_receive_move_scan_and_return_with_the_customers_acknowledgement(page, live_server, staff):
    customer = CustomerFactory(name="Arden Moulding Ltd")
    item = services.register_item(
        actor=staff,
        customer=customer,
        kind=PropertyKind.TOOLING,
        name="Drilling fixture FX-7741",
        storage_conditions="Covered, dry.",
        storage_location="Goods-in",
        end_action="return",
    )
    login(page, live_server, "staff")

    # Receive it, with a photo of its condition.
    page.goto(f"{live_server.url}/property/{item.pk}/")
    page.get_by_role("link", name="Record receipt").click()
    page.wait_for_url(f"**/property/{item.pk}/custody/?kind=received")
    assert page.get_by_label("Kept at").input_value() == "Goods-in"
    page.get_by_label("Condition on receipt").fill("Complete; one scratch on the base plate.")
    page.get_by_label("Photos or files of its condition").set_input_files(
        files=[{"name": "base-plate.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.get_by_role("button", name="Record receipt").click()
    page.wait_for_url(f"**/property/{item.pk}/#custody")
    expect(page.get_by_test_id("status").get_by_text("Received")).to_be_visible()
    assert (
        page.get_by_test_id("custody-event")
        .get_by_role("img", name="Condition on receipt")
        .is_visible()
    )

    # Move it into the tool store.
    page.get_by_role("link", name="Move").first.click()
    page.wait_for_url(f"**/property/{item.pk}/custody/?kind=moved")
    page.get_by_label("Moved to").fill("Tool store, rack T1")
    page.get_by_role("button", name="Move").click()
    page.wait_for_url(f"**/property/{item.pk}/#custody")
    assert page.get_by_test_id("location").inner_text() == "Tool store, rack T1"
    assert page.get_by_test_id("custody-event").count() == 2

    # Its label's QR code opens the scan page, which offers the next custody event.
    page.get_by_role("link", name="Label").click()
    page.wait_for_url(f"**/property/{item.pk}/label/")
    label = page.get_by_test_id("label")
    expect(label.locator("svg")).to_be_visible()
    scanned = label.get_attribute("data-url")
    assert scanned == f"{live_server.url}/property/scan/{item.number}/"
    page.goto(scanned)
    assert (
        page.get_by_test_id("scan-title").inner_text() == f"{item.number} Drilling fixture FX-7741"
    )
    assert page.get_by_test_id("location").inner_text() == "Tool store, rack T1"
    assert page.get_by_test_id("next-event").get_by_role("heading").inner_text() == "Next: Issue"

    # Return it: the customer acknowledged receipt in an e-mail already in the log.
    acknowledgement = CommunicationFactory(
        customer=customer,
        direction=Direction.INBOUND,
        subject="Fixture received back",
        occurred_at=timezone.now(),
    )
    page.get_by_role("link", name="Return to the customer").click()
    page.wait_for_url(f"**/property/{item.pk}/custody/?kind=returned&next=scan")
    assert page.get_by_label("Returned to").input_value() == "Arden Moulding Ltd"
    page.get_by_label("Customer acknowledgement (communication number)").fill(
        acknowledgement.number
    )
    page.get_by_label("Signed delivery note or acknowledgement").set_input_files(
        files=[
            {"name": "delivery-note.txt", "mimeType": "text/plain", "buffer": b"Signed: A. Arden"}
        ]
    )
    page.get_by_role("button", name="Return to the customer").click()
    page.wait_for_url(f"**/property/scan/{item.number}/")
    expect(page.get_by_text("Recorded: returned to the customer.")).to_be_visible()
    expect(page.get_by_text("Returned", exact=True)).to_be_visible()
    item.refresh_from_db()
    assert (item.status, item.holder, item.location) == (
        PropertyStatus.RETURNED,
        "Arden Moulding Ltd",
        "",
    )
    kinds = list(item.custody_events.values_list("kind", flat=True))
    assert kinds == [CustodyKind.RECEIVED, CustodyKind.MOVED, CustodyKind.RETURNED]
    returned = item.custody_events.last()
    assert returned.acknowledgement == acknowledgement
    assert [f.file.name for f in returned.files.all()] == ["delivery-note.txt"]
    assert PropertyItem.objects.get().received_by == staff
