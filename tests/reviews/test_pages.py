"""Review pages: series and where they stand, packs drafted, issued, frozen, verified and
downloaded, the slide view, and meetings with their decisions and the chair's approval;
each with the persona who may and the one who must be refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from tests.conftest import client_for
from tests.factories import (
    PerceptionSourceFactory,
    ProductLineFactory,
    RegionFactory,
    persona,
)

from harken import urls as project_urls
from harken.actions.models import Action, Theme
from harken.core.choices import Role
from harken.core.models import AuditEvent
from harken.feedback.models import Category, FeedbackItem
from harken.insights.models import Exposure
from harken.reviews import services
from harken.reviews.choices import MeetingStatus, PackKind, PackStatus
from harken.reviews.models import MeetingDecision, ReviewMeeting, ReviewPack, ReviewSeries
from harken.reviews.panels import reviews_panel, state_of, with_reviewed_to


def routed(namespace: str) -> bool:
    return any(getattr(p, "namespace", None) == namespace for p in project_urls.urlpatterns)


# Until harken/urls.py includes the reviews (and actions) pages, these tests route them
# themselves; once it does, this is the project's own URL map unchanged.
urlpatterns = [
    *project_urls.urlpatterns,
    *([] if routed("actions") else [path("actions/", include("harken.actions.urls"))]),
    *([] if routed("reviews") else [path("reviews/", include("harken.reviews.urls"))]),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def last_month() -> tuple[dt.date, dt.date]:
    first = timezone.localdate().replace(day=1)
    return services.add_months(first, -1), first - dt.timedelta(days=1)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def download(client, url: str) -> tuple[int, bytes, Any]:
    """GET a download and read it to the end: the test client then closes the file it
    streams (closing the response here would also close the test's database connection)."""
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body, response


@pytest.fixture
def world(quality_manager):
    """Delivery complaints on Industrial Valves last month, on 1,000 orders a month."""
    source = PerceptionSourceFactory(name="Inbox", default_kind="complaint")
    line = ProductLineFactory(code="VAL", name="Industrial Valves")
    delivery = Category.objects.get(code="delivery")
    start, _ = last_month()
    for back in (0, 1):
        Exposure.objects.create(
            month=services.add_months(start, -back),
            kind="orders_shipped",
            product_line=line,
            value=1000,
        )
    for i in range(4):
        FeedbackItem.objects.create(
            source=source,
            kind="complaint",
            received_at=timezone.make_aware(dt.datetime.combine(start, dt.time(9 + i))),
            text=f"The valves arrived late again ({i})",
            category=delivery,
            product_line=line,
            sentiment_score=-0.5,
            dedupe_key=f"pages:{i}",
        )
    from harken.insights.rollups import rebuild_all

    rebuild_all()
    return {"line": line, "delivery": delivery, "source": source}


@pytest.fixture
def series(quality_manager):
    return ReviewSeries.objects.create(
        name="Monthly customer satisfaction review", owner=quality_manager
    )


def draft(actor, series=None, kind=None) -> ReviewPack:
    start, end = last_month()
    return services.draft_pack(
        actor=actor, period_start=start, period_end=end, series=series, kind=kind
    )


@pytest.fixture
def issued(world, series, quality_manager) -> ReviewPack:
    return services.issue(draft(quality_manager, series), actor=quality_manager, with_pdf=False)


@pytest.fixture
def own_files(world, quality_manager) -> ReviewPack:
    """An issued pack whose stored files no other test shares (storage is content-addressed
    and these tests alter or remove the bytes)."""
    pack = draft(quality_manager)
    pack.commentary = f"Stored for this test only: {uuid.uuid4()}"
    pack.save(update_fields=["commentary"])
    return services.issue(services.refresh(pack), actor=quality_manager, with_pdf=False)


@pytest.fixture
def meeting(issued, series, quality_manager, analyst) -> ReviewMeeting:
    start, end = last_month()
    meeting = ReviewMeeting.objects.create(
        series=series,
        held_on=timezone.localdate(),
        period_start=start,
        period_end=end,
        pack=issued,
        chair=quality_manager,
    )
    meeting.attendees.add(quality_manager, analyst)
    return meeting


# --------------------------------------------------------------------------------------
# Who may see what
# --------------------------------------------------------------------------------------


PAGES = (
    "/reviews/series/",
    "/reviews/series/{series}/",
    "/reviews/packs/",
    "/reviews/packs/{pack}/",
    "/reviews/packs/{pack}/slides/",
    "/reviews/packs/{pack}/document/",
    "/reviews/packs/{pack}/verify/",
    "/reviews/meetings/",
    "/reviews/meetings/{meeting}/",
)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("quality_manager", 200),
        ("analyst", 200),
        ("auditor", 200),
        ("owner", 200),  # action owners see everything, change only actions
        ("staff", 403),  # customer-facing staff contribute inputs; reviews are not theirs
        ("outsider", 403),
    ],
)
def test_review_pages_answer_each_role_as_the_matrix_says(request, meeting, who, status):
    client = client_for(request.getfixturevalue(who))
    ids = {"series": meeting.series_id, "pack": meeting.pack_id, "meeting": meeting.pk}
    for page in PAGES:
        url = page.format(**ids)
        assert client.get(url).status_code == status, url


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_login(meeting):
    from django.test import Client

    response = Client().get(f"/reviews/packs/{meeting.pack_id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_downloads_need_the_export_verb(issued, owner, auditor):
    url = f"/reviews/packs/{issued.pk}/download/html/"
    assert download(client_for(owner), url)[0] == 403
    assert download(client_for(auditor), url)[0] == 200


# --------------------------------------------------------------------------------------
# Packs
# --------------------------------------------------------------------------------------


def test_analyst_drafts_a_pack_but_may_not_issue_it(world, series, analyst):
    client = client_for(analyst)
    start, end = last_month()
    response = client.get(f"/reviews/packs/add/?series={series.pk}")
    assert response.status_code == 200
    assert response.context["form"].initial["period_end"] == end
    response = client.post(
        "/reviews/packs/add/",
        {
            "series": series.pk,
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "anonymise": "on",
        },
    )
    pack = ReviewPack.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reviews/packs/{pack.pk}/"
    assert (pack.status, pack.series, pack.created_by) == (PackStatus.DRAFT, series, analyst)
    page = client.get(f"/reviews/packs/{pack.pk}/").content.decode()
    assert 'data-testid="text-form"' in page and 'data-testid="issue"' not in page
    assert client.get(f"/reviews/packs/{pack.pk}/issue/").status_code == 403
    assert client.post(f"/reviews/packs/{pack.pk}/issue/").status_code == 403
    pack.refresh_from_db()
    assert pack.status == PackStatus.DRAFT and pack.content_sha256 == ""


def test_the_draft_form_names_the_field_of_a_period_that_has_not_ended(qm_client):
    today = timezone.localdate()
    response = qm_client.post(
        "/reviews/packs/add/",
        {"period_start": today.replace(day=1).isoformat(), "period_end": today.isoformat()},
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {"period_end": ["Review a period that has ended."]}
    assert not ReviewPack.objects.exists()


def test_issuing_through_the_page_freezes_the_pack_and_the_downloads_match_its_hashes(
    world, series, quality_manager, qm_client
):
    start, end = last_month()
    qm_client.post(
        "/reviews/packs/add/",
        {"series": series.pk, "period_start": start.isoformat(), "period_end": end.isoformat()},
    )
    pack = ReviewPack.objects.get()
    assert pack.anonymise is False  # an unticked box is a choice, not a default
    response = qm_client.post(
        f"/reviews/packs/{pack.pk}/edit/", {"commentary": "Valves late: carrier change."}
    )
    assert response.status_code == 302
    pack.refresh_from_db()
    assert pack.content["commentary"] == "Valves late: carrier change."
    assert qm_client.post(f"/reviews/packs/{pack.pk}/refresh/").status_code == 302

    confirm = qm_client.get(f"/reviews/packs/{pack.pk}/issue/")
    assert confirm.status_code == 200 and "nothing in it can change" in confirm.content.decode()
    response = qm_client.post(f"/reviews/packs/{pack.pk}/issue/")
    assert response.status_code == 302
    pack.refresh_from_db()
    assert pack.status == PackStatus.ISSUED and pack.issued_by == quality_manager
    assert pack.content_sha256 == services.content_hash(pack.content)

    page = qm_client.get(f"/reviews/packs/{pack.pk}/").content.decode()
    for digest in (pack.content_sha256, pack.html_file.sha256, pack.pdf_file.sha256):
        assert digest in page
    for fmt, evidence, kind in (
        ("html", pack.html_file, "text/html"),
        ("pdf", pack.pdf_file, "application/pdf"),
    ):
        status, body, response = download(qm_client, f"/reviews/packs/{pack.pk}/download/{fmt}/")
        assert status == 200 and response["Content-Type"] == kind
        assert f'filename="{pack.number}.{fmt}"' in response["Content-Disposition"]
        assert hashlib.sha256(body).hexdigest() == evidence.sha256
    events = AuditEvent.objects.filter(object_type="reviews.reviewpack", object_id=str(pack.pk))
    assert events.filter(action="reviewpack.issued").count() == 1
    exported = events.filter(action="reviewpack.exported").order_by("seq")
    assert [e.changes["format"] for e in exported] == ["html", "pdf"]
    assert {e.actor_id for e in exported} == {quality_manager.pk}


def test_an_issued_pack_refuses_every_edit_and_still_verifies(issued, qm_client):
    before = (issued.commentary, issued.content_sha256, issued.content)
    response = qm_client.post(f"/reviews/packs/{issued.pk}/edit/", {"commentary": "Rewritten"})
    assert response.status_code == 409
    assert f"{issued.number} is issued" in response.content.decode()
    assert "Draft a revision to correct it" in response.content.decode()
    for url in (f"/reviews/packs/{issued.pk}/refresh/", f"/reviews/packs/{issued.pk}/issue/"):
        assert qm_client.post(url).status_code == 409, url
    assert qm_client.get(f"/reviews/packs/{issued.pk}/edit/").status_code == 405
    issued.refresh_from_db()
    assert (issued.commentary, issued.content_sha256, issued.content) == before
    assert services.verify(issued).ok
    page = qm_client.get(f"/reviews/packs/{issued.pk}/").content.decode()
    assert 'data-testid="text-form"' not in page and 'data-testid="refresh"' not in page
    assert not AuditEvent.objects.filter(action="reviewpack.updated").exists()


def test_verify_reports_a_tampered_file(own_files, auditor_client):
    issued = own_files
    response = auditor_client.get(f"/reviews/packs/{issued.pk}/verify/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Verified." in response.content.decode()
    assert "<html" not in response.content.decode()  # the partial, for the button's htmx
    with open(default_storage.path(issued.html_file.path), "ab") as handle:
        handle.write(b"<!-- altered -->")
    page = auditor_client.get(f"/reviews/packs/{issued.pk}/verify/").content.decode()
    assert "Not verified." in page
    assert "The HTML file no longer matches its SHA-256." in page


def test_a_stored_file_missing_from_storage_is_said_so(own_files, qm_client):
    issued = own_files
    default_storage.delete(issued.html_file.path)
    response = qm_client.get(f"/reviews/packs/{issued.pk}/document/")
    assert response.status_code == 404
    assert download(qm_client, f"/reviews/packs/{issued.pk}/download/html/")[0] == 404
    assert not AuditEvent.objects.filter(action="reviewpack.exported").exists()
    page = qm_client.get(f"/reviews/packs/{issued.pk}/verify/").content.decode()
    assert "The HTML file is missing from storage." in page


def test_the_document_frame_shows_the_stored_html_of_an_issued_pack(issued, world, qm_client):
    response = qm_client.get(f"/reviews/packs/{issued.pk}/document/")
    assert response.status_code == 200
    with issued.html_file.open() as handle:
        assert response.content == handle.read()
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    fresh = draft(issued.issued_by)
    response = qm_client.get(f"/reviews/packs/{fresh.pk}/document/")
    assert b"DRAFT" in response.content and b"Customer Satisfaction Review Pack" in response.content
    assert download(qm_client, f"/reviews/packs/{fresh.pk}/download/html/")[0] == 404


def test_a_revision_is_drafted_from_the_page_and_the_chain_links_both_ways(issued, qm_client):
    response = qm_client.post(f"/reviews/packs/{issued.pk}/revise/")
    revision = ReviewPack.objects.get(replaces=issued)
    assert response["Location"] == f"/reviews/packs/{revision.pk}/"
    assert (revision.revision, revision.status) == (2, PackStatus.DRAFT)
    for pack in (issued, revision):
        page = qm_client.get(f"/reviews/packs/{pack.pk}/").content.decode()
        assert 'data-testid="revisions"' in page
        assert issued.number in page and revision.number in page
    assert qm_client.post(f"/reviews/packs/{issued.pk}/revise/").status_code == 409
    assert ReviewPack.objects.filter(replaces=issued).count() == 1


def test_the_pack_list_costs_the_same_queries_for_one_and_three_packs(issued, qm_client):
    qm_client.get("/reviews/packs/")
    with CaptureQueriesContext(connection) as one:
        assert qm_client.get("/reviews/packs/").status_code == 200
    for _ in range(2):
        services.revise(ReviewPack.objects.order_by("-pk").first(), actor=issued.issued_by)
        services.issue(
            ReviewPack.objects.order_by("-pk").first(), actor=issued.issued_by, with_pdf=False
        )
    assert ReviewPack.objects.count() == 3
    with CaptureQueriesContext(connection) as three:
        response = qm_client.get("/reviews/packs/")
    assert response.content.decode().count('href="/reviews/packs/') >= 3
    assert len(three) == len(one)


def test_the_slides_show_the_management_review_input(world, quality_manager, qm_client):
    pack = draft(quality_manager, kind=PackKind.MANAGEMENT)
    qm_client.post(
        f"/reviews/packs/{pack.pk}/edit/",
        {
            "commentary": "",
            "resources_assessment": "One engineer covers every product line.",
            "opportunities": "A portal with live order status.",
        },
    )
    page = qm_client.get(f"/reviews/packs/{pack.pk}/slides/").content.decode()
    for text in (
        "Management review input: customer satisfaction",
        "DRAFT",
        "Headline figures",
        "What changed",
        "Effectiveness of actions taken",
        "Adequacy of resources",
        "One engineer covers every product line.",
        "Opportunities for improvement",
        "A portal with live order status.",
        "Top recurring issues",
        "Delivery complaints on Industrial Valves",
        "Status of actions",
    ):
        assert text in page, text
    assert 'data-testid="slides-pdf"' not in page  # a draft has no stored PDF


def test_a_review_pack_has_no_resources_fields(world, quality_manager, qm_client):
    pack = draft(quality_manager)
    form = qm_client.get(f"/reviews/packs/{pack.pk}/").context["text_form"]
    assert list(form.fields) == ["commentary"]


# --------------------------------------------------------------------------------------
# Auditors read, and change nothing
# --------------------------------------------------------------------------------------


def test_auditor_reads_and_downloads_but_every_change_is_refused(meeting, auditor):
    client = client_for(auditor)
    pack = meeting.pack
    assert download(client, f"/reviews/packs/{pack.pk}/download/html/")[0] == 200
    start, end = last_month()
    posts = {
        "/reviews/packs/add/": {"period_start": start, "period_end": end},
        f"/reviews/packs/{pack.pk}/edit/": {"commentary": "x"},
        f"/reviews/packs/{pack.pk}/refresh/": {},
        f"/reviews/packs/{pack.pk}/issue/": {},
        f"/reviews/packs/{pack.pk}/revise/": {},
        "/reviews/series/add/": {"name": "x"},
        f"/reviews/series/{meeting.series_id}/edit/": {"name": "x"},
        "/reviews/meetings/add/": {},
        f"/reviews/meetings/{meeting.pk}/edit/": {},
        f"/reviews/meetings/{meeting.pk}/minutes/": {"minutes": "x"},
        f"/reviews/meetings/{meeting.pk}/decide/": {"kind": "other", "text": "x"},
        f"/reviews/meetings/{meeting.pk}/transition/hold/": {},
        f"/reviews/meetings/{meeting.pk}/transition/approve/": {},
    }
    before = AuditEvent.objects.exclude(
        action__in=["reviewpack.exported", "auth.access_denied"]
    ).count()
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert (
        AuditEvent.objects.exclude(action__in=["reviewpack.exported", "auth.access_denied"]).count()
        == before
    )
    page = client.get(f"/reviews/meetings/{meeting.pk}/").content.decode()
    assert 'data-testid="minutes-form"' not in page and 'data-testid="decision-form"' not in page


# --------------------------------------------------------------------------------------
# Meetings
# --------------------------------------------------------------------------------------


def test_a_meeting_is_planned_from_its_pack(issued, quality_manager, analyst, qm_client):
    response = qm_client.get(f"/reviews/meetings/add/?pack={issued.pk}")
    initial = response.context["form"].initial
    assert (initial["pack"], initial["series"], initial["period_end"]) == (
        issued.pk,
        issued.series_id,
        issued.period_end,
    )
    response = qm_client.post(
        "/reviews/meetings/add/",
        {
            "series": issued.series_id,
            "held_on": timezone.localdate().isoformat(),
            "period_start": issued.period_start.isoformat(),
            "period_end": issued.period_end.isoformat(),
            "pack": issued.pk,
            "chair": quality_manager.pk,
            "attendees": [quality_manager.pk, analyst.pk],
            "other_attendees": "Dana Weiss (head of operations)",
        },
    )
    meeting = ReviewMeeting.objects.get()
    assert response["Location"] == f"/reviews/meetings/{meeting.pk}/"
    assert set(meeting.attendees.all()) == {quality_manager, analyst}
    assert meeting.status == MeetingStatus.PLANNED
    page = qm_client.get(f"/reviews/packs/{issued.pk}/").content.decode()
    assert meeting.number in page  # the pack says where it was reviewed


def test_a_meeting_whose_period_ends_before_it_starts_is_refused(
    series, qm_client, quality_manager
):
    response = qm_client.post(
        "/reviews/meetings/add/",
        {
            "series": series.pk,
            "held_on": "2026-10-08",
            "period_start": "2026-09-30",
            "period_end": "2026-09-01",
            "chair": quality_manager.pk,
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {"period_end": ["The period ends before it starts."]}


def test_the_decision_form_opens_an_action_with_the_meeting_as_origin(meeting, owner, qm_client):
    due = timezone.localdate() + dt.timedelta(days=45)
    response = qm_client.post(
        f"/reviews/meetings/{meeting.pk}/decide/",
        {
            "kind": "action_opened",
            "text": "Open a corrective action on late valves.",
            "action_kind": "corrective",
            "title": "Restore on-time delivery of valves",
            "problem_statement": "Four delivery complaints last month (see the pack).",
            "owner": owner.pk,
            "due_date": due.isoformat(),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/reviews/meetings/{meeting.pk}/#decisions"
    action = Action.objects.get()
    assert action.origin == f"Review meeting {meeting.number}"
    assert (action.owner, action.due_date, action.kind) == (owner, due, "corrective")
    decision = MeetingDecision.objects.get()
    assert (decision.meeting, decision.action, decision.kind) == (meeting, action, "action_opened")
    page = qm_client.get(f"/reviews/meetings/{meeting.pk}/").content.decode()
    assert f'href="/actions/{action.pk}/"' in page and action.number in page


def test_the_decision_form_names_what_its_kind_needs(meeting, qm_client):
    response = qm_client.post(
        f"/reviews/meetings/{meeting.pk}/decide/",
        {"kind": "action_opened", "text": "Open an action.", "action_kind": "corrective"},
    )
    assert response.status_code == 422
    errors = response.context["decision_form"].errors
    assert set(errors) == {"title", "problem_statement", "owner", "due_date"}
    assert errors["title"] == ["Action title is needed for this kind of decision."]
    response = qm_client.post(
        f"/reviews/meetings/{meeting.pk}/decide/", {"kind": "disposition", "text": "Monitor."}
    )
    assert set(response.context["decision_form"].errors) == {"theme", "decision"}
    assert not MeetingDecision.objects.exists() and not Action.objects.exists()


def test_a_disposition_decided_in_the_meeting_links_its_theme(meeting, quality_manager, qm_client):
    theme = Theme.objects.create(title="Late valves")
    qm_client.post(
        f"/reviews/meetings/{meeting.pk}/decide/",
        {
            "kind": "disposition",
            "text": "Fix the late deliveries.",
            "theme": theme.pk,
            "decision": "fix",
            "rationale": "A contract date is missed repeatedly.",
        },
    )
    decision = MeetingDecision.objects.get()
    disposition = decision.disposition
    assert (disposition.theme, disposition.approver) == (theme, quality_manager)
    assert disposition.decided_on == meeting.held_on
    page = qm_client.get(f"/reviews/meetings/{meeting.pk}/").content.decode()
    assert theme.number in page and "Fix" in page


def test_an_analyst_may_not_record_a_disposition(meeting, analyst):
    theme = Theme.objects.create(title="Late valves")
    response = client_for(analyst).post(
        f"/reviews/meetings/{meeting.pk}/decide/",
        {"kind": "disposition", "text": "Fix it.", "theme": theme.pk, "decision": "fix"},
    )
    assert response.status_code == 403
    assert response.context["decision_form"].non_field_errors() == [
        "Your role does not allow this."
    ]
    assert not MeetingDecision.objects.exists()


def test_only_the_chair_approves_and_then_nothing_is_editable(meeting, quality_manager, qm_client):
    other = client_for(persona(Role.QUALITY_MANAGER, "qm2"))
    response = qm_client.post(
        f"/reviews/meetings/{meeting.pk}/minutes/",
        {"minutes": "Reviewed the pack; valves late.", "follow_ups": "Carrier review."},
    )
    assert response.status_code == 302
    assert qm_client.post(f"/reviews/meetings/{meeting.pk}/transition/hold/").status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD

    page = other.get(f"/reviews/meetings/{meeting.pk}/").content.decode()
    assert 'data-testid="move-approve"' not in page
    assert "Only the chair, " in page
    assert other.post(f"/reviews/meetings/{meeting.pk}/transition/approve/").status_code == 403
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD

    assert (
        'data-testid="move-approve"'
        in qm_client.get(f"/reviews/meetings/{meeting.pk}/").content.decode()
    )
    qm_client.post(f"/reviews/meetings/{meeting.pk}/transition/approve/")
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.APPROVED and meeting.approved_at is not None
    assert AuditEvent.objects.filter(action="reviewmeeting.approve").count() == 1

    response = qm_client.post(f"/reviews/meetings/{meeting.pk}/minutes/", {"minutes": "Changed"})
    assert response.status_code == 409
    assert "approved" in response.content.decode()
    decide = qm_client.post(
        f"/reviews/meetings/{meeting.pk}/decide/", {"kind": "other", "text": "Late addition"}
    )
    assert decide.status_code == 409
    assert qm_client.get(f"/reviews/meetings/{meeting.pk}/edit/").status_code == 409
    assert qm_client.post(f"/reviews/meetings/{meeting.pk}/edit/", {}).status_code == 409
    meeting.refresh_from_db()
    assert meeting.minutes == "Reviewed the pack; valves late."
    assert not meeting.decisions.exists()
    page = qm_client.get(f"/reviews/meetings/{meeting.pk}/").content.decode()
    for form in ("minutes-form", "decision-form", "move-"):
        assert f'data-testid="{form}' not in page


def test_holding_a_meeting_without_minutes_is_refused_with_the_reason(meeting, qm_client):
    response = qm_client.post(f"/reviews/meetings/{meeting.pk}/transition/hold/")
    assert messages_of(response) == ["Write the minutes."]
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PLANNED


def test_the_meeting_list_costs_the_same_queries_for_one_and_three(meeting, qm_client):
    qm_client.get("/reviews/meetings/")
    with CaptureQueriesContext(connection) as one:
        assert qm_client.get("/reviews/meetings/").status_code == 200
    for day in (1, 2):
        ReviewMeeting.objects.create(
            series=meeting.series,
            held_on=meeting.held_on - dt.timedelta(days=day),
            period_start=meeting.period_start,
            period_end=meeting.period_end,
            pack=meeting.pack,
            chair=meeting.chair,
        )
    with CaptureQueriesContext(connection) as three:
        assert qm_client.get("/reviews/meetings/").status_code == 200
    assert len(three) == len(one)


# --------------------------------------------------------------------------------------
# Series and where they stand
# --------------------------------------------------------------------------------------


def test_the_series_form_stores_its_scope_as_lists_of_ids_and_codes(quality_manager, qm_client):
    inbox = PerceptionSourceFactory(name="Inbox")
    valves = ProductLineFactory(code="VAL", name="Industrial Valves")
    pumps = ProductLineFactory(code="PMP", name="Pumps")
    north = RegionFactory(code="N", name="North")
    response = qm_client.post(
        "/reviews/series/add/",
        {
            "name": "Valves and pumps, north",
            "kind": "review",
            "cadence": "quarterly",
            "owner": quality_manager.pk,
            "grace_days": 20,
            "active": "on",
            "sources": [inbox.pk],
            "product_lines": [pumps.pk, valves.pk],
            "regions": [north.pk],
            "segments": ["key_account"],
        },
    )
    series = ReviewSeries.objects.get()
    assert response["Location"] == f"/reviews/series/{series.pk}/"
    assert series.scope == {
        "sources": [inbox.pk],
        "product_lines": sorted([pumps.pk, valves.pk]),
        "regions": [north.pk],
        "segments": ["key_account"],
    }
    form = qm_client.get(f"/reviews/series/{series.pk}/edit/").context["form"]
    assert form.initial["product_lines"] == sorted([pumps.pk, valves.pk])
    page = qm_client.get(f"/reviews/series/{series.pk}/").content.decode()
    assert "Product lines: Industrial Valves, Pumps" in page


def test_an_overdue_review_is_red_in_the_list_and_on_the_home_panel(quality_manager, qm_client):
    series = ReviewSeries.objects.create(name="Monthly", owner=quality_manager, grace_days=0)
    state = services.series_state(series)
    assert state.overdue or timezone.localdate() == state.period[1]  # due on its last day
    page = qm_client.get("/reviews/series/").content.decode()
    expected = "OVERDUE" if state.overdue else "due"
    assert f'data-state="{expected}"' in page
    request = RequestFactory().get("/")
    request.user = quality_manager
    panel = reviews_panel(request)
    assert panel is not None
    assert panel["template"] == "reviews/_panel.html"
    [row] = panel["rows"]
    assert row["state"].series == series and row["state"].overdue == state.overdue
    assert f'data-state="{expected}"' in row["badge"]
    html = render_to_string(panel["template"], {"panel": panel})
    assert series.name in html and f'data-state="{expected}"' in html


def test_the_panel_is_hidden_from_those_who_may_not_see_reviews(staff, outsider):
    for user in (staff, outsider):
        request = RequestFactory().get("/")
        request.user = user
        assert reviews_panel(request) is None


@pytest.mark.parametrize("held", [None, MeetingStatus.PLANNED, MeetingStatus.HELD])
def test_the_listed_state_agrees_with_the_service(quality_manager, held):
    series = ReviewSeries.objects.create(name="Monthly", owner=quality_manager, grace_days=10)
    today = dt.date(2026, 11, 21)
    if held:
        ReviewMeeting.objects.create(
            series=series,
            held_on=dt.date(2026, 11, 5),
            period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 10, 31),
            chair=quality_manager,
            status=held,
            minutes="m",
        )
    listed = state_of(with_reviewed_to(ReviewSeries.objects.all()).get(), today)
    expected = services.series_state(series, today)
    assert (listed.period, listed.due_on, listed.reviewed, listed.overdue) == (
        expected.period,
        expected.due_on,
        expected.reviewed,
        expected.overdue,
    )


def test_the_series_list_costs_the_same_queries_for_one_and_three(quality_manager, qm_client):
    ReviewSeries.objects.create(name="A", owner=quality_manager)
    qm_client.get("/reviews/series/")
    with CaptureQueriesContext(connection) as one:
        assert qm_client.get("/reviews/series/").status_code == 200
    ReviewSeries.objects.create(name="B", owner=quality_manager, cadence="quarterly")
    ReviewSeries.objects.create(name="C", owner=quality_manager, cadence="yearly")
    with CaptureQueriesContext(connection) as three:
        assert qm_client.get("/reviews/series/").status_code == 200
    assert len(three) == len(one)


def test_the_series_page_shows_its_packs_meetings_and_next_steps(meeting, qm_client):
    page = qm_client.get(f"/reviews/series/{meeting.series_id}/").content.decode()
    assert meeting.number in page and meeting.pack.number in page
    assert f"/reviews/packs/add/?series={meeting.series_id}" in page
    assert f"/reviews/meetings/add/?series={meeting.series_id}" in page
