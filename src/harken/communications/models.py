"""The communication log: communications, their threads, attachments and links, the
shared mailboxes they arrive through, mail runs, and the lifecycle map."""

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
from harken.documents.models import Document
from harken.feedback.choices import ItemKind
from harken.feedback.models import PerceptionSource

from .choices import Channel, CommunicationStatus, Direction, Phase, RunKind, RunStatus
from .config import DEFAULT_PASSWORD_ENV


class Mailbox(TrackedModel):
    """A shared mailbox Harken reads over IMAP, and what to do with the mail it holds.

    Empty connection fields fall back to the HARKEN_IMAP_* settings. The password is
    never stored: `password_env` names the environment variable that holds it.
    """

    name = models.CharField(
        verbose_name=_("name"),
        max_length=100,
        unique=True,
    )
    address = models.EmailField(
        verbose_name=_("address"),
        blank=True,
        help_text=_("The mailbox's own address (complaints@example.com)."),
    )
    host = models.CharField(
        verbose_name=_("IMAP host"),
        max_length=255,
        blank=True,
        help_text=_("Empty: HARKEN_IMAP_HOST."),
    )
    port = models.PositiveIntegerField(
        verbose_name=_("IMAP port"),
        null=True,
        blank=True,
        help_text=_("Empty: HARKEN_IMAP_PORT, or 993."),
    )
    use_ssl = models.BooleanField(
        verbose_name=_("SSL/TLS from the start"),
        default=True,
        help_text=_("Off: plain IMAP upgraded with STARTTLS (never without encryption)."),
    )
    username = models.CharField(
        verbose_name=_("user name"),
        max_length=255,
        blank=True,
        help_text=_("Empty: HARKEN_IMAP_USER."),
    )
    password_env = models.CharField(
        verbose_name=_("password variable"),
        max_length=100,
        default=DEFAULT_PASSWORD_ENV,
        help_text=_("The environment variable holding the password (or <name>_FILE)."),
    )
    folder = models.CharField(
        verbose_name=_("folder to read"),
        max_length=200,
        blank=True,
        help_text=_("Empty: HARKEN_IMAP_FOLDER, or INBOX."),
    )
    done_folder = models.CharField(
        verbose_name=_("move processed mail to"),
        max_length=200,
        blank=True,
        help_text=_(
            "Empty: HARKEN_IMAP_DONE_FOLDER; if that is empty too, processed mail "
            "stays and is flagged $HarkenFiled."
        ),
    )
    ca_file = models.CharField(
        verbose_name=_("CA certificate file"),
        max_length=500,
        blank=True,
        help_text=_("For a server with a private certificate authority."),
    )
    feedback_source = models.ForeignKey(
        PerceptionSource,
        verbose_name=_("record inbound mail as feedback of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mailboxes",
        help_text=_("The rule: each new inbound thread becomes a feedback item of this source."),
    )
    feedback_kind = models.CharField(
        verbose_name=_("kind of feedback"),
        max_length=32,
        choices=ItemKind.choices,
        blank=True,
        help_text=_("Empty: the source's default kind (complaints for a complaints inbox)."),
    )
    phase = models.CharField(
        verbose_name=_("lifecycle phase of its mail"),
        max_length=16,
        choices=Phase.choices,
        blank=True,
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )
    last_fetched_at = models.DateTimeField(
        verbose_name=_("last fetched at"),
        null=True,
        blank=True,
        editable=False,
    )

    audit_exclude = frozenset({"last_fetched_at"})

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.name


class Thread(TrackedModel):
    """Messages that answer each other (In-Reply-To/References), kept together."""

    subject = models.CharField(
        verbose_name=_("subject"),
        max_length=300,
        blank=True,
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="communication_threads",
    )
    started_at = models.DateTimeField(
        verbose_name=_("started at"),
    )
    last_at = models.DateTimeField(
        verbose_name=_("last message at"),
    )

    audit_exclude = frozenset({"last_at"})

    class Meta:
        ordering = ["-last_at"]
        verbose_name = _("thread")
        verbose_name_plural = _("threads")

    def __str__(self) -> str:
        return self.subject or f"Thread {self.pk}"


class Communication(NumberedModel):
    """One interaction with a customer: a mail, call, meeting, letter, chat or ticket."""

    number_prefix = "COM"

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="communications",
    )
    contacts = models.ManyToManyField(
        Contact,
        verbose_name=_("contacts"),
        blank=True,
        related_name="communications",
    )
    direction = models.CharField(
        verbose_name=_("direction"),
        max_length=8,
        choices=Direction.choices,
    )
    channel = models.CharField(
        verbose_name=_("channel"),
        max_length=8,
        choices=Channel.choices,
    )
    occurred_at = models.DateTimeField(
        verbose_name=_("when"),
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("our staff member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="communications",
    )
    subject = models.CharField(
        verbose_name=_("subject"),
        max_length=300,
        blank=True,
    )
    body = models.TextField(
        verbose_name=_("text"),
        blank=True,
    )
    html_body = models.TextField(
        verbose_name=_("HTML (sanitised)"),
        blank=True,
    )
    phase = models.CharField(
        verbose_name=_("lifecycle phase"),
        max_length=16,
        choices=Phase.choices,
        blank=True,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=12,
        choices=CommunicationStatus.choices,
        default=CommunicationStatus.FILED,
    )
    problems = models.JSONField(
        verbose_name=_("why it waits in triage"),
        default=list,
        blank=True,
    )
    triage_note = models.TextField(
        verbose_name=_("triage note"),
        blank=True,
    )
    from_address = models.CharField(
        verbose_name=_("from"),
        max_length=320,
        blank=True,
    )
    to_addresses = models.TextField(
        verbose_name=_("to"),
        blank=True,
    )
    cc_addresses = models.TextField(
        verbose_name=_("cc"),
        blank=True,
    )
    # Message-ID (or, without one, the SHA-256 of the raw message): the key that makes
    # every ingestion idempotent, and what replies name in In-Reply-To/References.
    message_key = models.CharField(
        verbose_name=_("message id"),
        max_length=255,
        blank=True,
        editable=False,
    )
    in_reply_to = models.CharField(
        verbose_name=_("in reply to"),
        max_length=255,
        blank=True,
        db_index=True,
        editable=False,
    )
    references = models.TextField(
        verbose_name=_("references"),
        blank=True,
        editable=False,
    )
    thread = models.ForeignKey(
        Thread,
        verbose_name=_("thread"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="communications",
    )
    mailbox = models.ForeignKey(
        Mailbox,
        verbose_name=_("mailbox"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="communications",
    )
    raw_message = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("original message"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    transitions = (
        Transition(
            name="file",
            label="File under the customer",
            sources=frozenset({CommunicationStatus.TRIAGE}),
            target=CommunicationStatus.FILED,
            guard=lambda c: [] if c.customer_id else ["choose the customer"],
            fields=("customer", "triage_note"),
            style="success",
        ),
        Transition(
            name="dismiss",
            label="Dismiss",
            sources=frozenset({CommunicationStatus.TRIAGE}),
            target=CommunicationStatus.DISMISSED,
            guard=lambda c: [] if c.triage_note.strip() else ["say why it is dismissed"],
            fields=("triage_note",),
            style="outline-secondary",
        ),
    )

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("communication")
        verbose_name_plural = _("communications")
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="communication_customer_idx"),
            models.Index(fields=["status", "occurred_at"], name="communication_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["message_key"],
                condition=~Q(message_key=""),
                name="communication_unique_message",
                violation_error_message=_("This message is in the log already."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}".strip()

    @property
    def is_mail(self) -> bool:
        return self.raw_message_id is not None


class Attachment(TrackedModel):
    """A file that came or went with a communication, stored as evidence."""

    communication = models.ForeignKey(
        Communication,
        verbose_name=_("communication"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("file"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(
        verbose_name=_("name"),
        max_length=255,
    )
    content_type = models.CharField(
        verbose_name=_("content type"),
        max_length=150,
        blank=True,
    )
    size = models.BigIntegerField(
        verbose_name=_("size in bytes"),
        default=0,
    )

    class Meta:
        ordering = ["communication", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("communications:attachment_file", args=[self.pk]) if self.file_id else ""


class CommunicationLink(TrackedModel):
    """A record a communication concerns: a feedback item, an action, later an order…

    Generic (content type + id) so that each app whose records can be concerned
    registers its model in `communications/links.py` without a migration here.
    """

    communication = models.ForeignKey(
        Communication,
        verbose_name=_("communication"),
        on_delete=models.CASCADE,
        related_name="links",
    )
    target_type = models.ForeignKey(
        ContentType,
        verbose_name=_("record type"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_id = models.CharField(
        verbose_name=_("record id"),
        max_length=64,
    )
    label = models.CharField(
        verbose_name=_("record"),
        max_length=255,
    )

    class Meta:
        ordering = ["communication", "pk"]
        verbose_name = _("link to a record")
        verbose_name_plural = _("links to records")
        constraints = [
            models.UniqueConstraint(
                fields=["communication", "target_type", "target_id"],
                name="communicationlink_unique",
                violation_error_message=_("The communication is linked to this record already."),
            ),
        ]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="communicationlink_target_idx"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def target(self) -> Any:
        model = self.target_type.model_class()
        if model is None:
            return None
        return model._default_manager.filter(pk=self.target_id).first()


class MailRun(TrackedModel):
    """One IMAP fetch or file import: what was read, created, recognised and refused."""

    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=8,
        choices=RunKind.choices,
    )
    mailbox = models.ForeignKey(
        Mailbox,
        verbose_name=_("mailbox"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
    )
    file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("imported file"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=12,
        choices=RunStatus.choices,
        default=RunStatus.RUNNING,
    )
    started_at = models.DateTimeField(
        verbose_name=_("started at"),
    )
    finished_at = models.DateTimeField(
        verbose_name=_("finished at"),
        null=True,
        blank=True,
    )
    seen = models.PositiveIntegerField(
        verbose_name=_("messages read"),
        default=0,
    )
    created = models.PositiveIntegerField(
        verbose_name=_("new communications"),
        default=0,
    )
    duplicates = models.PositiveIntegerField(
        verbose_name=_("already in the log"),
        default=0,
    )
    triaged = models.PositiveIntegerField(
        verbose_name=_("sent to triage"),
        default=0,
    )
    failed = models.PositiveIntegerField(
        verbose_name=_("failed"),
        default=0,
    )
    message = models.TextField(
        verbose_name=_("summary"),
        blank=True,
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("mail run")
        verbose_name_plural = _("mail runs")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class LifecycleStage(TrackedModel):
    """One row of the communication lifecycle map: a phase, its channel, owner and record."""

    phase = models.CharField(
        verbose_name=_("phase"),
        max_length=16,
        choices=Phase.choices,
        unique=True,
    )
    position = models.PositiveSmallIntegerField(
        verbose_name=_("position"),
        default=0,
    )
    primary_channel = models.CharField(
        verbose_name=_("primary channel"),
        max_length=8,
        choices=Channel.choices,
    )
    other_channels = models.CharField(
        verbose_name=_("other channels"),
        max_length=200,
        blank=True,
    )
    owner_role = models.CharField(
        verbose_name=_("owner role"),
        max_length=32,
        choices=Role.choices,
    )
    record_type = models.CharField(
        verbose_name=_("record kept"),
        max_length=200,
    )
    response_target = models.CharField(
        verbose_name=_("response target"),
        max_length=200,
        blank=True,
    )
    procedure = models.ForeignKey(
        Document,
        verbose_name=_("governing document"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lifecycle_stages",
    )
    notes = models.TextField(
        verbose_name=_("notes"),
        blank=True,
    )

    class Meta:
        ordering = ["position", "phase"]
        verbose_name = _("lifecycle stage")
        verbose_name_plural = _("lifecycle map")

    def __str__(self) -> str:
        return self.get_phase_display()
