"""The public pages behind a link: no login, one use, clear pages for every bad link,
partial saves, opt-outs, the open link and its rate limit, CSRF."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from tests.factories import ContactFactory
from tests.surveys.factories import answers_of, sent_invitation, survey

from harken.core.models import AuditEvent
from harken.surveys import services, tokens
from harken.surveys.choices import InvitationStatus, ResponseStatus
from harken.surveys.models import Invitation, OptOut, SurveyResponse

pytestmark = pytest.mark.django_db


def url(token: str) -> str:
    return f"/surveys/r/{token}/"


def submit(client: Client, token: str, data: dict, action: str = "submit"):
    return client.post(url(token), {**data, "action": action})


def test_the_link_opens_the_survey_without_login_and_marks_it_opened(client):
    invitation, token = sent_invitation()
    page = client.get(url(token))
    assert page.status_code == 200
    content = page.content.decode()
    assert '<html lang="en">' in content
    assert 'name="csrfmiddlewaretoken"' in content
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.OPENED
    event = AuditEvent.objects.get(action="invitation.opened")
    assert (event.actor_type, event.actor_label) == ("token", f"survey:{invitation.survey.number}")
    # Opening again changes nothing more.
    client.get(url(token))
    assert AuditEvent.objects.filter(action="invitation.opened").count() == 1


def test_a_second_submission_with_the_same_token_changes_nothing_and_says_so(client):
    invitation, token = sent_invitation()
    srv = invitation.survey
    first = submit(client, token, answers_of(srv, score=10, why="Great partner."))
    assert first.status_code == 303
    assert client.get(url(token) + "?thanks=1").status_code == 200
    events = AuditEvent.objects.count()

    second = submit(client, token, answers_of(srv, score=0, why="Changed my mind."))
    assert second.status_code == 409
    assert "Nothing was changed." in second.content.decode()
    response = SurveyResponse.objects.get()
    assert (response.score, response.comment) == (10.0, "Great partner.")
    assert AuditEvent.objects.count() == events
    # Opening the used link says the same, without a form.
    page = client.get(url(token))
    assert page.status_code == 200
    assert "Already answered" in page.content.decode()
    assert "<form" not in page.content.decode()


def test_an_expired_link_gets_a_clear_page_and_records_nothing(client):
    old = timezone.now() - dt.timedelta(days=40)
    invitation, token = sent_invitation(sent_at=old, valid_days=30)
    page = client.get(url(token))
    assert page.status_code == 410
    assert "This link has expired" in page.content.decode()
    response = submit(client, token, answers_of(invitation.survey, score=8))
    assert response.status_code == 410
    assert SurveyResponse.objects.count() == 0
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character changed
        lambda t: t[:-3],  # cut short
        lambda t: t + "x",  # lengthened
        lambda t: "not-a-token",
        lambda t: t.upper(),
    ],
)
def test_a_tampered_or_unknown_link_gets_a_clear_page_not_an_error(client, tamper):
    invitation, token = sent_invitation()
    bad = tamper(token)
    assert bad != token
    page = client.get(url(bad))
    assert page.status_code == 404
    assert "We do not recognise this link" in page.content.decode()
    response = submit(client, bad, answers_of(invitation.survey, score=8))
    assert response.status_code == 404
    assert SurveyResponse.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="surveyresponse").exists()


def test_a_queued_invitation_whose_mail_never_went_out_has_no_working_link(client):
    invitation, token = sent_invitation()
    Invitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.QUEUED)
    assert client.get(url(token)).status_code == 404


def test_a_closed_survey_says_so(client):
    invitation, token = sent_invitation()
    invitation.survey.status = "closed"
    invitation.survey.save(update_fields=["status"])
    page = client.get(url(token))
    assert page.status_code == 410
    assert "This survey is closed" in page.content.decode()


def test_partial_answers_are_saved_and_shown_again_then_submitted(client):
    invitation, token = sent_invitation()
    srv = invitation.survey
    saved = submit(client, token, answers_of(srv, score=7), action="save")
    assert saved.status_code == 303 and saved["Location"] == "?saved=1"
    response = SurveyResponse.objects.get()
    assert (response.status, response.score, response.submitted_at) == (
        ResponseStatus.PARTIAL,
        7.0,
        None,
    )
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.OPENED

    page = client.get(url(token) + "?saved=1")
    content = page.content.decode()
    assert "Your answers so far are saved" in content
    score_q = srv.questions.get(kind="score")
    assert f'id="q{score_q.pk}-7" value="7" checked' in content

    done = submit(client, token, answers_of(srv, score=7, why="Fine overall."))
    assert done.status_code == 303
    response.refresh_from_db()
    assert (response.status, response.comment) == (ResponseStatus.SUBMITTED, "Fine overall.")
    assert SurveyResponse.objects.count() == 1
    actions = list(
        AuditEvent.objects.filter(object_type="surveys.surveyresponse")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["surveyresponse.saved", "surveyresponse.submitted"]


def test_autosave_answers_204_and_keeps_the_answers(client):
    invitation, token = sent_invitation()
    response = client.post(
        url(token),
        {**answers_of(invitation.survey, why="Half written"), "action": "save"},
        HTTP_X_AUTOSAVE="1",
    )
    assert response.status_code == 204
    assert SurveyResponse.objects.get().comment == "Half written"


def test_a_final_answer_with_errors_names_them_and_keeps_what_was_valid(client):
    invitation, token = sent_invitation()
    srv = invitation.survey
    score_q = srv.questions.get(kind="score")
    page = submit(client, token, answers_of(srv, why="No score given"))
    assert page.status_code == 422
    content = page.content.decode()
    assert "Please check your answers" in content
    assert f'href="#field-{score_q.pk}"' in content
    assert "Please answer this question." in content
    assert "No score given" in content
    response = SurveyResponse.objects.get()
    assert response.status == ResponseStatus.PARTIAL
    out_of_range = submit(client, token, {f"q{score_q.pk}": "11"})
    assert out_of_range.status_code == 422
    assert "Choose a number from 0 to 10." in out_of_range.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.OPENED


def test_the_page_speaks_the_contacts_language_when_the_survey_has_it(client):
    srv = survey(languages=["en", "de"])
    contact = ContactFactory(language="de")
    _invitation, token = sent_invitation(srv, contact=contact, language=srv.language_for("de"))
    content = client.get(url(token)).content.decode()
    assert '<html lang="de">' in content
    assert "Wie wahrscheinlich ist es, dass Sie Test Company einem Kollegen empfehlen?" in content
    assert "Antworten senden" in content
    english, token2 = sent_invitation(
        srv, contact=ContactFactory(language="fr"), language=srv.language_for("fr")
    )
    assert english.language == "en"
    assert "Send my answers" in client.get(url(token2)).content.decode()


def test_the_survey_page_is_accessible_by_structure(client):
    invitation, token = sent_invitation()
    content = client.get(url(token)).content.decode()
    # Each scale is a fieldset with its question as legend; each point has its own label.
    score_q = invitation.survey.questions.get(kind="score")
    assert content.count("<fieldset") == 1
    assert "<legend" in content
    for point in range(0, 11):
        assert (
            f'<label class="btn btn-outline-primary survey-point" for="q{score_q.pk}-{point}">'
            in content
        )
    why_q = invitation.survey.questions.get(kind="why")
    assert f'<label class="survey-legend form-label" for="field-{why_q.pk}">' in content
    assert 'href="#main"' in content
    assert "<script>" not in content  # the content security policy forbids inline scripts


def test_the_public_post_needs_the_csrf_token_its_page_set():
    invitation, token = sent_invitation()
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post(
        url(token), {**answers_of(invitation.survey, score=9), "action": "submit"}
    )
    assert refused.status_code == 403
    assert SurveyResponse.objects.count() == 0
    browser.get(url(token))
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(
        url(token),
        {**answers_of(invitation.survey, score=9), "action": "submit", "csrfmiddlewaretoken": csrf},
    )
    assert accepted.status_code == 303


def test_the_unsubscribe_link_asks_first_then_honours_the_opt_out(client):
    srv = survey()
    contact = ContactFactory(email="ingrid@nord.example")
    invitation, token = sent_invitation(srv, contact=contact)
    queued_elsewhere = services.invite(
        survey(title="Another"), [contact], actor=None, respect_throttle=False
    ).created[0]

    page = client.get(f"/surveys/u/{token}/")
    assert page.status_code == 200
    assert "Stop sending survey invitations to ingrid@nord.example?" in page.content.decode()
    assert not OptOut.objects.exists()  # a GET (a link scanner) changes nothing

    done = client.post(f"/surveys/u/{token}/")
    assert done.status_code == 200
    assert "You are unsubscribed" in done.content.decode()
    assert OptOut.objects.get().email == "ingrid@nord.example"
    invitation.refresh_from_db()
    queued_elsewhere.refresh_from_db()
    assert invitation.status == InvitationStatus.OPTED_OUT
    assert queued_elsewhere.status == InvitationStatus.OPTED_OUT
    # Unsubscribing twice is harmless, and an unknown link is told so.
    assert client.post(f"/surveys/u/{token}/").status_code == 200
    assert OptOut.objects.count() == 1
    assert client.post("/surveys/u/unknown-token-of-the-right-length-000/").status_code == 404


def test_opt_out_is_honoured_by_every_later_invitation(quality_manager):
    srv = survey()
    contact = ContactFactory(email="Opted.Out@Customer.example")
    OptOut.objects.create(email="opted.out@customer.example", opted_out_at=timezone.now())
    plan = services.invite(srv, [contact], actor=quality_manager)
    assert plan.created == []
    assert [(s.email, s.reason) for s in plan.skipped] == [
        ("Opted.Out@Customer.example", "opted out of surveys")
    ]


def test_the_throttle_keeps_a_contact_to_one_survey_every_x_days(quality_manager, monkeypatch):
    monkeypatch.setenv("HARKEN_SURVEY_THROTTLE_DAYS", "60")
    first, second, third = survey(title="Q1"), survey(title="Q2"), survey(title="Q3")
    contact = ContactFactory()
    sent_invitation(first, contact=contact, sent_at=timezone.now() - dt.timedelta(days=59))
    plan = services.invite(second, [contact], actor=quality_manager)
    assert plan.created == []
    assert plan.skipped[0].reason.startswith(f"invited within 60 days: {first.number} on ")
    monkeypatch.setenv("HARKEN_SURVEY_THROTTLE_DAYS", "30")
    assert len(services.invite(second, [contact], actor=quality_manager).created) == 1
    # The invitation just queued counts too, before its mail has gone out.
    assert services.invite(third, [contact], actor=quality_manager).created == []


def test_never_the_same_contact_twice_to_the_same_survey(quality_manager):
    srv = survey()
    contact = ContactFactory()
    assert len(services.invite(srv, [contact, contact], actor=quality_manager).created) == 1
    again = services.invite(srv, [contact], actor=quality_manager, respect_throttle=False)
    assert again.created == []
    assert again.skipped[0].reason == "already invited to this survey"
    assert Invitation.objects.count() == 1


def test_the_open_link_takes_anonymous_answers_limited_per_address(client, monkeypatch):
    monkeypatch.setenv("HARKEN_SURVEY_OPEN_LINK_PER_HOUR", "2")
    srv = survey(kind="csat", open_link=True)
    path = f"/surveys/o/{srv.open_key}/"
    page = client.get(path)
    assert page.status_code == 200
    assert "Save and finish later" not in page.content.decode()
    for _ in range(2):
        assert (
            client.post(path, answers_of(srv, score=5), REMOTE_ADDR="203.0.113.9").status_code
            == 303
        )
    limited = client.post(path, answers_of(srv, score=5), REMOTE_ADDR="203.0.113.9")
    assert limited.status_code == 429
    assert "Too many answers" in limited.content.decode()
    assert (
        client.post(path, answers_of(srv, score=4), REMOTE_ADDR="203.0.113.10").status_code == 303
    )
    responses = SurveyResponse.objects.filter(survey=srv)
    assert responses.count() == 3
    assert all(r.invitation_id is None and r.contact_id is None for r in responses)
    # The address itself is stored nowhere, only a keyed hash of it.
    assert "203.0.113.9" not in str(list(responses.values_list("client_key", flat=True)))
    assert client.get("/surveys/o/no-such-key/").status_code == 404
    srv.open_link = False
    srv.save(update_fields=["open_link"])
    assert client.get(path).status_code == 404


def test_a_token_is_long_random_and_only_its_hash_is_kept():
    token = tokens.new_token()
    assert len(token) == 43
    assert tokens.well_formed(token)
    assert tokens.token_hash(token) != token
    assert tokens.matches(token, tokens.token_hash(token))
    assert not tokens.matches(token, None)
    assert not tokens.well_formed("short")
    assert not tokens.well_formed("x" * 30 + "/../")
