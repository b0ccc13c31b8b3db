"""Enquiries, their attachments, the requirement reviews with their answers, and offers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from harken.communications.models import Communication
from harken.core.models import EvidenceFile, NumberedModel, TrackedModel
from harken.core.workflow import Transition
from harken.customers.models import Contact, Customer, ProductLine

from ..choices import (
    ACCEPTED_ORDER_STATES,
    OPEN_ENQUIRY_STATES,
    POSITIVE_OUTCOMES,
    Answer,
    EnquiryStatus,
    IntakeField,
    OfferStatus,
    ReviewKind,
    ReviewOutcome,
    ReviewStatus,
)
from .config import intake_for


def missing_intake(enquiry: Enquiry) -> list[str]:
    """The labels of the required intake fields the enquiry leaves empty."""
    missing = []
    for name in intake_for(enquiry.product_line_id).required_fields:
        if name not in IntakeField.values:
            continue
        field: Any = Enquiry._meta.get_field(name)
        value = getattr(enquiry, field.attname)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(str(IntakeField(name).label).lower())
    return missing


def _intake_complete(enquiry: Enquiry) -> list[str]:
    missing = missing_intake(enquiry)
    return [f"fill in the required intake: {', '.join(missing)}"] if missing else []


def _clarified(enquiry: Enquiry) -> list[str]:
    """Back to review only with the intake complete and the customer's answer logged."""
    reasons = _intake_complete(enquiry)
    asked = (
        enquiry.reviews.filter(status=ReviewStatus.COMPLETED, outcome=ReviewOutcome.CLARIFY)
        .order_by("-completed_at")
        .values_list("completed_at", flat=True)
        .first()
    )
    if asked is not None:
        from harken.communications.choices import Direction
        from harken.communications.services import communications_about

        answered = communications_about(enquiry).filter(
            direction=Direction.INBOUND, occurred_at__gte=asked
        )
        if not answered.exists():
            reasons.append("log the customer's clarification first")
    return reasons


def _latest_outcome_is(*outcomes: str) -> Any:
    def guard(enquiry: Enquiry) -> list[str]:
        review = enquiry.latest_review()
        if review is None or review.status != ReviewStatus.COMPLETED:
            return ["complete the requirement review first"]
        if review.outcome not in outcomes:
            return [f"the review's outcome is {review.get_outcome_display().lower()}"]
        return []

    return guard


def _has_issued_offer(enquiry: Enquiry) -> list[str]:
    if not enquiry.offers.exclude(status=OfferStatus.WITHDRAWN).exists():
        return ["issue an offer first"]
    return []


def _has_accepted_order(enquiry: Enquiry) -> list[str]:
    if not enquiry.orders.filter(status__in=ACCEPTED_ORDER_STATES).exists():
        return ["accept an order first"]
    return []


class Enquiry(NumberedModel):
    """A customer's request for a product or service, from intake to offer or decline."""

    number_prefix = "ENQ"

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="enquiries",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="enquiries",
    )
    received_via = models.ForeignKey(
        Communication,
        verbose_name=_("received via"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enquiries_received",
    )
    received_at = models.DateTimeField(
        verbose_name=_("received at"),
    )
    customer_reference = models.CharField(
        verbose_name=_("customer's reference"),
        max_length=100,
        blank=True,
    )
    product_line = models.ForeignKey(
        ProductLine,
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enquiries",
    )
    requested_scope = models.TextField(
        verbose_name=_("requested scope"),
        blank=True,
    )
    requirements_stated = models.TextField(
        verbose_name=_("requirements stated by the customer"),
        blank=True,
    )
    requirements_implied = models.TextField(
        verbose_name=_("requirements implied but necessary"),
        blank=True,
    )
    requirements_statutory = models.TextField(
        verbose_name=_("statutory and regulatory requirements"),
        blank=True,
    )
    requirements_ours = models.TextField(
        verbose_name=_("our own additional requirements"),
        blank=True,
    )
    requested_delivery = models.DateField(
        verbose_name=_("requested delivery date"),
        null=True,
        blank=True,
    )
    special_handling = models.TextField(
        verbose_name=_("special handling"),
        blank=True,
    )
    customer_property = models.BooleanField(
        verbose_name=_("customer property involved"),
        default=False,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enquiries",
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=16,
        choices=EnquiryStatus.choices,
        default=EnquiryStatus.RECEIVED,
    )
    first_response_due = models.DateTimeField(
        verbose_name=_("first response due"),
        editable=False,
    )
    first_responded_at = models.DateTimeField(
        verbose_name=_("first responded at"),
        null=True,
        blank=True,
        editable=False,
    )
    first_response = models.ForeignKey(
        Communication,
        verbose_name=_("first response"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="enquiries_answered",
    )
    lost_reason = models.TextField(
        verbose_name=_("why it was lost or withdrawn"),
        blank=True,
    )

    transition_fields = ("lost_reason",)
    transitions = (
        Transition(
            name="start_review",
            label="Start the requirement review",
            sources=frozenset({EnquiryStatus.RECEIVED}),
            target=EnquiryStatus.IN_REVIEW,
            guard=_intake_complete,
        ),
        Transition(
            name="resume",
            label="Back to review with the clarification",
            sources=frozenset({EnquiryStatus.CLARIFICATION}),
            target=EnquiryStatus.IN_REVIEW,
            guard=_clarified,
        ),
        Transition(
            name="review_passed",
            label="Requirements reviewed",
            sources=frozenset({EnquiryStatus.IN_REVIEW}),
            target=EnquiryStatus.REVIEWED,
            guard=_latest_outcome_is(*POSITIVE_OUTCOMES),
            style="success",
        ),
        Transition(
            name="review_declined",
            label="Declined after review",
            sources=frozenset({EnquiryStatus.IN_REVIEW}),
            target=EnquiryStatus.DECLINED,
            guard=_latest_outcome_is(ReviewOutcome.DECLINE),
            style="outline-secondary",
        ),
        Transition(
            name="review_clarify",
            label="Ask the customer",
            sources=frozenset({EnquiryStatus.IN_REVIEW}),
            target=EnquiryStatus.CLARIFICATION,
            guard=_latest_outcome_is(ReviewOutcome.CLARIFY),
            style="outline-primary",
        ),
        Transition(
            name="quote",
            label="Offer sent",
            sources=frozenset({EnquiryStatus.REVIEWED}),
            target=EnquiryStatus.QUOTED,
            guard=_has_issued_offer,
        ),
        Transition(
            name="order",
            label="Ordered",
            sources=frozenset({EnquiryStatus.REVIEWED, EnquiryStatus.QUOTED}),
            target=EnquiryStatus.ORDERED,
            guard=_has_accepted_order,
        ),
        Transition(
            name="lose",
            label="Lost or withdrawn",
            sources=OPEN_ENQUIRY_STATES,
            target=EnquiryStatus.LOST,
            guard=lambda e: [] if e.lost_reason.strip() else ["say why it was lost or withdrawn"],
            fields=("lost_reason",),
            style="outline-secondary",
        ),
    )
    # The moves a person makes by button; the others follow from reviews, offers and orders.
    manual_transitions = frozenset({"start_review", "resume", "lose"})

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("enquiry")
        verbose_name_plural = _("enquiries")
        indexes = [
            models.Index(fields=["customer", "received_at"], name="enquiry_customer_idx"),
            models.Index(fields=["status", "first_response_due"], name="enquiry_status_due_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def latest_review(self, kind: str = ReviewKind.INITIAL) -> RequirementReview | None:
        return self.reviews.filter(kind=kind).order_by("-round", "-pk").first()

    def passed_review(self) -> RequirementReview | None:
        """The completed initial review an offer or an order may rest on: the latest one,
        when its outcome was to accept (with or without conditions)."""
        review = self.latest_review()
        if (
            review is not None
            and review.status == ReviewStatus.COMPLETED
            and review.outcome in POSITIVE_OUTCOMES
        ):
            return review
        return None

    @property
    def response_overdue(self) -> bool:
        from django.utils import timezone

        return self.first_responded_at is None and self.first_response_due < timezone.now()


class EnquiryAttachment(TrackedModel):
    """A file that came with an enquiry (drawing, specification), kept as evidence."""

    enquiry = models.ForeignKey(
        Enquiry,
        verbose_name=_("enquiry"),
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("file"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.CharField(
        verbose_name=_("description"),
        max_length=200,
        blank=True,
    )

    class Meta:
        ordering = ["enquiry", "pk"]
        verbose_name = _("enquiry attachment")
        verbose_name_plural = _("enquiry attachments")

    def __str__(self) -> str:
        return self.file.name


def _review_complete(review: RequirementReview) -> list[str]:
    reasons = []
    answers = list(review.answers.all())
    unanswered = [a for a in answers if not a.answer]
    if unanswered:
        reasons.append(f"answer every question ({len(unanswered)} open)")
    if any(a.answer == Answer.NOT_APPLICABLE and not a.note.strip() for a in answers):
        reasons.append("say why a question does not apply")
    outcome = review.outcome
    if not outcome:
        reasons.append("choose the outcome")
    elif outcome == ReviewOutcome.ACCEPT and any(a.answer == Answer.NO for a in answers):
        reasons.append("a question answered no: accept with conditions, clarify or decline")
    elif outcome == ReviewOutcome.ACCEPT_WITH_CONDITIONS and not review.conditions.strip():
        reasons.append("state the conditions")
    elif outcome == ReviewOutcome.DECLINE and not review.decline_reason.strip():
        reasons.append("say why we decline")
    elif outcome == ReviewOutcome.CLARIFY and not review.clarification.strip():
        reasons.append("say what the customer must clarify")
    if review.kind == ReviewKind.DIFFERENCE and outcome == ReviewOutcome.CLARIFY:
        reasons.append("a review of differences accepts or declines them")
    return reasons


class RequirementReview(NumberedModel):
    """The review of what the customer asks for before we commit (8.2.3): the checklist
    answered, the outcome, who reviewed and the evidence. A difference review does the
    same for accepted terms that differ from our offer."""

    number_prefix = "RRV"

    enquiry = models.ForeignKey(
        Enquiry,
        verbose_name=_("enquiry"),
        on_delete=models.PROTECT,
        related_name="reviews",
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order (differences reviewed)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="difference_reviews",
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=12,
        choices=ReviewKind.choices,
        default=ReviewKind.INITIAL,
    )
    round = models.PositiveSmallIntegerField(
        verbose_name=_("round"),
        default=1,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=12,
        choices=ReviewStatus.choices,
        default=ReviewStatus.OPEN,
    )
    outcome = models.CharField(
        verbose_name=_("outcome"),
        max_length=20,
        choices=ReviewOutcome.choices,
        blank=True,
    )
    conditions = models.TextField(
        verbose_name=_("conditions"),
        blank=True,
    )
    decline_reason = models.TextField(
        verbose_name=_("why we decline"),
        blank=True,
    )
    clarification = models.TextField(
        verbose_name=_("what the customer must clarify"),
        blank=True,
    )
    notes = models.TextField(
        verbose_name=_("notes"),
        blank=True,
    )
    evidence = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("evidence file"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requirement_reviews",
    )
    completed_at = models.DateTimeField(
        verbose_name=_("completed at"),
        null=True,
        blank=True,
    )

    transitions = (
        Transition(
            name="complete",
            label="Complete the review",
            sources=frozenset({ReviewStatus.OPEN}),
            target=ReviewStatus.COMPLETED,
            guard=_review_complete,
            style="success",
        ),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("requirement review")
        verbose_name_plural = _("requirement reviews")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=ReviewKind.INITIAL) | Q(order__isnull=False),
                name="requirementreview_difference_has_order",
                violation_error_message=_("A review of differences belongs to an order."),
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ReviewAnswer(TrackedModel):
    """One checklist question as it was asked in one review, and the reviewer's answer."""

    review = models.ForeignKey(
        RequirementReview,
        verbose_name=_("review"),
        on_delete=models.CASCADE,
        related_name="answers",
    )
    question = models.ForeignKey(
        "orders.ReviewQuestion",
        verbose_name=_("question"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="answers",
    )
    # The wording as asked: later edits of the checklist do not rewrite past reviews.
    text = models.CharField(
        verbose_name=_("question as asked"),
        max_length=300,
    )
    position = models.PositiveSmallIntegerField(
        verbose_name=_("position"),
        default=0,
    )
    answer = models.CharField(
        verbose_name=_("answer"),
        max_length=4,
        choices=Answer.choices,
        blank=True,
    )
    note = models.TextField(
        verbose_name=_("evidence or note"),
        blank=True,
    )

    class Meta:
        ordering = ["review", "position", "pk"]
        verbose_name = _("review answer")
        verbose_name_plural = _("review answers")

    def __str__(self) -> str:
        return f"{self.text}: {self.get_answer_display() or '—'}"


class Offer(NumberedModel):
    """A quotation or contract proposal as issued, resting on a passed requirement
    review; the controlled documents it used are recorded as distributions."""

    number_prefix = "OFR"

    enquiry = models.ForeignKey(
        Enquiry,
        verbose_name=_("enquiry"),
        on_delete=models.PROTECT,
        related_name="offers",
    )
    review = models.ForeignKey(
        RequirementReview,
        verbose_name=_("requirement review"),
        on_delete=models.PROTECT,
        related_name="offers",
    )
    issued_at = models.DateTimeField(
        verbose_name=_("issued at"),
    )
    valid_until = models.DateField(
        verbose_name=_("valid until"),
        null=True,
        blank=True,
    )
    scope = models.TextField(
        verbose_name=_("scope offered"),
    )
    requirements = models.TextField(
        verbose_name=_("requirements agreed"),
        blank=True,
    )
    delivery_date = models.DateField(
        verbose_name=_("delivery date offered"),
        null=True,
        blank=True,
    )
    price = models.DecimalField(
        verbose_name=_("price"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
    )
    currency = models.CharField(
        verbose_name=_("currency"),
        max_length=3,
        default="EUR",
    )
    file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("offer as sent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sent_via = models.ForeignKey(
        Communication,
        verbose_name=_("sent with"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers_sent",
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=12,
        choices=OfferStatus.choices,
        default=OfferStatus.ISSUED,
    )
    closing_reason = models.TextField(
        verbose_name=_("why it was rejected or withdrawn"),
        blank=True,
    )

    transition_fields = ("closing_reason",)
    transitions = (
        Transition(
            name="accepted",
            label="Accepted by the customer",
            sources=frozenset({OfferStatus.ISSUED}),
            target=OfferStatus.ACCEPTED,
            guard=lambda o: (
                []
                if o.orders.filter(status__in=ACCEPTED_ORDER_STATES).exists()
                else ["no accepted order rests on it"]
            ),
        ),
        Transition(
            name="reject",
            label="Rejected by the customer",
            sources=frozenset({OfferStatus.ISSUED}),
            target=OfferStatus.REJECTED,
            guard=lambda o: [] if o.closing_reason.strip() else ["say why"],
            fields=("closing_reason",),
            style="outline-secondary",
        ),
        Transition(
            name="withdraw",
            label="Withdraw",
            sources=frozenset({OfferStatus.ISSUED}),
            target=OfferStatus.WITHDRAWN,
            guard=lambda o: [] if o.closing_reason.strip() else ["say why"],
            fields=("closing_reason",),
            style="outline-secondary",
        ),
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")

    def __str__(self) -> str:
        return self.number
