"""Escalations raised from the matrix, and the customer notices they call for."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from harken.communications.models import Communication
from harken.core.choices import Role
from harken.core.models import NumberedModel
from harken.core.workflow import Transition
from harken.customers.models import Contact, Customer
from harken.documents.models import DocumentVersion

from ..choices import EscalationStatus, EventType, NoticeStatus, Severity
from .config import EscalationRule
from .orders import Order


def _closable(escalation: Escalation) -> list[str]:
    reasons = []
    missing = escalation.missing_records()
    if missing:
        reasons.append(f"record: {', '.join(missing)}")
    if escalation.customer_impacting and escalation.customer_told_at is None:
        reasons.append("send the customer notice first")
    if escalation.breached and not escalation.breach_explanation.strip():
        reasons.append("say why the customer was told late")
    return reasons


class Escalation(NumberedModel):
    """An event that affects a customer (a delay, a defect, an outage…), raised against
    the escalation matrix: who approves the notice, whom it was escalated to, the
    deadline for telling the customer, and what must be recorded.

    The rule's answers are copied when the event is raised, so a later edit of the
    matrix does not rewrite what applied."""

    number_prefix = "ESC"

    rule = models.ForeignKey(
        EscalationRule,
        verbose_name=_("matrix rule"),
        on_delete=models.PROTECT,
        related_name="escalations",
    )
    event_type = models.CharField(
        verbose_name=_("event type"),
        max_length=20,
        choices=EventType.choices,
    )
    severity = models.CharField(
        verbose_name=_("severity"),
        max_length=10,
        choices=Severity.choices,
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="escalations",
    )
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalations",
    )
    title = models.CharField(
        verbose_name=_("title"),
        max_length=200,
    )
    description = models.TextField(
        verbose_name=_("what happened"),
    )
    occurred_at = models.DateTimeField(
        verbose_name=_("occurred at"),
    )
    raised_at = models.DateTimeField(
        verbose_name=_("raised at"),
    )
    customer_impacting = models.BooleanField(
        verbose_name=_("the customer must be told"),
        default=True,
    )
    approver_role = models.CharField(
        verbose_name=_("notice approved by"),
        max_length=32,
        choices=Role.choices,
    )
    escalate_to_role = models.CharField(
        verbose_name=_("escalated to"),
        max_length=32,
        choices=Role.choices,
    )
    escalated_to = models.JSONField(
        verbose_name=_("people told internally"),
        default=list,
        blank=True,
    )
    records_required = models.JSONField(
        verbose_name=_("what must be recorded"),
        default=list,
        blank=True,
    )
    records = models.JSONField(
        verbose_name=_("records"),
        default=dict,
        blank=True,
    )
    notice_due = models.DateTimeField(
        verbose_name=_("customer to be told by"),
        null=True,
        blank=True,
    )
    customer_told_at = models.DateTimeField(
        verbose_name=_("customer told at"),
        null=True,
        blank=True,
    )
    breach_explanation = models.TextField(
        verbose_name=_("why the customer was told late"),
        blank=True,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=10,
        choices=EscalationStatus.choices,
        default=EscalationStatus.OPEN,
    )
    closed_at = models.DateTimeField(
        verbose_name=_("closed at"),
        null=True,
        blank=True,
    )

    transitions = (
        Transition(
            name="inform",
            label="Customer informed",
            sources=frozenset({EscalationStatus.OPEN}),
            target=EscalationStatus.INFORMED,
            guard=lambda e: [] if e.customer_told_at else ["send the customer notice first"],
        ),
        Transition(
            name="close",
            label="Close",
            sources=frozenset({EscalationStatus.OPEN, EscalationStatus.INFORMED}),
            target=EscalationStatus.CLOSED,
            guard=_closable,
            style="outline-success",
        ),
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        indexes = [
            models.Index(fields=["status", "notice_due"], name="escalation_status_due_idx"),
            models.Index(fields=["customer", "raised_at"], name="escalation_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def told_text(self) -> str:
        return ", ".join(self.escalated_to)

    def missing_records(self) -> list[str]:
        return [
            item for item in self.records_required if not str(self.records.get(item, "")).strip()
        ]

    @property
    def breached(self) -> bool:
        """Told after the deadline, or not told and the deadline has passed."""
        if not self.customer_impacting or self.notice_due is None:
            return False
        return (self.customer_told_at or timezone.now()) > self.notice_due

    @property
    def deadline_met(self) -> bool:
        return (
            self.customer_told_at is not None
            and self.notice_due is not None
            and self.customer_told_at <= self.notice_due
        )


class Notice(NumberedModel):
    """A customer-impacting notice: drafted from an approved template, approved by the
    role the matrix names, then sent by e-mail and logged as a communication."""

    number_prefix = "NTC"

    escalation = models.ForeignKey(
        Escalation,
        verbose_name=_("escalation"),
        on_delete=models.PROTECT,
        related_name="notices",
    )
    template_version = models.ForeignKey(
        DocumentVersion,
        verbose_name=_("drafted from"),
        on_delete=models.PROTECT,
        related_name="notices",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("to"),
        on_delete=models.PROTECT,
        related_name="notices",
    )
    subject = models.CharField(
        verbose_name=_("subject"),
        max_length=300,
    )
    body = models.TextField(
        verbose_name=_("text"),
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=10,
        choices=NoticeStatus.choices,
        default=NoticeStatus.DRAFT,
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices_approved",
    )
    approved_at = models.DateTimeField(
        verbose_name=_("approved at"),
        null=True,
        blank=True,
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices_sent",
    )
    sent_at = models.DateTimeField(
        verbose_name=_("sent at"),
        null=True,
        blank=True,
    )
    communication = models.ForeignKey(
        Communication,
        verbose_name=_("logged as"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices",
    )
    withdrawn_reason = models.TextField(
        verbose_name=_("why it was withdrawn"),
        blank=True,
    )

    transitions = (
        Transition(
            name="approve",
            label="Approve",
            sources=frozenset({NoticeStatus.DRAFT}),
            target=NoticeStatus.APPROVED,
            guard=lambda n: [] if n.contact.email else [f"{n.contact.name} has no e-mail address"],
            style="success",
        ),
        Transition(
            name="send",
            label="Send",
            sources=frozenset({NoticeStatus.APPROVED}),
            target=NoticeStatus.SENT,
            guard=lambda n: [] if n.approved_by_id else ["the notice is not approved"],
        ),
        Transition(
            name="withdraw",
            label="Withdraw",
            sources=frozenset({NoticeStatus.DRAFT, NoticeStatus.APPROVED}),
            target=NoticeStatus.WITHDRAWN,
            guard=lambda n: [] if n.withdrawn_reason.strip() else ["say why"],
            fields=("withdrawn_reason",),
            style="outline-secondary",
        ),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer notice")
        verbose_name_plural = _("customer notices")

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"
