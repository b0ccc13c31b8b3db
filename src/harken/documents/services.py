"""Document actions: versions through review and approval, distributions, acknowledgements.

Pages, the API, the CLI, the communications app and the tick call these; none of them
changes a version's state or records a distribution directly. Each function checks its
guard, runs in one transaction and leaves one audit event per change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from harken.core import audit
from harken.core.permissions import is_read_only
from harken.core.workflow import apply_transition
from harken.customers.models import Contact, Customer

from .choices import EDITABLE_STATES, Occasion, VersionStatus
from .models import Acknowledgement, Distribution, Document, DocumentVersion

MAX_REASON = 300


def require(actor: Any, verb: str, model: type[models.Model]) -> None:
    """Refuse `actor` (a user; None for the system) who may not `verb` records of `model`."""
    if actor is None:
        return
    meta = model._meta
    if not actor.has_perm(f"{meta.app_label}.{verb}_{meta.model_name}"):
        raise PermissionDenied(f"Your role may not {verb} {meta.verbose_name_plural}.")


def today(at: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(at or timezone.now())


# --------------------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------------------


def create_version(
    document: Document,
    *,
    actor: Any,
    label: str,
    body: str = "",
    file: Any = None,
    change_summary: str = "",
    effective_from: dt.date | None = None,
) -> DocumentVersion:
    """A new draft version. Causes: `documentversion.created`."""
    require(actor, "add", DocumentVersion)
    label = label.strip()
    errors: dict[str, str] = {}
    if not label:
        errors["label"] = "Give the version a label (1.0, B, 2026-03)."
    elif document.versions.filter(label__iexact=label).exists():
        errors["label"] = f"{document.number} has a version {label} already."
    if errors:
        raise ValidationError(errors)
    return DocumentVersion.objects.create(
        document=document,
        label=label,
        body=body,
        file=file,
        change_summary=change_summary.strip(),
        effective_from=effective_from,
    )


def submit(version: DocumentVersion, *, actor: Any) -> DocumentVersion:
    """Send a draft to review. Causes: `documentversion.submit` (draft → in review)."""
    apply_transition(version, "submit", actor=actor)
    return version


def record_review(
    version: DocumentVersion, *, actor: Any, comment: str = "", at: dt.datetime | None = None
) -> DocumentVersion:
    """Record that `actor` reviewed the version for suitability and adequacy (7.5.2 c).

    Causes: `documentversion.reviewed` with the reviewer, time and comment. The version
    can be approved only after a review.
    """
    require(actor, "change", DocumentVersion)
    if version.status != VersionStatus.IN_REVIEW:
        raise ValidationError({"status": "Only a version in review can be reviewed."})
    version.reviewed_by = actor
    version.reviewed_at = at or timezone.now()
    version.review_comment = comment.strip()
    version.save(
        update_fields=["reviewed_by", "reviewed_at", "review_comment"],
        audit_action="documentversion.reviewed",
    )
    return version


def return_to_draft(version: DocumentVersion, *, actor: Any, comment: str = "") -> DocumentVersion:
    """Send a version in review back to its author. Causes: `documentversion.return`."""
    with transaction.atomic():
        values: dict[str, Any] = {"reviewed_by": None, "reviewed_at": None}
        if comment.strip():
            values["review_comment"] = comment.strip()
        apply_transition(version, "return", actor=actor, values=values)
    return version


def approve(
    version: DocumentVersion,
    *,
    actor: Any,
    effective_from: dt.date | None = None,
    at: dt.datetime | None = None,
) -> DocumentVersion:
    """Approve a reviewed version.

    Causes: `documentversion.approve` (in review → approved, with approver, time and
    effective date); any other approved version that has not taken effect yet is
    superseded, having never been current; when the effective date has come, the
    version becomes current at once and the old current one is superseded
    (`documentversion.superseded`, `documentversion.effective`), otherwise the tick
    does that on the day.
    """
    at = at or timezone.now()
    effective_from = effective_from or version.effective_from or today(at)
    if effective_from < today(at):
        raise ValidationError(
            {"effective_from": "A version cannot take effect before it is approved."}
        )
    with transaction.atomic():
        apply_transition(
            version,
            "approve",
            actor=actor,
            values={"approved_by": actor, "approved_at": at, "effective_from": effective_from},
        )
        pending = version.document.versions.filter(
            status=VersionStatus.APPROVED, is_current=False
        ).exclude(pk=version.pk)
        for other in pending:
            _supersede(other, by=version, at=at)
        if effective_from <= today(at):
            make_current(version, at=at)
    return version


def make_current(version: DocumentVersion, *, at: dt.datetime | None = None) -> DocumentVersion:
    """Put an approved version into effect; the previous current version is superseded."""
    at = at or timezone.now()
    if version.status != VersionStatus.APPROVED:
        raise ValidationError({"status": "Only an approved version can take effect."})
    with transaction.atomic():
        old = (
            DocumentVersion.objects.select_for_update()
            .filter(document_id=version.document_id, is_current=True)
            .exclude(pk=version.pk)
            .first()
        )
        if old is not None:
            _supersede(old, by=version, at=at)
        version.is_current = True
        version.save(update_fields=["is_current"], audit_action="documentversion.effective")
    return version


def _supersede(old: DocumentVersion, *, by: DocumentVersion, at: dt.datetime) -> None:
    old.status = VersionStatus.SUPERSEDED
    old.is_current = False
    old.superseded_by = by
    old.superseded_at = at
    old.save(
        update_fields=["status", "is_current", "superseded_by", "superseded_at"],
        audit_action="documentversion.superseded",
    )


def withdraw(version: DocumentVersion, *, actor: Any, reason: str) -> DocumentVersion:
    """Withdraw a version (a draft abandoned, or an approved one no longer valid).

    Causes: `documentversion.withdraw`; a withdrawn current version leaves the document
    without a current version until another is approved.
    """
    apply_transition(
        version,
        "withdraw",
        actor=actor,
        values={"withdrawn_reason": reason.strip(), "is_current": False},
    )
    return version


def bring_into_effect(now: dt.datetime) -> str:
    """Tick duty: approved versions whose effective date has come become current."""
    due = DocumentVersion.objects.filter(
        status=VersionStatus.APPROVED, is_current=False, effective_from__lte=today(now)
    ).select_related("document")
    done = []
    for version in due:
        with audit.audit_context(actor=audit.Actor.system("tick")):
            make_current(version, at=now)
        done.append(str(version))
    return f"{len(done)} versions took effect" + (f": {', '.join(done)}" if done else "")


def current_version(document: Document) -> DocumentVersion | None:
    return document.versions.filter(is_current=True).first()


def may_edit(version: DocumentVersion) -> bool:
    """Only drafts change; what was reviewed or approved stays as it was."""
    return version.status in EDITABLE_STATES


# --------------------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------------------


@dataclass
class Provision:
    """One copy of a version going to a customer, before it is a Distribution."""

    version: DocumentVersion
    customer: Customer
    reason: str
    occasion: str = Occasion.BY_HAND
    contact: Contact | None = None
    at: dt.datetime | None = None
    reference: str = ""
    via: models.Model | None = None


def check_provision(provision: Provision) -> None:
    """Raise ValidationError naming each field that stops the copy from going out."""
    errors: dict[str, str] = {}
    version = provision.version
    if version.status != VersionStatus.APPROVED:
        errors["version"] = (
            f"{version} is {version.get_status_display().lower()}: only an approved "
            "version may be provided to a customer."
        )
    if not provision.reason.strip():
        errors["reason"] = "Say why the customer was given this document."
    elif len(provision.reason) > MAX_REASON:
        errors["reason"] = f"Keep the reason under {MAX_REASON} characters."
    if provision.occasion not in Occasion.values:
        errors["occasion"] = "Choose how the copy was provided."
    if provision.contact is not None and provision.contact.customer_id != provision.customer.pk:
        errors["contact"] = "The contact works for another customer."
    if provision.at is not None and provision.at > timezone.now() + dt.timedelta(minutes=5):
        errors["distributed_at"] = "The date is in the future."
    elif provision.at is not None and version.approved_at and provision.at < version.approved_at:
        errors["distributed_at"] = (
            f"{version} was approved on {timezone.localtime(version.approved_at):%Y-%m-%d}: "
            "it cannot have been provided before."
        )
    if errors:
        raise ValidationError(errors)


def record_distribution(provision: Provision, *, actor: Any) -> Distribution:
    """Record that a version went to a customer.

    The one door for every copy that leaves (by hand, with a communication, later with
    quotes and orders): a version that is not approved is refused here, whoever asks.
    Causes: `distribution.created`.
    """
    check_provision(provision)
    via = provision.via
    with transaction.atomic():
        # Re-read the state under a lock: a version withdrawn a moment ago is not sent.
        locked = DocumentVersion.objects.select_for_update().get(pk=provision.version.pk)
        if locked.status != VersionStatus.APPROVED:
            provision.version = locked
            check_provision(provision)
        return Distribution.objects.create(
            version=locked,
            customer=provision.customer,
            contact=provision.contact,
            distributed_at=provision.at or timezone.now(),
            occasion=provision.occasion,
            reason=provision.reason.strip(),
            reference=provision.reference.strip()[:100],
            distributed_by=actor if getattr(actor, "pk", None) else None,
            via_type=ContentType.objects.get_for_model(via) if via is not None else None,
            via_id=str(via.pk) if via is not None else "",
        )


def distributions_via(obj: models.Model) -> QuerySet[Distribution]:
    """The copies that went with one record (a communication, a quote…)."""
    return Distribution.objects.filter(
        via_type=ContentType.objects.get_for_model(obj), via_id=str(obj.pk)
    ).select_related("version__document", "contact")


def holders(version: DocumentVersion) -> QuerySet[Distribution]:
    """The customers whose latest copy of the document is `version`, with that copy.

    After a supersession these are the customers who still hold the old version: a
    customer who has since been given any other version of the document is not listed.
    """
    latest = (
        Distribution.objects.filter(
            version__document_id=version.document_id, customer=OuterRef("customer")
        )
        .order_by("-distributed_at", "-pk")
        .values("pk")[:1]
    )
    return (
        Distribution.objects.filter(version=version)
        .annotate(latest_pk=Subquery(latest))
        .filter(pk=F("latest_pk"))
        .select_related("customer", "contact")
        .order_by("customer__name")
    )


# --------------------------------------------------------------------------------------
# Acknowledgements ("read and understood")
# --------------------------------------------------------------------------------------


def required_readers(document: Document) -> QuerySet[Any]:
    """The active people whose roles must acknowledge the document's current version."""
    User = get_user_model()
    if not document.acknowledge_roles:
        return User.objects.none()
    return (
        User.objects.filter(is_active=True, groups__name__in=document.acknowledge_roles)
        .distinct()
        .order_by("username")
    )


def asked_to_read(user: Any, document: Document) -> bool:
    """Whether `user`'s roles are among those the document asks to acknowledge it.

    This is the permission to acknowledge, decided here and only here: being asked is
    what allows it, so a read-only auditor never records one.
    """
    if not (user and user.is_authenticated) or is_read_only(user):
        return False
    return bool(set(document.acknowledge_roles) & set(user.roles))


def must_acknowledge(user: Any, version: DocumentVersion) -> bool:
    """Whether `user` is asked to acknowledge `version`: it is current and their role reads it."""
    return version.is_current and asked_to_read(user, version.document)


def acknowledge(
    version: DocumentVersion, *, actor: Any, at: dt.datetime | None = None
) -> Acknowledgement:
    """Record the actor's "read and understood" of the current version (idempotent).

    Causes: `acknowledgement.created` the first time; nothing when repeated.
    """
    if not asked_to_read(actor, version.document):
        raise PermissionDenied("Your role is not asked to acknowledge this document.")
    if not version.is_current:
        raise ValidationError({"version": "Only the current version is acknowledged."})
    with transaction.atomic():
        existing = Acknowledgement.objects.filter(version=version, user=actor).first()
        if existing is not None:
            return existing
        return Acknowledgement.objects.create(
            version=version, user=actor, acknowledged_at=at or timezone.now()
        )


@dataclass(frozen=True)
class ReaderStatus:
    user: Any
    acknowledged_at: dt.datetime | None


def reading_status(document: Document) -> tuple[DocumentVersion | None, list[ReaderStatus]]:
    """The current version and, for each required reader, when they acknowledged it."""
    version = current_version(document)
    if version is None:
        return None, []
    done = dict(
        Acknowledgement.objects.filter(version=version).values_list("user_id", "acknowledged_at")
    )
    return version, [ReaderStatus(u, done.get(u.pk)) for u in required_readers(document)]


def waiting_for(user: Any) -> QuerySet[DocumentVersion]:
    """The current versions `user` is asked to acknowledge and has not yet."""
    if not user.is_authenticated or is_read_only(user):
        return DocumentVersion.objects.none()
    roles = list(user.roles)
    if not roles:
        return DocumentVersion.objects.none()
    candidates = DocumentVersion.objects.filter(is_current=True).select_related("document")
    # acknowledge_roles is a JSON list; filtering it in Python keeps SQLite and
    # PostgreSQL alike (there are a handful of such documents, not millions).
    wanted = [v.pk for v in candidates if set(v.document.acknowledge_roles) & set(roles)]
    return (
        DocumentVersion.objects.filter(pk__in=wanted)
        .exclude(acknowledgements__user=user)
        .select_related("document")
        .order_by("document__number")
    )
