"""Readiness runs (stored and trended), rule settings, sample audits, chain checks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from harken.core.models import EvidenceFile, NumberedModel, TrackedModel

from .choices import SampleKind


class ReadinessRule(TrackedModel):
    """A readiness question's settings: on or off, and the tolerance before it warns or
    fails (for rules that count records, e.g. overdue complaints)."""

    code = models.SlugField(
        verbose_name=_("code"),
        max_length=60,
        unique=True,
    )
    enabled = models.BooleanField(
        verbose_name=_("enabled"),
        default=True,
    )
    warn_above = models.PositiveIntegerField(
        verbose_name=_("warn when more than"),
        default=0,
        help_text=_("Records allowed before the rule warns."),
    )
    fail_above = models.PositiveIntegerField(
        verbose_name=_("fail when more than"),
        default=0,
        help_text=_("Records allowed before the rule fails."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("readiness rule")
        verbose_name_plural = _("readiness rules")

    def __str__(self) -> str:
        return self.code


class ReadinessRun(TrackedModel):
    """One run of the readiness check with every rule's outcome and the records behind it."""

    ran_at = models.DateTimeField(
        verbose_name=_("ran at"),
        db_index=True,
    )
    results = models.JSONField(
        verbose_name=_("results"),
        default=list,
    )
    passed = models.PositiveSmallIntegerField(verbose_name=_("passed"), default=0)
    warned = models.PositiveSmallIntegerField(verbose_name=_("warnings"), default=0)
    failed = models.PositiveSmallIntegerField(verbose_name=_("failed"), default=0)

    audit_exclude = frozenset({"results"})

    class Meta:
        ordering = ["-ran_at"]
        verbose_name = _("readiness run")
        verbose_name_plural = _("readiness runs")

    def __str__(self) -> str:
        return f"{self.ran_at:%Y-%m-%d %H:%M}: {self.passed} pass, {self.warned} warn, {self.failed} fail"


class SampleAudit(NumberedModel):
    """An internal sample audit: N records of a kind in a period, drawn reproducibly,
    each checked for completeness against its kind's checklist."""

    number_prefix = "AUD"

    kind = models.CharField(
        verbose_name=_("records sampled"),
        max_length=16,
        choices=SampleKind.choices,
    )
    period_start = models.DateField(
        verbose_name=_("period start"),
    )
    period_end = models.DateField(
        verbose_name=_("period end"),
    )
    size = models.PositiveSmallIntegerField(
        verbose_name=_("sample size"),
    )
    seed = models.PositiveIntegerField(
        verbose_name=_("seed"),
    )
    population = models.PositiveIntegerField(
        verbose_name=_("records in the period"),
        default=0,
    )
    findings = models.JSONField(
        verbose_name=_("findings"),
        default=list,
    )
    complete = models.PositiveSmallIntegerField(
        verbose_name=_("complete records"),
        default=0,
    )
    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auditor"),
        on_delete=models.PROTECT,
        related_name="sample_audits",
    )
    notes = models.TextField(
        verbose_name=_("notes"),
        blank=True,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("sample audit")
        verbose_name_plural = _("sample audits")

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()} {self.period_start}–{self.period_end}"


class EvidenceExport(NumberedModel):
    """An evidence pack exported for a period: the ZIP kept as evidence, with the chain
    head it anchors."""

    number_prefix = "EVP"

    period_start = models.DateField(verbose_name=_("period start"))
    period_end = models.DateField(verbose_name=_("period end"))
    file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("ZIP"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    chain_head_seq = models.BigIntegerField(verbose_name=_("last audit event included"))
    chain_head_hash = models.CharField(verbose_name=_("its hash"), max_length=64)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("evidence export")
        verbose_name_plural = _("evidence exports")

    def __str__(self) -> str:
        return f"{self.number} {self.period_start}–{self.period_end}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("assurance:evidence_download", args=[self.pk])


class ChainCheck(models.Model):
    """The result of a verification of the audit chain (by `harken tick` or a person).

    Not itself audited: it is a reading of the audit trail, and writing to the trail
    about the trail would change what it reads.
    """

    checked_at = models.DateTimeField(verbose_name=_("checked at"), db_index=True)
    ok = models.BooleanField(verbose_name=_("verifies"))
    count = models.BigIntegerField(verbose_name=_("events"))
    broken_seq = models.BigIntegerField(verbose_name=_("first broken event"), null=True, blank=True)
    reason = models.CharField(verbose_name=_("reason"), max_length=200, blank=True)
    head_hash = models.CharField(verbose_name=_("head hash"), max_length=64, blank=True)

    class Meta:
        ordering = ["-checked_at"]
        verbose_name = _("audit chain check")
        verbose_name_plural = _("audit chain checks")

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M}: {'OK' if self.ok else 'BROKEN'}"
