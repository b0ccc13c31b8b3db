"""The perception source register, the taxonomy, feedback items and import batches."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from harken.core.choices import Role
from harken.core.models import EvidenceFile, NumberedModel, TrackedModel
from harken.core.workflow import Transition
from harken.customers.models import Contact, Customer, ProductLine, Region

from .choices import (
    BatchStatus,
    ExpectationType,
    Impact,
    ItemKind,
    ItemStatus,
    RuleKind,
    Scale,
    SentimentLabel,
    SentimentSource,
    SourceKind,
)


def new_webhook_token() -> str:
    return secrets.token_urlsafe(32)


class PerceptionSource(TrackedModel):
    """One channel through which customers tell us how well we met their needs (9.1.2)."""

    name = models.CharField(
        verbose_name=_("name"),
        max_length=120,
        unique=True,
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=32,
        choices=SourceKind.choices,
    )
    structured = models.BooleanField(
        verbose_name=_("structured"),
        default=False,
        help_text=_("Scores or fixed fields (surveys); unstructured is free text (e-mail, notes)."),
    )
    owner_role = models.CharField(
        verbose_name=_("owner role"),
        max_length=32,
        choices=Role.choices,
        blank=True,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_sources",
    )
    collection_method = models.TextField(
        verbose_name=_("collection method"),
        blank=True,
    )
    fields_captured = models.TextField(
        verbose_name=_("fields captured"),
        blank=True,
    )
    storage_location = models.CharField(
        verbose_name=_("where it is stored"),
        max_length=255,
        blank=True,
    )
    retention = models.CharField(
        verbose_name=_("retention period"),
        max_length=100,
        blank=True,
    )
    in_scope = models.BooleanField(
        verbose_name=_("in scope"),
        default=True,
    )
    scope_rationale = models.TextField(
        verbose_name=_("scope rationale"),
        blank=True,
    )
    third_party = models.CharField(
        verbose_name=_("operated by (third party)"),
        max_length=200,
        blank=True,
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )
    default_kind = models.CharField(
        verbose_name=_("default kind of item"),
        max_length=32,
        choices=ItemKind.choices,
        blank=True,
    )
    default_scale = models.CharField(
        verbose_name=_("default scale"),
        max_length=16,
        choices=Scale.choices,
        blank=True,
    )
    acknowledge_days = models.PositiveSmallIntegerField(
        verbose_name=_("acknowledge complaints within (working days)"),
        default=2,
    )
    resolve_days = models.PositiveSmallIntegerField(
        verbose_name=_("resolve complaints within (working days)"),
        default=20,
    )
    webhook_token = models.CharField(
        verbose_name=_("webhook token"),
        max_length=64,
        default=new_webhook_token,
        editable=False,
        unique=True,
    )

    audit_masked = frozenset({"webhook_token"})

    class Meta:
        ordering = ["name"]
        verbose_name = _("perception source")
        verbose_name_plural = _("perception sources")

    def __str__(self) -> str:
        return self.name


class Category(TrackedModel):
    """A feedback category of the taxonomy. Retired, never deleted once used."""

    code = models.SlugField(
        verbose_name=_("code"),
        max_length=40,
        unique=True,
    )
    name = models.CharField(
        verbose_name=_("name"),
        max_length=100,
        unique=True,
    )
    description = models.TextField(
        verbose_name=_("description"),
        blank=True,
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class ImpactLevel(TrackedModel):
    """The company's risk criteria for each impact level (minor, major, critical)."""

    code = models.CharField(
        verbose_name=_("level"),
        max_length=16,
        choices=Impact.choices,
        unique=True,
    )
    criteria = models.TextField(
        verbose_name=_("risk criteria"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("impact level")
        verbose_name_plural = _("impact levels")

    def __str__(self) -> str:
        return self.get_code_display()


class ClassificationRule(TrackedModel):
    """A keyword, phrase or pattern that suggests a category for free text."""

    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="rules",
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=16,
        choices=RuleKind.choices,
        default=RuleKind.KEYWORD,
    )
    pattern = models.CharField(
        verbose_name=_("pattern"),
        max_length=200,
    )
    weight = models.PositiveSmallIntegerField(
        verbose_name=_("weight"),
        default=1,
        help_text=_("When several categories match, the highest total weight wins."),
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )

    class Meta:
        ordering = ["category__name", "pattern"]
        verbose_name = _("classification rule")
        verbose_name_plural = _("classification rules")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "kind", "pattern"],
                name="classificationrule_unique",
                violation_error_message=_("This category already has that rule."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pattern} → {self.category}"


class ImportBatch(NumberedModel):
    """One import of a file: its evidence, mapping, counts and rejected rows."""

    number_prefix = "IMP"

    source = models.ForeignKey(
        PerceptionSource,
        verbose_name=_("source"),
        on_delete=models.PROTECT,
        related_name="import_batches",
    )
    file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("original file"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    preset = models.CharField(
        verbose_name=_("preset"),
        max_length=32,
    )
    options = models.JSONField(
        verbose_name=_("mapping and options"),
        default=dict,
        blank=True,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=16,
        choices=BatchStatus.choices,
        default=BatchStatus.PENDING,
    )
    dry_run = models.BooleanField(
        verbose_name=_("dry run"),
        default=False,
    )
    rows_read = models.PositiveIntegerField(
        verbose_name=_("rows read"),
        default=0,
    )
    created_count = models.PositiveIntegerField(
        verbose_name=_("created"),
        default=0,
    )
    duplicate_count = models.PositiveIntegerField(
        verbose_name=_("duplicates"),
        default=0,
    )
    rejected_count = models.PositiveIntegerField(
        verbose_name=_("rejected"),
        default=0,
    )
    sentiment_done = models.PositiveIntegerField(
        verbose_name=_("sentiment scored"),
        default=0,
    )
    rejects_file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("rejected rows (CSV)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rows_digest = models.CharField(
        verbose_name=_("digest of the created rows"),
        max_length=64,
        blank=True,
    )
    message = models.TextField(
        verbose_name=_("message"),
        blank=True,
    )
    started_at = models.DateTimeField(
        verbose_name=_("started at"),
        null=True,
        blank=True,
    )
    finished_at = models.DateTimeField(
        verbose_name=_("finished at"),
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return self.number


class FeedbackItem(NumberedModel):
    """One piece of customer feedback from any channel, normalised for trending."""

    number_prefix = "FB"

    complaint_number = models.CharField(
        verbose_name=_("complaint number"),
        max_length=32,
        unique=True,
        null=True,
        blank=True,
        editable=False,
    )
    # No index of its own: feedbackitem_unique_per_source (source, dedupe_key) leads with it,
    # and every imported row would otherwise update one more index.
    source = models.ForeignKey(
        PerceptionSource,
        verbose_name=_("source"),
        on_delete=models.PROTECT,
        related_name="items",
        db_index=False,
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=32,
        choices=ItemKind.choices,
    )
    received_at = models.DateTimeField(
        verbose_name=_("received at"),
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback_items",
        db_index=False,
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedback_items",
    )
    product_line = models.ForeignKey(
        ProductLine,
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback_items",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback_items",
    )
    title = models.CharField(
        verbose_name=_("title"),
        max_length=300,
        blank=True,
    )
    text = models.TextField(
        verbose_name=_("verbatim text"),
        blank=True,
    )
    score = models.FloatField(
        verbose_name=_("score"),
        null=True,
        blank=True,
    )
    scale = models.CharField(
        verbose_name=_("scale"),
        max_length=16,
        choices=Scale.choices,
        blank=True,
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
    )
    suggested_category = models.ForeignKey(
        Category,
        verbose_name=_("suggested category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    suggestion_rule = models.ForeignKey(
        ClassificationRule,
        verbose_name=_("rule that suggested it"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    classification_confirmed = models.BooleanField(
        verbose_name=_("confirmed by a person"),
        default=False,
    )
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("classified by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    classified_at = models.DateTimeField(
        verbose_name=_("classified at"),
        null=True,
        blank=True,
    )
    impact = models.CharField(
        verbose_name=_("impact"),
        max_length=16,
        choices=Impact.choices,
        blank=True,
    )
    expectation_type = models.CharField(
        verbose_name=_("expectation type"),
        max_length=16,
        choices=ExpectationType.choices,
        blank=True,
    )
    sentiment_score = models.FloatField(
        verbose_name=_("sentiment score"),
        null=True,
        blank=True,
    )
    sentiment_label = models.CharField(
        verbose_name=_("sentiment"),
        max_length=16,
        choices=SentimentLabel.choices,
        blank=True,
    )
    sentiment_source = models.CharField(
        verbose_name=_("sentiment from"),
        max_length=16,
        choices=SentimentSource.choices,
        blank=True,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=16,
        choices=ItemStatus.choices,
        default=ItemStatus.NEW,
    )
    acknowledged_at = models.DateTimeField(
        verbose_name=_("acknowledged at"),
        null=True,
        blank=True,
    )
    resolved_at = models.DateTimeField(
        verbose_name=_("resolved at"),
        null=True,
        blank=True,
    )
    acknowledge_due = models.DateTimeField(
        verbose_name=_("acknowledge by"),
        null=True,
        blank=True,
    )
    resolve_due = models.DateTimeField(
        verbose_name=_("resolve by"),
        null=True,
        blank=True,
    )
    external_provider = models.CharField(
        verbose_name=_("external provider involved"),
        max_length=200,
        blank=True,
    )
    external_id = models.CharField(
        verbose_name=_("id in the source system"),
        max_length=200,
        blank=True,
    )
    dedupe_key = models.CharField(
        verbose_name=_("de-duplication key"),
        max_length=220,
        editable=False,
    )
    tags = models.JSONField(
        verbose_name=_("tags"),
        default=list,
        blank=True,
    )
    raw = models.JSONField(
        verbose_name=_("original record"),
        default=dict,
        blank=True,
    )
    import_batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("import batch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
    )

    transitions = (
        Transition(
            name="triage",
            label="Mark triaged",
            sources=frozenset({ItemStatus.NEW}),
            target=ItemStatus.TRIAGED,
            verb="classify",
            guard=lambda item: item.triage_blockers(),
        ),
        Transition(
            name="review",
            label="Start review",
            sources=frozenset({ItemStatus.TRIAGED}),
            target=ItemStatus.UNDER_REVIEW,
            verb="classify",
        ),
        Transition(
            name="close",
            label="Close",
            sources=frozenset({ItemStatus.TRIAGED, ItemStatus.UNDER_REVIEW}),
            target=ItemStatus.CLOSED,
            verb="classify",
            guard=lambda item: item.close_blockers(),
            style="outline-secondary",
        ),
        Transition(
            name="reopen",
            label="Reopen",
            sources=frozenset({ItemStatus.CLOSED}),
            target=ItemStatus.UNDER_REVIEW,
            verb="classify",
            style="outline-warning",
        ),
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("feedback item")
        verbose_name_plural = _("feedback items")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "dedupe_key"],
                name="feedbackitem_unique_per_source",
                violation_error_message=_("This feedback is already recorded for this source."),
            ),
        ]
        indexes = [
            models.Index(fields=["received_at", "id"], name="feedbackitem_received_idx"),
            # On PostgreSQL it also carries the handling stamps, so the exact handling-time
            # percentiles read a period's complaints from the index alone.
            models.Index(
                fields=["kind", "received_at"],
                include=["acknowledged_at", "resolved_at"],
                name="feedbackitem_kind_idx",
            ),
            models.Index(fields=["status", "received_at"], name="feedbackitem_status_idx"),
            models.Index(fields=["customer", "received_at"], name="feedbackitem_customer_idx"),
            models.Index(
                fields=["classification_confirmed", "received_at"],
                name="feedbackitem_confirmed_idx",
            ),
            # Items with a deadline still waiting for acknowledgement or resolution: the
            # overdue count reads only these. No bound values in the condition, so that
            # SQLite can match it against a query's own terms. On PostgreSQL they also
            # carry what the count asks of each item (SQLite has no INCLUDE and ignores
            # it), so the count reads the indexes alone.
            models.Index(
                fields=["acknowledge_due"],
                condition=Q(acknowledged_at__isnull=True, acknowledge_due__isnull=False),
                include=["id", "kind", "status"],
                name="feedbackitem_ack_open_idx",
            ),
            models.Index(
                fields=["resolve_due"],
                condition=Q(resolved_at__isnull=True, resolve_due__isnull=False),
                include=["id", "kind", "status", "acknowledged_at", "acknowledge_due"],
                name="feedbackitem_resolve_open_idx",
            ),
        ]

    def __str__(self) -> str:
        label = self.title or (self.text[:60] + ("…" if len(self.text) > 60 else ""))
        return f"{self.complaint_number or self.number} {label}".strip()

    @property
    def is_complaint(self) -> bool:
        return self.kind == ItemKind.COMPLAINT

    def triage_blockers(self) -> list[str]:
        reasons = []
        if self.category_id is None:
            reasons.append("Choose a category.")
        if self.is_complaint and not self.impact:
            reasons.append("Rate the complaint's impact.")
        return reasons

    def close_blockers(self) -> list[str]:
        reasons = []
        if self.is_complaint and self.acknowledged_at is None:
            reasons.append("Acknowledge the complaint first.")
        if self.is_complaint and self.resolved_at is None:
            reasons.append("Record how the complaint was resolved first.")
        return reasons
