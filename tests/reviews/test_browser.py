"""A review meeting in a real browser: the chair opens the issued pack, records a decision
that opens an action, marks the meeting held and approves the minutes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import include, path
from django.utils import timezone
from tests.conftest import login
from tests.factories import PerceptionSourceFactory, ProductLineFactory

from harken import urls as project_urls
from harken.actions.models import Action
from harken.feedback.models import Category, FeedbackItem
from harken.reviews import services
from harken.reviews.choices import MeetingStatus
from harken.reviews.models import MeetingDecision, ReviewMeeting, ReviewSeries


def routed(namespace: str) -> bool:
    return any(getattr(p, "namespace", None) == namespace for p in project_urls.urlpatterns)


# Until harken/urls.py includes the reviews (and actions) pages, this test routes them
# itself; once it does, this is the project's own URL map unchanged.
urlpatterns = [
    *project_urls.urlpatterns,
    *([] if routed("actions") else [path("actions/", include("harken.actions.urls"))]),
    *([] if routed("reviews") else [path("reviews/", include("harken.reviews.urls"))]),
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls(__name__),
]


def test_the_chair_runs_a_review_meeting_from_the_pack_to_approved_minutes(
    page, live_server, quality_manager, owner
):
    first = timezone.localdate().replace(day=1)
    start, end = services.add_months(first, -1), first - dt.timedelta(days=1)
    source = PerceptionSourceFactory(name="Complaints inbox", default_kind="complaint")
    valves = ProductLineFactory(code="VAL", name="Industrial Valves")
    delivery = Category.objects.get(code="delivery")
    for i in range(3):
        FeedbackItem.objects.create(
            source=source,
            kind="complaint",
            received_at=timezone.make_aware(dt.datetime.combine(start, dt.time(9 + i))),
            text=f"Valves delivered a week late ({i})",
            category=delivery,
            product_line=valves,
            dedupe_key=f"browser:{i}",
        )
    from harken.insights.rollups import rebuild_all

    rebuild_all()
    series = ReviewSeries.objects.create(name="Monthly review", owner=quality_manager)
    pack = services.draft_pack(
        actor=quality_manager, period_start=start, period_end=end, series=series
    )
    services.issue(pack, actor=quality_manager, with_pdf=False)
    meeting = ReviewMeeting.objects.create(
        series=series,
        held_on=timezone.localdate(),
        period_start=start,
        period_end=end,
        pack=pack,
        chair=quality_manager,
    )
    meeting.attendees.add(quality_manager, owner)

    from playwright.sync_api import expect

    login(page, live_server, "qm")
    page.goto(f"{live_server.url}/reviews/meetings/{meeting.pk}/")
    page.get_by_test_id("pack").get_by_role("link", name=pack.number).click()
    page.wait_for_url(f"**/reviews/packs/{pack.pk}/")
    expect(page.get_by_test_id("status").get_by_text("Issued")).to_be_visible()
    expect(page.get_by_test_id("content-sha256")).to_have_text(pack.content_sha256)
    document = page.frame_locator("iframe.pack-document")
    expect(document.get_by_role("heading", name="Top recurring issues")).to_be_visible()
    page.go_back()
    page.wait_for_url(f"**/reviews/meetings/{meeting.pk}/")

    page.get_by_label("Minutes", exact=True).fill(
        f"Reviewed {pack.number}. Delivery complaints on valves rose; carrier to be reviewed."
    )
    page.get_by_role("button", name="Save the minutes").click()
    page.wait_for_url(f"**/reviews/meetings/{meeting.pk}/#minutes")

    form = page.get_by_test_id("decision-form")
    form.get_by_label("Kind of decision").select_option("action_opened")
    expect(form.get_by_label("Theme")).to_be_hidden()  # only the chosen kind's fields show
    form.get_by_label("The decision, as minuted").fill("Open a corrective action on late valves.")
    form.get_by_label("Action title").fill("Restore on-time delivery of valves")
    form.get_by_label("Problem statement").fill("Three late deliveries last month, see the pack.")
    form.get_by_label("Owner").select_option(str(owner.pk))
    form.get_by_role("button", name="Record the decision").click()
    page.wait_for_url(f"**/reviews/meetings/{meeting.pk}/#decisions")
    action = Action.objects.get()
    decisions = page.get_by_test_id("decisions")
    expect(decisions.get_by_role("link", name=action.number)).to_be_visible()

    page.get_by_test_id("move-hold").click()
    expect(page.get_by_test_id("status")).to_contain_text("Held (minutes in draft)")
    page.get_by_test_id("move-approve").click()
    expect(page.get_by_test_id("status")).to_contain_text("Minutes approved")
    expect(page.get_by_test_id("decision-form")).to_have_count(0)

    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.APPROVED
    assert action.origin == f"Review meeting {meeting.number}"
    assert action.owner == owner
    decision = MeetingDecision.objects.get()
    assert (decision.meeting, decision.action) == (meeting, action)
