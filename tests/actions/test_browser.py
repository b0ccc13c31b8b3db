"""The action pages in a real browser: a control-chart signal on the dashboard becomes a
corrective action with a 5-whys root cause and an effectiveness check, and lands on the
board."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import include, path
from django.utils import timezone
from playwright.sync_api import expect
from tests.conftest import login
from tests.factories import ProductLineFactory
from tests.feedback.factories import PerceptionSourceFactory

from harken import urls as site_urls
from harken.actions.links import LINKS, register_links
from harken.actions.models import Action
from harken.core.registry import registry
from harken.feedback.choices import ItemKind, SourceKind
from harken.feedback.services import Intake, record_feedback
from harken.insights import detection
from harken.insights.choices import ExposureKind
from harken.insights.forms import months_back, preset_period
from harken.insights.models import Exposure


def routed_urlpatterns() -> list[Any]:
    """The site's URLs, with the actions pages added until harken/urls.py includes them."""
    patterns = list(site_urls.urlpatterns)
    if not any(getattr(p, "namespace", None) == "actions" for p in patterns):
        patterns.append(path("actions/", include("harken.actions.urls")))
    return patterns


urlpatterns = routed_urlpatterns()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls(__name__),
]


@pytest.fixture(autouse=True)
def action_links() -> Iterator[None]:
    added = [link for link in LINKS if link not in registry.object_links]
    register_links()
    yield
    for link in added:
        registry.object_links.remove(link)


def noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def late_valve_deliveries() -> None:
    """Two years of valve complaints, one a month, and a jump to twelve at the end of
    last quarter: the control chart flags it."""
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
        for index in range(12 if month == spike_month else 1):
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


def test_a_signal_becomes_an_action_with_its_root_cause_and_check_on_the_board(
    page, live_server, quality_manager
):
    late_valve_deliveries()
    login(page, live_server, "qm")

    page.goto(f"{live_server.url}/insights/")
    page.get_by_test_id("open-signals").get_by_role(
        "link", name="Industrial Valves — Delivery"
    ).first.click()
    page.wait_for_url("**/insights/signals/*/")
    page.get_by_role("link", name="Turn into action").click()
    page.wait_for_url("**/actions/add/?signal=*")

    title = page.get_by_label("Title")
    assert title.input_value().startswith("Industrial Valves — Delivery")
    expect(
        page.get_by_test_id("linked").get_by_text("Industrial Valves — Delivery")
    ).to_be_visible()
    page.get_by_label("Priority").select_option(label="High")
    page.get_by_label("Origin").fill("Control chart on the dashboard")
    page.get_by_role("button", name="Open the action").click()
    page.wait_for_url("**/actions/*/")
    action = Action.objects.get()
    assert action.signals.count() == 1
    assert action.items.count() >= 12  # the complaints behind the signal are cited
    expect(page.get_by_test_id("problem").get_by_text("Delivery", exact=True).first).to_be_visible()
    page.get_by_role("link", name="Record the analysis").click()
    page.wait_for_url("**/root-cause/")
    page.get_by_label("5 whys").check()
    page.get_by_label("Why 1", exact=True).fill("Why late? Orders sat at the carrier's hub.")
    page.get_by_label("Why 2", exact=True).fill("Why at the hub? Loads are consolidated weekly.")
    page.get_by_label("Why 3", exact=True).fill("Why weekly? We bought the economy service.")
    page.locator("#id_root_cause").fill(
        "Carrier chosen on price alone, without a delivery criterion."
    )
    page.get_by_role("button", name="Record the analysis").click()
    page.wait_for_url(f"**/actions/{action.pk}/#root-cause")
    whys = page.get_by_test_id("whys").get_by_role("listitem")
    assert whys.count() == 3
    assert whys.nth(1).inner_text() == "Why at the hub? Loads are consolidated weekly."
    page.get_by_role("button", name="Root cause found").click()
    page.wait_for_url(f"**/actions/{action.pk}/")
    expect(page.get_by_test_id("status").get_by_text("Root cause found")).to_be_visible()
    page.get_by_role("link", name="Define the check").click()
    page.wait_for_url("**/check/")
    assert page.get_by_label("Metric").input_value() == "complaint_rate"
    # An evaluation window that has begun, so the check computes (provisionally) now.
    this_month = timezone.localdate().replace(day=1)
    page.get_by_label("Evaluation from").fill(this_month.isoformat())
    page.get_by_label("Evaluation to").fill(
        (months_back(this_month, -3) - dt.timedelta(days=1)).isoformat()
    )
    page.get_by_label("Target value").fill("40")
    page.get_by_role("button", name="Save and compute").click()
    page.wait_for_url(f"**/actions/{action.pk}/#effectiveness")
    check = page.get_by_test_id("effectiveness")
    assert check.get_by_test_id("target").inner_text() == "Falls by at least 40 %"
    expect(check.get_by_test_id("proposed-verdict").get_by_text("provisional")).to_be_visible()
    page.wait_for_function(
        "document.querySelector('canvas[data-chart=effectiveness]').chart !== undefined"
    )

    page.goto(f"{live_server.url}/actions/")
    column = page.get_by_test_id("column-root_cause_found")
    card = column.get_by_test_id("card")
    assert card.count() == 1
    expect(card.get_by_role("link", name=action.number)).to_be_visible()
    expect(card.get_by_text("High")).to_be_visible()
