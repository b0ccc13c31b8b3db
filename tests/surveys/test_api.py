"""Surveys in the API: create and open, invite one contact after a delivery, response
rates, and the auditor who may read but not write."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from tests.conftest import client_for
from tests.factories import ContactFactory
from tests.surveys.factories import SurveySourceFactory, sent_invitation, survey

from harken.surveys.choices import InvitationStatus
from harken.surveys.models import Invitation, Survey

pytestmark = pytest.mark.django_db


def test_create_word_open_and_list_a_survey(quality_manager):
    api = client_for(quality_manager)
    source = SurveySourceFactory()
    created = api.post(
        "/api/surveys/",
        {
            "title": "Post-delivery CSAT",
            "kind": "csat",
            "trigger": "after_delivery",
            "source": source.pk,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["number"].startswith("SRV-") and body["status"] == "draft"
    assert body["texts"]["en"]["title"] == "Post-delivery CSAT"
    questions = api.get(f"/api/survey-questions/?survey={body['id']}").json()["results"]
    assert [q["kind"] for q in sorted(questions, key=lambda q: q["position"])] == ["score", "why"]
    opened = api.post(
        f"/api/surveys/{body['id']}/step/", {"step": "open"}, content_type="application/json"
    )
    assert opened.status_code == 200 and opened.json()["status"] == "open"
    refused = api.post(
        "/api/survey-questions/",
        {"survey": body["id"], "kind": "text", "texts": {"en": {"label": "More?"}}},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "Questions are fixed" in str(refused.json())


def test_another_system_invites_one_contact_after_a_delivery(quality_manager):
    srv = survey(kind="csat", trigger="after_delivery")
    contact = ContactFactory()
    api = client_for(quality_manager)
    made = api.post(
        "/api/survey-invitations/",
        {"survey": srv.pk, "contact": contact.pk, "trigger_ref": "DN-2026-00412"},
        content_type="application/json",
    )
    assert made.status_code == 201
    assert (made.json()["status"], made.json()["trigger_ref"]) == ("queued", "DN-2026-00412")
    again = api.post(
        "/api/survey-invitations/",
        {"survey": srv.pk, "contact": contact.pk},
        content_type="application/json",
    )
    assert again.status_code == 400
    assert "Not invited: already invited to this survey." in str(again.json())


def test_response_rates_per_survey_for_a_period(quality_manager):
    srv = survey(title="Relationship NPS 2026 Q1")
    now = timezone.now()
    for status in ["responded", "sent", "sent", "opted_out"]:
        invitation, _ = sent_invitation(srv, sent_at=now - dt.timedelta(days=2))
        Invitation.objects.filter(pk=invitation.pk).update(status=status)
    sent_invitation(srv, sent_at=now - dt.timedelta(days=400))
    today = timezone.localdate()
    rows = (
        client_for(quality_manager)
        .get(f"/api/surveys/response-rates/?from={today - dt.timedelta(days=30)}&to={today}")
        .json()
    )
    assert rows == [
        {
            "survey": srv.number,
            "title": "Relationship NPS 2026 Q1",
            "kind": "nps",
            "trigger": "campaign",
            "source": srv.source.name,
            "source_id": srv.source_id,
            "invited": 4,
            "delivered": 4,
            "bounced": 0,
            "opened": 0,
            "responded": 1,
            "opted_out": 1,
            "non_response": 3,
            "response_rate": 0.25,
            "low_response": False,
            "nonresponse_note": "",
        }
    ]
    bad = client_for(quality_manager).get("/api/surveys/response-rates/?from=yesterday")
    assert bad.status_code == 400


def test_the_auditor_reads_surveys_but_writes_nothing(auditor):
    srv = survey()
    invitation, _ = sent_invitation(srv)
    api = client_for(auditor)
    assert api.get("/api/surveys/").status_code == 200
    assert api.get(f"/api/survey-invitations/{invitation.pk}/history/").status_code == 200
    for url, data in (
        ("/api/surveys/", {"title": "x"}),
        (f"/api/surveys/{srv.pk}/step/", {"step": "close"}),
        ("/api/survey-invitations/", {"survey": srv.pk}),
        (f"/api/survey-invitations/{invitation.pk}/bounce/", {"reason": "x"}),
        ("/api/survey-opt-outs/", {"email": "a@b.example"}),
    ):
        assert api.post(url, data, content_type="application/json").status_code == 403, url
    assert Survey.objects.get().status == "open"
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT


def test_the_api_never_shows_a_token_or_its_hash(quality_manager):
    invitation, token = sent_invitation()
    body = (
        client_for(quality_manager)
        .get(f"/api/survey-invitations/{invitation.pk}/")
        .content.decode()
    )
    assert token not in body and invitation.token_hash not in body
    assert Client().get("/api/surveys/").status_code in {401, 403}
