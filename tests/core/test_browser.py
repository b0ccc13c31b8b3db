"""The pages in a real browser: sign in, find a customer, open it."""

import pytest
from playwright.sync_api import expect
from tests.conftest import login
from tests.factories import ContactFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_and_open_a_customer(page, live_server, quality_manager):
    customer = CustomerFactory(name="Browser Valves GmbH")
    ContactFactory(customer=customer, name="Erika Browser")
    CustomerFactory(name="Someone Else Ltd")
    login(page, live_server, "qm")
    expect(page.get_by_test_id("customers-panel")).to_be_visible()
    page.get_by_role("button", name="Communication").click()
    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_label("Search").fill("Browser")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**q=Browser**")
    assert page.get_by_text("Someone Else Ltd").count() == 0
    page.get_by_role("link", name="Browser Valves GmbH").click()
    page.wait_for_url(f"**/customers/{customer.pk}/")
    expect(page.get_by_role("heading", name="Browser Valves GmbH")).to_be_visible()
    expect(page.get_by_text("Erika Browser")).to_be_visible()
    page.get_by_role("link", name="History").click()
    expect(page.get_by_test_id("history").get_by_text("customer.created")).to_be_visible()


def test_field_errors_show_beside_the_field(page, live_server, quality_manager):
    login(page, live_server, "qm")
    page.goto(f"{live_server.url}/customers/add/")
    page.get_by_role("button", name="Save").click()
    assert page.locator('[data-field="name"]').inner_text() == "This field is required."
    expect(page.locator('[data-field="region"]')).to_be_visible()
