"""Survey services and the plain modules: answer checking, CSV lists, figures, the
recording of answers as feedback, and the group commit of concurrent submissions."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from tests.factories import ContactFactory
from tests.surveys.factories import SurveyResponseFactory, answers_of, sent_invitation, survey

from harken.core.audit import verify_chain
from harken.core.models import AuditEvent
from harken.feedback.models import FeedbackItem
from harken.surveys import answers, grouping, services, tokens
from harken.surveys.choices import InvitationStatus, ResponseStatus
from harken.surveys.grouping import GroupCommit, Job
from harken.surveys.models import Invitation, SurveyResponse

SPECS = (
    answers.QuestionSpec(id=1, kind="score", required=True, scale="nps"),
    answers.QuestionSpec(id=2, kind="why"),
    answers.QuestionSpec(id=3, kind="choice", options=("price", "quality")),
    answers.QuestionSpec(id=4, kind="multiple", options=("a", "b", "c")),
    answers.QuestionSpec(id=5, kind="rating", scale="stars", required=True),
)


def test_final_answers_need_the_required_questions_and_valid_values():
    checked = answers.check(SPECS, {"q1": "11", "q3": "colour", "q4": ["c", "a", "z"]}, final=True)
    assert checked.errors == {
        "1": ("range", {"low": 0, "high": 10}),
        "3": ("choice", {}),
        "4": ("choice", {}),
        "5": ("required", {}),
    }
    good = answers.check(
        SPECS, {"q1": ["9"], "q2": " Fine ", "q4": ["c", "a", "a"], "q5": "4"}, final=True
    )
    assert good.ok
    assert good.values == {"1": 9, "2": "Fine", "4": ["a", "c"], "5": 4}


def test_a_partial_save_keeps_what_is_valid_and_ignores_what_is_missing():
    checked = answers.check(SPECS, {"q2": "Half an answer", "q1": "x"}, final=False)
    assert checked.values == {"2": "Half an answer"}
    assert checked.errors == {"1": ("range", {"low": 0, "high": 10})}


def test_a_csv_list_is_read_from_its_email_column_with_bad_lines_named():
    data = b"Name,E-Mail\nAna,ana@one.example\nBo,bo at two\n,\nCy,CY@three.example\n"
    parsed = services.read_contact_csv(data)
    assert parsed.emails == ["ana@one.example", "cy@three.example"]
    assert parsed.errors == ["Line 3: 'bo at two' is not an e-mail address."]
    headless = services.read_contact_csv(b"dee@four.example\neve@five.example\n")
    assert headless.emails == ["dee@four.example", "eve@five.example"]


def test_nps_headline_and_margin_match_the_textbook():
    value, margin = services.nps_with_margin(promoters=50, detractors=20, n=100)
    assert round(value, 1) == 30.0
    # Var = 0.5 + 0.2 - 0.3^2 = 0.61; 1.96 * 100 * sqrt(0.61/100) = 15.31
    assert round(margin, 2) == 15.31


@pytest.mark.django_db
def test_recording_answers_as_feedback_is_idempotent_and_keeps_the_links():
    srv = survey(kind="csat")
    contact = ContactFactory()
    invitation, _ = sent_invitation(srv, contact=contact)
    score = srv.questions.get(kind="score")
    response = SurveyResponseFactory(
        survey=srv,
        invitation=invitation,
        contact=contact,
        customer=contact.customer,
        status="submitted",
        answers={str(score.pk): 2},
        score=2,
        comment="The parcel was damaged.",
        submitted_at=invitation.sent_at,
    )
    assert services.record_pending() == 1
    assert services.record_pending() == 0
    item = FeedbackItem.objects.get()
    assert (item.kind, item.score, item.scale, item.sentiment_label) == (
        "survey_response",
        2.0,
        "csat",
        "negative",
    )
    assert item.external_id == f"{srv.number}/response/{response.pk}"
    assert item.raw["answers"] == {
        "How satisfied are you with Test Company?": 2,
    }
    # A crash between the insert and the link: recording again finds the item.
    SurveyResponse.objects.filter(pk=response.pk).update(feedback_item=None)
    assert services.record_pending() == 1
    assert FeedbackItem.objects.count() == 1
    assert SurveyResponse.objects.get().feedback_item == item


@pytest.mark.django_db
def test_a_chunk_of_answers_becomes_items_with_their_people_and_triggers():
    """Each response of a chunk gets its customer, contact, region and trigger on its
    item, its link and its events; the relations are read a query each whatever the
    count of responses."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from tests.factories import FeedbackItemFactory

    first, second = survey(kind="csat"), survey(kind="nps", title="Delivery survey")
    complaint = FeedbackItemFactory(kind="complaint", complaint_number="CMP-2026-0007")
    same_customer = ContactFactory()
    contacts = [ContactFactory(), ContactFactory(), ContactFactory(customer=same_customer.customer)]
    triggered, _ = sent_invitation(
        first, contact=contacts[0], trigger_item=complaint, trigger_ref="DN-2026-00412"
    )
    plain, _ = sent_invitation(second, contact=contacts[1])
    bare, _ = sent_invitation(second, contact=contacts[2])
    now = timezone.now()

    def answer(srv, invitation, contact, score):
        return SurveyResponseFactory(
            survey=srv,
            invitation=invitation,
            contact=contact,
            customer=contact.customer if contact else None,
            status="submitted",
            answers={str(srv.questions.get(kind="score").pk): score},
            score=score,
            comment="",
            submitted_at=now,
        )

    responses = [
        answer(first, triggered, contacts[0], 2),
        answer(second, plain, contacts[1], 9),
        answer(second, bare, contacts[2], 7),
        answer(second, None, None, 10),  # an open survey's: nobody known
    ]
    with CaptureQueriesContext(connection) as one:
        assert services.record_pending(ids=[responses[0].pk]) == 1
    with CaptureQueriesContext(connection) as three:
        assert services.record_pending() == 3

    def reads(queries):
        tables = ("surveys_survey", "surveys_invitation", "customers_customer", "customers_contact")
        return sorted(
            table
            for query in queries.captured_queries
            for table in tables
            if query["sql"].startswith("SELECT") and f'FROM "{table}"' in query["sql"]
        )

    assert (
        reads(one)
        == reads(three)
        == sorted(
            ["surveys_survey", "surveys_invitation", "customers_customer", "customers_contact"]
        )
    )

    items = {r.pk: r.feedback_item for r in SurveyResponse.objects.select_related("feedback_item")}
    expected = [
        (contacts[0].customer_id, contacts[0].pk, contacts[0].customer.region_id),
        (contacts[1].customer_id, contacts[1].pk, contacts[1].customer.region_id),
        (contacts[2].customer_id, contacts[2].pk, contacts[2].customer.region_id),
        (None, None, None),
    ]
    for response, (customer_id, contact_id, region_id) in zip(responses, expected, strict=True):
        item = items[response.pk]
        assert (item.customer_id, item.contact_id, item.region_id) == (
            customer_id,
            contact_id,
            region_id,
        )
        assert item.raw["response"] == response.pk
        recorded = AuditEvent.objects.get(
            action="surveyresponse.recorded", object_id=str(response.pk)
        )
        assert recorded.changes == {"feedback_item": [None, item.pk]}
        assert recorded.object_label == str(SurveyResponse.objects.get(pk=response.pk))
    assert items[responses[0].pk].raw["invitation"] == triggered.pk
    assert items[responses[0].pk].raw["triggered_by"] == "CMP-2026-0007"
    assert items[responses[0].pk].raw["trigger_ref"] == "DN-2026-00412"
    assert "triggered_by" not in items[responses[1].pk].raw
    assert "invitation" not in items[responses[3].pk].raw
    assert items[responses[1].pk].title == f"Delivery survey ({second.number})"
    assert verify_chain().ok


@pytest.mark.django_db
def test_linking_items_in_several_statements_links_every_response(monkeypatch):
    """Responses beyond one statement's parameters are linked by the next statement."""
    from django.db import connection

    srv = survey(kind="nps")
    score = srv.questions.get(kind="score")
    for value in range(7):
        SurveyResponseFactory(
            survey=srv,
            status="submitted",
            answers={str(score.pk): value},
            score=value,
            submitted_at=timezone.now(),
        )
    monkeypatch.setattr(connection.features, "max_query_params", 5)  # two rows a statement
    assert services.record_pending() == 7
    linked = SurveyResponse.objects.values_list("feedback_item__score", "score")
    assert sorted(linked) == [(float(v), float(v)) for v in range(7)]


def test_concurrent_jobs_are_carried_out_in_groups_and_each_gets_its_result():
    groups: list[int] = []

    def apply(jobs):
        groups.append(len(jobs))
        time.sleep(0.02)
        for job in jobs:
            job.result = job.payload * 2

    commit = GroupCommit(apply)
    results: dict[int, int] = {}

    def run(n: int) -> None:
        results[n] = commit.run(n).result

    threads = [threading.Thread(target=run, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {n: n * 2 for n in range(20)}
    assert sum(groups) == 20
    assert len(groups) < 20  # some jobs shared a group


def test_jobs_waiting_behind_a_group_form_the_next_groups_in_arrival_order_up_to_the_limit(
    monkeypatch,
):
    """While one group is carried out, jobs queue; the oldest of them then leads a group of
    at most MAX_GROUP, and the rest follow in order: none is lost, left waiting or run twice."""
    monkeypatch.setattr(grouping, "MAX_GROUP", 3)
    groups: list[list[int]] = []
    first_started = threading.Event()
    release = threading.Event()

    def apply(jobs):
        groups.append([job.payload for job in jobs])
        if jobs[0].payload == 0:
            first_started.set()
            assert release.wait(5)
        for job in jobs:
            job.result = job.payload

    commit = GroupCommit(apply)
    results: dict[int, int] = {}

    def run(n: int) -> None:
        results[n] = commit.run(n).result

    threads = [threading.Thread(target=run, args=(0,))]
    threads[0].start()
    assert first_started.wait(5)
    for n in range(1, 8):
        threads.append(threading.Thread(target=run, args=(n,)))
        threads[-1].start()
        deadline = time.monotonic() + 5
        while len(commit._queue) < n and time.monotonic() < deadline:
            time.sleep(0.001)
    release.set()
    for t in threads:
        t.join(5)
    assert not any(t.is_alive() for t in threads)
    assert groups == [[0], [1, 2, 3], [4, 5, 6], [7]]
    assert results == {n: n for n in range(8)}


def test_a_failing_group_is_retried_job_by_job_so_one_bad_job_sinks_only_itself():
    def apply(jobs):
        if any(job.payload == "bad" for job in jobs):
            raise ValueError("bad job")
        for job in jobs:
            job.result = job.payload.upper()

    commit = GroupCommit(apply)
    outcome: dict[str, object] = {}
    barrier = threading.Barrier(3)

    def run(payload: str) -> None:
        barrier.wait()
        job = commit.run(payload)
        outcome[payload] = job.error or job.result

    threads = [threading.Thread(target=run, args=(p,)) for p in ("ok", "bad", "fine")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcome["ok"] == "OK" and outcome["fine"] == "FINE"
    assert isinstance(outcome["bad"], ValueError)


def job(token: str, data: dict, *, final: bool = True, now: dt.datetime | None = None) -> Job:
    return Job(
        services.Submission(
            token=token,
            digest=tokens.token_hash(token),
            data=data,
            final=final,
            request_id=f"req-{token[:8]}",
            now=now,
        )
    )


@pytest.mark.django_db
def test_one_group_records_each_link_once_in_arrival_order_with_one_event_each(
    django_capture_on_commit_callbacks,
):
    """A group of concurrent submissions: the same link twice (the second is told it was
    answered), a partial save then the final answer of another link, an unknown link, an
    expired one and answers with an error, each settled as if it had come alone."""
    srv = survey()
    twice, twice_token = sent_invitation(srv)
    saved_then_sent, saved_token = sent_invitation(srv)
    expired, expired_token = sent_invitation(
        srv, sent_at=timezone.now() - dt.timedelta(days=40), valid_days=30
    )
    wrong, wrong_token = sent_invitation(srv)
    jobs = [
        job(twice_token, answers_of(srv, score=9, why="Fast.")),
        job(saved_token, answers_of(srv, score=4), final=False),
        job(twice_token, answers_of(srv, score=0, why="Second thoughts.")),
        job(saved_token, answers_of(srv, score=5, why="Late, but fine.")),
        job(tokens.new_token(), answers_of(srv, score=7)),
        job(expired_token, answers_of(srv, score=7)),
        job(wrong_token, answers_of(srv, why="No score.")),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        services.record_submissions(jobs)
    outcomes = [j.result.outcome for j in jobs]
    assert outcomes == [
        services.Outcome.SUBMITTED,
        services.Outcome.SAVED,
        services.Outcome.ANSWERED,
        services.Outcome.SUBMITTED,
        services.Outcome.UNKNOWN,
        services.Outcome.EXPIRED,
        services.Outcome.SAVED,  # submit() words a final answer with errors as INVALID
    ]
    assert jobs[6].result.checked.errors
    first = SurveyResponse.objects.get(invitation=twice)
    assert (first.status, first.score, first.comment) == (ResponseStatus.SUBMITTED, 9.0, "Fast.")
    second = SurveyResponse.objects.get(invitation=saved_then_sent)
    assert (second.status, second.score, second.comment) == (
        ResponseStatus.SUBMITTED,
        5.0,
        "Late, but fine.",
    )
    partial = SurveyResponse.objects.get(invitation=wrong)
    assert (partial.status, partial.submitted_at) == (ResponseStatus.PARTIAL, None)
    assert not SurveyResponse.objects.filter(invitation=expired).exists()
    statuses = dict(Invitation.objects.values_list("pk", "status"))
    assert statuses == {
        twice.pk: InvitationStatus.RESPONDED,
        saved_then_sent.pk: InvitationStatus.RESPONDED,
        expired.pk: InvitationStatus.SENT,
        wrong.pk: InvitationStatus.OPENED,
    }
    events = list(
        AuditEvent.objects.filter(
            action__in=("surveyresponse.saved", "surveyresponse.submitted")
        ).order_by("seq")
    )
    assert [(e.action, e.object_id, e.request_id) for e in events] == [
        ("surveyresponse.submitted", str(first.pk), f"req-{twice_token[:8]}"),
        ("surveyresponse.saved", str(second.pk), f"req-{saved_token[:8]}"),
        ("surveyresponse.submitted", str(second.pk), f"req-{saved_token[:8]}"),
        ("surveyresponse.saved", str(partial.pk), f"req-{wrong_token[:8]}"),
    ]
    assert events[1].changes["status"] == [None, "partial"]
    assert events[2].changes["status"] == ["partial", "submitted"]
    assert events[2].changes["invitation_status"] == ["opened", "responded"]
    assert events[0].actor_label == f"survey:{srv.number}"
    assert verify_chain().ok
    # Every answer that was completed became a feedback item (immediate task backend).
    assert FeedbackItem.objects.count() == 2


@pytest.mark.django_db
def test_a_partial_save_stored_earlier_is_completed_by_a_later_group():
    srv = survey()
    invitation, token = sent_invitation(srv)
    assert services.submit(token, answers_of(srv, score=3), final=False).outcome == "saved"
    visit = services.submit(token, answers_of(srv, score=8, why="Better now."), final=True)
    assert visit.outcome == services.Outcome.SUBMITTED
    response = SurveyResponse.objects.get()
    assert (response.status, response.score, response.comment) == ("submitted", 8.0, "Better now.")
    assert response.submitted_at is not None
    invitation.refresh_from_db()
    assert (invitation.status, invitation.responded_at) == ("responded", response.submitted_at)
    assert verify_chain().ok


DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.mark.django_db
def test_answers_add_no_task_while_a_recording_task_waits_and_it_records_them_all(
    settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_TASKS
    srv = survey()
    links = [sent_invitation(srv)[1] for _ in range(3)]
    for token in links:
        with django_capture_on_commit_callbacks(execute=True):
            visit = services.submit(token, answers_of(srv, score=9), final=True)
        assert visit.outcome == "submitted"
    waiting = DBTaskResult.objects.get()
    assert waiting.status == "READY" and len(waiting.args_kwargs["args"][0]) == 1
    assert FeedbackItem.objects.count() == 0
    # The one task, when it runs, records every waiting answer, not only its own.
    from harken.surveys.tasks import record_responses

    assert record_responses.call(*waiting.args_kwargs["args"]) == 3
    assert FeedbackItem.objects.count() == 3
    # Once it has started (here: done), the next answer queues a task of its own.
    DBTaskResult.objects.update(status="SUCCESSFUL")
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(sent_invitation(srv)[1], answers_of(srv, score=2), final=True)
    assert DBTaskResult.objects.filter(status="READY").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_waiting_recording_task_cannot_be_taken_before_the_answers_that_counted_on_it_commit(
    settings,
):
    """The group asks whether a recording task waits in its own transaction and holds that
    task until it commits: a worker looking for work meanwhile skips it, and takes it once
    the answers are in (so they are never missed by a task that started too early)."""
    from django.db import connection, transaction

    from harken.core.rows import Trip
    from harken.surveys.tasks import record_responses

    settings.TASKS = DATABASE_TASKS
    record_responses.enqueue([])
    held = threading.Event()
    release = threading.Event()
    seen: dict[str, object] = {}

    def group() -> None:
        try:
            with transaction.atomic():
                trip = Trip("default")
                waiting = services._recording_waits_in(trip)
                trip.run()
                seen["waiting"] = waiting.rows if waiting else None
                held.set()
                release.wait(5)
        finally:
            connection.close()

    thread = threading.Thread(target=group)
    thread.start()
    assert held.wait(5)
    with transaction.atomic():
        assert DBTaskResult.objects.ready().get_locked() is None  # the worker skips it
    release.set()
    thread.join(5)
    assert seen["waiting"] == [(1,)]
    with transaction.atomic():
        assert DBTaskResult.objects.ready().get_locked() is not None


@pytest.mark.django_db
def test_a_group_that_records_nothing_leaves_the_audit_chain_alone():
    srv = survey()
    invitation, token = sent_invitation(srv)
    assert services.submit(token, answers_of(srv, score=9), final=True).outcome == "submitted"
    before = AuditEvent.objects.count()
    jobs = [job(token, answers_of(srv, score=1)), job(tokens.new_token(), answers_of(srv, score=2))]
    services.record_submissions(jobs)
    assert [j.result.outcome for j in jobs] == [services.Outcome.ANSWERED, services.Outcome.UNKNOWN]
    assert AuditEvent.objects.count() == before
    assert SurveyResponse.objects.get(invitation=invitation).score == 9.0
