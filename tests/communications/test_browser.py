"""In a real browser: log a phone call from the customer's page and find it on the timeline."""

import pytest
from playwright.sync_api import expect
from tests.conftest import login
from tests.factories import ContactFactory, CustomerFactory

from harken.communications.models import Communication

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_phone_call_logged_from_the_customer_page_is_on_its_timeline(page, live_server, staff):
    customer = CustomerFactory(name="Timeline Pumps AB")
    ContactFactory(customer=customer, name="Ingrid Berg")
    ContactFactory(customer=customer, name="Lukas Chen")
    login(page, live_server, "staff")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.get_by_role("link", name="Log a call").click()
    page.wait_for_url(f"**/communications/log/?customer={customer.pk}")
    assert page.get_by_label("Channel").input_value() == "phone"
    page.get_by_label("Direction").select_option(label="Inbound")
    page.get_by_label("Ingrid Berg").check()
    page.get_by_label("Subject").fill("Pressure test certificate")
    page.get_by_label("Notes").fill("Asked for the 3.1 certificate of order 5521; sent today.")
    page.get_by_role("button", name="Log it").click()
    page.wait_for_url(f"**/communications/customers/{customer.pk}/timeline/")
    timeline = page.get_by_test_id("timeline")
    expect(timeline.get_by_role("link", name="Pressure test certificate")).to_be_visible()
    expect(timeline.get_by_text("Phone from Ingrid Berg")).to_be_visible()
    call = Communication.objects.get()
    assert (call.channel, call.customer, call.staff.username) == ("phone", customer, "staff")
    timeline.get_by_role("link", name="Pressure test certificate").click()
    page.wait_for_url(f"**/communications/{call.pk}/")
    assert page.get_by_test_id("body").inner_text() == (
        "Asked for the 3.1 certificate of order 5521; sent today."
    )
