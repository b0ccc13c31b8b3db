"""Exposure (the denominators of rates), feedback rollups, quality objectives, signals."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from harken.core.models import NumberedModel, TrackedModel
from harken.core.workflow import Transition
from harken.customers.models import ProductLine, Region
from harken.feedback.models import Category, PerceptionSource

from .choices import (
    Comparator,
    ExposureKind,
    Frequency,
    Metric,
    SignalKind,
    SignalStatus,
)

NPS_BUCKETS = range(11)
CSAT_BUCKETS = range(1, 6)
CES_BUCKETS = range(1, 8)
STARS_BUCKETS = range(1, 6)
CSAT2_BUCKETS = range(2)
# Hours to acknowledge or resolve a complaint: band i holds [edge i-1, edge i).
TIMING_EDGES = (0, 1, 2, 4, 8, 12, 16, 20, 24, 30, 36, 48, 60, 72, 96, 120, 168, 240, 336, 504, 720)


class Exposure(TrackedModel):
    """How much we did in a month (orders shipped, deliveries, active customers…):
    the denominator that turns complaint counts into rates."""

    month = models.DateField(
        verbose_name=_("month"),
        help_text=_("The first day of the month."),
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=32,
        choices=ExposureKind.choices,
    )
    product_line = models.ForeignKey(
        ProductLine,
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exposures",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exposures",
    )
    value = models.FloatField(
        verbose_name=_("value"),
    )

    class Meta:
        ordering = ["-month", "kind"]
        verbose_name = _("exposure")
        verbose_name_plural = _("exposure")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "kind", "product_line", "region"],
                name="exposure_unique",
                violation_error_message=_(
                    "There is already a figure for this month, kind, product line and region."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(value__gte=0),
                name="exposure_value_not_negative",
                violation_error_message=_("An exposure cannot be negative."),
            ),
        ]
        indexes = [models.Index(fields=["kind", "month"], name="exposure_kind_month_idx")]

    def __str__(self) -> str:
        scope = " / ".join(str(x) for x in (self.product_line, self.region) if x) or "all"
        return f"{self.month:%Y-%m} {self.get_kind_display()} ({scope}): {self.value:g}"


class RollupMeasures(models.Model):
    """What a rollup row counts: items, confirmations, sentiment, score histograms, and
    complaint handling (how many were acknowledged and resolved, how many on time, and
    a histogram of the hours it took, in the bands of `TIMING_EDGES`). Plain integers,
    not positive ones: incremental upkeep adds a change's negative part before its
    positive part (insights/rollups.py)."""

    items = models.IntegerField(
        verbose_name=_("items"),
        default=0,
    )
    confirmed = models.IntegerField(
        verbose_name=_("confirmed by a person"),
        default=0,
    )
    critical = models.IntegerField(
        verbose_name=_("critical impact"),
        default=0,
    )
    scored = models.IntegerField(
        verbose_name=_("answers with a score"),
        default=0,
    )
    sentiment_n = models.IntegerField(default=0)
    sentiment_sum = models.FloatField(default=0.0)
    negative = models.IntegerField(default=0)
    neutral = models.IntegerField(default=0)
    positive = models.IntegerField(default=0)
    nps_0 = models.IntegerField(default=0)
    nps_1 = models.IntegerField(default=0)
    nps_2 = models.IntegerField(default=0)
    nps_3 = models.IntegerField(default=0)
    nps_4 = models.IntegerField(default=0)
    nps_5 = models.IntegerField(default=0)
    nps_6 = models.IntegerField(default=0)
    nps_7 = models.IntegerField(default=0)
    nps_8 = models.IntegerField(default=0)
    nps_9 = models.IntegerField(default=0)
    nps_10 = models.IntegerField(default=0)
    csat_1 = models.IntegerField(default=0)
    csat_2 = models.IntegerField(default=0)
    csat_3 = models.IntegerField(default=0)
    csat_4 = models.IntegerField(default=0)
    csat_5 = models.IntegerField(default=0)
    ces_1 = models.IntegerField(default=0)
    ces_2 = models.IntegerField(default=0)
    ces_3 = models.IntegerField(default=0)
    ces_4 = models.IntegerField(default=0)
    ces_5 = models.IntegerField(default=0)
    ces_6 = models.IntegerField(default=0)
    ces_7 = models.IntegerField(default=0)
    stars_1 = models.IntegerField(default=0)
    stars_2 = models.IntegerField(default=0)
    stars_3 = models.IntegerField(default=0)
    stars_4 = models.IntegerField(default=0)
    stars_5 = models.IntegerField(default=0)
    csat2_0 = models.IntegerField(default=0)
    csat2_1 = models.IntegerField(default=0)
    ack_n = models.IntegerField(default=0)
    ack_on_time = models.IntegerField(default=0)
    ack_h0 = models.IntegerField(default=0)
    ack_h1 = models.IntegerField(default=0)
    ack_h2 = models.IntegerField(default=0)
    ack_h3 = models.IntegerField(default=0)
    ack_h4 = models.IntegerField(default=0)
    ack_h5 = models.IntegerField(default=0)
    ack_h6 = models.IntegerField(default=0)
    ack_h7 = models.IntegerField(default=0)
    ack_h8 = models.IntegerField(default=0)
    ack_h9 = models.IntegerField(default=0)
    ack_h10 = models.IntegerField(default=0)
    ack_h11 = models.IntegerField(default=0)
    ack_h12 = models.IntegerField(default=0)
    ack_h13 = models.IntegerField(default=0)
    ack_h14 = models.IntegerField(default=0)
    ack_h15 = models.IntegerField(default=0)
    ack_h16 = models.IntegerField(default=0)
    ack_h17 = models.IntegerField(default=0)
    ack_h18 = models.IntegerField(default=0)
    ack_h19 = models.IntegerField(default=0)
    ack_h20 = models.IntegerField(default=0)
    ack_h21 = models.IntegerField(default=0)
    resolve_n = models.IntegerField(default=0)
    resolve_on_time = models.IntegerField(default=0)
    resolve_h0 = models.IntegerField(default=0)
    resolve_h1 = models.IntegerField(default=0)
    resolve_h2 = models.IntegerField(default=0)
    resolve_h3 = models.IntegerField(default=0)
    resolve_h4 = models.IntegerField(default=0)
    resolve_h5 = models.IntegerField(default=0)
    resolve_h6 = models.IntegerField(default=0)
    resolve_h7 = models.IntegerField(default=0)
    resolve_h8 = models.IntegerField(default=0)
    resolve_h9 = models.IntegerField(default=0)
    resolve_h10 = models.IntegerField(default=0)
    resolve_h11 = models.IntegerField(default=0)
    resolve_h12 = models.IntegerField(default=0)
    resolve_h13 = models.IntegerField(default=0)
    resolve_h14 = models.IntegerField(default=0)
    resolve_h15 = models.IntegerField(default=0)
    resolve_h16 = models.IntegerField(default=0)
    resolve_h17 = models.IntegerField(default=0)
    resolve_h18 = models.IntegerField(default=0)
    resolve_h19 = models.IntegerField(default=0)
    resolve_h20 = models.IntegerField(default=0)
    resolve_h21 = models.IntegerField(default=0)

    class Meta:
        abstract = True


class FeedbackRollup(RollupMeasures):
    """Feedback counted per company-local day × source × product line × region ×
    category × kind × segment: the finest rollup, each item counted once. The coarser
    `RollupCell`s are summed from it. Derived data, rebuilt from the items
    (insights/rollups.py), hence not audited."""

    day = models.DateField(
        verbose_name=_("day"),
    )
    source = models.ForeignKey(
        PerceptionSource,
        verbose_name=_("source"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    product_line = models.ForeignKey(
        ProductLine,
        verbose_name=_("product line"),
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=32,
    )
    segment = models.CharField(
        verbose_name=_("segment"),
        max_length=20,
        blank=True,
    )

    class Meta:
        ordering = ["day"]
        verbose_name = _("feedback rollup")
        verbose_name_plural = _("feedback rollups")
        indexes = [
            models.Index(fields=["day", "kind"], name="rollup_day_kind_idx"),
            models.Index(fields=["product_line", "day"], name="rollup_line_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.items}"


class RollupCell(RollupMeasures):
    """Feedback summed per day or per month over a few dimensions (a rollup level, see
    `rollups.LEVELS`): what the dashboard, explore and review packs read, so a quarter
    is a few hundred rows whatever the number of items. Dimensions a level does not
    keep are 0 or empty; so is "none" (no product line), which keeps the key unique."""

    level = models.PositiveSmallIntegerField(
        verbose_name=_("level"),
    )
    grain = models.CharField(
        verbose_name=_("grain"),
        max_length=5,
    )
    period = models.DateField(
        verbose_name=_("period"),
        help_text=_("The day, or the first day of the month."),
    )
    source_id = models.IntegerField(
        verbose_name=_("source"),
        default=0,
    )
    product_line_id = models.IntegerField(
        verbose_name=_("product line"),
        default=0,
    )
    region_id = models.IntegerField(
        verbose_name=_("region"),
        default=0,
    )
    category_id = models.IntegerField(
        verbose_name=_("category"),
        default=0,
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=32,
        blank=True,
    )
    segment = models.CharField(
        verbose_name=_("segment"),
        max_length=20,
        blank=True,
    )

    class Meta:
        ordering = ["level", "grain", "period"]
        verbose_name = _("rollup cell")
        verbose_name_plural = _("rollup cells")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "level",
                    "grain",
                    "period",
                    "kind",
                    "product_line_id",
                    "category_id",
                    "source_id",
                    "region_id",
                    "segment",
                ],
                name="rollupcell_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"L{self.level} {self.grain} {self.period} {self.kind}: {self.items}"


class QualityObjective(TrackedModel):
    """A measurable target for a metric over a scope ("NPS ≥ 40 for key accounts")."""

    name = models.CharField(
        verbose_name=_("name"),
        max_length=200,
    )
    metric = models.CharField(
        verbose_name=_("metric"),
        max_length=32,
        choices=Metric.choices,
    )
    comparator = models.CharField(
        verbose_name=_("comparator"),
        max_length=4,
        choices=Comparator.choices,
    )
    target = models.FloatField(
        verbose_name=_("target"),
    )
    scope = models.JSONField(
        verbose_name=_("scope"),
        default=dict,
        blank=True,
        help_text=_("Filters: segments, regions, product_lines, sources, categories (ids)."),
    )
    per_product_line = models.BooleanField(
        verbose_name=_("on every product line"),
        default=False,
        help_text=_("The target must hold for each product line separately."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="quality_objectives",
    )
    frequency = models.CharField(
        verbose_name=_("monitoring frequency"),
        max_length=16,
        choices=Frequency.choices,
        default=Frequency.MONTHLY,
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("quality objective")
        verbose_name_plural = _("quality objectives")

    def __str__(self) -> str:
        return self.name


class Signal(NumberedModel):
    """A finding worth a person's attention: a control-chart rule that fired, or a
    significant adverse change. Created once per finding (its fingerprint)."""

    number_prefix = "SIG"

    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=32,
        choices=SignalKind.choices,
    )
    metric = models.CharField(
        verbose_name=_("metric"),
        max_length=32,
        choices=Metric.choices,
    )
    title = models.CharField(
        verbose_name=_("title"),
        max_length=300,
    )
    description = models.TextField(
        verbose_name=_("description"),
    )
    scope = models.JSONField(
        verbose_name=_("scope"),
        default=dict,
        blank=True,
    )
    period_start = models.DateField(
        verbose_name=_("period start"),
    )
    period_end = models.DateField(
        verbose_name=_("period end"),
    )
    rule = models.CharField(
        verbose_name=_("rule"),
        max_length=32,
        blank=True,
    )
    evidence = models.JSONField(
        verbose_name=_("evidence"),
        default=dict,
        blank=True,
        help_text=_("The figures behind the finding and the filter that lists its records."),
    )
    fingerprint = models.CharField(
        verbose_name=_("fingerprint"),
        max_length=64,
        unique=True,
        editable=False,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=16,
        choices=SignalStatus.choices,
        default=SignalStatus.OPEN,
    )
    dismissal_reason = models.TextField(
        verbose_name=_("reason for dismissal"),
        blank=True,
    )

    transition_fields = ("dismissal_reason",)
    transitions = (
        Transition(
            name="acknowledge",
            label="Acknowledge",
            sources=frozenset({SignalStatus.OPEN}),
            target=SignalStatus.ACKNOWLEDGED,
            verb="classify",
        ),
        Transition(
            name="dismiss",
            label="Dismiss",
            sources=frozenset({SignalStatus.OPEN, SignalStatus.ACKNOWLEDGED}),
            target=SignalStatus.DISMISSED,
            verb="classify",
            guard=lambda s: [] if s.dismissal_reason.strip() else ["Say why it is dismissed."],
            fields=("dismissal_reason",),
            style="outline-secondary",
        ),
        Transition(
            name="reopen",
            label="Reopen",
            sources=frozenset({SignalStatus.DISMISSED}),
            target=SignalStatus.OPEN,
            verb="classify",
            style="outline-warning",
        ),
    )

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = _("signal")
        verbose_name_plural = _("signals")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"
