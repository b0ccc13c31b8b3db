"""Importing feedback files: preview, then a streaming, resumable, audited bulk load.

The file is read row by row (importers/readers.py), mapped to canonical records by a
preset (importers/presets.py), validated, classified by the keyword rules and written
in chunks. Each chunk is one transaction: its new rows (those whose de-duplication key
is not yet stored for the source), their record numbers, and one audit event with the
chunk's count, first and last number and a digest of what it wrote. A failure stops
the batch with the reason; running the same file again lands only what is missing,
so an interrupted import can be resumed and a repeated one adds nothing.

Rows are written with the database's bulk path (executemany on SQLite, COPY on
PostgreSQL) rather than one ORM save per row, which is what makes a million rows a
matter of seconds. Lexicon sentiment of free text runs afterwards as a separate task
(`score_sentiment`) on both cores.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from harken.core import audit
from harken.core.files import store_file
from harken.core.models import EvidenceFile
from harken.core.numbering import reserve_numbers
from harken.customers.models import Contact, Customer, ProductLine, Region

from .choices import (
    SCALE_RANGES,
    BatchStatus,
    ItemKind,
    ItemStatus,
    SentimentSource,
)
from .importers import (
    PRESETS,
    CanonicalRecord,
    MapContext,
    ReaderError,
    RowError,
    detect_preset,
    get_preset,
    open_table,
)
from .models import Category, FeedbackItem, ImportBatch, PerceptionSource
from .services import (
    COMPLAINT_PREFIX,
    complaint_deadlines,
    dedupe_key_for,
    rule_set,
    sentiment_from_score,
)

KIND_VALUES = frozenset(ItemKind.values)
CHUNK_SIZE = 5000
PREVIEW_ROWS = 10
MAX_UPLOAD = 512 * 1024 * 1024
REJECT_SAMPLE = 200


class ImportError_(ValueError):
    """The file or the choices cannot be imported at all; the message says why."""


@dataclass
class Options:
    """What the person chose: preset, column mapping, scale, date order, time zone."""

    preset: str = ""
    mapping: dict[str, str] = field(default_factory=dict)
    scale: str = ""
    kind: str = ""
    date_order: str = ""
    time_zone: str = ""
    default_date: str = ""
    delimiter: str = ""
    encoding: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Options:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v}

    def context(self, table: Any) -> MapContext:
        try:
            tz = zoneinfo.ZoneInfo(self.time_zone or settings.TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ImportError_(f"Unknown time zone {self.time_zone!r}.") from exc
        default_date = None
        if self.default_date:
            try:
                default_date = dt.date.fromisoformat(self.default_date)
            except ValueError as exc:
                raise ImportError_(
                    f"The default date {self.default_date!r} is not YYYY-MM-DD."
                ) from exc
        try:
            return MapContext.for_table(
                table,
                default_tz=tz,
                date_order=self.date_order or None,  # type: ignore[arg-type]
                default_date=default_date,
                default_kind=self.kind or None,
                scale=self.scale or None,
                mapping=dict(self.mapping),
            )
        except ValueError as exc:
            raise ImportError_(str(exc)) from exc


@dataclass
class Preview:
    """The first rows of a file as read and as they would be imported."""

    encoding: str
    format: str
    columns: list[str]
    rows: list[dict[str, str]]
    preset: str
    preset_scores: list[tuple[str, float]]
    mapped: list[dict[str, Any]]
    errors: list[str]


FORMATS_BY_EXTENSION = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".tsv": "tsv",
}


@contextmanager
def _open(file: EvidenceFile, options: Options) -> Iterator[Any]:
    """The stored file as a table; the format follows the uploaded name where it tells."""
    extension = os.path.splitext(file.name)[1].lower()
    with file.open() as handle:
        try:
            table = open_table(
                handle,
                format=FORMATS_BY_EXTENSION.get(extension),
                delimiter=options.delimiter or None,
                encoding=options.encoding or None,
                header_rows=_header_rows(options.preset),
            )
        except ReaderError as exc:
            raise ImportError_(str(exc)) from exc
        with table:
            yield table


def _header_rows(preset_key: str) -> int | None:
    if not preset_key:
        return None
    try:
        return get_preset(preset_key).header_rows
    except KeyError as exc:
        raise ImportError_(
            f"Unknown preset {preset_key!r}; choose one of {', '.join(PRESETS)}."
        ) from exc


def preview(file: EvidenceFile, options: Options) -> Preview:
    """Read the first rows, suggest a preset, and show how they would map."""
    with _open(file, options) as table:
        scores = [(p.key, p.detect(table.columns)) for p in PRESETS.values()]
        scores.sort(key=lambda pair: -pair[1])
        preset = get_preset(options.preset) if options.preset else detect_preset(table)
        context = options.context(table)
        rows, mapped, errors = [], [], []
        for row in table:
            rows.append(dict(row.values))
            result = preset.map_row(row, context)
            if isinstance(result, RowError):
                errors.append(result.message)
            else:
                mapped.append(
                    {k: v for k, v in result.canonical().items() if v not in ("", None, [], {})}
                )
            if len(rows) >= PREVIEW_ROWS:
                break
        return Preview(
            encoding=getattr(table, "encoding", "") or "",
            format=getattr(table, "format", "") or "",
            columns=[str(c) for c in table.columns],
            rows=rows,
            preset=preset.key,
            preset_scores=scores,
            mapped=mapped,
            errors=errors,
        )


# --------------------------------------------------------------------------------------
# Resolving references (customers, contacts, product lines, regions) a chunk at a time
# --------------------------------------------------------------------------------------


class References:
    """Looks up the customers, contacts, product lines and regions a chunk names.

    Small tables are loaded once; customers and contacts are queried per chunk for
    just the names, references and addresses the chunk uses, so memory stays flat.
    """

    def __init__(self) -> None:
        self.product_lines: dict[str, int] = {}
        for pk, name, code in ProductLine.objects.values_list("pk", "name", "code"):
            self.product_lines[name.casefold()] = pk
            self.product_lines[code.casefold()] = pk
        self.regions: dict[str, int] = {}
        for pk, name, code in Region.objects.values_list("pk", "name", "code"):
            self.regions[name.casefold()] = pk
            self.regions[code.casefold()] = pk
        self.categories: dict[str, int] = {}
        for pk, name, code in Category.objects.values_list("pk", "name", "code"):
            self.categories[name.casefold()] = pk
            self.categories[code.casefold()] = pk
        self.customers: dict[str, tuple[int, int | None]] = {}
        self.contacts: dict[str, tuple[int, int]] = {}

    def load(self, records: list[CanonicalRecord]) -> None:
        refs = {r.customer_ref for r in records if r.customer_ref}
        names = {r.customer_name for r in records if r.customer_name}
        emails = {r.contact_email.lower() for r in records if r.contact_email}
        self.customers = {}
        self.contacts = {}
        if refs:
            for row in Customer.objects.filter(external_ref__in=refs).values_list(
                "external_ref", "pk", "region_id"
            ):
                self.customers["ref:" + row[0]] = (row[1], row[2])
            for row in Customer.objects.filter(number__in=refs).values_list(
                "number", "pk", "region_id"
            ):
                self.customers["ref:" + row[0]] = (row[1], row[2])
        if names:
            for row in Customer.objects.filter(name__in=names).values_list(
                "name", "pk", "region_id"
            ):
                self.customers["name:" + row[0]] = (row[1], row[2])
        if emails:
            for email, pk, customer_id in Contact.objects.filter(email__in=emails).values_list(
                "email", "pk", "customer_id"
            ):
                self.contacts[email.lower()] = (pk, customer_id)

    def customer(self, record: CanonicalRecord) -> tuple[int | None, int | None]:
        for key in (f"ref:{record.customer_ref}", f"name:{record.customer_name}"):
            if key in self.customers:
                return self.customers[key]
        return None, None


# --------------------------------------------------------------------------------------
# The bulk writer
# --------------------------------------------------------------------------------------


def _insert_fields() -> list[Any]:
    return [f for f in FeedbackItem._meta.concrete_fields if not f.primary_key]


class BulkWriter:
    """Writes canonical records of one source as FeedbackItems, a chunk per transaction."""

    def __init__(
        self,
        source: PerceptionSource,
        *,
        batch: ImportBatch | None = None,
        dry_run: bool = False,
        chunk_size: int = CHUNK_SIZE,
        actor_id: int | None = None,
    ) -> None:
        self.source = source
        self.batch = batch
        self.dry_run = dry_run
        self.chunk_size = chunk_size
        self.rules = rule_set()
        self.refs = References()
        self.fields = _insert_fields()
        self.columns = [f.column for f in self.fields]
        self.created = 0
        self.duplicates = 0
        self.rejected: list[tuple[int, str, str, dict[str, str]]] = []
        self.digest = hashlib.sha256()
        self.actor_id = actor_id
        self.now = timezone.now()
        self.future_limit = self.now + dt.timedelta(days=1)
        self.vendor = connection.vendor
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        self.deadline_cache: dict[tuple[dt.date, bool], tuple[dt.date, dt.date]] = {}

    # A rejected row: its line, the column to blame, the reason, the raw values.
    def reject(self, line: int, column: str, reason: str, raw: dict[str, str]) -> None:
        self.rejected.append((line, column, reason, raw))

    def row_values(self, record: CanonicalRecord) -> dict[str, Any] | None:
        """The column values of one record, or None (and a rejection) when it is invalid."""
        source = self.source
        kind = record.kind or source.default_kind or ItemKind.ENQUIRY
        if kind not in KIND_VALUES:
            self.reject(record.line, "kind", f"{kind!r} is not a kind of feedback", record.raw)
            return None
        received_at = record.received_at
        if received_at is None:
            self.reject(record.line, "received_at", "no date received", record.raw)
            return None
        if received_at > self.future_limit:
            self.reject(record.line, "received_at", "the date is in the future", record.raw)
            return None
        score = float(record.score) if record.score is not None else None
        scale = record.scale or (source.default_scale if score is not None else "")
        if score is not None and scale in SCALE_RANGES:
            low, high = SCALE_RANGES[scale]  # type: ignore[index]
            if not low <= score <= high:
                self.reject(
                    record.line,
                    "score",
                    f"{score:g} is outside the {scale} scale {low}–{high}",
                    record.raw,
                )
                return None
        customer_id, region_id = self.refs.customer(record)
        contact_id = None
        if record.contact_email:
            contact = self.refs.contacts.get(record.contact_email.lower())
            if contact and (customer_id is None or contact[1] == customer_id):
                contact_id, customer_id = contact[0], contact[1]
        if record.region:
            region_id = self.refs.regions.get(record.region.casefold(), region_id)
        values = dict(self.defaults)
        text = record.text
        title = record.title[:300]
        values.update(
            source_id=source.pk,
            kind=kind,
            received_at=received_at,
            title=title,
            text=text,
            score=score,
            scale=scale,
            customer_id=customer_id,
            contact_id=contact_id,
            region_id=region_id,
            product_line_id=self.refs.product_lines.get(record.product_line.casefold())
            if record.product_line
            else None,
            external_id=record.external_id[:200],
            tags=list(record.tags),
            raw=record.raw,
            import_batch_id=self.batch.pk if self.batch else None,
            acknowledged_at=record.acknowledged_at,
            resolved_at=record.resolved_at,
            status=ItemStatus.NEW,
            created_at=self.now,
            updated_at=self.now,
            created_by_id=self.actor_id,
            updated_by_id=self.actor_id,
        )
        values["dedupe_key"] = dedupe_key_for(
            values["external_id"],
            received_at=received_at,
            text=text,
            title=title,
            score=score,
            customer_ref=str(customer_id or record.customer_ref or record.customer_name),
        )
        named = self.refs.categories.get(record.category.casefold()) if record.category else None
        suggestion = self.rules.suggest(f"{title}\n{text}") if named is None else None
        if named is not None:
            values["category_id"] = values["suggested_category_id"] = named
        elif suggestion is not None:
            values["category_id"] = values["suggested_category_id"] = suggestion.category_id
            values["suggestion_rule_id"] = suggestion.rule_id
        if score is not None and scale in SCALE_RANGES:
            values["sentiment_score"], values["sentiment_label"] = sentiment_from_score(
                score, scale
            )
            values["sentiment_source"] = SentimentSource.SCORE
        if kind == ItemKind.COMPLAINT:
            values["acknowledge_due"], values["resolve_due"] = self.deadlines(received_at)
        return values

    def deadlines(self, received_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """Complaint targets; working-day arithmetic is cached per local date and time."""
        local = timezone.localtime(received_at)
        key = (local.date(), local.weekday() in settings.WORKING_DAYS)
        cached = self.deadline_cache.get(key)
        if cached is None or local.weekday() not in settings.WORKING_DAYS:
            due = complaint_deadlines(self.source, received_at)
            if local.weekday() in settings.WORKING_DAYS:
                # Same date, same working-day offsets: keep the dates, reapply the time.
                self.deadline_cache[key] = (due[0].date(), due[1].date())
            return due
        tz = timezone.get_current_timezone()
        clock = local.time().replace(tzinfo=None)
        return (
            timezone.make_aware(dt.datetime.combine(cached[0], clock), tz),
            timezone.make_aware(dt.datetime.combine(cached[1], clock), tz),
        )

    def write(
        self,
        records: Iterable[CanonicalRecord | RowError],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        chunk: list[CanonicalRecord] = []
        read = 0
        for record in records:
            read += 1
            if isinstance(record, RowError):
                self.reject(record.line, record.column or "", record.reason, record.raw)
            else:
                chunk.append(record)
            if len(chunk) >= self.chunk_size:
                self.flush(chunk)
                chunk = []
                if progress:
                    progress(read)
        if chunk:
            self.flush(chunk)
        if progress:
            progress(read)
        self.rows_read = read

    def flush(self, records: list[CanonicalRecord]) -> None:
        self.refs.load(records)
        candidates: dict[str, dict[str, Any]] = {}
        for record in records:
            values = self.row_values(record)
            if values is None:
                continue
            if values["dedupe_key"] in candidates:
                self.duplicates += 1
                continue
            candidates[values["dedupe_key"]] = values
        if not candidates:
            return
        with transaction.atomic():
            existing = set(
                FeedbackItem.objects.filter(
                    source=self.source, dedupe_key__in=list(candidates)
                ).values_list("dedupe_key", flat=True)
            )
            self.duplicates += len(existing)
            new = [v for key, v in candidates.items() if key not in existing]
            if not new or self.dry_run:
                self.created += len(new)
                return
            numbers = reserve_numbers(FeedbackItem.number_prefix, len(new))
            complaints = [v for v in new if v["kind"] == ItemKind.COMPLAINT]
            complaint_numbers = iter(reserve_numbers(COMPLAINT_PREFIX, len(complaints)))
            chunk_digest = hashlib.sha256()
            for values, number in zip(new, numbers, strict=True):
                values["number"] = number
                if values["kind"] == ItemKind.COMPLAINT:
                    values["complaint_number"] = next(complaint_numbers)
                line = f"{number}\t{values['dedupe_key']}\t{values['received_at'].isoformat()}\n"
                chunk_digest.update(line.encode())
                self.digest.update(line.encode())
            self.insert(new)
            self.created += len(new)
            audit.record(
                "importbatch.rows_added" if self.batch else "feedbackitem.bulk_added",
                self.batch,
                object_type="feedback.feedbackitem" if self.batch is None else "",
                changes={
                    "source": self.source.name,
                    "rows": len(new),
                    "first": numbers[0],
                    "last": numbers[-1],
                    "digest": chunk_digest.hexdigest(),
                },
            )

    def insert(self, rows: list[dict[str, Any]]) -> None:
        table = FeedbackItem._meta.db_table
        attnames = [f.attname for f in self.fields]
        if self.vendor == "postgresql":
            self._copy(table, attnames, rows)
            return
        json_names = {f.attname for f in self.fields if f.get_internal_type() == "JSONField"}
        time_names = {f.attname for f in self.fields if f.get_internal_type() == "DateTimeField"}
        utc = dt.UTC

        # SQLite keeps datetimes as naive UTC text, as Django's own adapter writes them.
        def sqlite_time(value: dt.datetime | None) -> str | None:
            if value is None:
                return None
            return value.astimezone(utc).replace(tzinfo=None).isoformat(" ")

        dumps = json.dumps
        converters = [
            (name, "json" if name in json_names else "time" if name in time_names else "")
            for name in attnames
        ]
        tuples = [
            [
                dumps(values.get(name), ensure_ascii=False)
                if how == "json"
                else sqlite_time(values.get(name))
                if how == "time"
                else values.get(name)
                for name, how in converters
            ]
            for values in rows
        ]
        placeholders = ", ".join(["?"] * len(self.columns))
        sql = f'INSERT INTO "{table}" ({", ".join(self.columns)}) VALUES ({placeholders})'  # noqa: S608 - our own column names
        # The raw sqlite3 cursor: Django's wrapper would rewrite the placeholders per call.
        connection.ensure_connection()
        connection.connection.executemany(sql, tuples)

    def _copy(self, table: str, attnames: list[str], rows: list[dict[str, Any]]) -> None:
        json_names = {f.attname for f in self.fields if f.get_internal_type() == "JSONField"}
        columns = ", ".join(f'"{c}"' for c in self.columns)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:  # type: ignore[union-attr]
                for values in rows:
                    copy.write_row(
                        [
                            json.dumps(values.get(n), ensure_ascii=False)
                            if n in json_names
                            else values.get(n)
                            for n in attnames
                        ]
                    )

    def rejects_csv(self) -> bytes | None:
        if not self.rejected:
            return None
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["line", "column", "reason", "original values"])
        for line, column, reason, raw in sorted(self.rejected, key=lambda r: r[0]):
            writer.writerow([line, column, reason, json.dumps(raw, ensure_ascii=False)[:10000]])
        return out.getvalue().encode("utf-8-sig")


# --------------------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------------------


def create_batch(
    *,
    source: PerceptionSource,
    upload: Any,
    name: str,
    options: Options,
    dry_run: bool = False,
) -> ImportBatch:
    """Store the original file as evidence and create the (pending) batch."""
    if not source.active:
        raise ImportError_(f"The source {source} is retired; choose an active one.")
    evidence = store_file(upload, name=name, purpose="import", max_size=MAX_UPLOAD)
    if evidence.size == 0:
        raise ImportError_(f"{name} is empty.")
    if options.preset:
        _header_rows(options.preset)
    return ImportBatch.objects.create(
        source=source,
        file=evidence,
        preset=options.preset or "",
        options=options.as_dict(),
        dry_run=dry_run,
    )


def run_import(batch: ImportBatch, *, progress: Callable[[int], None] | None = None) -> ImportBatch:
    """Read the batch's file and write its rows; the batch records counts and rejects.

    Causes: `importbatch.started`, one `importbatch.rows_added` per chunk and
    `importbatch.completed` (or `importbatch.failed`) audit events.
    """
    options = Options.from_dict(batch.options)
    batch.status = BatchStatus.RUNNING
    batch.started_at = timezone.now()
    batch.save(update_fields=["status", "started_at"], audit_action="importbatch.started")
    writer = BulkWriter(
        batch.source, batch=batch, dry_run=batch.dry_run, actor_id=batch.created_by_id
    )
    try:
        with _open(batch.file, options) as table:
            preset = get_preset(options.preset) if options.preset else detect_preset(table)
            if not batch.preset:
                batch.preset = preset.key
            context = options.context(table)
            writer.write((preset.map_row(row, context) for row in table), progress=progress)
    except (ImportError_, ReaderError, IntegrityError, ValueError) as exc:
        return _finish(batch, writer, failed=str(exc))
    return _finish(batch, writer)


def _finish(batch: ImportBatch, writer: BulkWriter, failed: str = "") -> ImportBatch:
    rejects = writer.rejects_csv()
    if rejects:
        batch.rejects_file = store_file(
            io.BytesIO(rejects),
            name=f"{batch.number}-rejected.csv",
            content_type="text/csv",
            purpose="import rejects",
        )
    batch.rows_read = getattr(writer, "rows_read", 0)
    batch.created_count = writer.created
    batch.duplicate_count = writer.duplicates
    batch.rejected_count = len(writer.rejected)
    batch.rows_digest = writer.digest.hexdigest() if writer.created and not batch.dry_run else ""
    batch.finished_at = timezone.now()
    batch.status = BatchStatus.FAILED if failed else BatchStatus.COMPLETED
    batch.message = failed or summary(batch)
    batch.save(audit_action="importbatch.failed" if failed else "importbatch.completed")
    return batch


def summary(batch: ImportBatch) -> str:
    verb = "would create" if batch.dry_run else "created"
    return (
        f"{batch.rows_read:,} rows read: {batch.created_count:,} {verb}, "
        f"{batch.duplicate_count:,} duplicates, {batch.rejected_count:,} rejected."
    )


def rejected_rows(batch: ImportBatch, limit: int = REJECT_SAMPLE) -> list[list[str]]:
    """The first rejected rows (line, column, reason) from the stored CSV."""
    if batch.rejects_file is None:
        return []
    with batch.rejects_file.open() as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig")
        reader = csv.reader(text)
        next(reader, None)
        rows = []
        for row in reader:
            rows.append(row[:3])
            if len(rows) >= limit:
                break
    return rows


# --------------------------------------------------------------------------------------
# Sentiment follow-up
# --------------------------------------------------------------------------------------

SENTIMENT_CHUNK = 20_000


def pending_sentiment(batch: ImportBatch | None = None) -> Any:
    items = FeedbackItem.objects.filter(sentiment_source="").exclude(text="", title="")
    return items.filter(import_batch=batch) if batch is not None else items


def score_sentiment(
    batch: ImportBatch | None = None,
    *,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Score free text with the lexicon model for items that have no sentiment yet.

    Uses every core (sentiment.score_many); updates in chunks and keeps the batch's
    progress counter, so the batch page shows how far it got. One audit event at the end.
    """
    from . import sentiment

    done = 0
    last_pk = 0
    while True:
        chunk = list(
            pending_sentiment(batch)
            .filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "title", "text")[:SENTIMENT_CHUNK]
        )
        if not chunk:
            break
        last_pk = chunk[-1][0]
        texts = (f"{title}. {text}" if title else text for _, title, text in chunk)
        updates = [
            (result.compound, result.label, SentimentSource.LEXICON, pk)
            for (pk, _, _), result in zip(
                chunk, sentiment.score_many(texts, workers=workers), strict=True
            )
        ]
        table = FeedbackItem._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f'UPDATE "{table}" SET sentiment_score = %s, sentiment_label = %s, '  # noqa: S608 - our own names
                "sentiment_source = %s WHERE id = %s",
                updates,
            )
            done += len(updates)
            if batch is not None:
                ImportBatch.objects.filter(pk=batch.pk).update(sentiment_done=done)
        if progress:
            progress(done)
    if done:
        audit.record(
            "importbatch.sentiment_scored" if batch else "feedbackitem.sentiment_scored",
            batch,
            object_type="" if batch else "feedback.feedbackitem",
            changes={"items": done, "model": "VADER 3.3.2 lexicon"},
        )
    return done


__all__ = [
    "BulkWriter",
    "ImportError_",
    "Options",
    "Preview",
    "create_batch",
    "preview",
    "rejected_rows",
    "run_import",
    "score_sentiment",
    "summary",
]
