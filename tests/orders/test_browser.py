"""In a real browser: an enquiry from the customer's page through the requirement review,
the offer, the customer's acceptance and one confirmed change, then the order's trace."""

import pytest
from playwright.sync_api import expect
from tests.conftest import login
from tests.documents.factories import DocumentFactory, approved
from tests.factories import ContactFactory, CustomerFactory

from harken.documents.choices import DocumentKind
from harken.orders.choices import ChangeStatus, EnquiryStatus, OrderStatus
from harken.orders.models import Enquiry, Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pdf(name: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": b"%PDF-1.4 " + name.encode()}


def test_an_enquiry_becomes_an_accepted_and_changed_order_with_its_trace(page, live_server, staff):
    customer = CustomerFactory(name="Fjord Marine AS")
    ContactFactory(customer=customer, name="Ingrid Berg", email="ingrid@fjord.example")
    terms = approved(
        DocumentFactory(kind=DocumentKind.CONTRACT_TERMS, title="Terms of sale"), "2026"
    )
    login(page, live_server, "staff")

    # Intake, from the customer's page.
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.get_by_role("link", name="New enquiry").click()
    page.get_by_label("Contact").select_option(label="Ingrid Berg (Fjord Marine AS)")
    page.get_by_label("Requested scope").fill("120 seawater valves DN80")
    page.get_by_label("Requirements stated by the customer").fill("Duplex steel; 3.1 certificates")
    page.get_by_label("Requested delivery date").fill("2027-03-01")
    page.get_by_role("button", name="Record the enquiry").click()
    enquiry = Enquiry.objects.get()
    page.wait_for_url(f"**/orders/enquiries/{enquiry.pk}/")

    # The requirement review.
    page.get_by_role("button", name="Start the requirement review").click()
    page.wait_for_url("**/orders/reviews/*/")
    for radio in page.locator("input[type=radio][value=yes]").all():
        radio.check()
    page.get_by_label("Outcome").select_option("accept")
    page.get_by_role("button", name="Complete the review").click()
    page.wait_for_url(f"**/orders/enquiries/{enquiry.pk}/")
    expect(page.get_by_test_id("reviews").get_by_text("Accept")).to_be_visible()
    # The offer, with the terms it used.
    page.get_by_role("link", name="Issue an offer").click()
    page.get_by_label("Price").fill("48000")
    page.get_by_label("Documents used (quote template, terms, spec sheets)").select_option(
        str(terms.pk)
    )
    page.get_by_role("button", name="Record the offer as issued").click()
    page.wait_for_url("**/orders/offers/*/")
    expect(page.get_by_test_id("documents").get_by_text("Terms of sale v2026")).to_be_visible()
    # The customer's purchase order, then our acceptance.
    page.goto(f"{live_server.url}/orders/enquiries/{enquiry.pk}/acceptance/")
    page.get_by_label("Customer's reference (PO number)").fill("PO-88120")
    page.set_input_files("input[name=file]", pdf("PO-88120.pdf"))
    page.get_by_role("button", name="Record the order").click()
    order = Order.objects.get()
    page.wait_for_url(f"**/orders/orders/{order.pk}/")
    page.get_by_role("link", name="Accept the order").click()
    page.get_by_role("button", name="Accept the order").click()
    page.wait_for_url(f"**/orders/orders/{order.pk}/")
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED

    # One change, confirmed by the customer.
    page.get_by_role("link", name="Request a change").click()
    page.get_by_label("Delivery date", exact=True).check()
    page.get_by_label("Description").fill("Their shipyard slot moved by two weeks.")
    page.get_by_label("New delivery date").fill("2027-03-15")
    page.get_by_role("button", name="Record the change request").click()
    page.wait_for_url("**/orders/changes/*/")
    expect(page.get_by_test_id("not-effective")).to_be_visible()
    page.get_by_label("Impact").fill("Capacity free in week 11; no cost.")
    page.get_by_role("button", name="Record the impact review").click()
    page.get_by_role("link", name="Tell the customer").click()
    page.get_by_role("button", name="Record our communication").click()
    page.wait_for_url("**/orders/changes/*/")
    page.get_by_role("link", name="Record the confirmation").click()
    page.set_input_files("input[name=file]", pdf("confirmation.pdf"))
    page.get_by_role("button", name="Confirm: the change takes effect").click()
    page.wait_for_url(f"**/orders/orders/{order.pk}/")
    expect(page.get_by_test_id("versions").get_by_text("Version 2")).to_be_visible()
    # The trace, from enquiry to the change.
    page.get_by_role("link", name="Trace").click()
    page.wait_for_url(f"**/orders/orders/{order.pk}/trace/")
    trace = page.get_by_test_id("trace")
    expect(trace.get_by_test_id("step-enquiry").get_by_text(enquiry.number)).to_be_visible()
    expect(trace.get_by_test_id("step-review").get_by_text("Accept").first).to_be_visible()
    expect(trace.get_by_test_id("step-offer").get_by_text("Terms of sale v2026")).to_be_visible()
    expect(trace.get_by_test_id("step-acceptance").get_by_text("PO-88120.pdf")).to_be_visible()
    changes = trace.get_by_test_id("step-changes")
    assert changes.get_by_text(
        "Order version 2: delivery date 2027-03-01 → 2027-03-15"
    ).is_visible()
    expect(changes.get_by_text("confirmation.pdf")).to_be_visible()
    enquiry.refresh_from_db()
    order.refresh_from_db()
    assert (enquiry.status, order.version, order.changes.get().status) == (
        EnquiryStatus.ORDERED,
        2,
        ChangeStatus.CONFIRMED,
    )
