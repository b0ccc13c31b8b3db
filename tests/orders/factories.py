"""Factories for the order models, and helpers that take an enquiry through the services
as far as a test needs (reviewed, offered, ordered, accepted, changed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from tests.documents.factories import DocumentFactory, approved
from tests.factories import (
    ROLE_PERSONAS,
    ContactFactory,
    CustomerFactory,
    ProductLineFactory,
    persona,
)

from harken.core.files import store_bytes
from harken.documents.choices import DocumentKind
from harken.orders import services
from harken.orders.choices import (
    AcceptanceKind,
    Answer,
    ChangeAspect,
    ChangeOrigin,
    EventType,
    ReviewOutcome,
    Severity,
)
from harken.orders.models import (
    ChangeRequest,
    Enquiry,
    EnquiryAttachment,
    Escalation,
    EscalationRule,
    IntakeProfile,
    Notice,
    Offer,
    Order,
    OrderVersion,
    RequirementReview,
    ReviewAnswer,
    ReviewQuestion,
)

NOTICE_TEXT = "Dear $contact, $event at $customer: $title. $description Ref $reference. $sender"


def upload(name: str = "po.pdf", data: bytes = b"%PDF-1.4 purchase order") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def seller() -> Any:
    return persona(ROLE_PERSONAS["staff"], "seller")


def reviewer() -> Any:
    return persona(ROLE_PERSONAS["analyst"], "reviewer")


# --------------------------------------------------------------------------------------
# Factories, one per model (records as they stand in the database)
# --------------------------------------------------------------------------------------


class IntakeProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntakeProfile

    product_line = factory.SubFactory(ProductLineFactory)
    required_fields = ["contact", "requested_scope"]
    first_response_days = 1


class ReviewQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewQuestion
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"question-{n}")
    text = factory.Sequence(lambda n: f"Question {n}?")
    position = factory.Sequence(lambda n: 100 + n)


class EnquiryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enquiry

    customer = factory.SubFactory(CustomerFactory)
    contact = factory.LazyAttribute(lambda e: ContactFactory(customer=e.customer))
    received_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    requested_scope = "200 housings to drawing 7741"
    requirements_stated = "Bore tolerance ±0.02 mm."
    requested_delivery = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=40))
    first_response_due = factory.LazyAttribute(lambda e: e.received_at + dt.timedelta(days=1))


class EnquiryAttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnquiryAttachment

    enquiry = factory.SubFactory(EnquiryFactory)
    file = factory.LazyFunction(lambda: store_bytes(b"drawing", name="drawing.pdf"))


class RequirementReviewFactory(factory.django.DjangoModelFactory):
    """An open review without answers."""

    class Meta:
        model = RequirementReview

    enquiry = factory.SubFactory(EnquiryFactory)


class ReviewAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewAnswer

    review = factory.SubFactory(RequirementReviewFactory)
    text = "Are the requirements understood?"


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    review = factory.SubFactory(RequirementReviewFactory)
    enquiry = factory.SelfAttribute("review.enquiry")
    issued_at = factory.LazyFunction(timezone.now)
    scope = "200 housings"
    price = 1000


class OrderFactory(factory.django.DjangoModelFactory):
    """A pending order, straight into the table (no review behind it)."""

    class Meta:
        model = Order

    enquiry = factory.SubFactory(EnquiryFactory)
    customer = factory.SelfAttribute("enquiry.customer")
    acceptance_kind = AcceptanceKind.PURCHASE_ORDER
    acceptance_received_at = factory.LazyFunction(timezone.now)
    scope = "200 housings"


class OrderVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderVersion

    order = factory.SubFactory(OrderFactory)
    number = 1
    effective_at = factory.LazyFunction(timezone.now)
    scope = "200 housings"
    currency = "EUR"


class ChangeRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChangeRequest

    order = factory.SubFactory(OrderFactory)
    origin = ChangeOrigin.CUSTOMER
    requested_at = factory.LazyFunction(timezone.now)
    aspects = [ChangeAspect.SCOPE]
    description = "More parts."
    new_scope = "300 housings"
    confirmation_due = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=5))


class EscalationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationRule
        django_get_or_create = ("event_type", "severity")

    event_type = EventType.DELAY
    severity = Severity.HIGH
    approver_role = "quality_manager"
    escalate_to_role = "quality_manager"
    notify_within_days = 1
    records_required = ["What happened"]


class EscalationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Escalation

    rule = factory.SubFactory(EscalationRuleFactory)
    event_type = factory.SelfAttribute("rule.event_type")
    severity = factory.SelfAttribute("rule.severity")
    customer = factory.SubFactory(CustomerFactory)
    title = "Late delivery"
    description = "The batch slips a week."
    occurred_at = factory.LazyFunction(timezone.now)
    raised_at = factory.LazyFunction(timezone.now)
    approver_role = factory.SelfAttribute("rule.approver_role")
    escalate_to_role = factory.SelfAttribute("rule.escalate_to_role")
    notice_due = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))


class NoticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notice

    escalation = factory.SubFactory(EscalationFactory)
    template_version = factory.LazyFunction(lambda: notice_template().versions.get())
    contact = factory.LazyAttribute(
        lambda n: ContactFactory(customer=n.escalation.customer, email="buyer@cust.example")
    )
    subject = "Delay"
    body = "Your order is late."


# --------------------------------------------------------------------------------------
# Through the services
# --------------------------------------------------------------------------------------


def notice_template() -> Any:
    document = DocumentFactory(
        title="Contingency notice", kind=DocumentKind.NOTICE_TEMPLATE, clauses="8.2.1"
    )
    approved(document, "1", body=NOTICE_TEXT)
    return document


def enquiry(actor: Any = None, **values: Any) -> Enquiry:
    """A recorded enquiry with the default intake complete."""
    actor = actor or seller()
    customer = values.pop("customer", None) or CustomerFactory()
    fields: dict[str, Any] = {
        "customer": customer,
        "contact": ContactFactory(customer=customer, email=f"buyer{customer.pk}@cust.example"),
        "requested_scope": "200 housings to drawing 7741",
        "requirements_stated": "Bore tolerance ±0.02 mm.",
        "requested_delivery": timezone.localdate() + dt.timedelta(days=40),
        "received_at": timezone.now() - dt.timedelta(days=2),
    }
    fields.update(values)
    return services.record_enquiry(services.EnquiryIntake(**fields), actor=actor)


def review(
    target: Enquiry, outcome: str = ReviewOutcome.ACCEPT, actor: Any = None, **text: str
) -> RequirementReview:
    """Start and complete a review of the enquiry with every question answered yes."""
    actor = actor or reviewer()
    opened = services.start_review(target, actor=actor)
    return services.complete_review(
        opened,
        actor=actor,
        data=services.ReviewInput(
            answers={a.pk: (Answer.YES, "") for a in opened.answers.all()},
            outcome=outcome,
            **text,
        ),
    )


def offer(target: Enquiry, actor: Any = None, **terms: Any) -> Offer:
    values: dict[str, Any] = {
        "scope": target.requested_scope,
        "requirements": target.requirements_stated,
        "delivery_date": target.requested_delivery,
        "price": 1200,
    }
    values.update(terms)
    return services.issue_offer(
        target, actor=actor or seller(), terms=services.OfferTerms(**values)
    )


def pending_order(
    target: Enquiry | None = None, *, with_offer: bool = True, file: bool = True, **record: Any
) -> Order:
    """The customer's acceptance recorded: an order waiting for ours."""
    target = target or enquiry()
    chosen = offer(target) if with_offer else None
    values: dict[str, Any] = {
        "kind": AcceptanceKind.PURCHASE_ORDER,
        "customer_reference": "PO-77",
        "file": upload() if file else None,
    }
    values.update(record)
    return services.record_acceptance(
        target, actor=seller(), record=services.AcceptanceRecord(**values), offer=chosen
    )


def accepted_order(**values: Any) -> Order:
    """An enquiry reviewed, offered, ordered and accepted."""
    target = enquiry(**values)
    review(target)
    order = pending_order(target)
    return services.accept_order(order, actor=seller())


def change_awaiting(order: Order | None = None, **proposal: Any) -> ChangeRequest:
    """A change requested, its impact reviewed and communicated, not yet confirmed."""
    order = order or accepted_order()
    values: dict[str, Any] = {
        "origin": ChangeOrigin.CUSTOMER,
        "description": "They need the parts a week later.",
        "aspects": [ChangeAspect.DATES],
        "new_delivery_date": order.delivery_date + dt.timedelta(days=7),
    }
    values.update(proposal)
    change = services.request_change(
        order, actor=seller(), proposal=services.ChangeProposal(**values)
    )
    services.review_impact(change, actor=reviewer(), feasible=True, impact="No impact.")
    services.communicate_change(
        change, actor=seller(), channel="email", subject="Your change", body="Please confirm."
    )
    return change
