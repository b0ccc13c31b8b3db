"""Order actions: intake of enquiries, requirement reviews, offers, the acceptance of
orders, change requests, escalations and customer notices.

Pages, the API, the `orders` command, the tick and the demo call these; none of them
changes a state or saves one of these records directly. Each function checks who may
act, validates (errors name the field), runs in one transaction and leaves its audit
events; the state moves go through the guarded transitions of the models.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone

from harken.communications import services as communications
from harken.communications.choices import Direction, Phase
from harken.communications.models import Communication
from harken.core import audit
from harken.core.calendar import add_working_days
from harken.core.choices import Role
from harken.core.files import store_file
from harken.core.models import AuditEvent, EvidenceFile
from harken.core.workflow import apply_transition
from harken.customers.models import Contact, Customer, ProductLine
from harken.documents import services as documents
from harken.documents.choices import DocumentKind, Occasion
from harken.documents.models import DocumentVersion

from . import mail
from .choices import (
    ASPECT_FIELDS,
    DEFAULT_QUESTIONS,
    EDITABLE_ENQUIRY_STATES,
    OPEN_ENQUIRY_STATES,
    AcceptanceKind,
    Answer,
    ChangeAspect,
    ChangeOrigin,
    ChangeStatus,
    EnquiryStatus,
    EscalationStatus,
    EventType,
    NoticeStatus,
    OfferStatus,
    OrderStatus,
    ReviewKind,
    ReviewOutcome,
    ReviewStatus,
    Severity,
)
from .models import (
    ChangeRequest,
    Enquiry,
    EnquiryAttachment,
    Escalation,
    EscalationRule,
    Notice,
    Offer,
    Order,
    OrderVersion,
    RequirementReview,
    ReviewAnswer,
    ReviewQuestion,
    intake_for,
)

MAX_UPLOAD = 50 * 1024 * 1024


def require(actor: Any, verb: str, model: type[models.Model]) -> None:
    """Refuse `actor` (a user; None for the system) who may not `verb` records of `model`."""
    if actor is None:
        return
    meta = model._meta
    if not actor.has_perm(f"{meta.app_label}.{verb}_{meta.model_name}"):
        raise PermissionDenied(f"Your role may not {verb} {meta.verbose_name_plural}.")


def person(actor: Any) -> Any:
    """The user behind an actor, or None for the system."""
    return actor if getattr(actor, "pk", None) else None


def store_upload(upload: Any, purpose: str) -> EvidenceFile:
    """An uploaded file as an evidence file (its SHA-256 kept, never overwritten)."""
    try:
        return store_file(
            upload,
            name=getattr(upload, "name", "") or purpose,
            content_type=getattr(upload, "content_type", "") or "",
            purpose=purpose,
            max_size=MAX_UPLOAD,
            uploaded=True,
        )
    except ValueError as exc:  # FileTooLarge
        raise ValidationError({"file": str(exc)}) from exc


def not_in_future(at: dt.datetime | None, name: str, errors: dict[str, str]) -> None:
    if at is not None and at > timezone.now() + dt.timedelta(minutes=5):
        errors[name] = "The time is in the future."


# --------------------------------------------------------------------------------------
# Configuration seeded on a fresh installation
# --------------------------------------------------------------------------------------

# severity -> (approver role, escalated to, working days, hours, records required)
MATRIX_DEFAULTS: dict[str, tuple[str, str, int, int, list[str]]] = {
    Severity.LOW: (
        Role.CUSTOMER_FACING,
        Role.QUALITY_ANALYST,
        3,
        0,
        ["What happened", "Customer impact"],
    ),
    Severity.MEDIUM: (
        Role.CUSTOMER_FACING,
        Role.QUALITY_ANALYST,
        2,
        0,
        ["What happened", "Customer impact", "Containment"],
    ),
    Severity.HIGH: (
        Role.QUALITY_MANAGER,
        Role.QUALITY_MANAGER,
        1,
        0,
        ["What happened", "Customer impact", "Containment", "Cause"],
    ),
    Severity.CRITICAL: (
        Role.QUALITY_MANAGER,
        Role.QUALITY_MANAGER,
        0,
        4,
        ["What happened", "Customer impact", "Containment", "Cause", "Recovery plan"],
    ),
}


def seed_configuration(**kwargs: Any) -> None:
    """The review checklist and the escalation matrix a fresh installation starts with,
    created once each (the quality roles edit them from then on)."""
    with audit.audit_context(actor=audit.Actor.system("seed")), transaction.atomic():
        if not ReviewQuestion.objects.exists():
            for position, (code, text) in enumerate(DEFAULT_QUESTIONS, start=1):
                ReviewQuestion.objects.create(code=code, text=text, position=position * 10)
        if not EscalationRule.objects.exists():
            for event_type in EventType.values:
                for severity in Severity.values:
                    approver, escalate_to, days, hours, records = MATRIX_DEFAULTS[severity]
                    if event_type == EventType.PROPERTY_INCIDENT:
                        records = [*records, "Items affected and their condition"]
                    EscalationRule.objects.create(
                        event_type=event_type,
                        severity=severity,
                        approver_role=approver,
                        escalate_to_role=escalate_to,
                        notify_within_days=days,
                        notify_within_hours=hours,
                        records_required=records,
                    )


# --------------------------------------------------------------------------------------
# Enquiries
# --------------------------------------------------------------------------------------


@dataclass
class EnquiryIntake:
    """An enquiry as a person or client records it, before it is an Enquiry."""

    customer: Customer | None
    contact: Contact | None = None
    received_via: Communication | None = None
    received_at: dt.datetime | None = None
    customer_reference: str = ""
    product_line: ProductLine | None = None
    requested_scope: str = ""
    requirements_stated: str = ""
    requirements_implied: str = ""
    requirements_statutory: str = ""
    requirements_ours: str = ""
    requested_delivery: dt.date | None = None
    special_handling: str = ""
    customer_property: bool = False
    owner: Any = None
    files: list[Any] = field(default_factory=list)


TEXT_FIELDS = (
    "customer_reference",
    "requested_scope",
    "requirements_stated",
    "requirements_implied",
    "requirements_statutory",
    "requirements_ours",
    "special_handling",
)


def validate_intake(intake: EnquiryIntake) -> None:
    """Raise ValidationError naming each bad field (the required intake is checked when
    the enquiry moves on, not here: an incomplete enquiry is still recorded)."""
    errors: dict[str, str] = {}
    customer = intake.customer
    if customer is None:
        errors["customer"] = "Choose the customer."
    else:
        if intake.contact is not None and intake.contact.customer_id != customer.pk:
            errors["contact"] = f"{intake.contact.name} is not a contact of {customer}."
        via = intake.received_via
        if via is not None and via.customer_id != customer.pk:
            errors["received_via"] = f"{via.number} is filed under another customer."
    not_in_future(intake.received_at, "received_at", errors)
    if errors:
        raise ValidationError(errors)


def record_enquiry(intake: EnquiryIntake, *, actor: Any) -> Enquiry:
    """Record a customer's enquiry.

    Causes `enquiry.created` with the first-response deadline (the product line's
    intake profile, in working days in the company's time zone); the communication it
    came with linked to it; its attachments stored as evidence files.
    """
    require(actor, "add", Enquiry)
    validate_intake(intake)
    assert intake.customer is not None  # noqa: S101 - checked by validate_intake
    via = intake.received_via
    received_at = intake.received_at or (via.occurred_at if via else None) or timezone.now()
    rules = intake_for(intake.product_line.pk if intake.product_line else None)
    with transaction.atomic():
        enquiry = Enquiry.objects.create(
            customer=intake.customer,
            contact=intake.contact,
            received_via=via,
            received_at=received_at,
            product_line=intake.product_line,
            requested_delivery=intake.requested_delivery,
            customer_property=intake.customer_property,
            owner=intake.owner if intake.owner is not None else person(actor),
            first_response_due=add_working_days(received_at, rules.first_response_days),
            **{name: getattr(intake, name).strip() for name in TEXT_FIELDS},
        )
        for upload in intake.files:
            attach_file(enquiry, actor=actor, upload=upload)
        if via is not None:
            communications.add_link(via, enquiry, actor=None)
    return enquiry


def update_enquiry(enquiry: Enquiry, *, actor: Any, **values: Any) -> Enquiry:
    """Complete or correct the intake while the enquiry is received or being clarified.

    Causes `enquiry.updated` with the changed fields; a new product line recomputes the
    first-response deadline while nobody has answered yet.
    """
    require(actor, "change", Enquiry)
    if enquiry.status not in EDITABLE_ENQUIRY_STATES:
        raise ValidationError(
            {
                "status": f"{enquiry.number} is {enquiry.get_status_display().lower()}: "
                "what was reviewed is not edited."
            }
        )
    files = values.pop("files", None) or []
    for name, value in values.items():
        setattr(enquiry, name, value.strip() if isinstance(value, str) else value)
    validate_intake(
        EnquiryIntake(
            customer=enquiry.customer,
            contact=enquiry.contact,
            received_via=enquiry.received_via,
            received_at=enquiry.received_at,
        )
    )
    if enquiry.first_responded_at is None:
        days = intake_for(enquiry.product_line_id).first_response_days
        enquiry.first_response_due = add_working_days(enquiry.received_at, days)
    with transaction.atomic():
        enquiry.save()
        for upload in files:
            attach_file(enquiry, actor=actor, upload=upload)
        if enquiry.received_via_id:
            communications.add_link(enquiry.received_via, enquiry, actor=None)  # type: ignore[arg-type]
    return enquiry


def attach_file(
    enquiry: Enquiry, *, actor: Any, upload: Any, description: str = ""
) -> EnquiryAttachment:
    """Keep a file that came with the enquiry. Causes `enquiryattachment.created`."""
    require(actor, "change", Enquiry)
    evidence = store_upload(upload, "enquiry")
    return EnquiryAttachment.objects.create(
        enquiry=enquiry, file=evidence, description=description.strip()[:200]
    )


def log_exchange(
    record: Enquiry | Order | ChangeRequest | Escalation,
    *,
    actor: Any,
    direction: str,
    channel: str,
    subject: str = "",
    body: str = "",
    contacts: Sequence[Contact] = (),
    occurred_at: dt.datetime | None = None,
    versions: Sequence[DocumentVersion] = (),
    files: Sequence[Any] = (),
    phase: str = "",
) -> Communication:
    """Log a communication about one of these records (an answer, a clarification asked
    or given, a call about an order) through the communication log.

    Causes `communication.created` linked to the record (and for a change also to its
    order); documents provided with it as distributions. The first outbound exchange
    about an enquiry is its first response (`enquiry.responded`).
    """
    customer = record.customer if not isinstance(record, ChangeRequest) else record.order.customer
    concerns: list[models.Model] = [record]
    if isinstance(record, ChangeRequest):
        concerns.append(record.order)
    default_phase = Phase.ENQUIRY if isinstance(record, Enquiry) else Phase.QUOTE_ORDER
    with transaction.atomic():
        communication = communications.log_communication(
            communications.Entry(
                customer=customer,
                channel=channel,
                direction=direction,
                subject=subject,
                body=body,
                occurred_at=occurred_at,
                contacts=list(contacts),
                staff=person(actor),
                phase=phase or default_phase,
                concerns=concerns,
                versions=list(versions),
                files=list(files),
            ),
            actor=actor,
        )
        if (
            isinstance(record, Enquiry)
            and direction == Direction.OUTBOUND
            and record.first_responded_at is None
        ):
            record.first_responded_at = communication.occurred_at
            record.first_response = communication
            record.save(
                update_fields=["first_responded_at", "first_response"],
                audit_action="enquiry.responded",
            )
    return communication


def start_review(enquiry: Enquiry, *, actor: Any) -> RequirementReview:
    """Start (or, after a clarification, resume) the requirement review.

    Refused until the product line's required intake is filled in (and, when resuming,
    until the customer's clarification is logged). Causes `enquiry.start_review` or
    `enquiry.resume`, and a new review round with the checklist in force
    (`requirementreview.created`, one `reviewanswer.created` per question).
    """
    require(actor, "change", Enquiry)
    name = "resume" if enquiry.status == EnquiryStatus.CLARIFICATION else "start_review"
    with transaction.atomic():
        apply_transition(enquiry, name, actor=actor)
        return open_review(enquiry, kind=ReviewKind.INITIAL)


def checklist_for(product_line_id: int | None) -> list[ReviewQuestion]:
    return list(
        ReviewQuestion.objects.filter(active=True)
        .filter(Q(product_line__isnull=True) | Q(product_line_id=product_line_id))
        .order_by("position", "code")
    )


def open_review(enquiry: Enquiry, *, kind: str, order: Order | None = None) -> RequirementReview:
    last = RequirementReview.objects.filter(enquiry=enquiry, kind=kind, order=order).aggregate(
        last=Max("round")
    )["last"]
    review = RequirementReview.objects.create(
        enquiry=enquiry, order=order, kind=kind, round=(last or 0) + 1
    )
    for position, question in enumerate(checklist_for(enquiry.product_line_id), start=1):
        ReviewAnswer.objects.create(
            review=review, question=question, text=question.text, position=position
        )
    return review


@dataclass
class ReviewInput:
    """What a reviewer fills in: answers by answer id (answer, note), the outcome, its text."""

    answers: Mapping[int, tuple[str, str]] = field(default_factory=dict)
    outcome: str = ""
    conditions: str = ""
    decline_reason: str = ""
    clarification: str = ""
    notes: str = ""
    evidence: Any = None


def save_review(review: RequirementReview, *, actor: Any, data: ReviewInput) -> RequirementReview:
    """Record the reviewer's answers so far (the review stays open). Causes
    `reviewanswer.updated` for each changed answer and `requirementreview.updated`."""
    require(actor, "change", RequirementReview)
    if review.status != ReviewStatus.OPEN:
        raise ValidationError({"status": f"{review.number} is completed: it is not changed."})
    errors: dict[str, str] = {}
    if data.outcome and data.outcome not in ReviewOutcome.values:
        errors["outcome"] = "Choose accept, accept with conditions, decline or need clarification."
    answers = {a.pk: a for a in review.answers.all()}
    for pk, (answer, _note) in data.answers.items():
        if pk not in answers:
            errors["answers"] = f"Answer {pk} is not part of {review.number}."
        elif answer and answer not in Answer.values:
            errors["answers"] = "Answer yes, no or not applicable."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for pk, (answer, note) in data.answers.items():
            row = answers[pk]
            if (row.answer, row.note) != (answer, note.strip()):
                row.answer, row.note = answer, note.strip()
                row.save(update_fields=["answer", "note"])
        review.outcome = data.outcome
        review.conditions = data.conditions.strip()
        review.decline_reason = data.decline_reason.strip()
        review.clarification = data.clarification.strip()
        review.notes = data.notes.strip()
        fields = ["outcome", "conditions", "decline_reason", "clarification", "notes"]
        if data.evidence is not None:
            review.evidence = store_upload(data.evidence, "requirement review")
            fields.append("evidence")
        review.save(update_fields=fields)
    return review


def complete_review(
    review: RequirementReview,
    *,
    actor: Any,
    data: ReviewInput | None = None,
    at: dt.datetime | None = None,
) -> RequirementReview:
    """Complete the review as `actor`, the reviewer.

    Refused while a question is unanswered, an accept has a "no", or the outcome lacks
    its conditions, reason or question. Causes `requirementreview.complete` (reviewer,
    time, outcome); for a review of an enquiry the enquiry follows the outcome:
    reviewed (may be offered), declined, or waiting for the customer's clarification.
    """
    require(actor, "change", RequirementReview)
    errors: dict[str, str] = {}
    not_in_future(at, "completed_at", errors)
    if at is not None and at < review.enquiry.received_at:
        errors["completed_at"] = "A review cannot be completed before the enquiry arrived."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if data is not None:
            save_review(review, actor=actor, data=data)
        apply_transition(
            review,
            "complete",
            actor=actor,
            values={"reviewer": person(actor), "completed_at": at or timezone.now()},
        )
        if review.kind == ReviewKind.INITIAL:
            enquiry = review.enquiry
            move = {
                ReviewOutcome.ACCEPT: "review_passed",
                ReviewOutcome.ACCEPT_WITH_CONDITIONS: "review_passed",
                ReviewOutcome.DECLINE: "review_declined",
                ReviewOutcome.CLARIFY: "review_clarify",
            }[ReviewOutcome(review.outcome)]
            if enquiry.status == EnquiryStatus.IN_REVIEW:
                apply_transition(enquiry, move, actor=actor)
    return review


def lose_enquiry(enquiry: Enquiry, *, actor: Any, reason: str) -> Enquiry:
    """The customer went elsewhere or withdrew. Causes `enquiry.lose` with the reason."""
    apply_transition(enquiry, "lose", actor=actor, values={"lost_reason": reason.strip()})
    return enquiry


# --------------------------------------------------------------------------------------
# Offers
# --------------------------------------------------------------------------------------


@dataclass
class OfferTerms:
    """What we offer: scope, requirements, date, price, the documents used."""

    scope: str
    requirements: str = ""
    delivery_date: dt.date | None = None
    price: Decimal | None = None
    currency: str = "EUR"
    valid_until: dt.date | None = None
    issued_at: dt.datetime | None = None
    versions: Sequence[DocumentVersion] = ()
    file: Any = None
    sent_via: Communication | None = None
    contact: Contact | None = None


def issue_offer(enquiry: Enquiry, *, actor: Any, terms: OfferTerms) -> Offer:
    """Record an offer (quotation, contract proposal) as issued to the customer.

    Refused without a completed requirement review that accepts the enquiry. Causes
    `offer.created`; one distribution per controlled document version it used (quote
    template, terms, spec sheets: occasion "quote", via the offer); the offer as sent
    kept as an evidence file; the communication it went with linked to it; the enquiry
    moves to "offer sent" with its first offer.
    """
    require(actor, "add", Offer)
    errors: dict[str, Any] = {}
    review = enquiry.passed_review()
    if review is None:
        errors["enquiry"] = (
            f"{enquiry.number} has no completed requirement review that accepts it: "
            "review the requirements before offering."
        )
    elif enquiry.status not in {EnquiryStatus.REVIEWED, EnquiryStatus.QUOTED}:
        errors["enquiry"] = f"{enquiry.number} is {enquiry.get_status_display().lower()}."
    if not terms.scope.strip():
        errors["scope"] = "Describe what is offered."
    if terms.price is not None and terms.price < 0:
        errors["price"] = "A price is not negative."
    issued_at = terms.issued_at or timezone.now()
    not_in_future(issued_at, "issued_at", errors)
    if review is not None and review.completed_at and issued_at < review.completed_at:
        errors["issued_at"] = f"{review.number} was completed later: review before offering."
    if terms.valid_until and terms.valid_until < timezone.localdate(issued_at):
        errors["valid_until"] = "The offer cannot expire before it is issued."
    if terms.sent_via is not None and terms.sent_via.customer_id != enquiry.customer_id:
        errors["sent_via"] = f"{terms.sent_via.number} is filed under another customer."
    if terms.contact is not None and terms.contact.customer_id != enquiry.customer_id:
        errors["contact"] = f"{terms.contact.name} is not a contact of {enquiry.customer}."
    if errors:
        raise ValidationError(errors)
    assert review is not None  # noqa: S101 - checked above
    with transaction.atomic():
        offer = Offer.objects.create(
            enquiry=enquiry,
            review=review,
            issued_at=issued_at,
            valid_until=terms.valid_until,
            scope=terms.scope.strip(),
            requirements=terms.requirements.strip(),
            delivery_date=terms.delivery_date,
            price=terms.price,
            currency=(terms.currency or "EUR").upper()[:3],
            file=store_upload(terms.file, "offer") if terms.file is not None else None,
            sent_via=terms.sent_via,
        )
        for version in terms.versions:
            documents.record_distribution(
                documents.Provision(
                    version=version,
                    customer=enquiry.customer,
                    contact=terms.contact or enquiry.contact,
                    at=issued_at,
                    occasion=Occasion.QUOTE,
                    reason=f"Used in offer {offer.number} for {enquiry.number}",
                    reference=offer.number,
                    via=offer,
                ),
                actor=person(actor),
            )
        if terms.sent_via is not None:
            communications.add_link(terms.sent_via, offer, actor=None)
        if enquiry.status == EnquiryStatus.REVIEWED:
            apply_transition(enquiry, "quote", actor=actor)
    return offer


def close_offer(offer: Offer, *, actor: Any, name: str, reason: str) -> Offer:
    """The customer rejected the offer, or we withdrew it. Causes `offer.reject` or
    `offer.withdraw` with the reason."""
    if name not in {"reject", "withdraw"}:
        raise ValidationError({"transition": "Reject or withdraw."})
    apply_transition(offer, name, actor=actor, values={"closing_reason": reason.strip()})
    return offer


# --------------------------------------------------------------------------------------
# Orders: the acceptance record, differences, acceptance
# --------------------------------------------------------------------------------------


@dataclass
class AcceptanceRecord:
    """The customer's acceptance as it arrived: the document, its reference, and the
    terms accepted where they are not the offer's."""

    kind: str
    received_at: dt.datetime | None = None
    customer_reference: str = ""
    file: Any = None
    via: Communication | None = None
    contact: Contact | None = None
    differences: str = ""
    scope: str | None = None
    requirements: str | None = None
    delivery_date: dt.date | None = None
    price: Decimal | None = None
    currency: str | None = None
    customer_property: bool | None = None


TERM_FIELDS = ("scope", "requirements", "delivery_date", "price", "currency")


def term_label(name: str) -> str:
    field: Any = Order._meta.get_field(name)
    return str(field.verbose_name)


def record_acceptance(
    enquiry: Enquiry, *, actor: Any, record: AcceptanceRecord, offer: Offer | None = None
) -> Order:
    """Record what the customer sent to accept (a purchase order, a signed quote, a
    subscription confirmation): the order, waiting for our acceptance.

    The accepted terms default to the offer's; any term given that differs from the
    offer marks the order as differing, with the differences listed, so that they are
    reviewed before the order can be accepted. Causes `order.created`; the evidence
    file stored; the communication it came with linked to it.
    """
    require(actor, "add", Order)
    errors: dict[str, Any] = {}
    if record.kind not in AcceptanceKind.values:
        errors["acceptance_kind"] = "Choose how the customer accepted."
    if enquiry.status not in OPEN_ENQUIRY_STATES:
        errors["enquiry"] = f"{enquiry.number} is {enquiry.get_status_display().lower()}."
    if offer is not None:
        if offer.enquiry_id != enquiry.pk:
            errors["offer"] = f"{offer.number} answers another enquiry."
        elif offer.status != OfferStatus.ISSUED:
            errors["offer"] = f"{offer.number} is {offer.get_status_display().lower()}."
        elif offer.orders.exists():
            errors["offer"] = f"{offer.number} has an order already."
    if record.via is not None and record.via.customer_id != enquiry.customer_id:
        errors["via"] = f"{record.via.number} is filed under another customer."
    if record.contact is not None and record.contact.customer_id != enquiry.customer_id:
        errors["contact"] = f"{record.contact.name} is not a contact of {enquiry.customer}."
    not_in_future(record.received_at, "received_at", errors)
    base: dict[str, Any] = {
        "scope": offer.scope if offer else enquiry.requested_scope,
        "requirements": offer.requirements if offer else enquiry.requirements_stated,
        "delivery_date": offer.delivery_date if offer else enquiry.requested_delivery,
        "price": offer.price if offer else None,
        "currency": offer.currency if offer else "EUR",
    }
    terms = dict(base)
    differing = []
    for name in TERM_FIELDS:
        given = getattr(record, name)
        if isinstance(given, str):
            given = given.strip()
        if given is None or given == "":
            continue
        terms[name] = given
        if offer is not None and given != base[name]:
            differing.append(f"{term_label(name)}: offered {base[name] or '—'}, accepted {given}")
    if not str(terms["scope"]).strip():
        errors["scope"] = "State the scope the customer ordered."
    if errors:
        raise ValidationError(errors)
    differences = "\n".join(part for part in (record.differences.strip(), *differing) if part)
    received_at = record.received_at or (record.via.occurred_at if record.via else timezone.now())
    with transaction.atomic():
        order = Order.objects.create(
            enquiry=enquiry,
            offer=offer,
            customer=enquiry.customer,
            contact=record.contact or enquiry.contact,
            acceptance_kind=record.kind,
            customer_reference=record.customer_reference.strip()[:100],
            acceptance_file=(
                store_upload(record.file, "order acceptance") if record.file is not None else None
            ),
            acceptance_received_at=received_at,
            acceptance_via=record.via,
            differs_from_offer=bool(differences),
            differences=differences,
            # The differences are those of the acceptance as it arrived.
            differences_noted_at=received_at if differences else None,
            customer_property=(
                record.customer_property
                if record.customer_property is not None
                else enquiry.customer_property
            ),
            **terms,
        )
        if record.via is not None:
            communications.add_link(record.via, order, actor=None)
    return order


def attach_acceptance(order: Order, *, actor: Any, upload: Any, reference: str = "") -> Order:
    """Attach the customer's acceptance document to an order not yet accepted.

    Causes `order.acceptance_attached` with the file's SHA-256."""
    require(actor, "change", Order)
    if order.status != OrderStatus.PENDING:
        raise ValidationError({"file": f"{order.number} is {order.get_status_display().lower()}."})
    order.acceptance_file = store_upload(upload, "order acceptance")
    fields = ["acceptance_file"]
    if reference.strip():
        order.customer_reference = reference.strip()[:100]
        fields.append("customer_reference")
    order.save(update_fields=fields, audit_action="order.acceptance_attached")
    return order


def note_differences(order: Order, *, actor: Any, differences: str) -> Order:
    """State how the accepted terms differ from the offer; a review of them made before
    no longer counts. Causes `order.differences_noted`."""
    require(actor, "change", Order)
    if order.status != OrderStatus.PENDING:
        raise ValidationError(
            {"differences": f"{order.number} is {order.get_status_display().lower()}."}
        )
    if not differences.strip():
        raise ValidationError({"differences": "Say how the accepted terms differ."})
    order.differs_from_offer = True
    order.differences = differences.strip()
    order.differences_noted_at = timezone.now()
    order.save(
        update_fields=["differs_from_offer", "differences", "differences_noted_at"],
        audit_action="order.differences_noted",
    )
    return order


def review_differences(order: Order, *, actor: Any) -> RequirementReview:
    """Open a review of the differences between the accepted terms and the offer.
    Causes `requirementreview.created` (kind "difference") with the checklist."""
    require(actor, "add", RequirementReview)
    if order.status != OrderStatus.PENDING or not order.differs_from_offer:
        raise ValidationError({"order": f"{order.number} has no differences waiting for review."})
    open_one = order.difference_reviews.filter(status=ReviewStatus.OPEN).first()
    if open_one is not None:
        return open_one
    with transaction.atomic():
        return open_review(order.enquiry, kind=ReviewKind.DIFFERENCE, order=order)


def accept_order(
    order: Order,
    *,
    actor: Any,
    file: Any = None,
    customer_reference: str = "",
    versions: Sequence[DocumentVersion] = (),
    at: dt.datetime | None = None,
) -> Order:
    """Accept the order: our commitment to the customer.

    Refused (`order.accept`'s guard, checked under a row lock) without a completed
    requirement review that accepts the enquiry, without the customer's acceptance
    evidence, or while differences from the offer wait for their review. Causes
    `order.accept` (who, when, version 1); version 1 of the order's terms; the offer
    accepted; the enquiry ordered; a distribution of each document version confirmed
    with it (occasion "order").
    """
    require(actor, "change", Order)
    at = at or timezone.now()
    review = order.enquiry.passed_review()
    if review is not None and review.completed_at and at < review.completed_at:
        raise ValidationError(
            {"accepted_at": f"{review.number} was completed later: review before accepting."}
        )
    with transaction.atomic():
        if file is not None:
            attach_acceptance(order, actor=actor, upload=file, reference=customer_reference)
        apply_transition(
            order,
            "accept",
            actor=actor,
            values={"accepted_by": person(actor), "accepted_at": at, "version": 1},
        )
        OrderVersion.objects.create(
            order=order,
            number=1,
            effective_at=at,
            scope=order.scope,
            requirements=order.requirements,
            delivery_date=order.delivery_date,
            price=order.price,
            currency=order.currency,
            customer_property=order.customer_property,
        )
        offer = order.offer
        if offer is not None and offer.status == OfferStatus.ISSUED:
            apply_transition(offer, "accepted", actor=actor)
        enquiry = order.enquiry
        if enquiry.status in {EnquiryStatus.REVIEWED, EnquiryStatus.QUOTED}:
            apply_transition(enquiry, "order", actor=actor)
        for version in versions:
            documents.record_distribution(
                documents.Provision(
                    version=version,
                    customer=order.customer,
                    contact=order.contact,
                    at=at,
                    occasion=Occasion.ORDER,
                    reason=f"Confirmed with order {order.number}",
                    reference=order.number,
                    via=order,
                ),
                actor=person(actor),
            )
    return order


def close_order(order: Order, *, actor: Any, name: str, reason: str = "") -> Order:
    """Refuse, cancel or complete an order. Causes `order.<name>` (with the reason)."""
    if name not in {"refuse", "cancel", "complete"}:
        raise ValidationError({"transition": "Refuse, cancel or complete."})
    values: dict[str, Any] = (
        {"closing_reason": reason.strip()}
        if name != "complete"
        else {"completed_at": timezone.now()}
    )
    apply_transition(order, name, actor=actor, values=values)
    return order


# --------------------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------------------


@dataclass
class ChangeProposal:
    """What a change asks for: the aspects and their new values."""

    origin: str
    description: str
    aspects: Sequence[str]
    new_scope: str = ""
    new_requirements: str = ""
    new_delivery_date: dt.date | None = None
    new_price: Decimal | None = None
    new_customer_property: bool | None = None
    requested_at: dt.datetime | None = None
    received_via: Communication | None = None


def request_change(order: Order, *, actor: Any, proposal: ChangeProposal) -> ChangeRequest:
    """Record a change to an accepted order, from the customer or from us.

    The change is not effective until the customer confirms it. Causes
    `changerequest.created` with the confirmation deadline (the product line's target
    in working days); the customer's request linked to it.
    """
    require(actor, "add", ChangeRequest)
    errors: dict[str, str] = {}
    if order.status != OrderStatus.ACCEPTED:
        errors["order"] = (
            f"{order.number} is {order.get_status_display().lower()}: only an accepted order "
            "is changed."
        )
    if proposal.origin not in ChangeOrigin.values:
        errors["origin"] = "Say whether the customer or we asked for it."
    if not proposal.description.strip():
        errors["description"] = "Describe the change."
    aspects = list(dict.fromkeys(proposal.aspects))
    if not aspects:
        errors["aspects"] = "Say what changes: scope, requirements, date, price or property."
    for aspect in aspects:
        if aspect not in ChangeAspect.values:
            errors["aspects"] = f"{aspect!r} is not something an order change can change."
            continue
        order_field, new_field = ASPECT_FIELDS[aspect]
        new = getattr(proposal, new_field)
        if new is None or (isinstance(new, str) and not new.strip()):
            errors[new_field] = f"Give the new {term_label(order_field)}."
        elif (new.strip() if isinstance(new, str) else new) == getattr(order, order_field):
            errors[new_field] = f"The {term_label(order_field)} is this already."
    if proposal.new_price is not None and proposal.new_price < 0:
        errors["new_price"] = "A price is not negative."
    via = proposal.received_via
    if via is not None and via.customer_id != order.customer_id:
        errors["received_via"] = f"{via.number} is filed under another customer."
    not_in_future(proposal.requested_at, "requested_at", errors)
    if errors:
        raise ValidationError(errors)
    requested_at = proposal.requested_at or (via.occurred_at if via else timezone.now())
    days = intake_for(order.enquiry.product_line_id).change_confirmation_days
    chosen = {ASPECT_FIELDS[a][1] for a in aspects}
    values = {
        name: getattr(proposal, name)
        for name in ("new_scope", "new_requirements", "new_delivery_date", "new_price")
        if name in chosen
    }
    for name in ("new_scope", "new_requirements"):
        if name in values:
            values[name] = values[name].strip()
    with transaction.atomic():
        change = ChangeRequest.objects.create(
            order=order,
            origin=proposal.origin,
            requested_at=requested_at,
            received_via=via,
            aspects=aspects,
            description=proposal.description.strip(),
            new_customer_property=(
                proposal.new_customer_property if "new_customer_property" in chosen else None
            ),
            confirmation_due=add_working_days(requested_at, days),
            **values,
        )
        if via is not None:
            communications.add_link(via, change, actor=None)
    return change


def review_impact(
    change: ChangeRequest,
    *,
    actor: Any,
    feasible: bool,
    impact: str,
    at: dt.datetime | None = None,
) -> ChangeRequest:
    """Record the impact review: what the change does to us and the customer, and
    whether `actor` confirms it feasible. Causes `changerequest.impact_reviewed`; a
    feasible change moves on (`changerequest.assess`), an infeasible one waits to be
    rejected and told."""
    require(actor, "change", ChangeRequest)
    if change.status != ChangeStatus.REQUESTED:
        raise ValidationError(
            {"impact": f"{change.number} is {change.get_status_display().lower()}."}
        )
    if not impact.strip():
        raise ValidationError({"impact": "Describe the impact (capacity, cost, dates, risks)."})
    with transaction.atomic():
        change.impact_summary = impact.strip()
        change.feasible = bool(feasible)
        change.impact_reviewed_by = person(actor)
        change.impact_reviewed_at = at or timezone.now()
        change.save(
            update_fields=[
                "impact_summary",
                "feasible",
                "impact_reviewed_by",
                "impact_reviewed_at",
            ],
            audit_action="changerequest.impact_reviewed",
        )
        if change.feasible and change.impact_reviewed_by_id:
            apply_transition(change, "assess", actor=actor)
    return change


def communicate_change(
    change: ChangeRequest,
    *,
    actor: Any,
    communication: Communication | None = None,
    channel: str = "",
    subject: str = "",
    body: str = "",
    contacts: Sequence[Contact] = (),
    versions: Sequence[DocumentVersion] = (),
) -> Communication:
    """Record how we told the customer about the change (and its impact): a
    communication already in the log, or one logged now. Causes the communication
    linked to the change and its order, and `changerequest.communicate`."""
    require(actor, "change", ChangeRequest)
    if change.status != ChangeStatus.ASSESSED:
        raise ValidationError(
            {"status": f"{change.number} is {change.get_status_display().lower()}."}
        )
    with transaction.atomic():
        if communication is None:
            communication = log_exchange(
                change,
                actor=actor,
                direction=Direction.OUTBOUND,
                channel=channel,
                subject=subject or f"Change {change.number} to order {change.order.number}",
                body=body,
                contacts=contacts,
                versions=versions,
            )
        else:
            if (
                communication.customer_id != change.order.customer_id
                or communication.direction != Direction.OUTBOUND
            ):
                raise ValidationError(
                    {"communication": f"{communication.number} is not ours to this customer."}
                )
            communications.add_link(communication, change, actor=None)
            communications.add_link(communication, change.order, actor=None)
        apply_transition(
            change,
            "communicate",
            actor=actor,
            values={
                "communicated_via": communication,
                "communicated_at": communication.occurred_at,
            },
        )
    return communication


def confirm_change(
    change: ChangeRequest,
    *,
    actor: Any,
    file: Any,
    reference: str = "",
    confirmed_at: dt.datetime | None = None,
    via: Communication | None = None,
) -> OrderVersion:
    """The customer's confirmation, with its evidence, makes the change effective.

    Refused without the confirmation file, before the change was communicated, or when
    the order is no longer accepted. Causes `changerequest.confirm`; the order's terms
    changed (`order.changed`, the next version number) and a new order version listing
    what changed; the confirming communication linked.
    """
    require(actor, "change", ChangeRequest)
    errors: dict[str, str] = {}
    not_in_future(confirmed_at, "confirmed_at", errors)
    if via is not None and via.customer_id != change.order.customer_id:
        errors["via"] = f"{via.number} is filed under another customer."
    if errors:
        raise ValidationError(errors)
    at = confirmed_at or (via.occurred_at if via else timezone.now())
    with transaction.atomic():
        evidence = store_upload(file, "change confirmation") if file is not None else None
        apply_transition(
            change,
            "confirm",
            actor=actor,
            values={
                "confirmation_file": evidence,
                "confirmation_reference": reference.strip()[:100],
                "confirmed_at": at,
                "confirmed_via": via,
            },
        )
        order = Order.objects.select_for_update().get(pk=change.order_id)
        changed: dict[str, list[Any]] = {}
        for aspect in change.aspects:
            order_field, new_field = ASPECT_FIELDS[aspect]
            before, after = getattr(order, order_field), getattr(change, new_field)
            if before != after:
                changed[order_field] = [audit.jsonable(before), audit.jsonable(after)]
                setattr(order, order_field, after)
        order.version += 1
        order.save(
            update_fields=[*changed, "version"],
            audit_action="order.changed",
        )
        version = OrderVersion.objects.create(
            order=order,
            number=order.version,
            change=change,
            effective_at=at,
            scope=order.scope,
            requirements=order.requirements,
            delivery_date=order.delivery_date,
            price=order.price,
            currency=order.currency,
            customer_property=order.customer_property,
            changed=changed,
        )
        if via is not None:
            communications.add_link(via, change, actor=None)
    change.order = order
    return version


def reject_change(change: ChangeRequest, *, actor: Any, reason: str) -> ChangeRequest:
    """Not feasible, declined by the customer, or withdrawn: the order stays as it was.
    Causes `changerequest.reject` with the reason."""
    apply_transition(change, "reject", actor=actor, values={"closing_reason": reason.strip()})
    return change


# --------------------------------------------------------------------------------------
# Escalations and customer notices
# --------------------------------------------------------------------------------------


def notice_deadline(raised_at: dt.datetime, days: int, hours: int) -> dt.datetime:
    """When the customer must have been told: `days` working days in the company's time
    zone (same time of day), then `hours` clock hours. With no working days the hours
    run from the moment the event is raised, weekend or not."""
    base = add_working_days(raised_at, days) if days else raised_at
    # Clock hours are elapsed time: added in UTC, so a change of daylight saving time
    # neither gives nor takes an hour.
    return timezone.localtime(base.astimezone(dt.UTC) + dt.timedelta(hours=hours))


def rule_for(event_type: str, severity: str) -> EscalationRule:
    rule = EscalationRule.objects.filter(
        event_type=event_type, severity=severity, active=True
    ).first()
    if rule is None:
        raise ValidationError(
            {"severity": "The escalation matrix has no active rule for this event and severity."}
        )
    return rule


def holders_of(role: str) -> list[Any]:
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=role)
        .distinct()
        .order_by("username")
    )


def raise_escalation(
    *,
    actor: Any,
    customer: Customer,
    event_type: str,
    severity: str,
    title: str,
    description: str,
    order: Order | None = None,
    occurred_at: dt.datetime | None = None,
    raised_at: dt.datetime | None = None,
) -> Escalation:
    """Raise an event against the escalation matrix.

    Causes `escalation.created` with the rule's answers copied (approver role,
    escalate-to role, what must be recorded) and the deadline for telling the customer;
    the people holding the escalate-to role e-mailed (`escalation.escalated`, naming
    who was told).
    """
    require(actor, "add", Escalation)
    errors: dict[str, str] = {}
    if event_type not in EventType.values:
        errors["event_type"] = "Choose the event type."
    if severity not in Severity.values:
        errors["severity"] = "Choose the severity."
    if not title.strip():
        errors["title"] = "Give the event a title."
    if not description.strip():
        errors["description"] = "Describe what happened."
    if order is not None and order.customer_id != customer.pk:
        errors["order"] = f"{order.number} is another customer's order."
    not_in_future(occurred_at, "occurred_at", errors)
    if errors:
        raise ValidationError(errors)
    rule = rule_for(event_type, severity)
    raised_at = raised_at or timezone.now()
    with transaction.atomic():
        escalation = Escalation.objects.create(
            rule=rule,
            event_type=event_type,
            severity=severity,
            customer=customer,
            order=order,
            title=title.strip()[:200],
            description=description.strip(),
            occurred_at=occurred_at or raised_at,
            raised_at=raised_at,
            customer_impacting=rule.customer_impacting,
            approver_role=rule.approver_role,
            escalate_to_role=rule.escalate_to_role,
            records_required=list(rule.records_required),
            notice_due=(
                notice_deadline(raised_at, rule.notify_within_days, rule.notify_within_hours)
                if rule.customer_impacting
                else None
            ),
        )
        told, error = escalate_internally(escalation, why="raised")
        escalation.escalated_to = told
        escalation.save(update_fields=["escalated_to"], audit_action="escalation.escalated")
        if error:
            audit.record("escalation.escalation_unsent", escalation, changes={"error": error})
    return escalation


def escalate_internally(escalation: Escalation, *, why: str) -> tuple[list[str], str]:
    """E-mail the people holding the escalate-to role (and for a breach the approvers)."""
    roles = {escalation.escalate_to_role}
    if why == "breached":
        roles.add(escalation.approver_role)
    people = {u.pk: u for role in roles for u in holders_of(role)}
    due = (
        f"The customer must be told by {timezone.localtime(escalation.notice_due):%Y-%m-%d %H:%M}."
        if escalation.notice_due
        else "The customer need not be told."
    )
    if why == "breached":
        subject = f"Deadline missed: {escalation.number} {escalation.title}"
        opening = "The customer has not been told in time about"
    else:
        subject = f"Escalated: {escalation.number} {escalation.title}"
        opening = "Escalated to you:"
    body = (
        f"{opening} {escalation.get_event_type_display()} ({escalation.get_severity_display()}) "
        f"for {escalation.customer}.\n\n{escalation.description}\n\n{due}\n\n"
        f"{settings.COMPANY_NAME} — Harken"
    )
    return mail.notify_people(list(people.values()), subject=subject, body=body)


def record_escalation_item(
    escalation: Escalation, *, actor: Any, item: str, text: str
) -> Escalation:
    """Record one of the things the matrix says must be recorded (or any other note).
    Causes `escalation.recorded` with the item."""
    require(actor, "change", Escalation)
    if escalation.status == EscalationStatus.CLOSED:
        raise ValidationError({"item": f"{escalation.number} is closed."})
    if not item.strip():
        raise ValidationError({"item": "Name what is recorded."})
    if not text.strip():
        raise ValidationError({"text": "Write the record."})
    escalation.records = {**escalation.records, item.strip()[:100]: text.strip()}
    escalation.save(update_fields=["records"], audit_action="escalation.recorded")
    return escalation


def explain_breach(escalation: Escalation, *, actor: Any, explanation: str) -> Escalation:
    """Record why the customer was told late. Causes `escalation.breach_explained`."""
    require(actor, "change", Escalation)
    if not escalation.breached:
        raise ValidationError({"explanation": f"{escalation.number} met its deadline."})
    if not explanation.strip():
        raise ValidationError({"explanation": "Say why the customer was told late."})
    escalation.breach_explanation = explanation.strip()
    escalation.save(
        update_fields=["breach_explanation"], audit_action="escalation.breach_explained"
    )
    return escalation


def close_escalation(escalation: Escalation, *, actor: Any) -> Escalation:
    """Close the escalation once the records are complete and the customer was told.
    Causes `escalation.close`."""
    apply_transition(escalation, "close", actor=actor, values={"closed_at": timezone.now()})
    return escalation


def notice_template(escalation: Escalation) -> DocumentVersion | None:
    """The approved template the escalation's rule names, in its current version."""
    document = escalation.rule.notice_template
    if document is None or document.kind != DocumentKind.NOTICE_TEMPLATE:
        return None
    return documents.current_version(document)


def notice_recipient(escalation: Escalation) -> Contact | None:
    if escalation.order is not None and escalation.order.contact is not None:
        if escalation.order.contact.email:
            return escalation.order.contact
    return (
        escalation.customer.contacts.exclude(email="")
        .filter(active=True)
        .order_by("-is_primary", "pk")
        .first()
    )


def render_notice(
    template: DocumentVersion, escalation: Escalation, contact: Contact, *, sender: Any
) -> tuple[str, str]:
    """Subject and text of a notice: the template's placeholders filled in."""
    order = escalation.order
    values = {
        "contact": contact.name,
        "customer": escalation.customer.name,
        "event": escalation.get_event_type_display(),
        "severity": escalation.get_severity_display(),
        "title": escalation.title,
        "description": escalation.description,
        "occurred_at": f"{timezone.localtime(escalation.occurred_at):%Y-%m-%d %H:%M}",
        "order": order.number if order else "",
        "customer_reference": order.customer_reference if order else "",
        "delivery_date": order.delivery_date.isoformat() if order and order.delivery_date else "",
        "reference": escalation.number,
        "sender": (sender.get_full_name() or sender.get_username()) if sender else "",
        "company": settings.COMPANY_NAME,
    }
    body = string.Template(template.body).safe_substitute(values)
    about = f" — your order {order.customer_reference or order.number}" if order else ""
    subject = f"{escalation.get_event_type_display()}: {escalation.title}{about}"
    return subject[:300], body


def draft_notice(escalation: Escalation, *, actor: Any, contact: Contact | None = None) -> Notice:
    """Draft the customer notice from the approved template the matrix names.

    Refused when the customer need not be told, the escalation is closed, the rule has
    no approved notice template, or no contact has an e-mail address. Causes
    `notice.created` (a draft, for the named role to approve).
    """
    require(actor, "add", Notice)
    errors: dict[str, str] = {}
    if not escalation.customer_impacting:
        errors["escalation"] = f"{escalation.number} is not one the customer must be told of."
    if escalation.status == EscalationStatus.CLOSED:
        errors["escalation"] = f"{escalation.number} is closed."
    template = notice_template(escalation)
    if template is None:
        errors["template"] = (
            f"The escalation matrix names no approved notice template for {escalation.rule}: "
            "set one on the rule first."
        )
    contact = contact or notice_recipient(escalation)
    if contact is None or not contact.email:
        errors["contact"] = f"No contact of {escalation.customer} has an e-mail address."
    elif contact.customer_id != escalation.customer_id:
        errors["contact"] = f"{contact.name} is not a contact of {escalation.customer}."
    if errors:
        raise ValidationError(errors)
    assert template is not None and contact is not None  # noqa: S101 - checked above
    subject, body = render_notice(template, escalation, contact, sender=person(actor))
    return Notice.objects.create(
        escalation=escalation,
        template_version=template,
        contact=contact,
        subject=subject,
        body=body,
    )


def edit_notice(notice: Notice, *, actor: Any, subject: str, body: str) -> Notice:
    """Correct a draft notice. Causes `notice.updated`."""
    require(actor, "change", Notice)
    if notice.status != NoticeStatus.DRAFT:
        raise ValidationError(
            {"body": f"{notice.number} is {notice.get_status_display().lower()}: not edited."}
        )
    errors = {}
    if not subject.strip():
        errors["subject"] = "Give the notice a subject."
    if not body.strip():
        errors["body"] = "Write the notice."
    if errors:
        raise ValidationError(errors)
    notice.subject, notice.body = subject.strip()[:300], body.strip()
    notice.save(update_fields=["subject", "body"])
    return notice


def may_approve_notice(user: Any, notice: Notice) -> bool:
    """Whether `user` holds the role the matrix named to approve this notice.

    Decided here and only here: the role is the permission (an administrator who does
    not hold it may not approve a customer notice either).
    """
    if not (user and user.is_authenticated and user.is_active):
        return False
    return notice.escalation.approver_role in user.roles and user.has_perm("orders.change_notice")


def approve_notice(notice: Notice, *, actor: Any) -> Notice:
    """Approve a draft notice as the role the matrix names. Causes `notice.approve`
    (approver, time)."""
    if actor is not None and not may_approve_notice(actor, notice):
        role = Role(notice.escalation.approver_role).label
        raise PermissionDenied(f"Only a {str(role).lower()} may approve {notice.number}.")
    apply_transition(
        notice,
        "approve",
        actor=actor,
        values={"approved_by": person(actor), "approved_at": timezone.now()},
    )
    return notice


def send_notice(notice: Notice, *, actor: Any) -> Notice:
    """Send an approved notice by e-mail and log it.

    Refused for a notice that is not approved. Causes `notice.send`; the e-mail sent and
    logged as an outbound communication linked to the notice, the escalation and its
    order; the escalation's customer-told time set the first time
    (`escalation.customer_told`, `escalation.inform`); a late first notice flagged as a
    breach (`escalation.breached`, once).
    """
    require(actor, "change", Notice)
    escalation = notice.escalation
    phase = {
        EventType.PROPERTY_INCIDENT: Phase.PROPERTY,
        EventType.CRITICAL_COMPLAINT: Phase.FEEDBACK,
    }.get(EventType(escalation.event_type), Phase.DELIVERY)
    with transaction.atomic():
        now = timezone.now()
        apply_transition(
            notice, "send", actor=actor, values={"sent_by": person(actor), "sent_at": now}
        )
        concerns: list[models.Model] = [notice, escalation]
        if escalation.order is not None:
            concerns.append(escalation.order)
        communication = mail.send_logged_mail(
            customer=escalation.customer,
            contact=notice.contact,
            subject=notice.subject,
            body=notice.body,
            staff=person(actor),
            phase=phase,
            concerns=concerns,
        )
        notice.communication = communication
        notice.save(update_fields=["communication"], audit_action="notice.logged")
        if escalation.customer_told_at is None:
            escalation.customer_told_at = communication.occurred_at
            escalation.save(
                update_fields=["customer_told_at"], audit_action="escalation.customer_told"
            )
            if escalation.breached:
                flag_breach(escalation)
            if escalation.status == EscalationStatus.OPEN:
                apply_transition(escalation, "inform", actor=actor)
    return notice


def withdraw_notice(notice: Notice, *, actor: Any, reason: str) -> Notice:
    """Withdraw a notice that will not be sent. Causes `notice.withdraw`."""
    apply_transition(notice, "withdraw", actor=actor, values={"withdrawn_reason": reason.strip()})
    return notice


# --------------------------------------------------------------------------------------
# Deadlines: first responses and escalations (the tick), each flagged once
# --------------------------------------------------------------------------------------


def already_flagged(record: models.Model, action: str, deadline: dt.datetime) -> bool:
    return AuditEvent.objects.filter(
        action=action,
        object_type=record._meta.label_lower,
        object_id=str(record.pk),
        changes__deadline=audit.jsonable(deadline),
    ).exists()


def flag_breach(escalation: Escalation) -> bool:
    """Record that the escalation missed its deadline and tell the approvers and the
    escalate-to role; once per deadline. Returns whether it was flagged now."""
    assert escalation.notice_due is not None  # noqa: S101 - only breached ones come here
    if already_flagged(escalation, "escalation.breached", escalation.notice_due):
        return False
    told, error = escalate_internally(escalation, why="breached")
    audit.record(
        "escalation.breached",
        escalation,
        changes={
            "deadline": audit.jsonable(escalation.notice_due),
            "told": told,
            **({"error": error} if error else {}),
        },
    )
    return True


def overdue_escalations(now: dt.datetime) -> Any:
    return Escalation.objects.filter(
        customer_impacting=True,
        customer_told_at__isnull=True,
        notice_due__lt=now,
    ).exclude(status=EscalationStatus.CLOSED)


def flag_breached_escalations(now: dt.datetime) -> int:
    """Tick duty: escalations whose customer has not been told by the deadline."""
    flagged = 0
    with audit.audit_context(actor=audit.Actor.system("tick")):
        for escalation in overdue_escalations(now).select_related("customer"):
            with transaction.atomic():
                flagged += flag_breach(escalation)
    return flagged


def overdue_enquiries(now: dt.datetime) -> Any:
    return Enquiry.objects.filter(
        first_responded_at__isnull=True,
        first_response_due__lt=now,
        status__in=OPEN_ENQUIRY_STATES,
    )


def flag_overdue_enquiries(now: dt.datetime) -> int:
    """Tick duty: enquiries without a first response by their deadline, flagged once
    (`enquiry.overdue`) and escalated by e-mail to whoever handles the enquiry and the
    account owner, or to the quality managers when nobody does."""
    flagged = 0
    with audit.audit_context(actor=audit.Actor.system("tick")):
        for enquiry in overdue_enquiries(now).select_related("customer__account_owner", "owner"):
            if already_flagged(enquiry, "enquiry.overdue", enquiry.first_response_due):
                continue
            people = [p for p in (enquiry.owner, enquiry.customer.account_owner) if p is not None]
            people = list({p.pk: p for p in people}.values()) or holders_of(Role.QUALITY_MANAGER)
            told, error = mail.notify_people(
                people,
                subject=f"No first response yet: {enquiry.number} from {enquiry.customer}",
                body=(
                    f"{enquiry.number} from {enquiry.customer} was due a first response by "
                    f"{timezone.localtime(enquiry.first_response_due):%Y-%m-%d %H:%M}.\n\n"
                    f"{enquiry.requested_scope}\n\n{settings.COMPANY_NAME} — Harken"
                ),
            )
            audit.record(
                "enquiry.overdue",
                enquiry,
                changes={
                    "deadline": audit.jsonable(enquiry.first_response_due),
                    "told": told,
                    **({"error": error} if error else {}),
                },
            )
            flagged += 1
    return flagged


# --------------------------------------------------------------------------------------
# Reading: the trace's building blocks for other modules
# --------------------------------------------------------------------------------------


def communications_about_all(records: Iterable[models.Model]) -> Any:
    """Communications concerning any of `records`, newest first, without duplicates."""
    from django.contrib.contenttypes.models import ContentType

    query = Q()
    for record in records:
        query |= Q(
            links__target_type=ContentType.objects.get_for_model(record),
            links__target_id=str(record.pk),
        )
    if not query:
        return Communication.objects.none()
    ids = Communication.objects.filter(query).values("pk")
    return (
        Communication.objects.filter(pk__in=ids)
        .select_related("staff")
        .order_by("occurred_at", "pk")
    )
