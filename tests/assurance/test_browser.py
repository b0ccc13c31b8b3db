"""Sampling from a report to a record and following its trail, as an auditor does: from a
dashboard number to a complaint, and through its trace to the effectiveness verdict."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from tests.conftest import login
from tests.factories import PerceptionSourceFactory

from harken.actions import services as actions
from harken.actions.models import EffectivenessCheck, Theme
from harken.feedback.models import Category
from harken.feedback.services import Intake, record_feedback
from harken.insights.forms import preset_period

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_from_a_dashboard_number_to_the_effectiveness_verdict(
    page, live_server, quality_manager, owner
):
    start, end = preset_period("last_quarter", timezone.localdate())
    inbox = PerceptionSourceFactory(name="Complaints inbox", default_kind="complaint")
    item, _ = record_feedback(
        Intake(
            source=inbox,
            text="The certificate of conformity was missing again",
            received_at=timezone.make_aware(
                dt.datetime.combine(start + dt.timedelta(days=3), dt.time(10))
            ),
        )
    )
    theme = Theme.objects.create(
        title="Missing certificates", category=Category.objects.get(code="documentation")
    )
    theme.items.add(item)
    actions.dispose(
        theme, actor=quality_manager, decision="fix", rationale="A contract requirement"
    )
    action = actions.open_action(
        actor=quality_manager,
        kind="corrective",
        title="Ship certificates with every delivery",
        problem_statement="Certificates missing",
        owner=owner,
        due_date=end,
        themes=[theme],
    )
    EffectivenessCheck.objects.create(
        action=action,
        metric="complaints",
        baseline_from=start - dt.timedelta(days=90),
        baseline_to=start - dt.timedelta(days=1),
        evaluation_from=start,
        evaluation_to=end,
        target_kind="no_recurrence",
        computed_at=timezone.now(),
        proposed_verdict="effective",
        explanation="No matching complaint arrived in the evaluation window.",
        verdict="effective",
        verdict_by=quality_manager,
        verdict_at=timezone.now(),
    )

    login(page, live_server, "qm")
    page.goto(f"{live_server.url}/insights/")
    page.get_by_test_id("figure-complaints").get_by_test_id("value").click()
    page.wait_for_url("**/feedback/items/**")
    page.get_by_role("link", name=item.number).click()
    page.wait_for_url(f"**/feedback/items/{item.pk}/")
    page.get_by_role("link", name="Trace").click()
    page.wait_for_url("**/assurance/trace/**")
    effectiveness = page.get_by_test_id("stage-effectiveness")
    expect(effectiveness.get_by_text(f"{action.number}: Effective")).to_be_visible()
    assert (
        page.get_by_test_id("stage-decision").get_by_text("Fix: Missing certificates").is_visible()
    )
