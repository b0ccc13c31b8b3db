"""The demo's orders: the story it tells is the one the auditor's questions expect."""

from __future__ import annotations

import pytest
from django.utils import timezone

from harken.core.demo import build_people
from harken.core.models import AuditEvent
from harken.customers.demo import build_customers
from harken.documents.demo import build_documents
from harken.orders.auditor import QUESTIONS
from harken.orders.choices import ChangeStatus, EnquiryStatus, EscalationStatus, OrderStatus
from harken.orders.demo import build_orders
from harken.orders.models import ChangeRequest, Enquiry, Escalation, Order

pytestmark = pytest.mark.django_db


def test_the_demo_tells_the_whole_story():
    for builder in (build_people, build_customers, build_documents):
        builder(seed=2026)
    summary = build_orders(seed=2026)
    assert summary == "7 orders from reviewed enquiries, 1 declined, 3 changes, 2 escalations"
    assert Order.objects.filter(status=OrderStatus.ACCEPTED).count() == 7
    assert Order.objects.filter(status=OrderStatus.PENDING).count() == 1
    assert Order.objects.filter(differs_from_offer=True).count() == 1
    assert Enquiry.objects.filter(status=EnquiryStatus.DECLINED).count() == 1
    assert Enquiry.objects.filter(reviews__round=2).count() == 1  # the clarification round
    statuses = sorted(ChangeRequest.objects.values_list("status", flat=True))
    assert statuses == [ChangeStatus.AWAITING, ChangeStatus.CONFIRMED, ChangeStatus.CONFIRMED]
    met, late = Escalation.objects.order_by("pk")
    assert (met.status, met.deadline_met, late.breached) == (EscalationStatus.CLOSED, True, True)
    assert late.breach_explanation
    flags = AuditEvent.objects.filter(action__in=["escalation.breached", "enquiry.overdue"])
    assert sorted(flags.values_list("action", flat=True)) == [
        "enquiry.overdue",
        "escalation.breached",
    ]
    for code, _question, check in QUESTIONS:
        assert check(timezone.now())[0] == 0, code
