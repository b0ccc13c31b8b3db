"""Survey services and the plain modules: answer checking, CSV lists, figures, the
recording of answers as feedback, and the group commit of concurrent submissions."""

from __future__ import annotations

import threading
import time

import pytest
from tests.factories import ContactFactory
from tests.surveys.factories import SurveyResponseFactory, sent_invitation, survey

from harken.feedback.models import FeedbackItem
from harken.surveys import answers, services
from harken.surveys.grouping import GroupCommit
from harken.surveys.models import SurveyResponse

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
