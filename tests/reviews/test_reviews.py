"""Review packs (narrative, issue, freeze, verify, PDF), meetings and series."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone
from tests.conftest import client_for
from tests.factories import PerceptionSourceFactory, ProductLineFactory

from harken.actions.models import Theme
from harken.core.workflow import TransitionError, apply_transition
from harken.feedback.models import Category, FeedbackItem
from harken.insights import statistics as st
from harken.insights.models import Exposure
from harken.reviews import narrative, services
from harken.reviews.models import ReviewMeeting, ReviewPack, ReviewSeries

pytestmark = pytest.mark.django_db


# Narrative (pure) ---------------------------------------------------------------------------


def test_a_significant_rise_is_told_with_its_p_value_and_streak():
    text = narrative.sentence(
        narrative.Figure(
            label="Delivery complaints on Industrial Valves",
            current=9.8,
            previous=4.1,
            unit="per 1,000 orders",
            p_value=0.003,
            higher_is_worse=True,
            streak=2,
        )
    )
    assert text == (
        "Delivery complaints on Industrial Valves rose from 4.1 to 9.8 per 1,000 orders, "
        "a significant rise (p = 0.003), the second quarter in a row. This needs attention."
    )


def test_chance_and_small_samples_are_said_so():
    assert (
        narrative.sentence(narrative.Figure(label="NPS", current=38.0, previous=41.0, p_value=0.41))
        == "NPS fell from 41.0 to 38.0, a change within the range of chance (p = 0.41)."
    )
    assert (
        narrative.sentence(
            narrative.Figure(
                label="CSAT", current=80.0, previous=90.0, unit="%", warning="Only 3 answers."
            )
        )
        == "CSAT was 80.0% (previously 90.0%), only 3 answers."
    )


def test_streak_counts_periods_moving_the_same_way():
    assert narrative.streak_of([1, 2, 3, 5]) == 3
    assert narrative.streak_of([5, 2, 3]) == 1
    assert narrative.streak_of([None, 4, 3, 2]) == 2


# Packs -------------------------------------------------------------------------------------


@pytest.fixture
def world(quality_manager):
    """Valves' delivery complaints rise from 4 to 20 per quarter on 1,000 orders a month."""
    source = PerceptionSourceFactory(name="Inbox", default_kind="complaint")
    line = ProductLineFactory(code="VAL", name="Industrial Valves")
    delivery = Category.objects.get(code="delivery")
    for month in range(4, 10):
        Exposure.objects.create(
            month=dt.date(2026, month, 1), kind="orders_shipped", product_line=line, value=1000
        )
        Exposure.objects.create(month=dt.date(2026, month, 1), kind="orders_shipped", value=1000)
    rows = [(dt.date(2026, 4 + i % 3, 3 + i), "late") for i in range(4)]
    rows += [(dt.date(2026, 7 + i % 3, 1 + i), "late again") for i in range(20)]
    for i, (day, text) in enumerate(rows):
        FeedbackItem.objects.create(
            source=source,
            kind="complaint",
            received_at=timezone.make_aware(dt.datetime(day.year, day.month, day.day, 9)),
            text=f"{text} {i}",
            category=delivery,
            product_line=line,
            sentiment_score=-0.5,
            dedupe_key=f"x:{i}",
        )
    from harken.insights.rollups import rebuild_all

    rebuild_all()
    return {"line": line, "delivery": delivery}


def q3(actor, **kwargs) -> ReviewPack:
    return services.draft_pack(
        actor=actor, period_start=dt.date(2026, 7, 1), period_end=dt.date(2026, 9, 30), **kwargs
    )


def test_the_narrative_agrees_with_the_figures(world, quality_manager):
    pack = q3(quality_manager)
    expected = st.rate_ratio_test(4, 3000.0, 20, 3000.0)
    sentence = next(
        s
        for s in pack.content["narrative"]
        if s.startswith("Delivery complaints on Industrial Valves")
    )
    p = f"p = {expected.p_value:.2g}" if expected.p_value >= 0.001 else "p < 0.001"
    assert sentence.startswith(
        "Delivery complaints on Industrial Valves rose from 1.3 to 6.7 per 1,000 orders, "
        f"a significant rise ({p})"
    )
    complaints = next(r for r in pack.content["headline"] if r["metric"] == "complaints")
    assert (complaints["current"]["value"], complaints["previous"]["value"]) == (20.0, 4.0)
    assert pack.content["previous_period"] == {"start": "2026-04-01", "end": "2026-06-30"}
    assert pack.content["top_issues"][0]["theme"] is None  # no theme yet: shown as a gap


def test_top_issue_shows_theme_disposition_and_hypothesis(world, quality_manager, owner):
    from harken.actions import services as actions

    theme = Theme.objects.create(
        title="Late valves", category=world["delivery"], product_line=world["line"]
    )
    actions.dispose(theme, actor=quality_manager, decision="fix", rationale="Contract dates missed")
    action = actions.open_action(
        actor=quality_manager,
        kind="corrective",
        title="Fix",
        problem_statement="p",
        owner=owner,
        due_date=dt.date(2026, 12, 1),
        themes=[theme],
    )
    actions.record_root_cause(
        action, actor=owner, method="free_text", root_cause="Weekly carrier pick-up"
    )
    issue = q3(quality_manager).content["top_issues"][0]
    assert issue["theme"]["number"] == theme.number
    assert issue["disposition"]["decision"] == "Fix"
    assert issue["hypotheses"] == ["Weekly carrier pick-up"]


def test_issuing_freezes_and_hashes_the_pack(world, quality_manager):
    pack = q3(quality_manager)
    services.issue(pack, actor=quality_manager)
    pack.refresh_from_db()
    assert pack.status == "issued"
    assert len(pack.content_sha256) == 64
    assert services.verify(pack).ok
    pack.commentary = "edited afterwards"
    with pytest.raises(PermissionError, match="is issued"):
        pack.save()
    with pytest.raises(PermissionError):
        pack.delete()
    with pytest.raises(ValidationError):
        services.refresh(ReviewPack.objects.get(pk=pack.pk))


def test_tampering_with_a_stored_file_is_detected(world, quality_manager):
    pack = services.issue(q3(quality_manager), actor=quality_manager, with_pdf=False)
    from django.core.files.storage import default_storage

    path = default_storage.path(pack.html_file.path)
    with open(path, "ab") as handle:
        handle.write(b"<!-- altered -->")
    result = services.verify(pack)
    assert not result.ok
    assert result.problems == ["The HTML file no longer matches its SHA-256."]


def test_a_revision_replaces_the_issued_pack(world, quality_manager):
    first = services.issue(q3(quality_manager), actor=quality_manager, with_pdf=False)
    revision = services.revise(first, actor=quality_manager)
    assert revision.revision == 2 and revision.replaces == first
    services.issue(revision, actor=quality_manager, with_pdf=False)
    first.refresh_from_db()
    assert first.status == "replaced"
    with pytest.raises(ValidationError):
        services.revise(first, actor=quality_manager)


def test_only_quality_managers_issue(world, analyst, quality_manager):
    pack = q3(analyst)
    with pytest.raises(PermissionDenied):
        services.issue(pack, actor=analyst)


def test_a_period_that_has_not_ended_is_refused(quality_manager):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as info:
        services.draft_pack(
            actor=quality_manager, period_start=today.replace(day=1), period_end=today
        )
    assert "period_end" in info.value.message_dict


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_the_pdf_has_the_sections_charts_and_non_blank_pages(world, quality_manager, tmp_path):
    pack = services.issue(q3(quality_manager), actor=quality_manager)
    pdf = tmp_path / "pack.pdf"
    with pack.pdf_file.open() as handle:
        pdf.write_bytes(handle.read())
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for heading in (
        "Customer Satisfaction Review Pack",
        "Headline figures",
        "What changed",
        "Top recurring issues",
        "Status of actions",
        "Voice of the customer",
        "Perception source register",
        "Complaints by category",  # the Pareto chart's title, drawn as vector text
    ):
        assert heading in text, heading
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    from PIL import Image, ImageStat

    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 2
    for page in pages:
        image = Image.open(page).convert("L")
        assert ImageStat.Stat(image).stddev[0] > 5, f"{page.name} is blank"


# Meetings and series --------------------------------------------------------------------------


@pytest.fixture
def meeting(quality_manager):
    series = ReviewSeries.objects.create(name="Monthly", owner=quality_manager)
    return ReviewMeeting.objects.create(
        series=series,
        held_on=dt.date(2026, 10, 8),
        period_start=dt.date(2026, 9, 1),
        period_end=dt.date(2026, 9, 30),
        chair=quality_manager,
    )


def test_a_decision_opens_an_action_with_the_meeting_as_origin(meeting, quality_manager, owner):
    decision = services.record_decision(
        meeting,
        actor=quality_manager,
        kind="action_opened",
        text="Open an action on late valves",
        action_fields={
            "kind": "corrective",
            "title": "Late valves",
            "problem_statement": "Seen in the pack",
            "owner": owner,
            "due_date": dt.date(2026, 12, 1),
        },
    )
    assert decision.action.origin == f"Review meeting {meeting.number}"
    assert list(decision.action.meeting_decisions.all()) == [decision]


def test_a_decision_records_a_disposition(meeting, quality_manager):
    theme = Theme.objects.create(title="Billing errors")
    decision = services.record_decision(
        meeting,
        actor=quality_manager,
        kind="disposition",
        text="Monitor billing",
        theme=theme,
        decision="monitor",
        rationale="Low volume",
    )
    assert decision.disposition.theme == theme
    assert decision.disposition.decided_on == meeting.held_on


def test_minutes_are_approved_by_the_chair_once_complete(meeting, quality_manager, administrator):
    with pytest.raises(TransitionError):
        apply_transition(meeting, "hold", actor=quality_manager)
    meeting.minutes = "Discussed the pack."
    meeting.save()
    apply_transition(meeting, "hold", actor=quality_manager)
    with pytest.raises(TransitionError, match="Link the pack"):
        services.approve_minutes(meeting, actor=quality_manager)
    with pytest.raises(PermissionDenied):
        services.approve_minutes(meeting, actor=administrator)


def test_a_series_is_overdue_until_its_review_is_held(quality_manager):
    series = ReviewSeries.objects.create(name="Monthly", owner=quality_manager, grace_days=10)
    state = services.series_state(series, dt.date(2026, 11, 21))
    assert state.period == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert state.overdue and state.due_on == dt.date(2026, 11, 10)
    ReviewMeeting.objects.create(
        series=series,
        held_on=dt.date(2026, 11, 12),
        period_start=dt.date(2026, 10, 1),
        period_end=dt.date(2026, 10, 31),
        chair=quality_manager,
        status="held",
        minutes="m",
    )
    assert not services.series_state(series, dt.date(2026, 11, 21)).overdue


def test_pack_command_writes_html(world, quality_manager, tmp_path):
    out = tmp_path / "pack.html"
    call_command("pack", "--period", "2026-Q3", "--format", "html", "--out", str(out))
    assert "Customer Satisfaction Review Pack" in out.read_text()


def test_issued_pack_is_read_only_through_the_api(world, quality_manager):
    pack = services.issue(q3(quality_manager), actor=quality_manager, with_pdf=False)
    client = client_for(quality_manager)
    assert (
        client.patch(
            f"/api/review-packs/{pack.pk}/", {"commentary": "x"}, content_type="application/json"
        ).status_code
        == 405
    )
    assert client.get(f"/api/review-packs/{pack.pk}/verify/").json() == {"ok": True, "problems": []}
