"""Review series, review packs (frozen once issued), review meetings and their decisions."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from harken.actions.models import Action, Disposition
from harken.core.models import EvidenceFile, NumberedModel, TrackedModel
from harken.core.workflow import Transition
from harken.insights.models import QualityObjective

from .choices import Cadence, DecisionKind, MeetingStatus, PackKind, PackStatus


class ReviewSeries(TrackedModel):
    """A recurring review (a monthly operational review, the quarterly management review
    input) with its scope and owner; Harken warns when one is due or overdue."""

    name = models.CharField(
        verbose_name=_("name"),
        max_length=200,
        unique=True,
    )
    kind = models.CharField(
        verbose_name=_("what it produces"),
        max_length=16,
        choices=PackKind.choices,
        default=PackKind.REVIEW,
    )
    cadence = models.CharField(
        verbose_name=_("cadence"),
        max_length=16,
        choices=Cadence.choices,
        default=Cadence.MONTHLY,
    )
    scope = models.JSONField(
        verbose_name=_("scope"),
        default=dict,
        blank=True,
        help_text=_("sources, product_lines, regions, segments (lists); empty means everything."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="review_series",
    )
    grace_days = models.PositiveSmallIntegerField(
        verbose_name=_("days allowed after the period"),
        default=15,
        help_text=_("A review of a period is due this many days after the period ends."),
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("review series")
        verbose_name_plural = _("review series")

    def __str__(self) -> str:
        return self.name


class ReviewPack(NumberedModel):
    """The Customer Satisfaction Review Pack (or management review input) for a period.

    A draft until issued. Issuing stores the content snapshot, the HTML and PDF as
    evidence files and the SHA-256 of the snapshot; from then on the pack refuses any
    change (a correction is a new revision that cites the pack it replaces).
    """

    number_prefix = "RVP"
    FROZEN_FIELDS: ClassVar[tuple[str, ...]] = (
        "series",
        "kind",
        "period_start",
        "period_end",
        "scope",
        "anonymise",
        "content",
        "content_sha256",
        "html_file",
        "pdf_file",
        "commentary",
        "resources_assessment",
        "opportunities",
        "issued_at",
        "issued_by",
        "revision",
        "replaces",
    )

    series = models.ForeignKey(
        ReviewSeries,
        verbose_name=_("series"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="packs",
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=16,
        choices=PackKind.choices,
        default=PackKind.REVIEW,
    )
    period_start = models.DateField(
        verbose_name=_("period start"),
    )
    period_end = models.DateField(
        verbose_name=_("period end"),
    )
    scope = models.JSONField(
        verbose_name=_("scope"),
        default=dict,
        blank=True,
    )
    anonymise = models.BooleanField(
        verbose_name=_("anonymise customer names in quotes"),
        default=True,
    )
    commentary = models.TextField(
        verbose_name=_("commentary of the quality manager"),
        blank=True,
    )
    resources_assessment = models.TextField(
        verbose_name=_("adequacy of resources"),
        blank=True,
        help_text=_("For the management review input (ISO 9001 9.3.2)."),
    )
    opportunities = models.TextField(
        verbose_name=_("opportunities for improvement"),
        blank=True,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=16,
        choices=PackStatus.choices,
        default=PackStatus.DRAFT,
    )
    revision = models.PositiveSmallIntegerField(
        verbose_name=_("revision"),
        default=1,
    )
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("replaces"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
    )
    content = models.JSONField(
        verbose_name=_("content snapshot"),
        default=dict,
        blank=True,
        editable=False,
    )
    content_sha256 = models.CharField(
        verbose_name=_("SHA-256 of the content"),
        max_length=64,
        blank=True,
        editable=False,
    )
    html_file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("HTML"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    pdf_file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("PDF"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    issued_at = models.DateTimeField(
        verbose_name=_("issued at"),
        null=True,
        blank=True,
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    # Excluded from the field diff: the snapshot is large and its hash is recorded instead.
    audit_exclude = frozenset({"content"})

    class Meta:
        ordering = ["-period_end", "-revision"]
        verbose_name = _("review pack")
        verbose_name_plural = _("review packs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_start__lte=models.F("period_end")),
                name="reviewpack_period_in_order",
                violation_error_message=_("The period ends before it starts."),
            ),
        ]

    def __str__(self) -> str:
        rev = f" rev. {self.revision}" if self.revision > 1 else ""
        return f"{self.number} {self.period_label}{rev}"

    @property
    def period_label(self) -> str:
        return f"{self.period_start:%d %b %Y} – {self.period_end:%d %b %Y}"

    @property
    def is_frozen(self) -> bool:
        return self.status != PackStatus.DRAFT

    def save(self, *args: Any, **kwargs: Any) -> None:
        """An issued pack keeps every frozen field as issued (only its status may move on
        to "replaced" when a revision is issued)."""
        loaded = self._audit_loaded or {}
        if not self._state.adding and loaded.get("status") in {
            PackStatus.ISSUED,
            PackStatus.REPLACED,
        }:
            for name in self.FROZEN_FIELDS:
                attname = self._meta.get_field(name).attname  # type: ignore[union-attr]
                if loaded.get(attname, getattr(self, attname)) != getattr(self, attname):
                    raise PermissionError(f"{self.number} is issued: {name} can no longer change.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_frozen:
            raise PermissionError(f"{self.number} is issued and is kept as evidence.")
        return super().delete(*args, **kwargs)


class ReviewMeeting(NumberedModel):
    """A review held: who attended, the pack reviewed, minutes, decisions, follow-ups."""

    number_prefix = "RVM"

    series = models.ForeignKey(
        ReviewSeries,
        verbose_name=_("series"),
        on_delete=models.PROTECT,
        related_name="meetings",
    )
    held_on = models.DateField(
        verbose_name=_("held on"),
    )
    period_start = models.DateField(
        verbose_name=_("period reviewed from"),
    )
    period_end = models.DateField(
        verbose_name=_("period reviewed to"),
    )
    pack = models.ForeignKey(
        ReviewPack,
        verbose_name=_("pack reviewed"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
    )
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("chair"),
        on_delete=models.PROTECT,
        related_name="chaired_reviews",
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("attendees"),
        blank=True,
        related_name="attended_reviews",
    )
    other_attendees = models.CharField(
        verbose_name=_("other attendees"),
        max_length=500,
        blank=True,
    )
    minutes = models.TextField(
        verbose_name=_("minutes"),
        blank=True,
    )
    follow_ups = models.TextField(
        verbose_name=_("follow-ups"),
        blank=True,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=16,
        choices=MeetingStatus.choices,
        default=MeetingStatus.PLANNED,
    )
    approved_at = models.DateTimeField(
        verbose_name=_("minutes approved at"),
        null=True,
        blank=True,
    )

    transitions = (
        Transition(
            name="hold",
            label="Mark held",
            sources=frozenset({MeetingStatus.PLANNED}),
            target=MeetingStatus.HELD,
            guard=lambda m: [] if m.minutes.strip() else ["Write the minutes."],
        ),
        Transition(
            name="approve",
            label="Approve the minutes",
            sources=frozenset({MeetingStatus.HELD}),
            target=MeetingStatus.APPROVED,
            verb="approve",
            guard=lambda m: m.approval_blockers(),
            style="success",
        ),
    )

    class Meta:
        ordering = ["-held_on"]
        verbose_name = _("review meeting")
        verbose_name_plural = _("review meetings")

    def __str__(self) -> str:
        return f"{self.number} {self.series} {self.held_on:%d %b %Y}"

    def approval_blockers(self) -> list[str]:
        reasons = []
        if not self.minutes.strip():
            reasons.append("Write the minutes.")
        if self.pack_id is None:
            reasons.append("Link the pack that was reviewed.")
        return reasons


class MeetingDecision(TrackedModel):
    """A decision taken in a meeting, linked to the record it made or changed."""

    meeting = models.ForeignKey(
        ReviewMeeting,
        verbose_name=_("meeting"),
        on_delete=models.CASCADE,
        related_name="decisions",
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=16,
        choices=DecisionKind.choices,
    )
    text = models.TextField(
        verbose_name=_("decision"),
    )
    disposition = models.ForeignKey(
        Disposition,
        verbose_name=_("disposition"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meeting_decisions",
    )
    action = models.ForeignKey(
        Action,
        verbose_name=_("action"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meeting_decisions",
    )
    objective = models.ForeignKey(
        QualityObjective,
        verbose_name=_("quality objective"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meeting_decisions",
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = _("meeting decision")
        verbose_name_plural = _("meeting decisions")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:60]}"
