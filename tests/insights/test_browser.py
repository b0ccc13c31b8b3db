"""The insights pages in a real browser: a jump in complaints becomes a signal on the
dashboard, and the signal leads to the complaints behind it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from tests.conftest import login
from tests.factories import ProductLineFactory
from tests.feedback.factories import PerceptionSourceFactory

from harken.feedback.choices import ItemKind, SourceKind
from harken.feedback.services import Intake, record_feedback
from harken.insights import detection
from harken.insights.choices import ExposureKind
from harken.insights.forms import months_back, preset_period
from harken.insights.models import Exposure

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def test_a_jump_in_delivery_complaints_leads_from_the_dashboard_to_the_complaints(
    page, live_server, quality_manager
):
    today = timezone.localdate()
    _, quarter_end = preset_period("last_quarter", today)
    spike_month = quarter_end.replace(day=1)
    this_month = today.replace(day=1)
    inbox = PerceptionSourceFactory(
        name="Complaints inbox",
        kind=SourceKind.COMPLAINTS_INBOX,
        structured=False,
        default_kind=ItemKind.COMPLAINT,
    )
    valves = ProductLineFactory(code="VAL", name="Industrial Valves")
    for back in range(1, 25):
        month = months_back(this_month, back)
        Exposure.objects.create(
            month=month, kind=ExposureKind.ORDERS_SHIPPED, product_line=valves, value=1000
        )
        Exposure.objects.create(month=month, kind=ExposureKind.ORDERS_SHIPPED, value=1000)
        complaints = 12 if month == spike_month else 1
        for index in range(complaints):
            record_feedback(
                Intake(
                    source=inbox,
                    text=f"Shipment {month:%Y-%m}/{index} arrived late at our plant",
                    received_at=noon(month + dt.timedelta(days=index + 1)),
                    product_line=valves,
                    external_id=f"{month:%Y-%m}-{index}",
                )
            )
    created = detection.detect(today)
    assert any(s.title.startswith("Industrial Valves — Delivery") for s in created)

    login(page, live_server, "qm")
    page.goto(f"{live_server.url}/insights/")
    signals = page.get_by_test_id("open-signals")
    link = signals.get_by_role("link", name="Industrial Valves — Delivery").first
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url("**/insights/signals/*/")
    expect(page.get_by_test_id("evidence").get_by_text("12", exact=True).first).to_be_visible()
    page.get_by_test_id("records-link").click()
    page.wait_for_url("**/feedback/items/?**")
    table = page.get_by_test_id("object-table")
    assert table.get_by_role("row").count() == 1 + 12  # the header and the spike's complaints
    table.locator("tbody a").first.click()
    page.wait_for_url("**/feedback/items/*/")
    expect(page.get_by_text(f"Shipment {spike_month:%Y-%m}/", exact=False).first).to_be_visible()
