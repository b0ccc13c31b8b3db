"""The shared bases: the tracked model every domain model derives from, users, the
audit event, and record-number sequences."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import audit
from .choices import ActorType, RetentionAction, Role


class AuditedMixin(models.Model):
    """Writes one audit event per create, update and delete, with a field-level diff.

    The values as loaded are remembered (`from_db`) so an update records only what
    changed, without a second query. Fields in `audit_exclude` are left out; fields in
    `audit_masked` appear as changed but never with their values. A service that makes
    a named change passes `audit_action="invoice.sent"` to `save()` so the one event
    carries the domain name instead of `<model>.updated`. Deletes are recorded by a
    `post_delete` receiver (core/signals.py) so cascaded deletes are recorded too.
    """

    audit_exclude: ClassVar[frozenset[str]] = frozenset()
    audit_masked: ClassVar[frozenset[str]] = frozenset()
    _audit_loaded: dict[str, Any] | None = None

    class Meta:
        abstract = True

    def save(self, *args: Any, audit_action: str | None = None, **kwargs: Any) -> None:
        creating = self._state.adding
        fields = self.audit_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            wanted = set(update_fields)
            fields = [f for f in fields if f.name in wanted or f.attname in wanted]
        using = kwargs.get("using") or "default"
        with transaction.atomic(using=using):
            before = {} if creating else self._audit_before(fields)
            super().save(*args, **kwargs)
            after = self.audit_values(fields)
            if creating:
                changes = {name: [None, value] for name, value in after.items()}
                audit.record(audit_action or f"{self.audit_name()}.created", self, changes=changes)
            else:
                changes = {
                    name: [before.get(name), value]
                    for name, value in after.items()
                    if name not in before or before[name] != value
                }
                if changes or audit_action:
                    audit.record(
                        audit_action or f"{self.audit_name()}.updated", self, changes=changes
                    )
        # Remember every saved field (not only the audited ones): models that guard
        # frozen fields compare against these values.
        loaded = self._audit_loaded or {}
        saved: list[Any] = list(self._meta.concrete_fields)
        if update_fields is not None:
            saved = [f for f in saved if f.name in wanted or f.attname in wanted]
        for f in saved:
            value = getattr(self, f.attname)
            loaded[f.attname] = copy.deepcopy(value) if isinstance(value, dict | list) else value
        self._audit_loaded = loaded

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        instance._audit_loaded = {
            name: copy.deepcopy(value) if isinstance(value, dict | list) else value
            for name, value in zip(field_names, values, strict=True)
        }
        return instance

    @classmethod
    def audit_name(cls) -> str:
        return cls._meta.model_name or cls.__name__.lower()

    def audit_fields(self) -> list[models.Field]:
        skip = {"created_at", "updated_at", "created_by", "updated_by", *self.audit_exclude}
        return [
            f
            for f in self._meta.concrete_fields
            if f.name not in skip and f.attname not in skip and not f.primary_key
        ]

    def audit_values(self, fields: list[models.Field] | None = None) -> dict[str, Any]:
        """The audited fields' current values, keyed by field name, JSON-ready."""
        values = {}
        # Once, not per field: it walks every field itself (a bulk insert of feedback
        # items calls this for each of them).
        deferred = self.get_deferred_fields()
        for f in fields if fields is not None else self.audit_fields():
            if f.attname in deferred:
                continue
            value = getattr(self, f.attname)
            values[f.name] = audit.MASK if f.name in self.audit_masked and value else value
        return audit.jsonable(values)

    def _audit_before(self, fields: list[models.Field]) -> dict[str, Any]:
        loaded = self._audit_loaded or {}
        values = {}
        for f in fields:
            if f.attname in loaded:
                value = loaded[f.attname]
                values[f.name] = audit.MASK if f.name in self.audit_masked and value else value
        return audit.jsonable(values)


class TrackedModel(AuditedMixin):
    """The base of every domain model: created/updated at and by, and the audit trail."""

    created_at = models.DateTimeField(
        verbose_name=_("created at"),
        default=timezone.now,
        editable=False,
    )
    updated_at = models.DateTimeField(
        verbose_name=_("updated at"),
        auto_now=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        user_id = audit.current_user_id()
        if self._state.adding and self.created_by_id is None:
            self.created_by_id = user_id
        self.updated_by_id = user_id
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at", "updated_by"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        meta = self._meta
        try:
            return reverse(f"{meta.app_label}:{meta.model_name}", args=[self.pk])
        except NoReverseMatch:
            return ""


class NumberedModel(TrackedModel):
    """A tracked model with a human record number (`CMP-2026-0042`), set once on creation."""

    number_prefix: ClassVar[str] = ""

    number = models.CharField(
        verbose_name=_("number"),
        max_length=32,
        unique=True,
        editable=False,
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.number:
            from .numbering import next_number

            with transaction.atomic(using=kwargs.get("using") or "default"):
                self.number = next_number(self.number_prefix)
                super().save(*args, **kwargs)
            return
        super().save(*args, **kwargs)


class User(AuditedMixin, AbstractUser):
    """A person who signs in. Roles are the Django groups named in `Role`."""

    audit_exclude = frozenset({"last_login"})
    audit_masked = frozenset({"password"})

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{full} ({self.username})" if full else self.username

    @property
    def roles(self) -> frozenset[str]:
        """The user's role names, cached on the instance for the request."""
        cached = getattr(self, "_harken_roles", None)
        if cached is None:
            valid = set(Role.values)
            names = self.groups.values_list("name", flat=True) if self.pk else []
            cached = frozenset(name for name in names if name in valid)
            self._harken_roles = cached
        return cached

    def role_labels(self) -> list[str]:
        return [str(Role(role).label) for role in sorted(self.roles)]


class AuditEvent(models.Model):
    """One append-only link of the hash chain. Never updated or deleted by Harken."""

    seq = models.BigIntegerField(
        verbose_name=_("sequence"),
        unique=True,
    )
    at = models.DateTimeField(
        verbose_name=_("time"),
        db_index=True,
    )
    actor_type = models.CharField(
        verbose_name=_("actor type"),
        max_length=16,
        choices=ActorType.choices,
    )
    # A plain number, not a foreign key: the event must outlive the user and a
    # cascading SET NULL would be an UPDATE, which the chain forbids.
    actor_id = models.BigIntegerField(
        verbose_name=_("actor id"),
        null=True,
        blank=True,
        db_index=True,
    )
    actor_label = models.CharField(
        verbose_name=_("actor"),
        max_length=150,
    )
    action = models.CharField(
        verbose_name=_("action"),
        max_length=100,
        db_index=True,
    )
    object_type = models.CharField(
        verbose_name=_("object type"),
        max_length=100,
        blank=True,
    )
    object_id = models.CharField(
        verbose_name=_("object id"),
        max_length=64,
        blank=True,
    )
    object_label = models.CharField(
        verbose_name=_("object"),
        max_length=255,
        blank=True,
    )
    changes = models.JSONField(
        verbose_name=_("changes"),
        default=dict,
        blank=True,
    )
    request_id = models.CharField(
        verbose_name=_("request id"),
        max_length=64,
        blank=True,
    )
    prev_hash = models.CharField(
        verbose_name=_("previous hash"),
        max_length=64,
    )
    hash = models.CharField(
        verbose_name=_("hash"),
        max_length=64,
        unique=True,
    )

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"], name="auditevent_object_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_label}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("core:auditevent", args=[self.pk])

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("Audit events are append-only.")

    @property
    def actor_type_label(self) -> str:
        return str(ActorType(self.actor_type).label) if self.actor_type else ""

    def change_rows(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) rows for display; detail-only events show as after."""
        rows = []
        for name, value in sorted(self.changes.items()):
            if isinstance(value, list) and len(value) == 2:
                rows.append((name, value[0], value[1]))
            else:
                rows.append((name, None, value))
        return rows


class NumberSequence(models.Model):
    """The last record number handed out per prefix and year (core/numbering.py)."""

    prefix = models.CharField(
        verbose_name=_("prefix"),
        max_length=8,
    )
    year = models.PositiveIntegerField(
        verbose_name=_("year"),
    )
    last_value = models.PositiveIntegerField(
        verbose_name=_("last value"),
        default=0,
    )

    class Meta:
        ordering = ["prefix", "year"]
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="numbersequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_value}"


class EvidenceFile(TrackedModel):
    """A stored file (upload or generated report): content-addressed, never overwritten.

    The bytes live at `files/<sha256[:2]>/<sha256>` in the default storage, so the same
    content is stored once and a stored file is never replaced; records link here.
    """

    sha256 = models.CharField(
        verbose_name=_("SHA-256"),
        max_length=64,
        db_index=True,
    )
    size = models.BigIntegerField(
        verbose_name=_("size in bytes"),
    )
    content_type = models.CharField(
        verbose_name=_("content type"),
        max_length=150,
        blank=True,
    )
    name = models.CharField(
        verbose_name=_("original name"),
        max_length=255,
    )
    path = models.CharField(
        verbose_name=_("storage path"),
        max_length=255,
        editable=False,
    )
    purpose = models.CharField(
        verbose_name=_("purpose"),
        max_length=64,
        blank=True,
    )
    # Set when a retention rule disposed of the file; the bytes are removed once no
    # other live record shares them (core/retention.py), the description stays.
    disposed_at = models.DateTimeField(
        verbose_name=_("disposed of at"),
        null=True,
        blank=True,
        editable=False,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return f"{self.name} ({self.sha256[:12]})"

    def open(self) -> Any:
        from django.core.files.storage import default_storage

        if self.disposed_at is not None:
            raise FileDisposed(
                f"{self.name} was disposed of on {self.disposed_at:%Y-%m-%d} under a "
                "retention rule."
            )
        return default_storage.open(self.path, "rb")


class FileDisposed(FileNotFoundError):
    """Asked for a file a retention rule disposed of: pages answer 410 Gone, saying so."""


class RetentionRule(TrackedModel):
    """How long records of one type are kept, and what happens to them after that."""

    record_type = models.CharField(
        verbose_name=_("record type"),
        max_length=100,
    )
    period_months = models.PositiveIntegerField(
        verbose_name=_("retention period (months)"),
        validators=[MinValueValidator(1), MaxValueValidator(1200)],
    )
    action = models.CharField(
        verbose_name=_("action after the period"),
        max_length=16,
        choices=RetentionAction.choices,
        default=RetentionAction.REVIEW,
    )
    basis = models.TextField(
        verbose_name=_("basis"),
        help_text=_("Why records are kept this long: law, contract, or the company's reason."),
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )

    class Meta:
        ordering = ["record_type"]
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        constraints = [
            models.UniqueConstraint(
                fields=["record_type"],
                name="retentionrule_unique_type",
                violation_error_message=_("This record type already has a retention rule."),
            ),
        ]

    def __str__(self) -> str:
        from .retention import type_label

        return (
            f"{type_label(self.record_type)}: {self.period_months} months, "
            f"then {self.get_action_display().lower()}"
        )

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .retention import get_type

        record_type = get_type(self.record_type)
        if record_type is None:
            raise ValidationError({"record_type": _("Choose a record type Harken knows.")})
        if self.action not in record_type.actions:
            raise ValidationError(
                {
                    "action": _("%(type)s can only be: %(actions)s.")
                    % {"type": record_type.label, "actions": ", ".join(record_type.actions)}
                }
            )


class Disposition(models.Model):
    """One record a retention rule reviewed, anonymised or deleted: the register beside
    the audit event (`audit_seq`) that is the record of it. Written in the same
    transaction as that event and never changed, so a record is disposed of once."""

    rule = models.ForeignKey(
        RetentionRule,
        verbose_name=_("rule"),
        on_delete=models.PROTECT,
        related_name="dispositions",
    )
    record_type = models.CharField(
        verbose_name=_("record type"),
        max_length=100,
    )
    object_id = models.BigIntegerField(
        verbose_name=_("record id"),
    )
    object_label = models.CharField(
        verbose_name=_("record"),
        max_length=255,
    )
    action = models.CharField(
        verbose_name=_("action"),
        max_length=16,
        choices=RetentionAction.choices,
    )
    at = models.DateTimeField(
        verbose_name=_("time"),
        default=timezone.now,
    )
    audit_seq = models.BigIntegerField(
        verbose_name=_("audit event"),
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "object_id", "action"],
                name="disposition_once_per_action",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.object_label}: {self.get_action_display()} ({self.at:%Y-%m-%d})"
