"""The feedback pages in a real browser: an import from upload to search, keyboard triage."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from tests.conftest import login
from tests.feedback.factories import FeedbackItemFactory, PerceptionSourceFactory

from harken.feedback.models import Category, FeedbackItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPORT = (
    b"When,Customer said,Ref\n"
    b"2026-01-05,The flange arrived with deep scratches,A-1\n"
    b"2026-01-06,Support solved it within the hour,A-2\n"
)


def test_upload_map_import_and_find_an_imported_item(page, live_server, analyst):
    PerceptionSourceFactory(name="Old CRM", structured=False)
    login(page, live_server, "analyst")
    page.goto(f"{live_server.url}/feedback/imports/add/")
    page.get_by_label("Source").select_option(label="Old CRM")
    page.get_by_label("File").set_input_files(
        files=[{"name": "crm.csv", "mimeType": "text/csv", "buffer": EXPORT}]
    )
    page.get_by_label("Exported from").select_option(label="Other (map the columns)")
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url("**/map/")
    expect(page.get_by_test_id("detected").get_by_text("CSV")).to_be_visible()
    page.get_by_label("Received at", exact=True).select_option("When")
    page.get_by_label("Text", exact=True).select_option("Customer said")
    page.get_by_label("Id in the source system").select_option("Ref")
    page.get_by_label("Kind when a row does not say").select_option(label="Complaint")
    page.get_by_role("button", name="Preview again").click()
    preview = page.get_by_test_id("mapped-preview")
    expect(preview.get_by_text("The flange arrived with deep scratches")).to_be_visible()
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url("**/feedback/imports/*/")
    assert page.get_by_test_id("created-count").inner_text() == "2"

    page.goto(f"{live_server.url}/feedback/items/")
    page.get_by_label("Search").fill("flange")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**q=flange**")
    table = page.get_by_test_id("object-table")
    assert table.get_by_text("Support solved it").count() == 0
    item = FeedbackItem.objects.get(text__contains="flange")
    table.get_by_role("link", name=item.number).click()
    page.wait_for_url(f"**/feedback/items/{item.pk}/")
    assert page.get_by_test_id("verbatim").inner_text() == (
        "The flange arrived with deep scratches"
    )


def test_keyboard_triage_confirms_with_enter_and_picks_with_keys(page, live_server, analyst):
    delivery = Category.objects.get(code="delivery")
    now = timezone.now()
    suggested = FeedbackItemFactory(
        received_at=now - dt.timedelta(days=2),
        category=delivery,
        suggested_category=delivery,
        text="The pallet came a week late",
    )
    second = FeedbackItemFactory(received_at=now - dt.timedelta(days=1), text="Odd invoice")
    login(page, live_server, "analyst")
    page.goto(f"{live_server.url}/feedback/triage/")
    assert (
        page.get_by_test_id("triage-item").get_by_text("The pallet came a week late").is_visible()
    )

    page.keyboard.press("Enter")
    page.get_by_test_id("triage-item").get_by_text("Odd invoice").wait_for()
    suggested.refresh_from_db()
    assert suggested.classification_confirmed
    assert suggested.category == delivery
    assert suggested.status == "triaged"

    # 1 picks the first category (Billing, alphabetically); i cycles impact to minor.
    page.keyboard.press("1")
    page.keyboard.press("i")
    assert page.get_by_label("Minor").is_checked()
    page.keyboard.press("Enter")
    page.get_by_test_id("triage-empty").wait_for()
    second.refresh_from_db()
    assert (second.category.code, second.impact, second.status) == ("billing", "minor", "triaged")
