"""Retention and disposition: how long each type of record is kept, and what happens then.

Apps describe their record types here (`register(RecordType(...))` from their
AppConfig.ready(), so core never imports them); a `RetentionRule` per type sets the
period and the action. `harken retention` (and the tick) finds the records past their
period and disposes of them, never silently:

- every disposed record gets one audit event naming the rule (`retention.review_due`,
  `retention.anonymised`, `retention.deleted`) and one `Disposition` row pointing at it;
- anonymising overwrites the personal fields in place (a queryset update, so the values
  being removed are not copied into a new audit diff); deleting anonymises first for the
  same reason, then deletes through the ORM, so the usual `<model>.deleted` event and
  the rollup receivers run;
- a record that anything else still refers to (an action citing a complaint, an order
  naming a mail) is never deleted: it is reported as kept, with what holds it;
- stored files that go with a record are marked disposed; their bytes are removed after
  the transaction commits, once no other live record shares them.

The audit trail itself is append-only and is never rewritten: the events written when a
record was created or changed keep the values they recorded then (docs/retention.md).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone

from . import audit
from .choices import RetentionAction

# Records disposed of per rule in one tick; the rest follow in the next ticks.
TICK_LIMIT = 1000


@dataclass(frozen=True)
class RecordType:
    """A type of record a retention rule can govern.

    `date_field` is the moment the period counts from. `anonymise(obj)` overwrites the
    personal fields (with a queryset update) and returns the names of the fields it
    cleared; `files(obj)` lists the stored files that go with the record; `delete(obj)`
    replaces the plain ORM delete (an import batch disposes of its original file, not
    itself). `owned` names related models (`app.model`) that belong to the record and
    go with it; any other reference keeps the record.
    """

    key: str
    label: str
    date_field: str
    actions: tuple[str, ...]
    effects: dict[str, str] = field(default_factory=dict)
    anonymise: Callable[[Any], list[str]] | None = None
    files: Callable[[Any], list[Any]] | None = None
    delete: Callable[[Any], None] | None = None
    owned: frozenset[str] = frozenset()

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.key)


_types: dict[str, RecordType] = {}


def register(*record_types: RecordType) -> None:
    for record_type in record_types:
        _types[record_type.key] = record_type


def get_type(key: str) -> RecordType | None:
    return _types.get(key)


def record_types() -> list[RecordType]:
    return sorted(_types.values(), key=lambda t: t.label)


def type_label(key: str) -> str:
    record_type = get_type(key)
    return record_type.label if record_type else key


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` calendar months earlier (the 31st becomes the last
    day of a shorter month)."""
    years, month_index = divmod(moment.month - 1 - months, 12)
    year, month = moment.year + years, month_index + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def cutoff(rule: Any, now: dt.datetime) -> dt.datetime:
    """Records dated before this moment are past the rule's period."""
    return months_before(now, rule.period_months)


def record_label(obj: Any) -> str:
    """A label without personal data: the record number, else type and id."""
    number = getattr(obj, "number", "")
    return number or f"{obj._meta.verbose_name} {obj.pk}"


def due(rule: Any, now: dt.datetime | None = None) -> QuerySet:
    """The records past the rule's period that it has not disposed of yet, oldest first."""
    from .models import Disposition

    record_type = get_type(rule.record_type)
    if record_type is None:
        raise LookupError(f"no record type {rule.record_type!r} is registered")
    moment = cutoff(rule, now or timezone.now())
    done = Disposition.objects.filter(record_type=rule.record_type, action=rule.action).values(
        "object_id"
    )
    return (
        record_type.model._default_manager.filter(**{f"{record_type.date_field}__lt": moment})
        .exclude(pk__in=done)
        .order_by(record_type.date_field, "pk")
    )


def references(obj: models.Model, owned: Iterable[str] = ()) -> list[str]:
    """What else refers to `obj` (and so keeps it), as short descriptions."""
    owned = set(owned)
    found = []
    for relation in obj._meta.get_fields(include_hidden=True):
        if not (relation.is_relation and relation.auto_created and not relation.concrete):
            continue
        related: Any = relation.related_model
        if related is None or related._meta.auto_created:  # m2m tables: seen as ManyToManyRel
            continue
        if related._meta.label_lower in owned:
            continue
        remote = relation.field.name  # type: ignore[union-attr]
        other = related._base_manager.filter(**{remote: obj}).first()
        if other is not None:
            found.append(f"{related._meta.verbose_name} {record_label(other)}")
    return found


@dataclass
class RuleRun:
    """What one run of one rule did (or, dry, would do)."""

    rule: Any
    due: int
    disposed: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)
    dry_run: bool = True

    @property
    def summary(self) -> str:
        verb = {
            RetentionAction.REVIEW: "flagged for review",
            RetentionAction.ANONYMISE: "anonymised",
            RetentionAction.DELETE: "deleted",
        }[self.rule.action]
        if self.dry_run:
            return f"{type_label(self.rule.record_type)}: {self.due} due to be {verb}"
        text = f"{type_label(self.rule.record_type)}: {len(self.disposed)} {verb}"
        if self.kept:
            text += f", {len(self.kept)} kept (still referred to)"
        return text


def discard_files(files: Iterable[Any]) -> list[str]:
    """Mark stored files disposed; remove their bytes after commit if nothing live shares them."""
    from .models import EvidenceFile

    names = []
    now = timezone.now()
    for evidence in files:
        if evidence is None or evidence.disposed_at is not None:
            continue
        evidence.disposed_at = now
        evidence.save(update_fields=["disposed_at"])
        names.append(f"{evidence.name} ({evidence.sha256[:12]})")
        path = evidence.path

        def remove(path: str = path) -> None:
            # Content-addressed: the same bytes may back another record that is still live.
            if not EvidenceFile.objects.filter(path=path, disposed_at__isnull=True).exists():
                default_storage.delete(path)

        transaction.on_commit(remove)
    return names


def _details(rule: Any, record_type: RecordType, obj: Any) -> dict[str, Any]:
    return {
        "rule": rule.pk,
        "rule_label": str(rule),
        "basis": rule.basis,
        "period_months": rule.period_months,
        "action": rule.action,
        record_type.date_field: getattr(obj, record_type.date_field),
    }


def dispose(rule: Any, obj: Any) -> tuple[bool, str]:
    """Apply `rule` to one record: (True, label) when disposed, (False, why) when kept."""
    from .models import Disposition

    record_type = get_type(rule.record_type)
    if record_type is None:
        raise LookupError(f"no record type {rule.record_type!r} is registered")
    label = record_label(obj)
    details: dict[str, Any] = _details(rule, record_type, obj)
    model = type(obj)
    try:
        with transaction.atomic():
            if rule.action == RetentionAction.REVIEW:
                action = "retention.review_due"
            elif rule.action == RetentionAction.ANONYMISE:
                action = "retention.anonymised"
                details["fields"] = record_type.anonymise(obj) if record_type.anonymise else []
                details["files"] = discard_files(
                    record_type.files(obj) if record_type.files else []
                )
            else:
                action = "retention.deleted"
                if record_type.delete is None:
                    holders = references(obj, record_type.owned)
                    if holders:
                        return False, f"{label} is kept: referred to by {', '.join(holders[:3])}"
                files = record_type.files(obj) if record_type.files else []
                if record_type.anonymise:
                    details["fields"] = record_type.anonymise(obj)
                    # Reload, so the delete event records the anonymised values.
                    obj = model._default_manager.get(pk=obj.pk)
                pk = obj.pk
                if record_type.delete is not None:
                    record_type.delete(obj)
                else:
                    obj.delete()
                details["files"] = discard_files(files)
                obj.pk = pk
            event = audit.record(
                action,
                object_type=record_type.key,
                object_id=str(obj.pk),
                object_label=label,
                changes=details,
            )
            Disposition.objects.create(
                rule=rule,
                record_type=record_type.key,
                object_id=obj.pk,
                object_label=label,
                action=rule.action,
                audit_seq=event.seq,
            )
    except ProtectedError as exc:
        blockers = ", ".join(record_label(o) for o in list(exc.protected_objects)[:3])
        return False, f"{label} is kept: referred to by {blockers}"
    return True, label


def run_rule(
    rule: Any,
    *,
    apply: bool,
    now: dt.datetime | None = None,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RuleRun:
    """List (dry run) or dispose of the records past the rule's period."""
    queryset = due(rule, now)
    count = queryset.count()
    run = RuleRun(rule=rule, due=count, dry_run=not apply)
    if not apply:
        return run
    records = list(queryset[:limit] if limit else queryset)
    for index, obj in enumerate(records, start=1):
        disposed, text = dispose(rule, obj)
        if disposed:
            run.disposed.append(text)
        else:
            run.kept.append((record_label(obj), text))
        if progress:
            progress(index, len(records))
    return run


def active_rules() -> QuerySet:
    from .models import RetentionRule

    return RetentionRule.objects.filter(active=True, record_type__in=list(_types))


def retention_tick(now: dt.datetime) -> str:
    """`harken tick`: apply every active rule, a bounded number of records per rule."""
    runs = [run_rule(rule, apply=True, now=now, limit=TICK_LIMIT) for rule in active_rules()]
    if not runs:
        return "no retention rules"
    return "; ".join(run.summary for run in runs)
