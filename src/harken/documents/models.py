"""Controlled documents, their versions, distributions to customers and acknowledgements."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from harken.core.choices import Role
from harken.core.models import EvidenceFile, NumberedModel, TrackedModel
from harken.core.workflow import Transition
from harken.customers.models import Contact, Customer

from .choices import DocumentKind, Occasion, VersionStatus


def _has_content(version: Any) -> list[str]:
    if not version.body.strip() and version.file_id is None:
        return ["the version has neither a text nor a file"]
    return []


def _approvable(version: Any) -> list[str]:
    reasons = _has_content(version)
    if version.reviewed_by_id is None:
        reasons.append("nobody has recorded a review yet")
    return reasons


class Document(NumberedModel):
    """A controlled document: what it is, who owns it, which clauses it serves."""

    number_prefix = "DOC"

    title = models.CharField(
        verbose_name=_("title"),
        max_length=200,
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=32,
        choices=DocumentKind.choices,
    )
    owner_role = models.CharField(
        verbose_name=_("owner role"),
        max_length=32,
        choices=Role.choices,
        default=Role.QUALITY_MANAGER,
    )
    clauses = models.CharField(
        verbose_name=_("clauses served"),
        max_length=100,
        blank=True,
        help_text=_("ISO 9001 clauses, separated by commas (8.2.1, 9.1.2)."),
    )
    purpose = models.TextField(
        verbose_name=_("purpose"),
        blank=True,
    )
    acknowledge_roles = models.JSONField(
        verbose_name=_("roles that must read and acknowledge it"),
        default=list,
        blank=True,
    )
    # The method documents seeded from templates carry a key, so seeding finds them
    # again however they were renamed; documents people add have none.
    template_key = models.CharField(
        verbose_name=_("template"),
        max_length=50,
        blank=True,
        editable=False,
    )

    class Meta:
        ordering = ["number"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        constraints = [
            models.UniqueConstraint(
                fields=["template_key"],
                condition=~Q(template_key=""),
                name="document_unique_template_key",
                violation_error_message=_("A document was seeded from this template already."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def clause_list(self) -> list[str]:
        return [c.strip() for c in self.clauses.split(",") if c.strip()]

    def acknowledge_role_labels(self) -> str:
        return ", ".join(str(Role(r).label) for r in self.acknowledge_roles if r in Role.values)


class DocumentVersion(TrackedModel):
    """One version of a document, from draft through review and approval to history.

    Only one version of a document is current (approved and in effect) at a time, which
    the `documentversion_one_current` constraint guarantees; approving a newer one
    supersedes it on the newer one's effective date (documents/services.py).
    """

    document = models.ForeignKey(
        Document,
        verbose_name=_("document"),
        on_delete=models.PROTECT,
        related_name="versions",
    )
    label = models.CharField(
        verbose_name=_("version"),
        max_length=20,
    )
    body = models.TextField(
        verbose_name=_("text"),
        blank=True,
    )
    file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("file"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    change_summary = models.TextField(
        verbose_name=_("what changed"),
        blank=True,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=16,
        choices=VersionStatus.choices,
        default=VersionStatus.DRAFT,
    )
    effective_from = models.DateField(
        verbose_name=_("effective from"),
        null=True,
        blank=True,
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_document_versions",
    )
    reviewed_at = models.DateTimeField(
        verbose_name=_("reviewed at"),
        null=True,
        blank=True,
    )
    review_comment = models.TextField(
        verbose_name=_("review comment"),
        blank=True,
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approved_document_versions",
    )
    approved_at = models.DateTimeField(
        verbose_name=_("approved at"),
        null=True,
        blank=True,
    )
    is_current = models.BooleanField(
        verbose_name=_("current"),
        default=False,
        editable=False,
    )
    superseded_by = models.ForeignKey(
        "self",
        verbose_name=_("superseded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
    )
    superseded_at = models.DateTimeField(
        verbose_name=_("superseded at"),
        null=True,
        blank=True,
    )
    withdrawn_reason = models.TextField(
        verbose_name=_("why it was withdrawn"),
        blank=True,
    )

    transitions = (
        Transition(
            name="submit",
            label="Submit for review",
            sources=frozenset({VersionStatus.DRAFT}),
            target=VersionStatus.IN_REVIEW,
            guard=_has_content,
        ),
        Transition(
            name="return",
            label="Return to draft",
            sources=frozenset({VersionStatus.IN_REVIEW}),
            target=VersionStatus.DRAFT,
            style="outline-secondary",
        ),
        Transition(
            name="approve",
            label="Approve",
            sources=frozenset({VersionStatus.IN_REVIEW}),
            target=VersionStatus.APPROVED,
            verb="approve",
            guard=_approvable,
            fields=("effective_from",),
            style="success",
        ),
        Transition(
            name="withdraw",
            label="Withdraw",
            sources=frozenset(
                {VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED}
            ),
            target=VersionStatus.WITHDRAWN,
            verb="approve",
            guard=lambda v: [] if v.withdrawn_reason.strip() else ["say why it is withdrawn"],
            fields=("withdrawn_reason",),
            style="outline-danger",
        ),
    )

    class Meta:
        ordering = ["document", "-created_at"]
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        constraints = [
            models.UniqueConstraint(
                fields=["document", "label"],
                name="documentversion_unique_label",
                violation_error_message=_("The document has a version with this label already."),
            ),
            models.UniqueConstraint(
                fields=["document"],
                condition=Q(is_current=True),
                name="documentversion_one_current",
                violation_error_message=_("Only one version of a document can be current."),
            ),
            models.CheckConstraint(
                condition=Q(is_current=False) | Q(status=VersionStatus.APPROVED),
                name="documentversion_current_is_approved",
                violation_error_message=_("Only an approved version can be current."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document.number} v{self.label}"

    def get_absolute_url(self) -> str:
        return reverse("documents:documentversion", args=[self.pk])

    @property
    def may_be_sent(self) -> bool:
        """Only an approved version may go to a customer (documents/services.py enforces it)."""
        return self.status == VersionStatus.APPROVED


class Distribution(NumberedModel):
    """A copy of one version provided to one customer: which, to whom, when and why."""

    number_prefix = "DST"

    version = models.ForeignKey(
        DocumentVersion,
        verbose_name=_("version"),
        on_delete=models.PROTECT,
        related_name="distributions",
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="document_distributions",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="document_distributions",
    )
    distributed_at = models.DateTimeField(
        verbose_name=_("provided at"),
    )
    occasion = models.CharField(
        verbose_name=_("occasion"),
        max_length=16,
        choices=Occasion.choices,
    )
    reason = models.CharField(
        verbose_name=_("why"),
        max_length=300,
    )
    reference = models.CharField(
        verbose_name=_("quote, order or other reference"),
        max_length=100,
        blank=True,
    )
    distributed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("provided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="document_distributions",
    )
    # The record the copy went with (a communication today; quotes and orders later),
    # generic so that documents need not know the apps that send them.
    via_type = models.ForeignKey(
        ContentType,
        verbose_name=_("sent with (type)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    via_id = models.CharField(
        verbose_name=_("sent with (id)"),
        max_length=64,
        blank=True,
    )

    class Meta:
        ordering = ["-distributed_at"]
        verbose_name = _("distribution")
        verbose_name_plural = _("distributions")
        indexes = [
            models.Index(fields=["customer", "distributed_at"], name="distribution_customer_idx"),
            models.Index(fields=["via_type", "via_id"], name="distribution_via_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number}"

    @property
    def via(self) -> Any:
        if self.via_type_id is None or not self.via_id:
            return None
        model = self.via_type.model_class() if self.via_type else None
        if model is None:
            return None
        return model._default_manager.filter(pk=self.via_id).first()


class Acknowledgement(TrackedModel):
    """A person's "read and understood" of one version of a document."""

    version = models.ForeignKey(
        DocumentVersion,
        verbose_name=_("version"),
        on_delete=models.PROTECT,
        related_name="acknowledgements",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="document_acknowledgements",
    )
    acknowledged_at = models.DateTimeField(
        verbose_name=_("acknowledged at"),
    )

    class Meta:
        ordering = ["-acknowledged_at"]
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "user"],
                name="acknowledgement_once_per_version",
                violation_error_message=_("This person acknowledged this version already."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} read {self.version}"
