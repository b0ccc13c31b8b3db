"""Orders through the API: the same services, so the same guards as the pages."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from tests.factories import ContactFactory, CustomerFactory, persona
from tests.orders.factories import (
    accepted_order,
    change_awaiting,
    enquiry,
    notice_template,
    pending_order,
    review,
    upload,
)

from harken.core.choices import Role
from harken.core.models import AuditEvent
from harken.orders import services
from harken.orders.choices import ChangeStatus, EnquiryStatus, NoticeStatus, OrderStatus
from harken.orders.models import EscalationRule, Order

pytestmark = pytest.mark.django_db

ENDPOINTS = (
    "/api/enquiries/",
    "/api/requirement-reviews/",
    "/api/offers/",
    "/api/orders/",
    "/api/order-changes/",
    "/api/escalation-rules/",
    "/api/escalations/",
    "/api/customer-notices/",
    "/api/intake-profiles/",
    "/api/review-checklist/",
)


def api_for(user) -> Client:
    token, _ = Token.objects.get_or_create(user=user)
    return Client(headers={"Authorization": f"Token {token.key}"})


def test_every_endpoint_lists_for_the_auditor(auditor):
    accepted_order()
    for url in ENDPOINTS:
        response = api_for(auditor).get(url)
        assert response.status_code == 200, url
    assert (
        api_for(auditor).post("/api/enquiries/", {}, content_type="application/json").status_code
        == 403
    )


def test_an_enquiry_is_recorded_and_reviewed_through_the_api(staff, analyst):
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer)
    response = api_for(staff).post(
        "/api/enquiries/",
        {"customer": customer.pk, "contact": contact.pk, "requested_scope": "Gauges"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("ENQ-")
    assert body["missing_intake"] == [
        "requirements stated by the customer",
        "requested delivery date",
    ]
    pk = body["id"]
    refused = api_for(analyst).post(f"/api/enquiries/{pk}/start-review/")
    assert refused.status_code == 400
    assert refused.json()["errors"]["non_field_errors"] == [
        "fill in the required intake: requirements stated by the customer, requested delivery date"
    ]
    patched = api_for(staff).patch(
        f"/api/enquiries/{pk}/",
        {"requirements_stated": "Accredited certificates", "requested_delivery": "2026-12-01"},
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["missing_intake"] == []
    opened = api_for(analyst).post(f"/api/enquiries/{pk}/start-review/")
    assert opened.status_code == 201
    review_ = opened.json()
    done = api_for(analyst).post(
        f"/api/requirement-reviews/{review_['id']}/complete/",
        {
            "answers": [{"id": a["id"], "answer": "yes"} for a in review_["answers"]],
            "outcome": "accept",
        },
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert (done.json()["status"], done.json()["outcome"]) == ("completed", "accept")
    assert api_for(staff).get(f"/api/enquiries/{pk}/").json()["status"] == EnquiryStatus.REVIEWED


def test_an_order_cannot_be_accepted_through_the_api_without_a_completed_review(staff):
    found = enquiry()
    order = pending_order(found, with_offer=False, file=False)
    url = f"/api/orders/{order.pk}/accept/"
    response = api_for(staff).post(url, {"file": upload("PO-1.pdf")})
    assert response.status_code == 400
    assert response.json()["errors"]["non_field_errors"] == [
        f"{found.number} has no completed requirement review that accepts it"
    ]
    order.refresh_from_db()
    assert (order.status, order.acceptance_file) == (OrderStatus.PENDING, None)
    review(found)
    response = api_for(staff).post(url, {"file": upload("PO-1.pdf"), "customer_reference": "PO-1"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["version"], body["customer_reference"]) == ("accepted", 1, "PO-1")
    assert body["acceptance_sha256"] == Order.objects.get().acceptance_file.sha256
    assert [v["number"] for v in body["versions"]] == [1]


def test_the_customers_acceptance_is_recorded_through_the_api(staff):
    found = enquiry()
    review(found)
    response = api_for(staff).post(
        "/api/orders/",
        {"enquiry": found.pk, "acceptance_kind": "signed_quote", "file": upload("signed.pdf")},
    )
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["scope"]) == (
        "pending",
        found.requested_scope,
    )
    bad = api_for(staff).post("/api/orders/", {"enquiry": found.pk, "acceptance_kind": "handshake"})
    assert bad.status_code == 400
    assert "acceptance_kind" in bad.json()["errors"]


def test_a_change_is_confirmed_through_the_api_only_with_the_evidence(staff):
    change = change_awaiting()
    url = f"/api/order-changes/{change.pk}/confirm/"
    refused = api_for(staff).post(url, {"reference": "mail"})
    assert refused.status_code == 400
    assert refused.json()["errors"]["file"] == ["No file was submitted."]
    change.refresh_from_db()
    assert change.status == ChangeStatus.AWAITING
    response = api_for(staff).post(url, {"file": upload("confirmed.pdf"), "reference": "mail"})
    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    assert api_for(staff).get(f"/api/orders/{change.order_id}/").json()["version"] == 2


def test_a_change_is_requested_and_assessed_through_the_api(staff):
    order = accepted_order()
    response = api_for(staff).post(
        "/api/order-changes/",
        {
            "order": order.pk,
            "origin": "us",
            "description": "Faster",
            "aspects": ["dates"],
            "new_delivery_date": "2026-12-24",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    missing = api_for(staff).post(
        f"/api/order-changes/{pk}/impact/", {"impact": "ok"}, content_type="application/json"
    )
    assert missing.status_code == 400
    done = api_for(staff).post(
        f"/api/order-changes/{pk}/impact/",
        {"feasible": True, "impact": "Overtime"},
        content_type="application/json",
    )
    assert done.json()["status"] == "assessed"
    told = api_for(staff).post(
        f"/api/order-changes/{pk}/communicate/",
        {"channel": "phone", "subject": "Called"},
        content_type="application/json",
    )
    assert told.status_code == 200 and told.json()["status"] == "awaiting"


def test_a_notice_is_not_sent_unapproved_through_the_api(staff):
    rule = EscalationRule.objects.get(event_type="defect", severity="high")
    rule.notice_template = notice_template()
    rule.save()
    customer = CustomerFactory()
    ContactFactory(customer=customer, email="ops@cust.example")
    raised = api_for(staff).post(
        "/api/escalations/",
        {
            "customer": customer.pk,
            "event_type": "defect",
            "severity": "high",
            "title": "Burrs",
            "description": "Burrs on bore B.",
        },
        content_type="application/json",
    )
    assert raised.status_code == 201, raised.content
    assert raised.json()["approver_role"] == "quality_manager"
    drafted = api_for(staff).post(f"/api/escalations/{raised.json()['id']}/notice/")
    assert drafted.status_code == 201
    pk = drafted.json()["id"]
    unsent = api_for(staff).post(f"/api/customer-notices/{pk}/send/")
    assert unsent.status_code == 400
    assert unsent.json()["errors"]["non_field_errors"] == ["Cannot send: the record is Draft."]
    refused = api_for(staff).post(f"/api/customer-notices/{pk}/approve/")
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("Only a quality manager may approve")
    boss = persona(Role.QUALITY_MANAGER, "boss")
    assert api_for(boss).post(f"/api/customer-notices/{pk}/approve/").status_code == 200
    sent = api_for(staff).post(f"/api/customer-notices/{pk}/send/")
    assert sent.json()["status"] == NoticeStatus.SENT
    assert sent.json()["communication"] is not None


def test_the_history_endpoint_shows_the_orders_events(auditor):
    order = accepted_order()
    events = api_for(auditor).get(f"/api/orders/{order.pk}/history/").json()
    assert [e["action"] for e in events][:1] == ["order.accept"]
    assert AuditEvent.objects.filter(object_type="orders.order").count() == len(events)


def test_the_service_refusals_answer_with_the_field(staff):
    found = enquiry()
    response = api_for(staff).post(
        "/api/offers/", {"enquiry": found.pk, "scope": "x"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["enquiry"] == [
        f"{found.number} has no completed requirement review that accepts it: "
        "review the requirements before offering."
    ]
    assert services.intake_for(None).first_response_days == 1
