"""Importing feedback files: preview, then a streaming, resumable, audited bulk load.

The file is read row by row (importers/readers.py), mapped to canonical records by a
preset (importers/presets.py), validated, classified by the keyword rules and written
in chunks. Each chunk is one transaction: its new rows (those whose de-duplication key
is not yet stored for the source), their record numbers, and one audit event with the
chunk's count, first and last number and a digest of what it wrote. A failure stops
the batch with the reason; running the same file again lands only what is missing,
so an interrupted import can be resumed and a repeated one adds nothing.

Rows are written with the database's bulk path (executemany on SQLite, COPY on
PostgreSQL) rather than one ORM save per row. For large files a forked second process
reads, maps and shapes the rows (everything without the database) while this one
writes them, chunk by chunk in file order, with the same result as doing it all here.
Lexicon sentiment of free text runs afterwards as a separate task (`score_sentiment`)
on both cores.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import hashlib
import io
import json
import multiprocessing
import operator
import os
import pickle
import threading
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
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
from .classify import RuleSet
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
    rule_set,
    sentiment_from_score,
)

KIND_VALUES = frozenset(ItemKind.values)
# Rows per transaction. Larger chunks write each page of the date indexes once for more
# rows (see BulkWriter._session); 20,000 rows hold the write lock for about a second.
CHUNK_SIZE = 20_000
# Files from this size on are read in a second process (BulkWriter.write_from_file);
# below it (about 25,000 rows of short text) starting that process does not pay.
PARALLEL_MIN_BYTES = 8 * 1024 * 1024
# SQLite's page cache during an import, in KiB (the default is 2,000).
SQLITE_CACHE_KIB = 128 * 1024
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
                date_order=self.date_order or None,
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
    """The stored file as a table."""
    with file.open() as handle, _table(handle, file.name, options) as table:
        yield table


@contextmanager
def _table(handle: IO[bytes], name: str, options: Options) -> Iterator[Any]:
    """An open file as a table; the format follows the uploaded name where it tells."""
    extension = os.path.splitext(name)[1].lower()
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

    def load(self, refs: set[str], names: set[str], emails: set[str]) -> None:
        """Look up the customers (by reference or name) and contacts (by lower-case
        address) one chunk names."""
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

    def customer(self, ref: str, name: str) -> tuple[int | None, int | None]:
        """(customer, its region) by reference, else by name; (None, None) if neither."""
        if ref and "ref:" + ref in self.customers:
            return self.customers["ref:" + ref]
        if name and "name:" + name in self.customers:
            return self.customers["name:" + name]
        return None, None


# --------------------------------------------------------------------------------------
# Shaping records into table rows (no database: it runs in the reading process too)
# --------------------------------------------------------------------------------------

# The columns the writer fills once the chunk's customers and record numbers are known;
# they lead every row written, followed by VARYING and then the import's constants.
RESOLVED = ("number", "complaint_number", "customer_id", "contact_id", "region_id", "dedupe_key")
# The columns RowShaper.shape_row fills for each record, in this order.
VARYING = (
    "kind",
    "received_at",
    "title",
    "text",
    "score",
    "scale",
    "product_line_id",
    "external_id",
    "tags",
    "raw",
    "acknowledged_at",
    "resolved_at",
    "category_id",
    "suggested_category_id",
    "suggestion_rule_id",
    "sentiment_score",
    "sentiment_label",
    "sentiment_source",
    "acknowledge_due",
    "resolve_due",
)

# Where received_at sits in a row as written (see BulkWriter.store).
_RECEIVED_AT = operator.itemgetter(len(RESOLVED) + VARYING.index("received_at"))

Reject = tuple[int, str, str, dict[str, str]]
"""A rejected row: its line, the column to blame, the reason, the raw values."""

ShapedRow = tuple[tuple[Any, ...], str | None, str | None, str, str, str, str, int | None]
"""One valid record as a row: the VARYING values (ready for the database), its
de-duplication key (None when it depends on the customer), the content key's JSON
before the customer (when the key is None), the received time as ISO text (for the
digest), the customer reference and name, the lower-case contact address and the
record's own region (None: the customer's)."""


@dataclass
class Chunk:
    """What the writer stores in one transaction: up to `chunk_size` valid records as
    rows, the rows rejected since the previous chunk, and how many rows were read by
    then. `full` chunks report progress; the last one may be short. `error` is what
    stopped the reading or shaping; the writer raises it after taking in the rest."""

    read: int
    rejected: list[Reject]
    rows: list[ShapedRow]
    lookups: tuple[set[str], set[str], set[str]]
    full: bool
    error: BaseException | None = None


_UTC = dt.UTC


def _json_encoder() -> Callable[[Any], str]:
    """json.dumps(value, ensure_ascii=False), with its C encoder made once.

    JSONEncoder.encode makes a new C encoder (and a dict for the circular-reference check)
    on every call: half the time of encoding a row's original record. What is encoded here
    is parsed file content, never self-referencing, so that check is left out.
    """
    plain = json.JSONEncoder(ensure_ascii=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return plain.encode
    encode = make(
        None,  # no circular-reference check
        plain.default,
        json.encoder.encode_basestring,
        None,  # indent
        plain.key_separator,
        plain.item_separator,
        plain.sort_keys,
        plain.skipkeys,
        plain.allow_nan,
    )
    return lambda value: "".join(encode(value, 0))


_dumps = _json_encoder()


def _sqlite_time(value: dt.datetime | None) -> str | None:
    """SQLite keeps datetimes as naive UTC text, as Django's own adapter writes them."""
    if value is None:
        return None
    return value.astimezone(_UTC).replace(tzinfo=None).isoformat(" ")


def _keep(value: Any) -> Any:
    return value


def _content_key(head: str, customer_ref: str) -> str:
    """services.content_key, from the JSON of everything but the customer reference.

    The writer learns the customer only after the reading process has shaped the row,
    so the payload's JSON is finished here: the same text, hence the same key.
    """
    payload = f"{head}, {_dumps(customer_ref)}]"
    return "h:" + hashlib.sha256(payload.encode()).hexdigest()


def _content_head(received_at: dt.datetime, title: str, text: str, score: float | None) -> str:
    """The JSON of services.content_key's payload without the closing customer reference."""
    payload = [received_at.astimezone(_UTC).isoformat(), title.strip(), text.strip(), score]
    return _dumps(payload)[:-1]


class RowShaper:
    """Turns canonical records of one source into rows for the table, without the database.

    Validates each record (kind, date, score range), works out its product line, named
    or suggested category, sentiment from the score and complaint deadlines, and makes
    the values database-ready (JSON text; naive UTC text for SQLite). What needs the
    database (customers, contacts, de-duplication, numbers) is left to the writer. It is
    made in the importing process and runs there or in the reading process, so everything
    it needs is read up front.
    """

    def __init__(
        self,
        source: PerceptionSource,
        *,
        refs: References,
        rules: RuleSet,
        now: dt.datetime,
        vendor: str,
    ) -> None:
        self.source = source
        self.default_kind = source.default_kind
        self.default_scale = source.default_scale
        self.product_lines = refs.product_lines
        self.regions = refs.regions
        self.categories = refs.categories
        self.rules = rules
        self.future_limit = now + dt.timedelta(days=1)
        self.time = _sqlite_time if vendor == "sqlite" else _keep
        self.sentiments: dict[tuple[float, str], tuple[float, str]] = {}
        self.deadline_cache: dict[dt.date, tuple[dt.date, dt.date]] = {}
        self.off_day_deadlines: dict[dt.date, tuple[dt.datetime, dt.datetime]] = {}
        # Read once: the reading process uses them for every row.
        self.tz = timezone.get_current_timezone()
        self.working_days = frozenset(settings.WORKING_DAYS)

    def shape_row(self, record: CanonicalRecord, rejected: list[Reject]) -> ShapedRow | None:
        """One record as a row, or None (and a rejection) when it is invalid."""
        kind = record.kind or self.default_kind or ItemKind.ENQUIRY
        if kind not in KIND_VALUES:
            rejected.append(
                (record.line, "kind", f"{kind!r} is not a kind of feedback", record.raw)
            )
            return None
        received_at = record.received_at
        if received_at is None:
            rejected.append((record.line, "received_at", "no date received", record.raw))
            return None
        if received_at > self.future_limit:
            rejected.append((record.line, "received_at", "the date is in the future", record.raw))
            return None
        score = float(record.score) if record.score is not None else None
        scale = record.scale or (self.default_scale if score is not None else "")
        ranged = score is not None and scale in SCALE_RANGES
        if ranged:
            low, high = SCALE_RANGES[scale]  # type: ignore[index]
            if not low <= score <= high:  # type: ignore[operator]
                reason = f"{score:g} is outside the {scale} scale {low}–{high}"
                rejected.append((record.line, "score", reason, record.raw))
                return None
        text = record.text
        title = record.title[:300]
        external_id = record.external_id[:200]
        key_id = external_id.strip()  # services.dedupe_key_for, when there is an id
        key = "x:" + key_id[:200] if key_id else None
        head = None if key else _content_head(received_at, title, text, score)

        named = self.categories.get(record.category.casefold()) if record.category else None
        category_id = rule_id = None
        if named is not None:
            category_id = named
        else:
            suggestion = self.rules.suggest(f"{title}\n{text}")
            if suggestion is not None:
                category_id, rule_id = suggestion.category_id, suggestion.rule_id
        sentiment_score, sentiment_label, sentiment_source = None, "", ""
        if ranged:
            sentiment_score, sentiment_label = self.sentiment(score, scale)  # type: ignore[arg-type]
            sentiment_source = SentimentSource.SCORE.value
        acknowledge_due = resolve_due = None
        if kind == ItemKind.COMPLAINT:
            acknowledge_due, resolve_due = self.deadlines(received_at)

        time = self.time
        acknowledged_at, resolved_at = record.acknowledged_at, record.resolved_at
        varying = (
            kind,
            time(received_at),
            title,
            text,
            score,
            scale,
            self.product_lines.get(record.product_line.casefold()) if record.product_line else None,
            external_id,
            _dumps(list(record.tags)) if record.tags else "[]",
            _dumps(record.raw),
            None if acknowledged_at is None else time(acknowledged_at),
            None if resolved_at is None else time(resolved_at),
            category_id,
            category_id,
            rule_id,
            sentiment_score,
            sentiment_label,
            sentiment_source,
            None if acknowledge_due is None else time(acknowledge_due),
            None if resolve_due is None else time(resolve_due),
        )
        region = self.regions.get(record.region.casefold()) if record.region else None
        return (
            varying,
            key,
            head,
            received_at.isoformat(),
            record.customer_ref,
            record.customer_name,
            record.contact_email.lower(),
            region,
        )

    def sentiment(self, score: float, scale: str) -> tuple[float, str]:
        """services.sentiment_from_score, remembered: a file has only a few distinct scores."""
        key = (score, scale)
        known = self.sentiments.get(key)
        if known is None:
            known = self.sentiments[key] = sentiment_from_score(score, scale)
        return known

    def deadlines(self, received_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """Complaint targets (services.complaint_deadlines); the working-day arithmetic is
        done once per local date."""
        local = received_at.astimezone(self.tz)
        day = local.date()
        if local.weekday() not in self.working_days:
            # add_working_days counts from the start of the next working day: the time of
            # day drops out, and the targets are those of the date.
            due = self.off_day_deadlines.get(day)
            if due is None:
                due = self.off_day_deadlines[day] = complaint_deadlines(self.source, received_at)
            return due
        cached = self.deadline_cache.get(day)
        if cached is None:
            due = complaint_deadlines(self.source, received_at)
            # Same date, same working-day offsets: keep the dates, reapply the time.
            self.deadline_cache[day] = (due[0].date(), due[1].date())
            return due
        # timezone.make_aware(datetime.combine(date, clock), tz), which is what
        # add_working_days ends with, without its checks; the clock keeps its fold.
        clock = local.time()
        tz = self.tz
        return dt.datetime.combine(cached[0], clock, tz), dt.datetime.combine(cached[1], clock, tz)


def chunks(
    records: Iterable[CanonicalRecord | RowError], shaper: RowShaper, chunk_size: int
) -> Iterator[Chunk]:
    """Group mapped records into the writer's chunks of `chunk_size` valid records each,
    shaped as they come (so a chunk's records are never held all at once), with the
    rejections met on the way.

    Errors come out where a writer taking whole chunks of records would have raised them:
    an error while reading ends the stream with a chunk of the rows rejected so far; an
    error while shaping stops the shaping, and the chunk is read to its end and passed
    on with the error.
    """
    read = size = 0
    rows: list[ShapedRow] = []
    rejected: list[Reject] = []  # by the preset, as read
    invalid: list[Reject] = []  # by the shaper
    lookups: tuple[set[str], set[str], set[str]] = (set(), set(), set())
    error: Exception | None = None
    try:
        for record in records:
            read += 1
            if isinstance(record, RowError):
                rejected.append((record.line, record.column or "", record.reason, record.raw))
            else:
                size += 1
                if record.customer_ref:
                    lookups[0].add(record.customer_ref)
                if record.customer_name:
                    lookups[1].add(record.customer_name)
                if record.contact_email:
                    lookups[2].add(record.contact_email.lower())
                if error is None:
                    try:
                        row = shaper.shape_row(record, invalid)
                    except Exception as exc:  # raised by the writer with this chunk
                        error = exc
                    else:
                        if row is not None:
                            rows.append(row)
            if size >= chunk_size:
                yield Chunk(read, rejected + invalid, rows, lookups, full=True, error=error)
                if error is not None:
                    return
                size = 0
                rows, rejected, invalid = [], [], []
                lookups = (set(), set(), set())
    except Exception as exc:  # raised by the writer, after the rows rejected so far
        yield Chunk(read, rejected, [], (set(), set(), set()), full=False, error=exc)
        return
    if size or rejected:
        yield Chunk(read, rejected + invalid, rows, lookups, full=False, error=error)


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
        chunk_size: int | None = None,
        actor_id: int | None = None,
    ) -> None:
        self.source = source
        self.batch = batch
        self.dry_run = dry_run
        self.chunk_size = chunk_size or CHUNK_SIZE
        self.refs = References()
        self.created = 0
        self.duplicates = 0
        self.rows_read = 0
        self.rejected: list[Reject] = []
        self.digest = hashlib.sha256()
        self.actor_id = actor_id
        self.now = timezone.now()
        self.vendor = connection.vendor
        self.shaper = RowShaper(
            source, refs=self.refs, rules=rule_set(), now=self.now, vendor=self.vendor
        )
        fields = {f.attname: f for f in _insert_fields()}
        constant = [f for name, f in fields.items() if name not in RESOLVED + VARYING]
        self.columns = [fields[name].column for name in RESOLVED + VARYING]
        self.columns += [f.column for f in constant]
        # What every row of this import shares: the field defaults, then who and when.
        shared = {f.attname: f.get_default() for f in constant}
        shared.update(
            source_id=source.pk,
            import_batch_id=batch.pk if batch else None,
            status=ItemStatus.NEW.value,
            created_at=self.now,
            updated_at=self.now,
            created_by_id=actor_id,
            updated_by_id=actor_id,
        )
        prepare: dict[str, Callable[[Any], Any]] = {
            "JSONField": _dumps,
            "DateTimeField": self.shaper.time,
        }
        self.constants = tuple(
            prepare.get(f.get_internal_type(), _keep)(shared[f.attname]) for f in constant
        )

    def write(
        self,
        records: Iterable[CanonicalRecord | RowError],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Write records read in this process."""
        with self._session():
            self.write_chunks(chunks(records, self.shaper, self.chunk_size), progress)

    def write_chunks(
        self, stream: Iterable[Chunk], progress: Callable[[int], None] | None = None
    ) -> None:
        """Store chunks in their order; progress is told the rows read after each full one."""
        read = 0
        for chunk in stream:
            read = chunk.read
            self.rejected.extend(chunk.rejected)
            self.store(chunk)
            if chunk.full and progress:
                progress(read)
        if progress:
            progress(read)
        self.rows_read = read

    def store(self, chunk: Chunk) -> None:
        """One chunk: its new rows, their numbers and one audit event, in one transaction."""
        if chunk.rows:
            self.refs.load(*chunk.lookups)
        refs = self.refs
        candidates: dict[str, tuple[Any, ...]] = {}
        for varying, key, head, received, ref, name, email, region in chunk.rows:
            customer_id, region_id = refs.customer(ref, name)
            contact_id = None
            if email:
                contact = refs.contacts.get(email)
                if contact and (customer_id is None or contact[1] == customer_id):
                    contact_id, customer_id = contact
            if region is not None:
                region_id = region
            if key is None:
                key = _content_key(head or "", str(customer_id or ref or name))
            if key in candidates:
                self.duplicates += 1
                continue
            candidates[key] = (customer_id, contact_id, region_id, varying, received)
        if chunk.error is not None:
            raise chunk.error
        if not candidates:
            return
        with transaction.atomic():
            existing = self._existing(list(candidates))
            self.duplicates += len(existing)
            new = [(key, row) for key, row in candidates.items() if key not in existing]
            if not new or self.dry_run:
                self.created += len(new)
                return
            numbers = reserve_numbers(FeedbackItem.number_prefix, len(new))
            complaints = sum(1 for _, row in new if row[3][0] == ItemKind.COMPLAINT)
            complaint_numbers = iter(reserve_numbers(COMPLAINT_PREFIX, complaints))
            constants = self.constants
            lines = []
            params = []
            for (key, (customer_id, contact_id, region_id, varying, received)), number in zip(
                new, numbers, strict=True
            ):
                complaint_number = (
                    next(complaint_numbers) if varying[0] == ItemKind.COMPLAINT else None
                )
                lines.append(f"{number}\t{key}\t{received}\n")
                resolved = (number, complaint_number, customer_id, contact_id, region_id, key)
                params.append((*resolved, *varying, *constants))
            written = "".join(lines).encode()
            self.digest.update(written)
            # Inserted in date order (a stable sort: rows received at the same moment keep
            # the file's order, and so their order in lists, which break ties by id). The
            # indexes that hold received_at then take the chunk page after page instead of
            # all over them: at a million rows SQLite does a fifth less work. The numbers
            # were given in file order above.
            params.sort(key=_RECEIVED_AT)
            self.insert(params)
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
                    "digest": hashlib.sha256(written).hexdigest(),
                },
            )

    def _existing(self, keys: list[str]) -> set[str]:
        """The keys already stored for the source.

        One query with the keys as a single parameter (an array, or JSON for SQLite):
        the ORM's IN list would prepare each of a chunk's keys as a separate parameter.
        """
        table = FeedbackItem._meta.db_table
        keys_param: list[str] | str
        if self.vendor == "postgresql":
            match, keys_param = "= ANY(%s)", keys
        else:
            match, keys_param = "IN (SELECT value FROM json_each(%s))", json.dumps(keys)
        sql = f'SELECT dedupe_key FROM "{table}" WHERE source_id = %s AND dedupe_key {match}'  # noqa: S608 - our own names
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.source.pk, keys_param])
            return {key for (key,) in cursor.fetchall()}

    def insert(self, params: list[tuple[Any, ...]]) -> None:
        """Insert rows holding a value for each of `self.columns`, in that order."""
        table = FeedbackItem._meta.db_table
        if self.vendor == "postgresql":
            columns = ", ".join(f'"{c}"' for c in self.columns)
            with connection.cursor() as cursor:
                raw = cursor.cursor
                with raw.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                    for row in params:
                        copy.write_row(row)
            return
        placeholders = ", ".join(["?"] * len(self.columns))
        sql = f'INSERT INTO "{table}" ({", ".join(self.columns)}) VALUES ({placeholders})'  # noqa: S608 - our own column names
        # The raw sqlite3 cursor: Django's wrapper would rewrite the placeholders per call.
        connection.ensure_connection()
        connection.connection.executemany(sql, params)

    def rejects_csv(self) -> bytes | None:
        if not self.rejected:
            return None
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["line", "column", "reason", "original values"])
        for line, column, reason, raw in sorted(self.rejected, key=lambda r: r[0]):
            writer.writerow([line, column, reason, json.dumps(raw, ensure_ascii=False)[:10000]])
        return out.getvalue().encode("utf-8-sig")

    @contextmanager
    def _session(self) -> Iterator[None]:
        """A larger page cache for the import on SQLite, given back at the end.

        The table's indexes on received_at take rows in date order, which a file rarely
        is in: each chunk touches pages all over them, and with SQLite's default 2 MB
        cache those pages are read and written again for every chunk.
        """
        if self.vendor != "sqlite":
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            previous = int(cursor.fetchone()[0])
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {previous}")

    # ----------------------------------------------------------------------------------
    # Reading in a second process
    # ----------------------------------------------------------------------------------

    def write_from_file(self, job: ReadJob, progress: Callable[[int], None] | None = None) -> None:
        """Write the rows of a stored file that a forked process reads, maps and shapes.

        Reading, mapping and shaping are pure Python and take as long as the database
        work, so a second process does them while this one writes: it hands over each
        chunk as it is complete, and stays at most one chunk ahead, so memory holds two
        chunks whatever the size of the file. The chunks are those of `write`, in file
        order, so counts, rejections, numbers, audit events and digests are the same.
        """
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        # The child inherits this process's memory, database connections included. It
        # never uses them; closing the idle ones first means it holds no open socket at
        # all (a connection inside a transaction stays: closing it would end that).
        for alias in connections:
            if not connections[alias].in_atomic_block:
                connections[alias].close()
        reader = context.Process(
            target=_read_in_child,
            args=(job, self.shaper, self.chunk_size, sender),
            name="harken-import-reader",
            daemon=True,
        )
        reader.start()
        sender.close()
        try:
            with self._session():
                self.write_chunks(_received(receiver, reader), progress)
        finally:
            receiver.close()
            if reader.is_alive():
                reader.terminate()  # we stopped early: it may be waiting to hand over a chunk
            reader.join()


@dataclass
class ReadJob:
    """What the reading process needs to read a stored file as the importing one would."""

    path: str
    name: str
    options: Options
    preset: str


def _read_in_child(job: ReadJob, shaper: RowShaper, chunk_size: int, sender: Any) -> None:
    """The reading process: read, map and shape the file, sending the chunks in order and
    None at the end. It never touches the database."""
    # What the child inherited (the whole application) stays alive until it exits: keep it
    # out of the garbage collector's full passes, which a chunk's allocations set off.
    gc.freeze()
    try:
        try:
            with open(job.path, "rb") as handle, _table(handle, job.name, job.options) as table:
                preset = get_preset(job.preset)
                context = job.options.context(table)
                rows = (preset.map_row(row, context) for row in table)
                for chunk in chunks(rows, shaper, chunk_size):
                    _send(sender, chunk)
        except Exception as exc:  # the file could not be opened again
            _send(sender, Chunk(0, [], [], (set(), set(), set()), full=False, error=exc))
        else:
            sender.send(None)
    except OSError:
        pass  # the importing process stopped listening: it failed, and ends this one
    finally:
        sender.close()


def _send(sender: Any, chunk: Chunk) -> None:
    """Send a chunk; an error that cannot be pickled goes as its type and message."""
    try:
        sender.send(chunk)
    except (pickle.PicklingError, TypeError, AttributeError):
        if chunk.error is None:
            raise
        chunk.error = RuntimeError(f"{type(chunk.error).__name__}: {chunk.error}")
        sender.send(chunk)


def _received(receiver: Any, reader: Any) -> Iterator[Chunk]:
    """The chunks the reading process sends, until its end mark."""
    while True:
        try:
            chunk = receiver.recv()
        except EOFError:
            reader.join()
            raise ImportError_(
                f"The process reading the file stopped unexpectedly (exit code {reader.exitcode})."
            ) from None
        if chunk is None:
            return
        yield chunk
        if chunk.error is not None:
            return


def _can_fork() -> bool:
    """Whether a reading process can be forked here safely.

    Only without other Python threads: one of them (a progress bar's refresh thread)
    might hold a lock at the moment of the fork that the child would then wait for
    forever. Daemonic processes may not have children.
    """
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and not multiprocessing.current_process().daemon
    )


def _local_path(file: EvidenceFile) -> str | None:
    """The stored file's path on this machine, or None when the storage has none."""
    from django.core.files.storage import default_storage

    try:
        return str(default_storage.path(file.path))
    except NotImplementedError:
        return None


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
    evidence = store_file(upload, name=name, purpose="import", max_size=MAX_UPLOAD, uploaded=True)
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


def run_import(
    batch: ImportBatch,
    *,
    progress: Callable[[int], None] | None = None,
    parallel: bool | None = None,
) -> ImportBatch:
    """Read the batch's file and write its rows; the batch records counts and rejects.

    Files of PARALLEL_MIN_BYTES and more are read, mapped and shaped by a forked second
    process while this one writes (BulkWriter.write_from_file), when the storage keeps
    the file on this machine and this process may fork; `parallel` forces that path on
    (where possible) or off. Both paths give the same result.

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
            path = _local_path(batch.file) if parallel is not False and _can_fork() else None
            if path is not None and (parallel or batch.file.size >= PARALLEL_MIN_BYTES):
                job = ReadJob(path, batch.file.name, options, preset.key)
                writer.write_from_file(job, progress=progress)
            else:
                writer.write((preset.map_row(row, context) for row in table), progress=progress)
    except (ImportError_, ReaderError, IntegrityError, ValueError) as exc:
        return _finish(batch, writer, failed=str(exc))
    except DatabaseError as exc:
        # The connection dropped (or the server went away) mid-import: the chunks written
        # before stay, the one in flight was rolled back whole. A fresh connection records
        # the failure; running the same file again lands only the rows still missing.
        if not connection.in_atomic_block:
            connection.close()
        return _finish(
            batch,
            writer,
            failed=f"The database connection failed during the import ({exc}). "
            f"{writer.created:,} rows were written; import the same file again to add the rest.",
        )
    return _finish(batch, writer)


# Imports of this many rows and more refresh the query planner's statistics afterwards.
STATISTICS_AFTER_ROWS = 10_000


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
    if writer.created >= STATISTICS_AFTER_ROWS:
        # A large import changes the table's shape; SQLite's planner needs to know.
        from harken.core.ticks import refresh_statistics

        refresh_statistics()
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
            if connection.vendor == "postgresql":
                # One statement for the chunk, from arrays: a statement per row costs
                # PostgreSQL a round trip and a plan each (about a third of the time).
                scores, labels, _, pks = zip(*updates, strict=True)
                cursor.execute(
                    f'UPDATE "{table}" AS item SET sentiment_score = v.score, '  # noqa: S608 - our own names
                    "sentiment_label = v.label, sentiment_source = %s "
                    "FROM unnest(%s::bigint[], %s::float8[], %s::text[]) AS v(id, score, label) "
                    "WHERE item.id = v.id",
                    [SentimentSource.LEXICON.value, list(pks), list(scores), list(labels)],
                )
            else:
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
