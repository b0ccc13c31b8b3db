"""Presets: how the export of each tool maps to Harken's canonical feedback fields.

A :class:`Preset` knows one tool's export layout: which columns identify it (so
:func:`detect_preset` can suggest it), how many header rows it has, and which column feeds which
canonical field. ``preset.map_row(row, context)`` turns one :class:`~.readers.Row` into a
:class:`CanonicalRecord` (the values the Django importer stores, plus the raw row as evidence)
or a :class:`RowError` naming the line, the column and the reason.

The :class:`MapContext` carries the user's choices: the table's columns, the time zone of naive
dates, the date order, the score column and scale, and a ``mapping`` of canonical field → column
that always overrides the preset's default for that field. The generic preset is driven by the
mapping alone.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .readers import Column, Row, Table
from .values import (
    SCALES,
    DateOrder,
    clean_text,
    duration_unit_for,
    normalise_email,
    parse_bool,
    parse_datetime,
    parse_duration,
    parse_score,
)

__all__ = [
    "CANONICAL_FIELDS",
    "KINDS",
    "MAPPABLE_FIELDS",
    "PRESETS",
    "CanonicalRecord",
    "MapContext",
    "Preset",
    "Problem",
    "RowError",
    "detect_preset",
    "get_preset",
    "kind_from_text",
    "rank_presets",
]

CANONICAL_FIELDS: tuple[str, ...] = (
    "external_id",
    "received_at",
    "kind",
    "title",
    "text",
    "score",
    "scale",
    "customer_name",
    "customer_ref",
    "contact_name",
    "contact_email",
    "product_line",
    "region",
    "category",
    "status",
    "acknowledged_at",
    "resolved_at",
    "tags",
    "channel",
    "language",
    "extra",
)
"""The fields of a feedback item, as the Django side names them."""

KINDS: tuple[str, ...] = (
    "complaint",
    "compliment",
    "suggestion",
    "enquiry",
    "survey_response",
    "review",
    "return_claim",
    "escalation",
)

_TEXT_FIELDS = (
    "external_id",
    "title",
    "text",
    "customer_name",
    "customer_ref",
    "contact_name",
    "product_line",
    "region",
    "category",
    "status",
    "channel",
    "language",
)
_DATE_FIELDS = ("received_at", "acknowledged_at", "resolved_at")
MAPPABLE_FIELDS: tuple[str, ...] = (
    *_TEXT_FIELDS,
    "contact_email",
    *_DATE_FIELDS,
    "score",
    "kind",
    "tags",
)
"""Canonical fields a column can be mapped to (``scale`` comes from the context, ``extra`` from
the preset or ``MapContext.extra_columns``)."""


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class CanonicalRecord:
    """One feedback item read from a row, in Harken's canonical fields, with the row's
    ``line`` and ``raw`` values (every column key → value as read) kept as evidence."""

    line: int
    raw: dict[str, str]
    external_id: str = ""
    received_at: datetime | None = None
    kind: str = "enquiry"
    title: str = ""
    text: str = ""
    score: Decimal | None = None
    scale: str = ""
    customer_name: str = ""
    customer_ref: str = ""
    contact_name: str = ""
    contact_email: str = ""
    product_line: str = ""
    region: str = ""
    category: str = ""
    status: str = ""
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    tags: list[str] = field(default_factory=list)
    channel: str = ""
    language: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def canonical(self) -> dict[str, Any]:
        """The canonical fields alone, by name (without ``line`` and ``raw``)."""
        return {name: getattr(self, name) for name in CANONICAL_FIELDS}


@dataclass(frozen=True)
class Problem:
    """What is wrong with one value: the column (None when no single column is to blame) and
    the reason, written for the person importing."""

    column: str | None
    reason: str

    def __str__(self) -> str:
        return f"column '{self.column}': {self.reason}" if self.column else self.reason


@dataclass
class RowError:
    """A row that cannot be imported: its line, its problems (the first is the main one) and
    its raw values, so the importer can show them."""

    line: int
    problems: list[Problem]
    raw: dict[str, str] = field(default_factory=dict)

    @property
    def column(self) -> str | None:
        """The column of the first problem."""
        return self.problems[0].column if self.problems else None

    @property
    def reason(self) -> str:
        """The reason of the first problem."""
        return self.problems[0].reason if self.problems else ""

    @property
    def message(self) -> str:
        """Everything wrong with the row, e.g. ``line 7: column 'Created at': no date given``."""
        return f"line {self.line}: " + "; ".join(str(problem) for problem in self.problems)

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------------------------
# The user's choices
# --------------------------------------------------------------------------------------------


@dataclass
class MapContext:
    """The choices that steer mapping, and a cache of what was resolved for the columns.

    ``columns`` are the table's columns (:meth:`for_table` fills them in); without them the
    row's keys are used and header rows 2 and 3 (Qualtrics' ImportIds) are unknown.
    ``mapping`` maps canonical fields to column keys or names and wins over the preset; map a
    field to None or "" to leave it empty. ``score_column`` and ``text_column`` are shortcuts
    for ``mapping["score"]`` and ``mapping["text"]``. ``extra_columns`` replaces the preset's
    choice of columns kept in ``extra``. ``default_date`` stands in for a missing received date.
    What the choices resolve to is cached in the context: make a new one to change them.
    """

    columns: Sequence[Column] | None = None
    default_tz: tzinfo = UTC
    date_order: DateOrder | None = None
    date_formats: tuple[str, ...] = ()
    default_date: datetime | date | None = None
    default_kind: str | None = None
    scale: str | None = None
    score_column: str | None = None
    text_column: str | None = None
    mapping: Mapping[str, str | None] = field(default_factory=dict)
    extra_columns: Sequence[str] | None = None
    _plans: dict[tuple[str, ...], _Plan] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # The plan each preset made for ``columns``, found without building the cache key.
    _current: dict[str, tuple[Sequence[Column], _Plan]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.scale is not None and self.scale not in SCALES:
            raise ValueError(f"'{self.scale}' is not a scale Harken knows ({', '.join(SCALES)})")
        if self.default_kind is not None and self.default_kind not in KINDS:
            raise ValueError(f"'{self.default_kind}' is not a kind ({', '.join(KINDS)})")
        if self.date_order not in (None, "mdy", "dmy"):
            raise ValueError("date_order must be 'mdy', 'dmy' or None")
        unknown = [name for name in self.mapping if name not in MAPPABLE_FIELDS]
        if unknown:
            raise ValueError(
                f"cannot map a column to {', '.join(map(repr, unknown))}; the fields that take "
                f"a column are {', '.join(MAPPABLE_FIELDS)}"
            )

    @classmethod
    def for_table(cls, table: Table, **choices: Any) -> MapContext:
        """A context for mapping the rows of ``table``, with the given choices."""
        return cls(columns=list(table.columns), **choices)

    def choice(self, name: str) -> tuple[bool, str | None]:
        """(whether the user chose a column for the field, that column or None for "none")."""
        if name in self.mapping:
            return True, self.mapping[name] or None
        if name == "score" and self.score_column:
            return True, self.score_column
        if name == "text" and self.text_column:
            return True, self.text_column
        return False, None

    @property
    def dayfirst(self) -> bool | None:
        """``date_order`` as parse_datetime's ``dayfirst`` (None: decide from each value)."""
        return None if self.date_order is None else self.date_order == "dmy"

    def default_received_at(self) -> datetime | None:
        """``default_date`` as an aware datetime (midnight in ``default_tz`` for a date)."""
        value = self.default_date
        if value is None:
            return None
        if not isinstance(value, datetime):
            return datetime.combine(value, time(), tzinfo=self.default_tz)
        return value if value.tzinfo else value.replace(tzinfo=self.default_tz)


# --------------------------------------------------------------------------------------------
# Resolving columns
# --------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    """How column names are compared: case-insensitive, whitespace collapsed."""
    return " ".join(text.casefold().split())


def _header_json(column: Column) -> dict[str, Any]:
    """The JSON object Qualtrics puts in a header row under each column, or {}."""
    for label in column.labels:
        if label.startswith("{") and "ImportId" in label:
            try:
                data = json.loads(label)
            except ValueError:
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def _zone(name: object) -> tzinfo | None:
    """The time zone a Qualtrics header names (``America/Denver``, ``Z``), or None."""
    if not isinstance(name, str) or not name:
        return None
    if name.upper() in ("Z", "UTC", "GMT"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


class _ColumnIndex:
    """Finds columns by key, by header text (exact, then ignoring case and spacing) and by
    Qualtrics ImportId; knows the time zone a header announces for a column."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = list(columns)
        self.by_key = {column.key: column for column in self.columns}
        self.by_name: dict[str, list[Column]] = {}
        self.by_norm: dict[str, list[Column]] = {}
        self.import_ids: dict[str, Column] = {}
        self.zones: dict[str, tzinfo] = {}
        for column in self.columns:
            self.by_name.setdefault(column.name, []).append(column)
            self.by_norm.setdefault(_norm(column.name), []).append(column)
            if _norm(column.key) != _norm(column.name):
                self.by_norm.setdefault(_norm(column.key), []).append(column)
            data = _header_json(column)
            import_id = data.get("ImportId")
            if isinstance(import_id, str):
                self.import_ids.setdefault(_norm(import_id), column)
            zone = _zone(data.get("timeZone"))
            if zone is None and "(utc)" in column.name.casefold():
                zone = UTC  # Typeform's "Submit Date (UTC)"
            if zone is not None:
                self.zones[column.key] = zone

    def find(self, ref: str) -> Column | None:
        """The column a user or preset means by ``ref``: a key, a header text or an ImportId."""
        if ref in self.by_key:
            return self.by_key[ref]
        if ref in self.by_name:
            return self.by_name[ref][0]
        found = self.by_norm.get(_norm(ref))
        if found:
            return found[0]
        return self.import_ids.get(_norm(ref))

    def find_all(self, ref: str) -> list[Column]:
        """Every column with the header text ``ref`` (Jira repeats ``Labels``), else find()."""
        if ref in self.by_name:
            return list(self.by_name[ref])
        if ref not in self.by_key and _norm(ref) in self.by_norm:
            return list(self.by_norm[_norm(ref)])
        column = self.find(ref)
        return [column] if column is not None else []

    def import_id(self, column: Column) -> str:
        """The column's Qualtrics ImportId (``QID1``, ``recordedDate``), or ""."""
        value = _header_json(column).get("ImportId")
        return value if isinstance(value, str) else ""


@dataclass
class _Plan:
    """What a preset resolved for one set of columns and one context."""

    index: _ColumnIndex
    scale: str
    sources: dict[str, list[Column]] = field(default_factory=dict)
    chosen: set[str] = field(default_factory=set)
    missing: dict[str, str] = field(default_factory=dict)
    setup: list[Problem] = field(default_factory=list)
    extra: list[tuple[str, Column]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    # Filled in once the sources are known, for map_row's per-row loop: the column keys
    # feeding each text field that has any, and what the date and score cells parsed to.
    text_keys: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    dates: dict[tuple[str, str], datetime | str] = field(default_factory=dict)
    scores: dict[str, Decimal | str | None] = field(default_factory=dict)


# Distinct cells remembered per plan for dates and scores; a cache is emptied when it fills.
_CELL_CACHE_LIMIT = 50_000


# --------------------------------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------------------------------

_KIND_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rf"\b(?:{pattern})", re.IGNORECASE))
    for kind, pattern in (
        # Checked in this order: "Feature request" is a suggestion before it is a request.
        ("survey_response", r"survey|nps\b|csat\b"),
        ("suggestion", r"feature|suggest|idea|improvement|enhancement|wish"),
        ("return_claim", r"return|refund|rma\b|warranty|claim"),
        ("escalation", r"escalat"),
        ("compliment", r"compliment|praise|kudos|thank"),
        ("complaint", r"complaint|incident|problem|bug\b|defect|fault|grievance"),
        ("review", r"review"),
        ("enquiry", r"question|enquir|inquir|request|help\b|task\b|information|how.to"),
    )
)


def kind_from_text(text: str) -> str | None:
    """The canonical kind a tool's ticket type or a user's category names, or None.

    Knows the canonical names themselves and the usual type names: Incident/Problem/Bug →
    complaint, Question/Service request/Task → enquiry, Feature Request → suggestion,
    Refund/RMA/Warranty → return_claim, Praise/Kudos → compliment.
    """
    key = _norm(text).replace("_", " ").replace("-", " ")
    if not key:
        return None
    underscored = key.replace(" ", "_")
    if underscored in KINDS:
        return underscored
    for kind, pattern in _KIND_WORDS:
        if pattern.search(key):
            return kind
    return None


# --------------------------------------------------------------------------------------------
# The preset base
# --------------------------------------------------------------------------------------------

_TEXT_KEYWORDS = re.compile(
    r"comment|feedback|reason|why\b|tell us|anything else|suggest|improve|better|explain|describe",
    re.IGNORECASE,
)
_NPS_QUESTION = re.compile(r"likely\b.*\brecommend|recommend\b.*\blikely", re.IGNORECASE)
_EMAIL_QUESTION = re.compile(r"e-?mail", re.IGNORECASE)


@dataclass(frozen=True)
class Preset:
    """One tool's export layout and how it maps to the canonical fields.

    ``key`` and ``label`` name it; ``header_rows`` is how many header rows its exports have;
    ``default_kind`` and ``default_scale`` are what the tool implies when the row does not say.
    Subclasses describe the tool in class attributes: ``FIELDS`` (canonical field → candidate
    columns, the first non-empty of those present is used), ``SIGNATURE`` and ``ANCHORS``
    (columns that identify the tool), ``EXTRA`` (columns kept in ``extra``) and
    ``SCORE_LABELS`` (the tool's answer texts → numbers).
    """

    key: str
    label: str
    header_rows: int = 1
    default_kind: str = "enquiry"
    default_scale: str | None = None

    FIELDS: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    SIGNATURE: ClassVar[tuple[str, ...]] = ()
    ANCHORS: ClassVar[tuple[str, ...]] = ()
    EXTRA: ClassVar[tuple[str, ...]] = ()
    SCORE_LABELS: ClassVar[Mapping[str, int | None]] = {}
    TAG_SPLIT: ClassVar[re.Pattern[str]] = re.compile(r"\s*[,;|]\s*")
    STRICT_KIND: ClassVar[bool] = False

    # ---- detection -------------------------------------------------------------------------

    def detect(self, columns: Sequence[str]) -> float:
        """How much the columns look like this tool's export, from 0 to 1: the share of the
        tool's signature columns present, cut to a quarter when none of its anchors is."""
        if not self.SIGNATURE:
            return 0.0
        names = {_norm(str(column)) for column in columns}
        hits = sum(1 for name in self.SIGNATURE if _norm(name) in names)
        score = hits / len(self.SIGNATURE)
        if self.ANCHORS and not any(_norm(name) in names for name in self.ANCHORS):
            score *= 0.25
        return round(score, 3)

    def header_rows_for(self, columns: Sequence[str]) -> int:
        """How many header rows a file with these row-1 columns has (Qualtrics has two
        layouts)."""
        return self.header_rows

    # ---- resolving ---------------------------------------------------------------------------

    def _plan(self, context: MapContext, row: Row | None = None) -> _Plan:
        """Resolve (once per context and set of columns) which columns feed which field."""
        if context.columns is not None:
            current = context._current.get(self.key)
            if current is not None and current[0] is context.columns:
                return current[1]
            columns = list(context.columns)
        else:
            keys = list(row.values) if row is not None else []
            columns = [Column(key, position=i) for i, key in enumerate(keys)]
        cache_key = (self.key, *(column.key for column in columns))
        plan = context._plans.get(cache_key)
        if plan is not None:
            return plan
        index = _ColumnIndex(columns)
        plan = _Plan(index=index, scale=context.scale or self.default_scale or "custom")
        for name in MAPPABLE_FIELDS:
            chosen, ref = context.choice(name)
            if chosen:
                plan.chosen.add(name)
                if ref is None:
                    continue  # the user left the field empty on purpose
                if name == "tags":
                    found = index.find_all(ref)
                else:
                    column = index.find(ref)
                    found = [column] if column is not None else []
                if found:
                    plan.sources[name] = found
                else:
                    plan.setup.append(
                        Problem(ref, f"no such column in the file (chosen for {name})")
                    )
                continue
            found = self._default_sources(name, index, context)
            if found:
                plan.sources[name] = found
            elif self.FIELDS.get(name):
                plan.missing[name] = self.FIELDS[name][0]
        self._prepare(plan, index, context)
        if context.extra_columns is not None:
            plan.extra = []
            for ref in context.extra_columns:
                column = index.find(ref)
                if column is None:
                    plan.setup.append(Problem(ref, "no such column in the file (chosen for extra)"))
                else:
                    plan.extra.append((column.key, column))
        else:
            plan.extra = self._extra_columns(index, plan, context)
        plan.text_keys = [
            (name, tuple(column.key for column in plan.sources[name]))
            for name in _TEXT_FIELDS
            if plan.sources.get(name)
        ]
        context._plans[cache_key] = plan
        if context.columns is not None:
            context._current[self.key] = (context.columns, plan)
        return plan

    def _default_sources(self, name: str, index: _ColumnIndex, context: MapContext) -> list[Column]:
        """The columns that feed a field by default: the candidates of ``FIELDS`` present in
        the file (all same-named columns for tags)."""
        found: list[Column] = []
        for ref in self.FIELDS.get(name, ()):
            candidates: list[Column | None] = (
                list(index.find_all(ref)) if name == "tags" else [index.find(ref)]
            )
            for column in candidates:
                # compare keys: columns are strings, and repeated names compare equal
                if column is not None and column.key not in {c.key for c in found}:
                    found.append(column)
            if found and name == "tags":
                break
        return found

    def _prepare(self, plan: _Plan, index: _ColumnIndex, context: MapContext) -> None:
        """Hook: resolve whatever else the tool needs (scale, composed names...)."""

    def _extra_columns(
        self, index: _ColumnIndex, plan: _Plan, context: MapContext
    ) -> list[tuple[str, Column]]:
        """Hook: the (name, column) pairs kept in ``extra``; by default those of ``EXTRA``
        present in the file and not already feeding a canonical field."""
        used = {column.key for columns in plan.sources.values() for column in columns}
        pairs: list[tuple[str, Column]] = []
        for ref in self.EXTRA:
            for column in index.find_all(ref):
                if column.key not in used:
                    used.add(column.key)
                    pairs.append((column.key, column))
        return pairs

    def _complete(
        self,
        record: CanonicalRecord,
        row: Row,
        plan: _Plan,
        context: MapContext,
        problems: list[Problem],
    ) -> None:
        """Hook: fill in what the tool computes (names from parts, times from durations)."""

    # ---- public helpers ------------------------------------------------------------------------

    def default_mapping(
        self, columns: Sequence[Column], context: MapContext | None = None
    ) -> dict[str, str]:
        """Field → column key this preset would read, for showing (and editing) the mapping."""
        base = context or MapContext()
        probe = MapContext(
            columns=list(columns),
            default_tz=base.default_tz,
            scale=base.scale,
            score_column=base.score_column,
            text_column=base.text_column,
            mapping=base.mapping,
        )
        plan = self._plan(probe)
        return {name: plan.sources[name][0].key for name in MAPPABLE_FIELDS if name in plan.sources}

    def validate(self, columns: Sequence[Column], context: MapContext | None = None) -> list[str]:
        """Problems with the file as a whole, before any row is read: chosen columns that do
        not exist, a missing received date column, nothing to import. Empty when all is well."""
        base = context or MapContext()
        probe = MapContext(
            columns=list(columns),
            default_tz=base.default_tz,
            default_date=base.default_date,
            scale=base.scale,
            score_column=base.score_column,
            text_column=base.text_column,
            mapping=base.mapping,
            extra_columns=base.extra_columns,
        )
        plan = self._plan(probe)
        messages = [str(problem) for problem in plan.setup]
        if "received_at" not in plan.sources and probe.default_date is None:
            messages.append(str(self._missing_date_problem(plan)))
        if not any(name in plan.sources for name in ("text", "title", "score")):
            messages.append(
                "nothing to import: no column gives the text, a title or a score; "
                "choose the columns to use"
            )
        return messages

    def _missing_date_problem(self, plan: _Plan) -> Problem:
        """The problem to report when no column gives the received date."""
        expected = plan.missing.get("received_at")
        if expected is None or "received_at" in plan.chosen:
            return Problem(None, "no column is mapped to received_at and no default date was given")
        return Problem(
            expected,
            "no such column in the file, and it gives the received date "
            "(map another column or give a default date)",
        )

    # ---- mapping -------------------------------------------------------------------------------

    def map_row(self, row: Row, context: MapContext) -> CanonicalRecord | RowError:
        """Map one row to a :class:`CanonicalRecord`, or a :class:`RowError` naming the line,
        the column and the reason. The raw values are kept in both."""
        plan = self._plan(context, row)
        values = row.values
        raw = dict(values)
        for number, value in enumerate(row.extra, start=1):
            raw[f"(beyond the header {number})"] = value
        if row.error:
            reason = row.error.removeprefix(f"line {row.line}: ")
            return RowError(row.line, [Problem(None, reason)], raw)
        if plan.setup:
            return RowError(row.line, list(plan.setup), raw)

        problems: list[Problem] = []
        record = CanonicalRecord(
            line=row.line, raw=raw, kind=context.default_kind or self.default_kind
        )
        sources = plan.sources

        # This loop runs for every field of every row of a million-row file: plain printable
        # ASCII, by far the most common cell, is cleaned here without calling clean_text.
        for name, keys in plan.text_keys:
            for key in keys:
                value = values.get(key, "")
                if type(value) is str and value.isascii() and value.isprintable():
                    value = value.strip()
                else:
                    value = clean_text(value)
                if value:
                    setattr(record, name, value)
                    break

        column, value = _first(values, sources.get("contact_email"))
        if value and column is not None:
            try:
                record.contact_email = normalise_email(value) or ""
            except ValueError as exc:
                if plan.data.get("guessed_email"):
                    # a survey answer taken for the address: keep what was typed, don't reject
                    record.extra[column.key] = value
                else:
                    problems.append(Problem(column.key, str(exc)))

        for name in _DATE_FIELDS:
            column, value = _first(values, sources.get(name))
            if value and column is not None:
                try:
                    setattr(record, name, self._date(value, column, plan, context))
                except ValueError as exc:
                    problems.append(Problem(column.key, str(exc)))
            elif name == "received_at":
                default = context.default_received_at()
                if default is not None:
                    record.received_at = default
                elif column is None:
                    problems.append(self._missing_date_problem(plan))
                else:
                    problems.append(Problem(column.key, "no date given"))

        column, value = _first(values, sources.get("score"))
        if value and column is not None:
            try:
                record.score = self._score(value, plan)
            except ValueError as exc:
                problems.append(Problem(column.key, str(exc)))

        column, value = _first(values, sources.get("kind"))
        if value and column is not None:
            kind = kind_from_text(value)
            if kind is not None:
                record.kind = kind
            elif self.STRICT_KIND or "kind" in plan.chosen:
                problems.append(
                    Problem(
                        column.key, f"'{value}' is not a kind Harken knows ({', '.join(KINDS)})"
                    )
                )

        tag_columns = sources.get("tags")
        if tag_columns:
            tags: list[str] = []
            for column in tag_columns:
                for tag in self._split_tags(clean_text(values.get(column.key, ""))):
                    if tag and tag not in tags:
                        tags.append(tag)
            record.tags = tags

        for name, column in plan.extra:
            value = clean_text(values.get(column.key, ""))
            if value:
                record.extra[name] = value

        self._complete(record, row, plan, context, problems)
        if record.score is not None:
            record.scale = plan.scale
        if not problems and not (record.text or record.title or record.score is not None):
            problems.append(Problem(None, "nothing to import: no text, title or score"))
        if problems:
            return RowError(row.line, problems, raw)
        return record

    def _split_tags(self, value: str) -> list[str]:
        """The tags in one cell: a JSON list (from JSON exports) or text split the tool's way."""
        if value.startswith("[") and value.endswith("]"):
            try:
                items = json.loads(value)
            except ValueError:
                items = None
            if isinstance(items, list):
                return [clean_text(item) for item in items if isinstance(item, str | int)]
        return [tag.strip() for tag in self.TAG_SPLIT.split(value)]

    def _date(self, value: str, column: Column, plan: _Plan, context: MapContext) -> datetime:
        """Parse a date cell in the zone its column announces, or the context's.

        Exports repeat dates (a day's worth of rows, a date without a time): what a cell
        parsed to, or the reason it did not, is remembered in the plan.
        """
        key = (column.key, value)
        known = plan.dates.get(key)
        if known is None:
            try:
                known = parse_datetime(
                    value,
                    formats=context.date_formats or None,
                    default_tz=plan.index.zones.get(column.key, context.default_tz),
                    dayfirst=context.dayfirst,
                )
            except ValueError as exc:
                known = str(exc)
            if len(plan.dates) >= _CELL_CACHE_LIMIT:
                plan.dates.clear()
            plan.dates[key] = known
        if isinstance(known, str):
            raise ValueError(known)
        return known

    def _score(self, value: str, plan: _Plan) -> Decimal | None:
        """Read a score cell on the plan's scale; scores repeat even more than dates."""
        try:
            known = plan.scores[value]
        except KeyError:
            try:
                known = parse_score(value, plan.scale, labels=self.SCORE_LABELS or None)
            except ValueError as exc:
                known = str(exc)
            if len(plan.scores) >= _CELL_CACHE_LIMIT:
                plan.scores.clear()
            plan.scores[value] = known
        if isinstance(known, str):
            raise ValueError(known)
        return known

    def _value(self, row: Row, plan: _Plan, *refs: str) -> tuple[Column | None, str]:
        """The first of the named columns present in the file and its cleaned value."""
        for ref in refs:
            column = plan.index.find(ref)
            if column is not None:
                return column, clean_text(row.values.get(column.key, ""))
        return None, ""


def _first(values: Mapping[str, str], columns: list[Column] | None) -> tuple[Column | None, str]:
    """The first of a field's columns holding a value, and the value (cleaned); the first
    column and "" when none does, (None, "") when the field has no column."""
    if not columns:
        return None, ""
    for column in columns:
        value = clean_text(values.get(column.key, ""))
        if value:
            return column, value
    return columns[0], ""


def _hours(duration: timedelta) -> str:
    """A duration as hours with two decimals, as Freshdesk reports them."""
    return str((Decimal(duration.total_seconds()) / 3600).quantize(Decimal("0.01")))


def _join_name(*parts: str) -> str:
    """First and last name joined, skipping the empty parts."""
    return " ".join(part for part in parts if part)


# --------------------------------------------------------------------------------------------
# Help desks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZendeskPreset(Preset):
    """Zendesk Support's ticket export (with the satisfaction columns), and Explore exports.

    Satisfaction is two-point (good/bad; offered/unoffered mean no answer). Tags are separated
    by spaces. ``acknowledged_at`` is computed from the first reply time in minutes. Custom
    fields (``Name [list]``) are kept in ``extra``; ``Category``/``Product``/``Region`` custom
    fields feed ``category``/``product_line``/``region``.
    """

    FIELDS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "external_id": ("Id", "Ticket ID"),
        "title": ("Subject",),
        "text": ("Description", "Satisfaction Comment"),
        "received_at": ("Created at", "Ticket created - Timestamp"),
        "resolved_at": ("Solved at", "Ticket solved - Timestamp"),
        "score": ("Satisfaction Score", "Satisfaction rating"),
        "status": ("Status", "Ticket status"),
        "tags": ("Tags", "Ticket tags"),
        "contact_name": ("Requester", "Requester name"),
        "contact_email": ("Requester email",),
        "customer_name": ("Organization", "Requester organization name"),
        "channel": ("Via", "Ticket channel"),
        "kind": ("Ticket type", "Type"),
        "category": ("Category [list]", "Category"),
        "product_line": ("Product [list]", "Product"),
        "region": ("Region [list]", "Region"),
        "language": ("Requester language", "Language"),
    }
    SIGNATURE: ClassVar[tuple[str, ...]] = (
        "Summation column",
        "Id",
        "Requester",
        "Requester id",
        "Requester external id",
        "Requester email",
        "Requester domain",
        "Submitter",
        "Assignee",
        "Group",
        "Subject",
        "Tags",
        "Status",
        "Priority",
        "Via",
        "Ticket type",
        "Created at",
        "Updated at",
        "Solved at",
        "Satisfaction Score",
        "Reopens",
        "Replies",
    )
    ANCHORS: ClassVar[tuple[str, ...]] = (
        "Summation column",
        "Requester id",
        "Requester domain",
        "Satisfaction Score",
    )
    EXTRA: ClassVar[tuple[str, ...]] = (
        "Priority",
        "Group",
        "Assignee",
        "Reopens",
        "Replies",
        "Resolution time",
        "First reply time in minutes",
        "First reply time (min)",
        "Full resolution time in minutes",
        "Full resolution time (min)",
        "Requester wait time in minutes",
        "Requester wait time (min)",
    )
    TAG_SPLIT: ClassVar[re.Pattern[str]] = re.compile(r"[\s,]+")
    _CUSTOM_FIELD: ClassVar[re.Pattern[str]] = re.compile(r"\s\[[a-z_]+\]$")

    def _extra_columns(
        self, index: _ColumnIndex, plan: _Plan, context: MapContext
    ) -> list[tuple[str, Column]]:
        pairs = super()._extra_columns(index, plan, context)
        used = {column.key for columns in plan.sources.values() for column in columns}
        used.update(column.key for _, column in pairs)
        for column in index.columns:
            if self._CUSTOM_FIELD.search(column.name) and column.key not in used:
                pairs.append((column.key, column))
        return pairs

    def _complete(
        self,
        record: CanonicalRecord,
        row: Row,
        plan: _Plan,
        context: MapContext,
        problems: list[Problem],
    ) -> None:
        if record.acknowledged_at is not None or record.received_at is None:
            return
        column, value = self._value(
            row, plan, "First reply time in minutes", "First reply time (min)"
        )
        if column is None or not value:
            return
        try:
            waited = parse_duration(value, unit="minutes")
        except ValueError as exc:
            problems.append(Problem(column.key, str(exc)))
            return
        if waited is not None:
            record.acknowledged_at = record.received_at + waited


# Freshdesk's satisfaction survey answers (current 5-point, and the classic 3-point one
# spread over the same 1-5 range).
_FRESHDESK_LABELS: dict[str, int | None] = {
    "extremely happy": 5,
    "very happy": 5,
    "extremely satisfied": 5,
    "very satisfied": 5,
    "awesome": 5,
    "happy": 4,
    "satisfied": 4,
    "neutral": 3,
    "just okay": 3,
    "okay": 3,
    "unhappy": 2,
    "dissatisfied": 2,
    "extremely unhappy": 1,
    "very unhappy": 1,
    "extremely dissatisfied": 1,
    "very dissatisfied": 1,
    "not good": 1,
}


@dataclass(frozen=True)
class FreshdeskPreset(Preset):
    """Freshdesk's ticket export (and Freshservice's, which capitalises differently).

    Type maps to kind (Incident/Problem → complaint, Question → enquiry, Feature Request →
    suggestion). Survey results are read on the CSAT scale (Extremely happy = 5 ... Extremely
    unhappy = 1; classic Awesome/Just Okay/Not Good = 5/3/1). When the "(in hrs)" columns are
    empty, first response and resolution hours are computed from the timestamps; both are kept
    in ``extra`` as ``first_response_hours`` and ``resolution_hours``.
    """

    FIELDS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "external_id": ("Ticket ID", "Ticket Id"),
        "title": ("Subject",),
        "text": ("Description",),
        "received_at": ("Created time", "Created Date"),
        "resolved_at": ("Resolved time", "Resolved Date", "Closed time", "Closed Date"),
        "status": ("Status",),
        "channel": ("Source",),
        "kind": ("Type",),
        "score": ("Survey results", "Survey result"),
        "product_line": ("Product",),
        "tags": ("Tags",),
        "contact_name": ("Full name", "Requester Name", "Contact name"),
        "contact_email": ("Email", "Requester Email", "Contact email"),
        "customer_name": ("Company Name", "Company", "Department"),
        "language": ("Language",),
        "category": ("Category",),
    }
    SIGNATURE: ClassVar[tuple[str, ...]] = (
        "Ticket ID",
        "Subject",
        "Description",
        "Status",
        "Priority",
        "Source",
        "Type",
        "Agent",
        "Group",
        "Created time",
        "Due by Time",
        "Resolved time",
        "Closed time",
        "Last update time",
        "Initial response time",
        "Time tracked",
        "First response time (in hrs)",
        "Resolution time (in hrs)",
        "Agent interactions",
        "Customer interactions",
        "Resolution status",
        "First response status",
        "Tags",
        "Survey results",
        "Product",
    )
    ANCHORS: ClassVar[tuple[str, ...]] = ("Ticket ID", "Created time", "Survey results")
    EXTRA: ClassVar[tuple[str, ...]] = (
        "Priority",
        "Group",
        "Agent",
        "Due by Time",
        "Resolution status",
        "First response status",
        "Agent interactions",
        "Customer interactions",
        "Time tracked",
        "Account tier",
        "Industry",
        "Health score",
    )
    SCORE_LABELS: ClassVar[Mapping[str, int | None]] = _FRESHDESK_LABELS
    _FIRST_RESPONSE: ClassVar[tuple[str, ...]] = ("First response time (in hrs)",)
    _RESOLUTION: ClassVar[tuple[str, ...]] = ("Resolution time (in hrs)",)
    _INITIAL_RESPONSE: ClassVar[tuple[str, ...]] = ("Initial response time",)

    def detect(self, columns: Sequence[str]) -> float:
        # Freshservice writes "Ticket Id" and "Survey Result"; compare on the shared stem.
        score = super().detect(columns)
        names = {_norm(str(column)) for column in columns}
        if "ticket id" in names and "survey result" in names:
            score = max(score, 0.5)
        return score

    def _complete(
        self,
        record: CanonicalRecord,
        row: Row,
        plan: _Plan,
        context: MapContext,
        problems: list[Problem],
    ) -> None:
        received = record.received_at
        if "acknowledged_at" not in plan.chosen and record.acknowledged_at is None:
            column, value = self._value(row, plan, *self._INITIAL_RESPONSE)
            if column is not None and value:
                # A timestamp in Freshdesk, a duration in some Freshservice exports.
                try:
                    record.acknowledged_at = self._date(value, column, plan, context)
                except ValueError:
                    try:
                        waited = parse_duration(value, unit="hours")
                    except ValueError:
                        problems.append(
                            Problem(column.key, f"'{value}' is not a date or a duration")
                        )
                        waited = None
                    if waited is not None and received is not None:
                        record.acknowledged_at = received + waited
        for key, refs, stamp in (
            ("first_response_hours", self._FIRST_RESPONSE, "acknowledged_at"),
            ("resolution_hours", self._RESOLUTION, "resolved_at"),
        ):
            column, value = self._value(row, plan, *refs)
            duration: timedelta | None = None
            if column is not None and value:
                try:
                    duration = parse_duration(value, unit=duration_unit_for(column.name) or "hours")
                except ValueError as exc:
                    problems.append(Problem(column.key, str(exc)))
                    continue
            moment: datetime | None = getattr(record, stamp)
            if duration is None and moment is not None and received is not None:
                duration = moment - received
            if duration is not None:
                record.extra[key] = _hours(duration)
                if moment is None and received is not None:
                    setattr(record, stamp, received + duration)


@dataclass(frozen=True)
class JiraServiceManagementPreset(Preset):
    """Jira and Jira Service Management CSV exports.

    Repeated columns keep every value: all ``Labels`` columns become tags, every ``Comment``
    column is kept in ``extra`` (``Comment``, ``Comment (2)``...). Issue Type maps to kind.
    Satisfaction rating (1-5) is CSAT. Dates look like ``11/May/24 03:26 PM``.
    """

    FIELDS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "external_id": ("Issue key",),
        "title": ("Summary",),
        "text": ("Description",),
        "received_at": ("Created",),
        "resolved_at": ("Resolved",),
        "status": ("Status",),
        "kind": ("Issue Type",),
        "score": ("Satisfaction rating", "Custom field (Satisfaction rating)", "Satisfaction"),
        "tags": ("Labels",),
        "category": ("Component/s",),
        "contact_name": ("Reporter",),
        "customer_name": ("Custom field (Organizations)", "Organizations"),
    }
    SIGNATURE: ClassVar[tuple[str, ...]] = (
        "Summary",
        "Issue key",
        "Issue id",
        "Issue Type",
        "Status",
        "Project key",
        "Project name",
        "Project type",
        "Priority",
        "Resolution",
        "Assignee",
        "Reporter",
        "Creator",
        "Created",
        "Updated",
        "Resolved",
        "Labels",
        "Description",
    )
    ANCHORS: ClassVar[tuple[str, ...]] = ("Issue key", "Issue id")
    EXTRA: ClassVar[tuple[str, ...]] = (
        "Issue id",
        "Project key",
        "Priority",
        "Resolution",
        "Assignee",
        "Component/s",
        "Comment",
        "Custom field (Satisfaction date)",
        "Custom field (Time to first response)",
        "Custom field (Time to resolution)",
        "Custom field (Request Type)",
    )
    TAG_SPLIT: ClassVar[re.Pattern[str]] = re.compile(r"[\s,]+")


# --------------------------------------------------------------------------------------------
# Survey tools
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SurveyPreset(Preset):
    """Shared by survey tools: metadata columns are named, every other column is a question.

    Questions are kept in ``extra`` by column key. Unless the user chooses, the score is the
    question asking how likely one is to recommend (NPS) and the text is the first open
    question whose wording asks for comments, reasons or suggestions.
    """

    default_kind: str = "survey_response"
    METADATA: ClassVar[tuple[str, ...]] = ()

    def _is_metadata(self, column: Column, index: _ColumnIndex) -> bool:
        """True for the tool's own columns (ids, dates, respondent), false for questions."""
        names = {_norm(name) for name in self.METADATA}
        return _norm(column.name) in names

    def _questions(self, index: _ColumnIndex) -> list[Column]:
        """The question columns, in file order."""
        return [column for column in index.columns if not self._is_metadata(column, index)]

    def _default_sources(self, name: str, index: _ColumnIndex, context: MapContext) -> list[Column]:
        found = super()._default_sources(name, index, context)
        if found or name not in ("score", "text"):
            return found
        questions = self._questions(index)
        if name == "score":
            return [column for column in questions if _NPS_QUESTION.search(column.key)][:1]
        return self._text_question(questions, index)

    def _text_question(self, questions: list[Column], index: _ColumnIndex) -> list[Column]:
        """The open question to take as the text, by its wording."""
        return [column for column in questions if _TEXT_KEYWORDS.search(column.key)][:1]

    def _prepare(self, plan: _Plan, index: _ColumnIndex, context: MapContext) -> None:
        if context.scale is None and "score" not in plan.chosen and "score" in plan.sources:
            if _NPS_QUESTION.search(plan.sources["score"][0].key):
                plan.scale = "nps"

    def _extra_columns(
        self, index: _ColumnIndex, plan: _Plan, context: MapContext
    ) -> list[tuple[str, Column]]:
        pairs = super()._extra_columns(index, plan, context)
        used = {column.key for columns in plan.sources.values() for column in columns}
        used.update(column.key for _, column in pairs)
        for column in self._questions(index):
            if column.key not in used:
                pairs.append((self._extra_name(column, index), column))
        return pairs

    def _extra_name(self, column: Column, index: _ColumnIndex) -> str:
        """The name a question's answer is kept under in ``extra``."""
        return column.key


@dataclass(frozen=True)
class QualtricsPreset(_SurveyPreset):
    """Qualtrics response exports, current (three header rows: ids, localised question texts,
    ``{"ImportId": ...}``) and legacy (two header rows, metadata in ``V1``...``V10``).

    Columns are found by their row-1 name or their ImportId, never by row 2's text. Dates are
    read in the ``timeZone`` row 3 gives. The NPS question is the one with an ``_NPS_GROUP``
    column; the text is the first text-entry question (``QIDn_TEXT``). Other questions and
    derived columns (``Q2 - Topics``, ``Q1_NPS_GROUP``) are kept in ``extra`` by row-1 name.
    """

    header_rows: int = 3
    FIELDS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "external_id": ("_recordId", "ResponseId", "ResponseID", "V1"),
        "received_at": ("recordedDate", "RecordedDate", "endDate", "EndDate", "V9", "V8"),
        "contact_email": ("recipientEmail", "RecipientEmail", "V5"),
        "customer_ref": (
            "externalDataReference",
            "ExternalReference",
            "ExternalDataReference",
            "V4",
        ),
        "contact_name": ("V3",),
        "language": ("userLanguage", "UserLanguage"),
        "channel": ("distributionChannel", "DistributionChannel"),
    }
    SIGNATURE: ClassVar[tuple[str, ...]] = (
        "StartDate",
        "EndDate",
        "Status",
        "IPAddress",
        "Progress",
        "Duration (in seconds)",
        "Finished",
        "RecordedDate",
        "ResponseId",
        "RecipientLastName",
        "RecipientFirstName",
        "RecipientEmail",
        "ExternalReference",
        "LocationLatitude",
        "LocationLongitude",
        "DistributionChannel",
        "UserLanguage",
    )
    ANCHORS: ClassVar[tuple[str, ...]] = ("ResponseId", "RecordedDate")
    EXTRA: ClassVar[tuple[str, ...]] = ("Finished", "Progress", "V10")
    METADATA: ClassVar[tuple[str, ...]] = (
        *SIGNATURE,
        "ExternalDataReference",
        *(f"V{number}" for number in range(1, 11)),
    )
    _METADATA_IMPORT_IDS: ClassVar[frozenset[str]] = frozenset(
        _norm(name)
        for name in (
            "startDate",
            "endDate",
            "status",
            "ipAddress",
            "progress",
            "duration",
            "finished",
            "recordedDate",
            "_recordId",
            "recipientLastName",
            "recipientFirstName",
            "recipientEmail",
            "externalDataReference",
            "locationLatitude",
            "locationLongitude",
            "distributionChannel",
            "userLanguage",
        )
    )
    _TEXT_ENTRY: ClassVar[re.Pattern[str]] = re.compile(r"^QID\d+_TEXT$", re.IGNORECASE)

    @staticmethod
    def _legacy(columns: Sequence[str]) -> bool:
        """True for the legacy layout, whose metadata columns are V1, V2, V3..."""
        return [str(column) for column in columns[:3]] == ["V1", "V2", "V3"]

    def detect(self, columns: Sequence[str]) -> float:
        tagged = sum(1 for column in columns if isinstance(column, Column) and _header_json(column))
        if columns and tagged >= len(columns) / 2:
            return 1.0
        if self._legacy(columns):
            return 0.95
        return super().detect(columns)

    def header_rows_for(self, columns: Sequence[str]) -> int:
        return 2 if self._legacy(columns) else 3

    def _is_metadata(self, column: Column, index: _ColumnIndex) -> bool:
        if _norm(index.import_id(column)) in self._METADATA_IMPORT_IDS:
            return True
        return super()._is_metadata(column, index)

    def _default_sources(self, name: str, index: _ColumnIndex, context: MapContext) -> list[Column]:
        if name == "score":
            for column in index.columns:
                tag = index.import_id(column) or column.name
                if tag.upper().endswith("_NPS_GROUP"):
                    base = index.find(tag[: -len("_NPS_GROUP")])
                    if base is not None:
                        return [base]
            return super()._default_sources(name, index, context)
        if name == "text":
            for column in self._questions(index):
                if self._TEXT_ENTRY.match(index.import_id(column)):
                    return [column]
            return super()._default_sources(name, index, context)
        return super()._default_sources(name, index, context)

    def _prepare(self, plan: _Plan, index: _ColumnIndex, context: MapContext) -> None:
        super()._prepare(plan, index, context)
        if context.scale is None and "score" not in plan.chosen and "score" in plan.sources:
            score = plan.sources["score"][0]
            tag = index.import_id(score) or score.name
            if index.find(f"{tag}_NPS_GROUP") is not None:
                plan.scale = "nps"

    def _complete(
        self,
        record: CanonicalRecord,
        row: Row,
        plan: _Plan,
        context: MapContext,
        problems: list[Problem],
    ) -> None:
        if "contact_name" not in plan.chosen and not record.contact_name:
            _, first = self._value(row, plan, "recipientFirstName", "RecipientFirstName")
            _, last = self._value(row, plan, "recipientLastName", "RecipientLastName")
            record.contact_name = _join_name(first, last)


@dataclass(frozen=True)
class SurveyMonkeyPreset(_SurveyPreset):
    """SurveyMonkey response exports (two header rows, condensed or expanded).

    The reader carries a multi-column question's name across the blank row-1 cells, so its
    columns are keyed ``question - option``. ``Custom Data 1`` is taken as the customer
    reference. The text defaults to the first single open-ended question.
    """

    header_rows: int = 2
    FIELDS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "external_id": ("Respondent ID",),
        "received_at": ("End Date", "Start Date"),
        "contact_email": ("Email Address",),
        "customer_ref": ("Custom Data 1", "Custom Data"),
    }
    SIGNATURE: ClassVar[tuple[str, ...]] = (
        "Respondent ID",
        "Collector ID",
        "Start Date",
        "End Date",
        "IP Address",
        "Email Address",
        "First Name",
        "Last Name",
        "Custom Data 1",
    )
    ANCHORS: ClassVar[tuple[str, ...]] = ("Respondent ID", "Collector ID")
    EXTRA: ClassVar[tuple[str, ...]] = ("Collector ID",)
    METADATA: ClassVar[tuple[str, ...]] = (*SIGNATURE, "Custom Data")
    _CUSTOM_DATA: ClassVar[re.Pattern[str]] = re.compile(r"^custom data \d+$", re.IGNORECASE)

    def _is_metadata(self, column: Column, index: _ColumnIndex) -> bool:
        return bool(self._CUSTOM_DATA.match(column.name)) or super()._is_metadata(column, index)

    def _text_question(self, questions: list[Column], index: _ColumnIndex) -> list[Column]:
        single_open = [
            column
            for column in questions
            if column.labels
            and _norm(column.labels[0]) == "open-ended response"
            and column.key == column.name
        ]
        return single_open[:1] or super()._text_question(questions, index)

    def _complete(
        self,
        record: CanonicalRecord,
        row: Row,
        plan: _Plan,
        context: MapContext,
        problems: list[Problem],
    ) -> None:
        if "contact_name" not in plan.chosen and not record.contact_name:
            _, first = self._value(row, plan, "First Name")
            _, last = self._value(row, plan, "Last Name")
            record.contact_name = _join_name(first, last)


_PHONE_ANSWER = re.compile(r"^'\+?[\d\s().-]{5,}$")


@dataclass(frozen=True)
class TypeformPreset(_SurveyPreset):
    """Typeform response exports: ``#`` is the response token, dates are in UTC, a phone
    answer's leading ``'`` is removed, multiple-choice answers are kept as exported (joined
    with `` / `` or one column per option). Partial responses fall back to the start date."""

    FIELDS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "external_id": ("#", "Token"),
        "received_at": ("Submit Date (UTC)", "Submitted At", "Start Date (UTC)"),
        "tags": ("Tags",),
        "customer_ref": ("customer_id", "customer_ref", "account_id"),
    }
    SIGNATURE: ClassVar[tuple[str, ...]] = (
        "#",
        "Response Type",
        "Start Date (UTC)",
        "Stage Date (UTC)",
        "Submit Date (UTC)",
        "Network ID",
        "Tags",
    )
    ANCHORS: ClassVar[tuple[str, ...]] = ("#", "Network ID")
    EXTRA: ClassVar[tuple[str, ...]] = ("Response Type", "Ending")
    METADATA: ClassVar[tuple[str, ...]] = (
        *SIGNATURE,
        "Ending",
        "Token",
        "Submitted At",
        "customer_id",
        "customer_ref",
        "account_id",
    )

    def detect(self, columns: Sequence[str]) -> float:
        score = super().detect(columns)
        if columns and str(columns[0]) == "#" and score > 0:
            score = min(1.0, score + 0.3)
        return round(score, 3)

    def _default_sources(self, name: str, index: _ColumnIndex, context: MapContext) -> list[Column]:
        if name == "contact_email":
            return [c for c in self._questions(index) if _EMAIL_QUESTION.search(c.name)][:1]
        return super()._default_sources(name, index, context)

    def _prepare(self, plan: _Plan, index: _ColumnIndex, context: MapContext) -> None:
        super()._prepare(plan, index, context)
        plan.data["guessed_email"] = "contact_email" not in plan.chosen

    def _complete(
        self,
        record: CanonicalRecord,
        row: Row,
        plan: _Plan,
        context: MapContext,
        problems: list[Problem],
    ) -> None:
        for name, value in record.extra.items():
            if _PHONE_ANSWER.match(value):
                record.extra[name] = clean_text(value, strip_quote_prefix=True)


_FORMS_TIMESTAMP = (
    "Timestamp",
    "Marca temporal",
    "Horodateur",
    "Zeitstempel",
    "Carimbo de data/hora",
    "Informazioni cronologiche",
    "Tijdstempel",
)


@dataclass(frozen=True)
class GoogleFormsPreset(_SurveyPreset):
    """Google Forms response spreadsheets exported as CSV or .xlsx.

    ``Timestamp`` (localised in some accounts) follows the form owner's locale: give
    ``date_order`` or ``date_formats`` when detection cannot tell. Quizzes add ``Score`` like
    ``4 / 5``: used as the score when no NPS question is found, on the custom scale unless told,
    with the maximum kept in ``extra["score_out_of"]``. Forms have no response id, so
    ``external_id`` is a hash of the row (stable across re-imports of the same export).
    """

    FIELDS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "received_at": _FORMS_TIMESTAMP,
        "contact_email": ("Email Address", "Email address", "Username"),
    }
    SIGNATURE: ClassVar[tuple[str, ...]] = ("Timestamp", "Email Address", "Score")
    ANCHORS: ClassVar[tuple[str, ...]] = ("Timestamp",)
    METADATA: ClassVar[tuple[str, ...]] = (
        *_FORMS_TIMESTAMP,
        "Email Address",
        "Username",
        "Score",
    )
    _OUT_OF: ClassVar[re.Pattern[str]] = re.compile(r"/\s*(\d+(?:[.,]\d+)?)\s*$")

    def detect(self, columns: Sequence[str]) -> float:
        if not columns:
            return 0.0
        first = _norm(str(columns[0]))
        if first not in {_norm(name) for name in _FORMS_TIMESTAMP}:
            return 0.0
        names = {_norm(str(column)) for column in columns}
        score = 0.6
        if "email address" in names:
            score += 0.2
        if "score" in names:
            score += 0.1
        return score

    def _default_sources(self, name: str, index: _ColumnIndex, context: MapContext) -> list[Column]:
        found = super()._default_sources(name, index, context)
        if name == "score" and not found:
            column = index.find("Score")
            return [column] if column is not None else []
        return found

    def _complete(
        self,
        record: CanonicalRecord,
        row: Row,
        plan: _Plan,
        context: MapContext,
        problems: list[Problem],
    ) -> None:
        score_column = plan.sources.get("score", [None])[0]
        if score_column is not None:
            out_of = self._OUT_OF.search(row.values.get(score_column.key, ""))
            if out_of is not None:
                record.extra["score_out_of"] = out_of.group(1)
        if not record.external_id:
            digest = hashlib.sha256("\x1f".join(row.values.values()).encode("utf-8"))
            record.external_id = f"gforms-{digest.hexdigest()[:20]}"


@dataclass(frozen=True)
class TouchpointsPreset(Preset):
    """US GSA Touchpoints' public CSAT layout: ``external_id``, ``question_1`` (thumbs 0/1, or
    1-5 with ``scale="csat"``), ``positive_*``/``negative_*`` driver flags and ``question_4``
    (the comment). Flags set to 1 become tags. The layout has no date column: give a default
    date unless the file has ``created_at``."""

    default_kind: str = "survey_response"
    default_scale: str | None = "csat2"
    FIELDS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "external_id": ("external_id", "uuid", "id"),
        "score": ("question_1",),
        "text": ("question_4",),
        "received_at": ("created_at", "submitted_at", "date"),
    }
    SIGNATURE: ClassVar[tuple[str, ...]] = ("external_id", "question_1", "question_4")
    ANCHORS: ClassVar[tuple[str, ...]] = ("question_1",)
    _DRIVER: ClassVar[re.Pattern[str]] = re.compile(r"^(positive|negative)_\w+$")

    def detect(self, columns: Sequence[str]) -> float:
        score = super().detect(columns)
        drivers = sum(1 for column in columns if self._DRIVER.match(str(column)))
        if score and drivers:
            score = min(1.0, score + 0.3)
        return round(score, 3)

    def _extra_columns(
        self, index: _ColumnIndex, plan: _Plan, context: MapContext
    ) -> list[tuple[str, Column]]:
        used = {column.key for columns in plan.sources.values() for column in columns}
        return [
            (column.key, column)
            for column in index.columns
            if re.match(r"^question_\d+$", column.name) and column.key not in used
        ]

    def _complete(
        self,
        record: CanonicalRecord,
        row: Row,
        plan: _Plan,
        context: MapContext,
        problems: list[Problem],
    ) -> None:
        for column in plan.index.columns:
            if not self._DRIVER.match(column.name):
                continue
            try:
                flagged = parse_bool(row.values.get(column.key, ""))
            except ValueError as exc:
                problems.append(Problem(column.key, str(exc)))
                continue
            if flagged and column.name not in record.tags:
                record.tags.append(column.name)


@dataclass(frozen=True)
class GenericPreset(Preset):
    """Any table, driven entirely by the context's ``mapping`` (canonical field → column).

    The kind column's values must name a kind (see :func:`kind_from_text`); the score is read
    on the context's scale (custom when not given); tags split on commas, semicolons and bars;
    ``extra`` holds the columns listed in ``extra_columns``.
    """

    STRICT_KIND: ClassVar[bool] = True

    def detect(self, columns: Sequence[str]) -> float:
        return 0.05 if columns else 0.0


ZENDESK = ZendeskPreset("zendesk", "Zendesk", default_scale="csat2")
FRESHDESK = FreshdeskPreset("freshdesk", "Freshdesk / Freshservice", default_scale="csat")
SURVEYMONKEY = SurveyMonkeyPreset("surveymonkey", "SurveyMonkey")
QUALTRICS = QualtricsPreset("qualtrics", "Qualtrics")
TYPEFORM = TypeformPreset("typeform", "Typeform")
GOOGLE_FORMS = GoogleFormsPreset("google_forms", "Google Forms")
JIRA_SM = JiraServiceManagementPreset("jira_sm", "Jira Service Management", default_scale="csat")
TOUCHPOINTS = TouchpointsPreset("touchpoints", "GSA Touchpoints")
GENERIC = GenericPreset("generic", "Other (map the columns)")

PRESETS: dict[str, Preset] = {
    preset.key: preset
    for preset in (
        ZENDESK,
        FRESHDESK,
        SURVEYMONKEY,
        QUALTRICS,
        TYPEFORM,
        GOOGLE_FORMS,
        JIRA_SM,
        TOUCHPOINTS,
        GENERIC,
    )
}
"""Every preset by key."""


def get_preset(key: str) -> Preset:
    """The preset with this key; ``KeyError`` listing the keys otherwise."""
    try:
        return PRESETS[key]
    except KeyError:
        raise KeyError(f"no preset '{key}' (there are {', '.join(PRESETS)})") from None


def rank_presets(source: Table | Sequence[str]) -> list[tuple[Preset, float]]:
    """Every preset with its detection score for a table (or its columns), best first."""
    columns = source.columns if isinstance(source, Table) else source
    scored = [(preset, preset.detect(columns)) for preset in PRESETS.values()]
    return sorted(scored, key=lambda pair: pair[1], reverse=True)


def detect_preset(source: Table | Sequence[str], *, threshold: float = 0.3) -> Preset:
    """The preset that best fits a table (or its columns); the generic one when no tool
    scores at least ``threshold``."""
    best, score = rank_presets(source)[0]
    return best if score >= threshold else GENERIC
