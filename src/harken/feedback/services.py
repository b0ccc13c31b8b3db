"""Feedback actions: intake, classification, acknowledgement, resolution, re-mapping.

Pages, the API, the webhook, the importers and the surveys all call these; none of
them saves a feedback item directly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from harken.core import audit
from harken.core.calendar import add_working_days
from harken.core.numbering import next_number
from harken.customers.models import Contact, Customer, ProductLine, Region

from . import sentiment
from .choices import (
    SCALE_RANGES,
    ExpectationType,
    Impact,
    ItemKind,
    ItemStatus,
    Scale,
    SentimentLabel,
    SentimentSource,
    SourceKind,
)
from .classify import RuleSet, RuleSpec
from .models import Category, ClassificationRule, FeedbackItem, PerceptionSource
from .signals import bulk_changed

COMPLAINT_PREFIX = "CMP"
MAX_TEXT = 100_000


def rule_set() -> RuleSet:
    """The active rules, compiled (a few dozen rules compile in well under a millisecond)."""
    rules = ClassificationRule.objects.filter(active=True, category__active=True).order_by("pk")
    return RuleSet(
        RuleSpec(r.pk, r.category_id, r.kind, r.pattern, r.weight)
        for r in rules.only("pk", "category_id", "kind", "pattern", "weight")
    )


def content_key(
    *,
    received_at: dt.datetime | None,
    text: str,
    title: str,
    score: float | None,
    customer_ref: str = "",
) -> str:
    """The de-duplication key of a record without an id in its source system."""
    payload = json.dumps(
        [
            received_at.astimezone(dt.UTC).isoformat() if received_at else "",
            title.strip(),
            text.strip(),
            score,
            customer_ref,
        ],
        ensure_ascii=False,
    )
    return "h:" + hashlib.sha256(payload.encode()).hexdigest()


def dedupe_key_for(external_id: str, **content: Any) -> str:
    external_id = (external_id or "").strip()
    if external_id:
        return "x:" + external_id[:200]
    return content_key(**content)


def complaint_deadlines(source: PerceptionSource, received_at: dt.datetime) -> tuple[Any, Any]:
    return (
        add_working_days(received_at, source.acknowledge_days),
        add_working_days(received_at, source.resolve_days),
    )


def sentiment_from_score(score: float, scale: str) -> tuple[float, str]:
    """A sentiment from a score: the label by the scale's bands, the score rescaled to −1…1."""
    label = sentiment.label_for_score(score, scale)
    low, high = SCALE_RANGES[Scale(scale)]
    return round((score - low) / (high - low) * 2 - 1, 4), label


def check_score(score: float | None, scale: str) -> None:
    if score is None:
        return
    if not scale:
        raise ValidationError({"scale": "Give the scale of the score."})
    bounds = SCALE_RANGES.get(Scale(scale))
    if bounds and not bounds[0] <= score <= bounds[1]:
        label = Scale(scale).label
        raise ValidationError(
            {"score": f"{score:g} is outside the {label} scale ({bounds[0]}–{bounds[1]})."}
        )


@dataclass
class Intake:
    """One record arriving from any channel, before it is a FeedbackItem."""

    source: PerceptionSource
    kind: str = ""
    received_at: dt.datetime | None = None
    title: str = ""
    text: str = ""
    score: float | None = None
    scale: str = ""
    customer: Customer | None = None
    contact: Contact | None = None
    product_line: ProductLine | None = None
    region: Region | None = None
    external_id: str = ""
    external_provider: str = ""
    tags: list[str] | None = None
    raw: Mapping[str, Any] | None = None
    impact: str = ""
    expectation_type: str = ""


def validate_intake(intake: Intake) -> None:
    """Raise ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    if not intake.source.active:
        errors["source"] = f"The source {intake.source} is retired."
    kind = intake.kind or intake.source.default_kind
    if kind not in ItemKind.values:
        errors["kind"] = "Choose the kind of feedback."
    if not (intake.text.strip() or intake.title.strip() or intake.score is not None):
        errors["text"] = "Nothing to record: give a text, a title or a score."
    if len(intake.text) > MAX_TEXT:
        errors["text"] = f"The text is {len(intake.text):,} characters; the limit is {MAX_TEXT:,}."
    if intake.received_at and intake.received_at > timezone.now() + dt.timedelta(days=1):
        errors["received_at"] = "The date is in the future."
    if intake.impact and intake.impact not in Impact.values:
        errors["impact"] = "Choose minor, major or critical."
    if intake.expectation_type and intake.expectation_type not in ExpectationType.values:
        errors["expectation_type"] = "Choose explicit or implied."
    if intake.contact and intake.customer and intake.contact.customer_id != intake.customer.pk:
        errors["contact"] = "The contact works for another customer."
    scale = intake.scale or intake.source.default_scale
    try:
        check_score(intake.score, scale)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)


def build_item(intake: Intake, rules: RuleSet, *, score_text: bool = True) -> FeedbackItem:
    """A validated, classified, unsaved FeedbackItem (no number yet)."""
    source = intake.source
    received_at = intake.received_at or timezone.now()
    kind = intake.kind or source.default_kind
    scale = intake.scale or (source.default_scale if intake.score is not None else "")
    customer = intake.customer or (intake.contact.customer if intake.contact else None)
    item = FeedbackItem(
        source=source,
        kind=kind,
        received_at=received_at,
        title=intake.title.strip()[:300],
        text=intake.text.strip(),
        score=intake.score,
        scale=scale,
        customer=customer,
        contact=intake.contact,
        product_line=intake.product_line,
        region=intake.region or (customer.region if customer else None),
        external_id=intake.external_id.strip()[:200],
        external_provider=intake.external_provider[:200],
        tags=list(intake.tags or []),
        raw=dict(intake.raw or {}),
        impact=intake.impact,
        expectation_type=intake.expectation_type,
    )
    item.dedupe_key = dedupe_key_for(
        item.external_id,
        received_at=received_at,
        text=item.text,
        title=item.title,
        score=item.score,
        customer_ref=str(customer.pk) if customer else "",
    )
    suggestion = rules.suggest(f"{item.title}\n{item.text}")
    if suggestion:
        item.suggested_category_id = suggestion.category_id
        item.category_id = suggestion.category_id
        item.suggestion_rule_id = suggestion.rule_id
    if item.score is not None and item.scale in SCALE_RANGES:
        item.sentiment_score, item.sentiment_label = sentiment_from_score(item.score, item.scale)
        item.sentiment_source = SentimentSource.SCORE
    elif score_text and (item.text or item.title):
        result = sentiment.score(f"{item.title}. {item.text}" if item.title else item.text)
        item.sentiment_score, item.sentiment_label = result.compound, result.label
        item.sentiment_source = SentimentSource.LEXICON
    if kind == ItemKind.COMPLAINT:
        item.acknowledge_due, item.resolve_due = complaint_deadlines(source, received_at)
    return item


def find_duplicate(source: PerceptionSource, dedupe_key: str) -> FeedbackItem | None:
    return FeedbackItem.objects.filter(source=source, dedupe_key=dedupe_key).first()


def record_feedback(intake: Intake) -> tuple[FeedbackItem, bool]:
    """Record one piece of feedback; an already recorded one is returned unchanged.

    Returns (item, created). Idempotent on (source, external id) and, without an id,
    on the content. Causes: an audit event `feedbackitem.created`; a complaint number
    and acknowledgement/resolution deadlines for complaints.
    """
    validate_intake(intake)
    item = build_item(intake, rule_set())
    existing = find_duplicate(intake.source, item.dedupe_key)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            if item.kind == ItemKind.COMPLAINT:
                item.complaint_number = next_number(COMPLAINT_PREFIX)
            item.save()
    except IntegrityError:
        # A concurrent request recorded the same feedback first.
        existing = find_duplicate(intake.source, item.dedupe_key)
        if existing is None:
            raise
        return existing, False
    return item, True


def require(actor: Any, verb: str) -> None:
    if actor is not None and not actor.has_perm(f"feedback.{verb}_feedbackitem"):
        raise PermissionDenied(f"Your role may not {verb} feedback.")


def classify(
    item: FeedbackItem,
    *,
    actor: Any,
    category: Category | None,
    impact: str = "",
    expectation_type: str = "",
    sentiment_label: str = "",
) -> FeedbackItem:
    """A person confirms or corrects the classification.

    Causes: one audit event `feedbackitem.classified` with the before/after of each
    field; the item counts as confirmed from then on.
    """
    require(actor, "classify")
    errors = {}
    if category is None:
        errors["category"] = "Choose a category."
    elif not category.active and category.pk != item.category_id:
        errors["category"] = f"The category {category} is retired."
    if impact and impact not in Impact.values:
        errors["impact"] = "Choose minor, major or critical."
    if item.kind == ItemKind.COMPLAINT and not impact:
        errors["impact"] = "Rate the complaint's impact."
    if expectation_type and expectation_type not in ExpectationType.values:
        errors["expectation_type"] = "Choose explicit or implied."
    if sentiment_label and sentiment_label not in SentimentLabel.values:
        errors["sentiment_label"] = "Choose negative, neutral or positive."
    if errors:
        raise ValidationError(errors)
    item.category = category
    item.impact = impact
    item.expectation_type = expectation_type
    fields = ["category", "impact", "expectation_type", "classification_confirmed"]
    fields += ["classified_by", "classified_at"]
    if sentiment_label and sentiment_label != item.sentiment_label:
        item.sentiment_label = sentiment_label
        item.sentiment_source = SentimentSource.PERSON
        fields += ["sentiment_label", "sentiment_source"]
    item.classification_confirmed = True
    item.classified_by = actor
    item.classified_at = timezone.now()
    with transaction.atomic():
        item.save(update_fields=fields, audit_action="feedbackitem.classified")
    return item


def acknowledge(item: FeedbackItem, *, actor: Any, at: dt.datetime | None = None) -> FeedbackItem:
    """Record that the customer was told we received their complaint."""
    require(actor, "change")
    if item.acknowledged_at is not None:
        raise ValidationError({"acknowledged_at": "The complaint is acknowledged already."})
    at = at or timezone.now()
    if at < item.received_at:
        raise ValidationError({"acknowledged_at": "Acknowledged before it was received?"})
    item.acknowledged_at = at
    item.save(update_fields=["acknowledged_at"], audit_action="feedbackitem.acknowledged")
    return item


def resolve(
    item: FeedbackItem, *, actor: Any, resolution: str, at: dt.datetime | None = None
) -> FeedbackItem:
    """Record the resolution of a complaint (the outcome told to the customer)."""
    require(actor, "change")
    if not resolution.strip():
        raise ValidationError({"resolution": "Say how it was resolved."})
    if item.resolved_at is not None:
        raise ValidationError({"resolved_at": "The complaint is resolved already."})
    at = at or timezone.now()
    item.resolved_at = at
    item.save(update_fields=["resolved_at"], audit_action="feedbackitem.resolved")
    audit.record("feedbackitem.resolution", item, changes={"resolution": resolution.strip()})
    return item


def remap_category(old: Category, new: Category, *, actor: Any, reason: str) -> int:
    """Move every item of `old` to `new` as one explicit, audited decision.

    Items keep the history of what they were; the event lists the count and reason.
    """
    require(actor, "classify")
    if old.pk == new.pk:
        raise ValidationError({"new": "Choose a different category."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the categories are re-mapped."})
    with transaction.atomic():
        items = FeedbackItem.objects.filter(Q(category=old) | Q(suggested_category=old))
        span = items.aggregate(first=Min("received_at"), last=Max("received_at"), n=Count("id"))
        FeedbackItem.objects.filter(category=old).update(category=new)
        FeedbackItem.objects.filter(suggested_category=old).update(suggested_category=new)
        bulk_changed(FeedbackItem, span["first"], span["last"])
        audit.record(
            "category.remapped",
            old,
            changes={"to": new.name, "items": span["n"], "reason": reason.strip()},
        )
    return int(span["n"])


def _waiting_complaints(items: QuerySet[FeedbackItem] | None, open_only: bool) -> QuerySet:
    """Complaints among `items` (all by default), closed ones left out if `open_only`."""
    base = FeedbackItem.objects.all() if items is None else items
    base = base.order_by().filter(kind=ItemKind.COMPLAINT)
    return base.exclude(status=ItemStatus.CLOSED) if open_only else base


def _past_deadline_ids(now: dt.datetime) -> QuerySet:
    """Ids of items still waiting past a deadline: two reads of the partial indexes of
    items still waiting (feedbackitem_ack_open_idx, feedbackitem_resolve_open_idx)
    joined, rather than an OR that makes the database scan every complaint; their terms
    match the indexes' conditions as they stand."""
    items = FeedbackItem.objects.order_by()
    late = items.filter(acknowledged_at__isnull=True, acknowledge_due__lt=now).values("pk")
    unresolved = items.filter(resolved_at__isnull=True, resolve_due__lt=now).values("pk")
    return late.union(unresolved)


def overdue_complaints(now: dt.datetime | None = None, *, open_only: bool = False) -> Any:
    """Complaints past their acknowledgement or resolution deadline (closed ones left
    out if `open_only`)."""
    return _waiting_complaints(None, open_only).filter(
        pk__in=_past_deadline_ids(now or timezone.now())
    )


def overdue_count(
    now: dt.datetime | None = None,
    items: QuerySet[FeedbackItem] | None = None,
    *,
    open_only: bool = False,
) -> int:
    """How many of `items` (all by default) `overdue_complaints` holds.

    On PostgreSQL: those late to acknowledge, plus those late to resolve that are not
    also late to acknowledge, two counts read from the deadline indexes alone (they
    carry what both conditions read), with no set of ids to de-duplicate and no pass
    over every complaint. On SQLite, whose indexes carry nothing more, the two indexes
    give the ids and only those items are read, in rowid order, to check the rest.
    """
    now = now or timezone.now()
    base = _waiting_complaints(items, open_only)
    if connection.vendor == "sqlite":
        return base.filter(pk__in=_past_deadline_ids(now)).count()
    late_ack = Q(acknowledged_at__isnull=True, acknowledge_due__lt=now)
    late_resolve = Q(resolved_at__isnull=True, resolve_due__lt=now)
    return base.filter(late_ack).count() + base.filter(late_resolve).exclude(late_ack).count()


def register_warnings(sources: list[PerceptionSource] | None = None) -> list[str]:
    """What an auditor would flag in the perception source register."""
    if sources is None:
        sources = list(PerceptionSource.objects.all())
    active = [s for s in sources if s.active and s.in_scope]
    warnings = []
    if not any(s.structured for s in active):
        warnings.append("No active structured source (a survey, for example).")
    if not any(not s.structured for s in active):
        warnings.append("No active unstructured source (complaints, e-mail or notes).")
    for s in active:
        if s.owner_id is None and not s.owner_role:
            warnings.append(f"{s.name} has no owner.")
    return warnings


UNSTRUCTURED_KINDS = {
    SourceKind.COMPLAINTS_INBOX,
    SourceKind.EMAIL,
    SourceKind.ACCOUNT_NOTES,
    SourceKind.INTERVIEWS,
    SourceKind.SOCIAL,
}
