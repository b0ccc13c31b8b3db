"""Orders with their acceptance record and versions, and change requests."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from harken.communications.models import Communication
from harken.core.models import EvidenceFile, NumberedModel, TrackedModel
from harken.core.workflow import Transition
from harken.customers.models import Contact, Customer

from ..choices import (
    POSITIVE_OUTCOMES,
    AcceptanceKind,
    ChangeOrigin,
    ChangeStatus,
    OfferStatus,
    OrderStatus,
    ReviewKind,
    ReviewStatus,
)
from .enquiries import Enquiry, Offer


def acceptance_blockers(order: Order) -> list[str]:
    """Why the order cannot be accepted yet; empty when it can.

    The auditor's rule: no order is accepted without a completed requirement review of
    its enquiry, and accepted terms that differ from the offer are reviewed as well.
    """
    reasons = []
    if order.acceptance_file_id is None:
        reasons.append("attach the customer's acceptance (purchase order, signed quote…)")
    if order.enquiry.passed_review() is None:
        reasons.append(
            f"{order.enquiry.number} has no completed requirement review that accepts it"
        )
    offer = order.offer
    if offer is not None and offer.status not in {OfferStatus.ISSUED, OfferStatus.ACCEPTED}:
        reasons.append(f"{offer.number} is {offer.get_status_display().lower()}")
    if order.differs_from_offer and difference_review_of(order) is None:
        reasons.append("the accepted terms differ from the offer: review the differences first")
    return reasons


def difference_review_of(order: Order) -> Any:
    """The completed, positive review of the order's differences, made after they were
    last stated; None when there is none."""
    if not order.pk:
        return None
    review = (
        order.difference_reviews.filter(kind=ReviewKind.DIFFERENCE)
        .order_by("-round", "-pk")
        .first()
    )
    if review is None or review.status != ReviewStatus.COMPLETED:
        return None
    if review.outcome not in POSITIVE_OUTCOMES:
        return None
    noted = order.differences_noted_at
    if noted and (review.completed_at is None or review.completed_at < noted):
        return None
    return review


class Order(NumberedModel):
    """A customer's order or contract: the acceptance record that turned an offer (or an
    enquiry) into a commitment, its current terms, and its versions."""

    number_prefix = "ORD"

    enquiry = models.ForeignKey(
        Enquiry,
        verbose_name=_("enquiry"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    offer = models.ForeignKey(
        Offer,
        verbose_name=_("offer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    acceptance_kind = models.CharField(
        verbose_name=_("acceptance by"),
        max_length=20,
        choices=AcceptanceKind.choices,
    )
    customer_reference = models.CharField(
        verbose_name=_("customer's reference (PO number)"),
        max_length=100,
        blank=True,
    )
    acceptance_file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("acceptance evidence"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acceptance_received_at = models.DateTimeField(
        verbose_name=_("acceptance received at"),
    )
    acceptance_via = models.ForeignKey(
        Communication,
        verbose_name=_("acceptance received with"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders_accepted",
    )
    differs_from_offer = models.BooleanField(
        verbose_name=_("accepted terms differ from the offer"),
        default=False,
    )
    differences = models.TextField(
        verbose_name=_("differences from the offer"),
        blank=True,
    )
    differences_noted_at = models.DateTimeField(
        verbose_name=_("differences stated at"),
        null=True,
        blank=True,
        editable=False,
    )
    scope = models.TextField(
        verbose_name=_("scope"),
    )
    requirements = models.TextField(
        verbose_name=_("requirements"),
        blank=True,
    )
    delivery_date = models.DateField(
        verbose_name=_("delivery date"),
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
    customer_property = models.BooleanField(
        verbose_name=_("customer property involved"),
        default=False,
    )
    version = models.PositiveSmallIntegerField(
        verbose_name=_("version"),
        default=0,
        editable=False,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=12,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING,
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders_accepted",
    )
    accepted_at = models.DateTimeField(
        verbose_name=_("accepted at"),
        null=True,
        blank=True,
    )
    completed_at = models.DateTimeField(
        verbose_name=_("completed at"),
        null=True,
        blank=True,
        editable=False,
    )
    closing_reason = models.TextField(
        verbose_name=_("why it was refused or cancelled"),
        blank=True,
    )

    transition_fields = ("closing_reason",)
    transitions = (
        Transition(
            name="accept",
            label="Accept the order",
            sources=frozenset({OrderStatus.PENDING}),
            target=OrderStatus.ACCEPTED,
            guard=acceptance_blockers,
            style="success",
        ),
        Transition(
            name="refuse",
            label="Refuse",
            sources=frozenset({OrderStatus.PENDING}),
            target=OrderStatus.REFUSED,
            guard=lambda o: [] if o.closing_reason.strip() else ["say why it is refused"],
            fields=("closing_reason",),
            style="outline-secondary",
        ),
        Transition(
            name="complete",
            label="Completed",
            sources=frozenset({OrderStatus.ACCEPTED}),
            target=OrderStatus.COMPLETED,
            guard=lambda o: (
                ["confirm or reject the open changes first"] if o.open_changes().exists() else []
            ),
            style="outline-success",
        ),
        Transition(
            name="cancel",
            label="Cancel",
            sources=frozenset({OrderStatus.PENDING, OrderStatus.ACCEPTED}),
            target=OrderStatus.CANCELLED,
            guard=lambda o: [] if o.closing_reason.strip() else ["say why it is cancelled"],
            fields=("closing_reason",),
            style="outline-danger",
        ),
    )

    class Meta:
        ordering = ["-acceptance_received_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["customer", "acceptance_received_at"], name="order_customer_idx"),
            models.Index(fields=["status", "accepted_at"], name="order_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["offer"],
                condition=Q(offer__isnull=False),
                name="order_one_per_offer",
                violation_error_message=_("This offer has an order already."),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def open_changes(self) -> Any:
        from ..choices import OPEN_CHANGE_STATES

        return self.changes.filter(status__in=OPEN_CHANGE_STATES)


class OrderVersion(TrackedModel):
    """The order's terms as they stood from one moment: version 1 at acceptance, one more
    for each confirmed change, with what changed."""

    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        related_name="versions",
    )
    number = models.PositiveSmallIntegerField(
        verbose_name=_("version"),
    )
    change = models.OneToOneField(
        "orders.ChangeRequest",
        verbose_name=_("change"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order_version",
    )
    effective_at = models.DateTimeField(
        verbose_name=_("effective from"),
    )
    scope = models.TextField(
        verbose_name=_("scope"),
    )
    requirements = models.TextField(
        verbose_name=_("requirements"),
        blank=True,
    )
    delivery_date = models.DateField(
        verbose_name=_("delivery date"),
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
    )
    customer_property = models.BooleanField(
        verbose_name=_("customer property involved"),
        default=False,
    )
    # {field: [before, after]} against the previous version; empty for version 1.
    changed = models.JSONField(
        verbose_name=_("what changed"),
        default=dict,
        blank=True,
    )

    class Meta:
        ordering = ["order", "number"]
        verbose_name = _("order version")
        verbose_name_plural = _("order versions")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "number"],
                name="orderversion_unique_number",
                violation_error_message=_("The order has this version already."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} v{self.number}"

    def get_absolute_url(self) -> str:
        return self.order.get_absolute_url() + f"#v{self.number}"


def _impact_reviewed(change: ChangeRequest) -> list[str]:
    if change.impact_reviewed_by_id is None:
        return ["record the impact review: who confirmed feasibility"]
    if not change.feasible:
        return ["the change was found not feasible: reject it"]
    return []


def _confirmable(change: ChangeRequest) -> list[str]:
    reasons = []
    if change.confirmation_file_id is None:
        reasons.append("attach the customer's confirmation")
    if change.order.status != OrderStatus.ACCEPTED:
        reasons.append(f"{change.order.number} is {change.order.get_status_display().lower()}")
    return reasons


class ChangeRequest(NumberedModel):
    """A change to an accepted order, from the customer or from us: what changes, the
    impact review, our communication and the customer's confirmation. The order takes
    the change (a new version) only when it is confirmed."""

    number_prefix = "CHG"

    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        related_name="changes",
    )
    origin = models.CharField(
        verbose_name=_("origin"),
        max_length=10,
        choices=ChangeOrigin.choices,
    )
    requested_at = models.DateTimeField(
        verbose_name=_("requested at"),
    )
    received_via = models.ForeignKey(
        Communication,
        verbose_name=_("requested with"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="change_requests_received",
    )
    aspects = models.JSONField(
        verbose_name=_("what changes"),
        default=list,
    )
    description = models.TextField(
        verbose_name=_("description"),
    )
    new_scope = models.TextField(
        verbose_name=_("new scope"),
        blank=True,
    )
    new_requirements = models.TextField(
        verbose_name=_("new requirements"),
        blank=True,
    )
    new_delivery_date = models.DateField(
        verbose_name=_("new delivery date"),
        null=True,
        blank=True,
    )
    new_price = models.DecimalField(
        verbose_name=_("new price"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
    )
    new_customer_property = models.BooleanField(
        verbose_name=_("customer property involved after the change"),
        null=True,
        blank=True,
    )
    confirmation_due = models.DateTimeField(
        verbose_name=_("confirmation due"),
        editable=False,
    )
    impact_summary = models.TextField(
        verbose_name=_("impact"),
        blank=True,
    )
    feasible = models.BooleanField(
        verbose_name=_("feasible"),
        null=True,
        blank=True,
    )
    impact_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("feasibility confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="change_impact_reviews",
    )
    impact_reviewed_at = models.DateTimeField(
        verbose_name=_("impact reviewed at"),
        null=True,
        blank=True,
    )
    communicated_via = models.ForeignKey(
        Communication,
        verbose_name=_("communicated with"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="change_requests_communicated",
    )
    communicated_at = models.DateTimeField(
        verbose_name=_("communicated at"),
        null=True,
        blank=True,
    )
    confirmation_file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("customer's confirmation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmation_reference = models.CharField(
        verbose_name=_("confirmation reference"),
        max_length=100,
        blank=True,
    )
    confirmed_at = models.DateTimeField(
        verbose_name=_("confirmed at"),
        null=True,
        blank=True,
    )
    confirmed_via = models.ForeignKey(
        Communication,
        verbose_name=_("confirmed with"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="change_requests_confirmed",
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=12,
        choices=ChangeStatus.choices,
        default=ChangeStatus.REQUESTED,
    )
    closing_reason = models.TextField(
        verbose_name=_("why it was rejected or withdrawn"),
        blank=True,
    )

    transition_fields = ("closing_reason",)
    transitions = (
        Transition(
            name="assess",
            label="Impact reviewed",
            sources=frozenset({ChangeStatus.REQUESTED}),
            target=ChangeStatus.ASSESSED,
            guard=_impact_reviewed,
        ),
        Transition(
            name="communicate",
            label="Communicated to the customer",
            sources=frozenset({ChangeStatus.ASSESSED}),
            target=ChangeStatus.AWAITING,
            guard=lambda c: [] if c.communicated_via_id else ["log our communication first"],
        ),
        Transition(
            name="confirm",
            label="Confirmed by the customer",
            sources=frozenset({ChangeStatus.AWAITING}),
            target=ChangeStatus.CONFIRMED,
            guard=_confirmable,
            style="success",
        ),
        Transition(
            name="reject",
            label="Reject or withdraw",
            sources=frozenset(
                {ChangeStatus.REQUESTED, ChangeStatus.ASSESSED, ChangeStatus.AWAITING}
            ),
            target=ChangeStatus.REJECTED,
            guard=lambda c: [] if c.closing_reason.strip() else ["say why"],
            fields=("closing_reason",),
            style="outline-secondary",
        ),
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        indexes = [
            models.Index(fields=["status", "confirmation_due"], name="change_status_due_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def aspect_labels(self) -> str:
        from ..choices import ChangeAspect

        return ", ".join(
            str(ChangeAspect(a).label).lower() for a in self.aspects if a in ChangeAspect.values
        )
