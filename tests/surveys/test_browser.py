"""Answering a survey in a real browser on a phone-sized screen, by touch and by keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from tests.surveys.factories import sent_invitation, survey

from harken.surveys.choices import InvitationStatus, ResponseStatus
from harken.surveys.models import Invitation, SurveyResponse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 667}


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


def test_answering_a_survey_on_a_phone(phone, live_server):
    srv = survey(title="Relationship NPS 2026 Q1")
    _invitation, token = sent_invitation(srv)
    phone.goto(f"{live_server.url}/surveys/r/{token}/")

    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    question = "How likely is it that you would recommend Test Company to a colleague?"
    group = phone.get_by_role("group", name=question)
    expect(group).to_be_visible()
    # Each point is a labelled radio button big enough to touch (44 px).
    box = phone.locator(f"label[for='q{srv.questions.get(kind='score').pk}-9']").bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44

    phone.get_by_role("button", name="Send my answers").tap()
    summary = phone.get_by_test_id("error-summary")
    summary.wait_for(state="visible")
    assert "Please answer this question." in summary.inner_text()

    phone.get_by_text("9", exact=True).tap()
    phone.get_by_label("What is the main reason for your score?").fill("Reliable deliveries.")
    phone.get_by_role("button", name="Send my answers").tap()
    phone.wait_for_url("**?thanks=1")
    expect(phone.get_by_role("heading", name="Thank you")).to_be_visible()
    response = SurveyResponse.objects.get()
    assert (response.status, response.score, response.comment) == (
        ResponseStatus.SUBMITTED,
        9.0,
        "Reliable deliveries.",
    )
    assert Invitation.objects.get().status == InvitationStatus.RESPONDED


def test_the_survey_is_answered_with_the_keyboard_alone_and_saved_part_way(phone, live_server):
    srv = survey()
    _invitation, token = sent_invitation(srv)
    score = srv.questions.get(kind="score")
    phone.goto(f"{live_server.url}/surveys/r/{token}/")
    # Tab reaches the scale first (after the skip link); the arrow keys move the choice.
    phone.keyboard.press("Tab")
    phone.keyboard.press("Tab")
    focused = phone.evaluate("document.activeElement.name")
    assert focused == f"q{score.pk}"
    phone.keyboard.press("ArrowRight")
    phone.keyboard.press("ArrowRight")
    phone.keyboard.press("Space")
    assert phone.evaluate("document.activeElement.value") in {"1", "2"}
    chosen = phone.evaluate("document.activeElement.value")
    # Leaving and coming back keeps the answer (the page saved it as it changed).
    phone.get_by_role("button", name="Save and finish later").click()
    phone.wait_for_url("**?saved=1")
    expect(phone.get_by_test_id("saved-notice")).to_be_visible()
    phone.goto(f"{live_server.url}/surveys/r/{token}/")
    assert phone.locator(f"#q{score.pk}-{chosen}").is_checked()
    assert SurveyResponse.objects.get().status == ResponseStatus.PARTIAL
