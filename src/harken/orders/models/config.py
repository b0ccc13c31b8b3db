"""What the quality roles configure: intake per product line, the review checklist and
the escalation matrix."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from harken.core.choices import Role
from harken.core.models import TrackedModel
from harken.customers.models import ProductLine
from harken.documents.models import Document

from ..choices import (
    DEFAULT_CHANGE_CONFIRMATION_DAYS,
    DEFAULT_FIRST_RESPONSE_DAYS,
    DEFAULT_REQUIRED_FIELDS,
    EventType,
    Severity,
)


class IntakeProfile(TrackedModel):
    """What an enquiry for one product line must state before it is reviewed, and how
    soon the customer gets a first answer. Lines without a profile use the defaults."""

    product_line = models.OneToOneField(
        ProductLine,
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        related_name="intake_profile",
    )
    required_fields = models.JSONField(
        verbose_name=_("required intake fields"),
        default=list,
        blank=True,
    )
    first_response_days = models.PositiveSmallIntegerField(
        verbose_name=_("first response within (working days)"),
        default=DEFAULT_FIRST_RESPONSE_DAYS,
    )
    change_confirmation_days = models.PositiveSmallIntegerField(
        verbose_name=_("change confirmed within (working days)"),
        default=DEFAULT_CHANGE_CONFIRMATION_DAYS,
    )
    notes = models.TextField(
        verbose_name=_("notes"),
        blank=True,
    )

    class Meta:
        ordering = ["product_line__name"]
        verbose_name = _("intake profile")
        verbose_name_plural = _("intake profiles")

    def __str__(self) -> str:
        return f"Intake: {self.product_line}"

    def required_labels(self) -> str:
        from ..choices import IntakeField

        return ", ".join(
            str(IntakeField(f).label) for f in self.required_fields if f in IntakeField.values
        )


@dataclass(frozen=True)
class Intake:
    """The intake rules in force for one product line (its profile, or the defaults)."""

    required_fields: tuple[str, ...]
    first_response_days: int
    change_confirmation_days: int


def intake_for(product_line_id: int | None) -> Intake:
    profile = (
        IntakeProfile.objects.filter(product_line_id=product_line_id).first()
        if product_line_id
        else None
    )
    if profile is None:
        return Intake(
            tuple(DEFAULT_REQUIRED_FIELDS),
            DEFAULT_FIRST_RESPONSE_DAYS,
            DEFAULT_CHANGE_CONFIRMATION_DAYS,
        )
    return Intake(
        tuple(profile.required_fields),
        profile.first_response_days,
        profile.change_confirmation_days,
    )


class ReviewQuestion(TrackedModel):
    """One question of the requirement review checklist, for all lines or for one."""

    code = models.SlugField(
        verbose_name=_("code"),
        max_length=40,
        unique=True,
    )
    text = models.CharField(
        verbose_name=_("question"),
        max_length=300,
    )
    guidance = models.TextField(
        verbose_name=_("guidance for the reviewer"),
        blank=True,
    )
    product_line = models.ForeignKey(
        ProductLine,
        verbose_name=_("only for product line"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review_questions",
        help_text=_("Empty: asked in every review."),
    )
    position = models.PositiveSmallIntegerField(
        verbose_name=_("position"),
        default=0,
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("review question")
        verbose_name_plural = _("review checklist")

    def __str__(self) -> str:
        return self.text


class EscalationRule(TrackedModel):
    """One cell of the escalation matrix: for an event type and severity, who approves
    the customer notice, whom we escalate to, how soon the customer is told and what
    must be recorded."""

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
    approver_role = models.CharField(
        verbose_name=_("approves the customer notice"),
        max_length=32,
        choices=Role.choices,
    )
    escalate_to_role = models.CharField(
        verbose_name=_("escalated internally to"),
        max_length=32,
        choices=Role.choices,
    )
    customer_impacting = models.BooleanField(
        verbose_name=_("the customer must be told"),
        default=True,
    )
    notify_within_days = models.PositiveSmallIntegerField(
        verbose_name=_("customer told within (working days)"),
        default=1,
    )
    notify_within_hours = models.PositiveSmallIntegerField(
        verbose_name=_("and (hours)"),
        default=0,
        help_text=_(
            "Clock hours added to the working days; with 0 working days the deadline is "
            "this many hours after the event is raised, weekend or not."
        ),
    )
    records_required = models.JSONField(
        verbose_name=_("what must be recorded"),
        default=list,
        blank=True,
    )
    notice_template = models.ForeignKey(
        Document,
        verbose_name=_("notice template"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalation_rules",
        help_text=_("A customer-facing notice template; its current version is used."),
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )

    class Meta:
        ordering = ["event_type", "severity"]
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation matrix")
        constraints = [
            models.UniqueConstraint(
                fields=["event_type", "severity"],
                name="escalationrule_one_per_cell",
                violation_error_message=_("The matrix has a rule for this event and severity."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} / {self.get_severity_display()}"

    def deadline_text(self) -> str:
        if not self.customer_impacting:
            return "not told"
        parts = []
        if self.notify_within_days:
            parts.append(
                f"{self.notify_within_days} working day{'s' * (self.notify_within_days != 1)}"
            )
        if self.notify_within_hours or not parts:
            parts.append(f"{self.notify_within_hours} h")
        return " + ".join(parts)

    def records_text(self) -> str:
        return "; ".join(self.records_required)
