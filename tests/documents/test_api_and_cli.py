"""Documents through the API and the `documents` command: the same guards as the pages."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from tests.documents.factories import DocumentFactory, DocumentVersionFactory, approved
from tests.factories import ContactFactory, CustomerFactory

from harken.core.models import AuditEvent
from harken.documents.models import Distribution

pytestmark = pytest.mark.django_db


def api_for(user) -> Client:
    token, _ = Token.objects.get_or_create(user=user)
    return Client(headers={"Authorization": f"Token {token.key}"})


def test_a_version_is_drafted_and_approved_through_the_api(analyst, quality_manager):
    document = DocumentFactory()
    writer = api_for(analyst)
    response = writer.post(
        "/api/document-versions/",
        {"document": document.pk, "label": "A", "body": "Text"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["status"] == "draft"
    for step in ("submit", "review"):
        answer = writer.post(
            f"/api/document-versions/{pk}/step/", {"step": step}, content_type="application/json"
        )
        assert answer.status_code == 200, answer.content
    refused = writer.post(
        f"/api/document-versions/{pk}/step/", {"step": "approve"}, content_type="application/json"
    )
    assert refused.status_code == 403
    done = api_for(quality_manager).post(
        f"/api/document-versions/{pk}/step/", {"step": "approve"}, content_type="application/json"
    )
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["is_current"]) == ("approved", True)
    changed = writer.patch(
        f"/api/document-versions/{pk}/", {"body": "Sneaky"}, content_type="application/json"
    )
    assert changed.status_code == 400
    assert changed.json()["errors"]["status"] == [
        "Only a draft may be changed; make a new version instead."
    ]
    current = api_for(analyst).get(f"/api/documents/{document.pk}/").json()
    assert current["current_version"] == pk


def test_an_unapproved_version_cannot_be_distributed_through_the_api(analyst):
    draft = DocumentVersionFactory()
    customer = CustomerFactory()
    response = api_for(analyst).post(
        "/api/distributions/",
        {"version": draft.pk, "customer": customer.pk, "occasion": "by_hand", "reason": "Asked"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["version"] == [
        f"{draft} is draft: only an approved version may be provided to a customer."
    ]
    assert Distribution.objects.count() == 0


def test_an_approved_version_is_distributed_through_the_api(analyst, staff, quality_manager):
    version = approved()
    contact = ContactFactory()
    data = {
        "version": version.pk,
        "customer": contact.customer.pk,
        "contact": contact.pk,
        "occasion": "quote",
        "reason": "Quote Q-5",
    }
    assert (
        api_for(staff)
        .post("/api/distributions/", data, content_type="application/json")
        .status_code
        == 403
    )
    response = api_for(analyst).post("/api/distributions/", data, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["number"].startswith("DST-")
    # A distribution is a fact: not even the quality manager deletes it.
    url = f"/api/distributions/{response.json()['id']}/"
    assert api_for(quality_manager).delete(url).status_code == 405


def test_acknowledging_through_the_api(staff, auditor):
    version = approved(DocumentFactory(acknowledge_roles=["customer_facing"]))
    url = f"/api/document-versions/{version.pk}/acknowledge/"
    assert api_for(auditor).post(url).status_code == 403
    response = api_for(staff).post(url)
    assert response.status_code == 201
    assert api_for(staff).get("/api/acknowledgements/").json()["results"][0]["user"] == staff.pk


def test_the_command_refuses_to_distribute_an_unapproved_version(analyst):
    draft = DocumentVersionFactory(label="0.9")
    customer = CustomerFactory()
    with pytest.raises(CommandError) as caught:
        call_command(
            "documents",
            "distribute",
            "--version",
            f"{draft.document.number}:0.9",
            "--customer",
            customer.number,
            "--reason",
            "Asked for it",
            "--as",
            analyst.username,
        )
    assert str(caught.value) == (
        f"{draft} is draft: only an approved version may be provided to a customer."
    )
    assert Distribution.objects.count() == 0


def test_the_command_records_a_distribution_and_lists_holders(analyst, staff):
    version = approved(label="C")
    contact = ContactFactory(email="buyer@c.example")
    out = io.StringIO()
    call_command(
        "documents",
        "distribute",
        "--version",
        str(version.pk),
        "--customer",
        contact.customer.number,
        "--contact",
        "buyer@c.example",
        "--reason",
        "Handed over at the audit",
        "--as",
        analyst.username,
        stdout=out,
    )
    distribution = Distribution.objects.get()
    assert out.getvalue().strip() == (
        f"{distribution.number}: {version} provided to {contact.customer.number} "
        f"{contact.customer.name}."
    )
    assert distribution.distributed_by == analyst
    assert AuditEvent.objects.get(action="distribution.created").actor_label == analyst.username
    with pytest.raises(CommandError, match="may not record distributions"):
        call_command(
            "documents",
            "distribute",
            "--version",
            str(version.pk),
            "--customer",
            contact.customer.number,
            "--reason",
            "x",
            "--as",
            staff.username,
        )
    out = io.StringIO()
    call_command("documents", "holders", f"{version.document.number}:C", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith(
        f"{contact.customer.number}  {contact.customer.name} (buyer@c.example)"
    )
    assert lines[-1] == f"1 customers hold {version} (approved)."


def test_the_tick_brings_a_version_into_effect():
    document = DocumentFactory()
    approved(document, "1")
    later = approved(
        document, "2", effective_from=timezone.localdate() + timezone.timedelta(days=1)
    )
    out = io.StringIO()
    call_command("tick", "--only", "document versions into effect", stdout=out)
    assert "document versions into effect: 0 versions took effect" in out.getvalue()
    later.refresh_from_db()
    assert not later.is_current
