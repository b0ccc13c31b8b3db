"""Feedback intake over the API and the per-source webhook."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from tests.factories import CustomerFactory, PerceptionSourceFactory

from harken.core.models import AuditEvent
from harken.feedback.models import FeedbackItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    return PerceptionSourceFactory(name="Portal", default_kind="complaint")


def api_for(user) -> Client:
    token = Token.objects.create(user=user)
    return Client(headers={"Authorization": f"Token {token.key}"})


def test_staff_post_one_item_and_get_it_back(staff, source):
    customer = CustomerFactory()
    response = api_for(staff).post(
        "/api/feedback/",
        {"source": "Portal", "text": "The parts arrived late", "customer": customer.number},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] is True
    assert body["complaint_number"].startswith("CMP-")
    assert body["customer"] == customer.pk
    item = FeedbackItem.objects.get()
    assert item.raw == {
        "source": "Portal",
        "text": "The parts arrived late",
        "customer": customer.number,
    }


def test_a_list_is_validated_whole_and_errors_are_indexed(quality_manager, source):
    response = api_for(quality_manager).post(
        "/api/feedback/",
        [
            {"source": "Portal", "text": "fine"},
            {"source": "Nowhere", "text": "x"},
            {"source": "Portal", "score": 12, "scale": "nps"},
        ],
        content_type="application/json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["1"] == {"source": ["No perception source matches 'Nowhere'."]}
    assert errors["2"] == {"score": ["12 is outside the NPS 0–10 scale (0–10)."]}
    assert FeedbackItem.objects.count() == 0


def test_resending_is_idempotent(quality_manager, source):
    client = api_for(quality_manager)
    payload = {"source": "Portal", "text": "Late", "external_id": "EXT-9"}
    first = client.post("/api/feedback/", payload, content_type="application/json")
    again = client.post("/api/feedback/", payload, content_type="application/json")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["id"] == first.json()["id"]
    assert FeedbackItem.objects.count() == 1


def test_auditor_may_read_but_not_post(auditor, source):
    client = api_for(auditor)
    assert client.get("/api/feedback/").status_code == 200
    response = client.post(
        "/api/feedback/", {"source": "Portal", "text": "x"}, content_type="application/json"
    )
    assert response.status_code == 403


def test_webhook_records_into_its_source_with_the_token(client, source):
    response = client.post(
        f"/api/feedback/webhook/{source.webhook_token}/",
        [{"text": "Pushed one", "external_id": "W1"}, {"text": "Pushed two", "external_id": "W2"}],
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert [r["created"] for r in response.json()] == [True, True]
    assert set(FeedbackItem.objects.values_list("source__name", flat=True)) == {"Portal"}
    event = AuditEvent.objects.filter(action="feedbackitem.created").first()
    assert event.actor_label == "webhook:Portal"
    assert event.actor_type == "token"


def test_webhook_refuses_unknown_and_retired_tokens(client, source):
    assert (
        client.post(
            "/api/feedback/webhook/nope/", {"text": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    source.active = False
    source.save()
    response = client.post(
        f"/api/feedback/webhook/{source.webhook_token}/",
        {"text": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert FeedbackItem.objects.count() == 0


def test_webhook_token_never_appears_in_the_audit_trail(source):
    event = AuditEvent.objects.get(action="perceptionsource.created", object_id=str(source.pk))
    assert source.webhook_token not in str(event.changes)


def test_acknowledge_endpoint(quality_manager, source):
    client = api_for(quality_manager)
    item_id = client.post(
        "/api/feedback/", {"source": "Portal", "text": "Broken"}, content_type="application/json"
    ).json()["id"]
    response = client.post(f"/api/feedback/{item_id}/acknowledge/")
    assert response.status_code == 200
    assert response.json()["acknowledged_at"]
    again = client.post(f"/api/feedback/{item_id}/acknowledge/")
    assert again.status_code == 400
    assert again.json()["errors"] == {"acknowledged_at": ["The complaint is acknowledged already."]}


def test_classification_rule_with_a_bad_regex_is_refused(quality_manager):
    from harken.feedback.models import Category

    response = api_for(quality_manager).post(
        "/api/classification-rules/",
        {"category": Category.objects.get(code="other").pk, "kind": "regex", "pattern": "(["},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "not a valid regular expression" in response.json()["errors"]["pattern"][0]
