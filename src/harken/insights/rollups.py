"""Keeping the feedback rollups in step with the items.

Two tables, both derived from the items and both counted in SQL (nothing is loaded
into Python):

- `FeedbackRollup`, the base: one row per company-local day × source × product line ×
  region × category × kind × customer segment, with the measures of `RollupMeasures`.
  Each item is counted in exactly one base row.
- `RollupCell`, the levels: the same measures summed per day and per month over a few
  dimensions (`LEVELS`). The dashboard, explore and the review pack read these: a
  quarter at the "kind" level is fifteen rows whatever the number of items. The
  finest level keeps every dimension at month grain only; its day grain is the base.

Upkeep is incremental. When items change (a save, a deletion, a bulk import, a
re-mapping), the local days they fall on are recounted: the cells lose what the old
base rows of those days held, the base rows of those days are counted again from the
items, and the cells gain what the new base rows hold, in one transaction. A change
costs the items of its days, not the items of its month. `harken rollups --rebuild`
(`rebuild_all`) recounts everything; tests check that both ways agree.

The local day is computed in SQL: on PostgreSQL with AT TIME ZONE, on SQLite with the
zone's UTC offsets between its transitions written into the query, because Django's
SQLite date functions call Python for every row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Expression, F, FloatField, Func, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from harken.core.rows import rows_per_statement
from harken.customers.models import Customer
from harken.feedback.models import FeedbackItem

from .models import (
    CES_BUCKETS,
    CSAT2_BUCKETS,
    CSAT_BUCKETS,
    NPS_BUCKETS,
    STARS_BUCKETS,
    TIMING_EDGES,
    FeedbackRollup,
    RollupCell,
    RollupMeasures,
)

SCALE_BUCKETS = {
    "nps": NPS_BUCKETS,
    "csat": CSAT_BUCKETS,
    "ces": CES_BUCKETS,
    "stars": STARS_BUCKETS,
    "csat2": CSAT2_BUCKETS,
}
DIMENSIONS = ("source_id", "product_line_id", "region_id", "category_id", "kind")
ALL_DIMENSIONS = (*DIMENSIONS, "segment")
# Rollup levels, smallest first: a question is answered by the first level that keeps
# every dimension it filters or splits by. Kind is in every level because complaints
# are counted in every figure. Level ALL_LEVEL at day grain is the base table.
ALL_LEVEL = 9
LEVELS: dict[int, tuple[str, ...]] = {
    1: ("kind",),
    2: ("kind", "product_line_id", "category_id"),
    3: ("kind", "source_id"),
    4: ("kind", "segment"),
    5: ("kind", "region_id"),
    ALL_LEVEL: ALL_DIMENSIONS,
}
DAY, MONTH = "day", "month"
UPKEEP_LOCK = 0x726F6C6C  # the advisory lock key of rollup upkeep on PostgreSQL
STAMPS = {"ack": ("acknowledged_at", "acknowledge_due"), "resolve": ("resolved_at", "resolve_due")}
MEASURES = tuple(f.attname for f in RollupMeasures._meta.local_fields)
CELL_KEY = (
    "level",
    "grain",
    "period",
    "kind",
    "product_line_id",
    "category_id",
    "source_id",
    "region_id",
    "segment",
)


def bucket_fields() -> list[str]:
    return [f"{scale}_{value}" for scale, values in SCALE_BUCKETS.items() for value in values]


def timing_bands() -> list[tuple[int, float | None, float | None]]:
    """(index, lower, upper) hour bands of the timing histograms; None is unbounded."""
    edges: list[float | None] = [None, *TIMING_EDGES, None]
    return [(i, edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


def level_for(dimensions: Iterable[str]) -> int:
    """The smallest level that keeps all the given dimensions."""
    wanted = set(dimensions)
    for level, kept in LEVELS.items():
        if wanted <= set(kept):
            return level
    raise ValueError(f"No rollup level keeps {sorted(wanted)}.")


# ---------------------------------------------------------------------------------------
# Expressions shared by the rollups and the direct queries over the items
# ---------------------------------------------------------------------------------------


class HoursBetween(Func):
    """Hours from `earlier` to `later`, computed natively by the database (the same SQL
    counts the rollups' timing bands and finds the items inside a band)."""

    output_field = FloatField()

    def __init__(self, later: Any, earlier: Any) -> None:
        super().__init__(later, earlier)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        later, later_params = compiler.compile(self.source_expressions[0])
        earlier, earlier_params = compiler.compile(self.source_expressions[1])
        return hours_sql(later, earlier, "sqlite"), [*later_params, *earlier_params]

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        later, later_params = compiler.compile(self.source_expressions[0])
        earlier, earlier_params = compiler.compile(self.source_expressions[1])
        return hours_sql(later, earlier, "postgresql"), [*later_params, *earlier_params]


def hours_sql(later: str, earlier: str, vendor: str) -> str:
    if vendor == "postgresql":
        # date_part answers in double precision; EXTRACT in numeric, four times slower
        # to compute and compare over a quarter's complaints.
        return f"(date_part('epoch', {later} - {earlier}) / 3600.0)"
    return f"((julianday({later}) - julianday({earlier})) * 24.0)"


def band_q(hours: Expression, lower: float | None, upper: float | None) -> Q:
    q = Q()
    if lower is not None:
        q &= Q(GreaterThanOrEqualExpr(hours, lower))
    if upper is not None:
        q &= Q(LessThanExpr(hours, upper))
    return q


def GreaterThanOrEqualExpr(expression: Expression, value: float) -> Any:
    from django.db.models.lookups import GreaterThanOrEqual

    return GreaterThanOrEqual(expression, Value(float(value)))


def LessThanExpr(expression: Expression, value: float) -> Any:
    from django.db.models.lookups import LessThan

    return LessThan(expression, Value(float(value)))


def _aggregates() -> dict[str, Any]:
    """The measures as ORM aggregates over items: the direct path (a customer's figures,
    and the reference the rollups are tested against)."""
    aggregates: dict[str, Any] = {
        "items": Count("id"),
        "confirmed": Count("id", filter=Q(classification_confirmed=True)),
        "critical": Count("id", filter=Q(impact="critical")),
        "scored": Count("score"),
        "sentiment_n": Count("sentiment_score"),
        "sentiment_sum": Coalesce(Sum("sentiment_score"), Value(0.0), output_field=FloatField()),
        "negative": Count("id", filter=Q(sentiment_label="negative")),
        "neutral": Count("id", filter=Q(sentiment_label="neutral")),
        "positive": Count("id", filter=Q(sentiment_label="positive")),
    }
    for scale, values in SCALE_BUCKETS.items():
        for value in values:
            # Half-open bands round decimal answers (4.5 stars) to the nearest bucket.
            aggregates[f"{scale}_{value}"] = Count(
                "id", filter=Q(scale=scale, score__gte=value - 0.5, score__lt=value + 0.5)
            )
    for name, (stamp, due) in STAMPS.items():
        hours = HoursBetween(F(stamp), F("received_at"))
        aggregates[f"{name}_n"] = Count(stamp)
        aggregates[f"{name}_on_time"] = Count(
            "id", filter=Q(**{f"{stamp}__isnull": False, f"{stamp}__lte": F(due)})
        )
        for index, lower, upper in timing_bands():
            aggregates[f"{name}_h{index}"] = Count(
                "id", filter=Q(**{f"{stamp}__isnull": False}) & band_q(hours, lower, upper)
            )
    return aggregates


def _measure_sql(vendor: str) -> dict[str, str]:
    """The measures as SQL over the columns of `_item_rows_sql` (same definitions as
    `_aggregates`)."""

    def count_if(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    sql = {
        "items": "COUNT(*)",
        "confirmed": count_if("r.classification_confirmed"),
        "critical": count_if("r.impact = 'critical'"),
        "scored": "COUNT(r.score)",
        "sentiment_n": "COUNT(r.sentiment_score)",
        "sentiment_sum": "COALESCE(SUM(r.sentiment_score), 0.0)",
        "negative": count_if("r.sentiment_label = 'negative'"),
        "neutral": count_if("r.sentiment_label = 'neutral'"),
        "positive": count_if("r.sentiment_label = 'positive'"),
    }
    for scale, values in SCALE_BUCKETS.items():
        for value in values:
            sql[f"{scale}_{value}"] = count_if(
                f"r.scale = '{scale}' AND r.score >= {value - 0.5} AND r.score < {value + 0.5}"
            )
    for name in STAMPS:
        sql[f"{name}_n"] = f"COUNT(r.{name}_hours)"
        sql[f"{name}_on_time"] = f"SUM(r.{name}_on_time)"
        for index, lower, upper in timing_bands():
            parts = [f"r.{name}_hours IS NOT NULL"]
            if lower is not None:
                parts.append(f"r.{name}_hours >= {float(lower)}")
            if upper is not None:
                parts.append(f"r.{name}_hours < {float(upper)}")
            sql[f"{name}_h{index}"] = count_if(" AND ".join(parts))
    missing = set(MEASURES) - set(sql)
    if missing:
        raise LookupError(f"Measures without SQL: {sorted(missing)}")
    return sql


# ---------------------------------------------------------------------------------------
# The company-local day in SQL
# ---------------------------------------------------------------------------------------


def local_day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min), tz)
    end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min), tz)
    return start, end


def utc_offsets(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, int]]:
    """The zone's UTC offset (seconds) from `start`, and from each transition until `end`:
    [(from, offset), ...], the moments in UTC."""
    tz = timezone.get_current_timezone()
    step = dt.timedelta(hours=6)

    def offset(moment: dt.datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]

    moment = start.astimezone(dt.UTC)
    end = end.astimezone(dt.UTC)
    current = offset(moment)
    result = [(moment, current)]
    while moment < end:
        following = min(moment + step, end)
        if offset(following) != current:
            low, high = moment, following  # the change is in (low, high]
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if offset(middle) == current:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)
            while offset(high - dt.timedelta(seconds=1)) != current:
                high -= dt.timedelta(seconds=1)
            current = offset(high)
            result.append((high, current))
            following = high
        moment = following
    return result


def local_day_sql(column: str, start: dt.datetime, end: dt.datetime, vendor: str) -> str:
    """SQL for the company-local date of a UTC timestamp column, for moments in [start, end)."""
    if vendor == "postgresql":
        zone = timezone.get_current_timezone_name().replace("'", "")
        return f"CAST(({column} AT TIME ZONE '{zone}') AS date)"
    runs = utc_offsets(start, end)

    def modifier(seconds: int) -> str:
        return f"'{seconds:+d} seconds'"

    if len(runs) == 1:
        return f"date({column}, {modifier(runs[0][1])})"
    cases = " ".join(
        f"WHEN {column} < '{runs[i + 1][0].replace(tzinfo=None).isoformat(' ')}' "
        f"THEN {modifier(runs[i][1])}"
        for i in range(len(runs) - 1)
    )
    return f"date({column}, CASE {cases} ELSE {modifier(runs[-1][1])} END)"


def month_sql(column: str, vendor: str) -> str:
    if vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


# ---------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _item_rows_sql(first: dt.date, last: dt.date, vendor: str) -> tuple[str, list[Any]]:
    """The items of local days first..last as rows with their local day and the derived
    columns the measures read (hours to acknowledge and resolve, on time or not)."""
    start, end = local_day_bounds(first, last)
    items, customers = FeedbackItem._meta.db_table, Customer._meta.db_table
    columns = [
        f"{local_day_sql('i.received_at', start, end, vendor)} AS day",
        *(f"i.{c}" for c in DIMENSIONS),
        "COALESCE(c.segment, '') AS segment",
        "i.classification_confirmed",
        "i.impact",
        "i.score",
        "i.scale",
        "i.sentiment_score",
        "i.sentiment_label",
    ]
    for name, (stamp, due) in STAMPS.items():
        columns.append(f"{hours_sql(f'i.{stamp}', 'i.received_at', vendor)} AS {name}_hours")
        columns.append(
            f"CASE WHEN i.{stamp} IS NOT NULL AND i.{stamp} <= i.{due} THEN 1 ELSE 0 END"
            f" AS {name}_on_time"
        )
    # Built from our own table and column names; the only values are parameters.
    sql = (
        f"SELECT {', '.join(columns)} FROM {_q(items)} i "  # noqa: S608 - names only
        f"LEFT OUTER JOIN {_q(customers)} c ON c.id = i.customer_id "
        "WHERE i.received_at >= %s AND i.received_at < %s"
    )
    return sql, [start, end]


def _count_base(first: dt.date, last: dt.date) -> None:
    """Insert the base rows of local days first..last, counted from the items."""
    vendor = connection.vendor
    rows_sql, params = _item_rows_sql(first, last, vendor)
    measures = _measure_sql(vendor)
    keys = ["day", *DIMENSIONS, "segment"]
    table = FeedbackRollup._meta.db_table
    sql = (
        f"INSERT INTO {_q(table)} ({', '.join(_q(c) for c in [*keys, *MEASURES])}) "  # noqa: S608 - names only
        f"SELECT {', '.join(f'r.{k}' for k in keys)}, "
        f"{', '.join(measures[m] for m in MEASURES)} "
        f"FROM ({rows_sql}) r GROUP BY {', '.join(f'r.{k}' for k in keys)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, _adapt(params))


def _adapt(params: Sequence[Any]) -> list[Any]:
    """Parameters as the backend stores them (SQLite keeps naive UTC text)."""
    result: list[Any] = []
    for value in params:
        if isinstance(value, dt.datetime):
            value = connection.ops.adapt_datetimefield_value(value)
        elif isinstance(value, dt.date):
            value = connection.ops.adapt_datefield_value(value)
        result.append(value)
    return result


def _add_cells(
    first: dt.date, last: dt.date, sign: int, upsert: bool, levels: Iterable[int] | None = None
) -> None:
    """Add (sign 1) or take away (sign -1) the base rows of days first..last to or from
    every level's cells (or only `levels`'). Without `upsert` the cells must not exist
    yet (a rebuild)."""
    vendor = connection.vendor
    base, cells = FeedbackRollup._meta.db_table, RollupCell._meta.db_table
    key_columns = CELL_KEY
    only = None if levels is None else set(levels)
    for level, kept in LEVELS.items():
        if only is not None and level not in only:
            continue
        grains = (MONTH,) if level == ALL_LEVEL else (DAY, MONTH)
        for grain in grains:
            period = "b.day" if grain == DAY else month_sql("b.day", vendor)
            dims = {
                "kind": "b.kind" if "kind" in kept else "''",
                "segment": "b.segment" if "segment" in kept else "''",
            }
            for column in ("product_line_id", "category_id", "source_id", "region_id"):
                dims[column] = f"COALESCE(b.{column}, 0)" if column in kept else "0"
            key_sql = [
                str(level),
                f"'{grain}'",
                period,
                *(dims[c] for c in key_columns[3:]),
            ]
            # Constants are not grouped by: SQLite reads an integer there as a column number.
            grouped_by = [period, *(dims[c] for c in key_columns[3:] if dims[c] not in {"0", "''"})]
            factor = "" if sign > 0 else "-"
            sums = [f"{factor}SUM(b.{m})" for m in MEASURES]
            sql = (
                f"INSERT INTO {_q(cells)} ({', '.join(_q(c) for c in [*key_columns, *MEASURES])}) "  # noqa: S608 - names only
                f"SELECT {', '.join(key_sql)}, {', '.join(sums)} FROM {_q(base)} b "
                f"WHERE b.day >= %s AND b.day <= %s GROUP BY {', '.join(grouped_by)}"
            )
            if upsert:
                sql += (
                    f" ON CONFLICT ({', '.join(_q(c) for c in key_columns)}) DO UPDATE SET "
                    + ", ".join(
                        f"{_q(m)} = {_q(cells)}.{_q(m)} + excluded.{_q(m)}" for m in MEASURES
                    )
                )
            with connection.cursor() as cursor:
                cursor.execute(sql, _adapt([first, last]))


def rebuild(first: dt.date, last: dt.date) -> int:
    """Recount the local days first..last (base rows and every cell they feed); returns
    the base rows written."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One upkeep at a time until commit: two concurrent ones would both take away
            # the same old base rows (SQLite's writers queue already).
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [UPKEEP_LOCK])
        _add_cells(first, last, -1, upsert=True)
        FeedbackRollup.objects.filter(day__gte=first, day__lte=last).delete()
        _count_base(first, last)
        _add_cells(first, last, 1, upsert=True)
        month_from = first.replace(day=1)
        RollupCell.objects.filter(
            Q(grain=DAY, period__gte=first, period__lte=last)
            | Q(grain=MONTH, period__gte=month_from, period__lte=last),
            items=0,
        ).delete()
        return FeedbackRollup.objects.filter(day__gte=first, day__lte=last).count()


def _as_date(value: Any) -> dt.date:
    # PostgreSQL answers a date; SQLite's date() answers its ISO text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _cell_deltas(base_rows: Iterable[dict[str, Any]]) -> dict[tuple[Any, ...], list[Any]]:
    """What base rows add to every level's cells, keyed like `CELL_KEY` (the same keys
    `_add_cells` writes in SQL: dimensions a level drops are 0 or '', no value is 0)."""
    cells: dict[tuple[Any, ...], list[Any]] = {}
    for row in base_rows:
        day = _as_date(row["day"])
        for level, kept in LEVELS.items():
            grains = (MONTH,) if level == ALL_LEVEL else (DAY, MONTH)
            for grain in grains:
                key = (
                    level,
                    grain,
                    day if grain == DAY else day.replace(day=1),
                    row["kind"] if "kind" in kept else "",
                    *(
                        (row[column] or 0) if column in kept else 0
                        for column in ("product_line_id", "category_id", "source_id", "region_id")
                    ),
                    row["segment"] if "segment" in kept else "",
                )
                sums = cells.setdefault(key, [0] * len(MEASURES))
                for index, name in enumerate(MEASURES):
                    sums[index] += row[name]
    return cells


def add_items(ids: Sequence[int], first: dt.datetime, last: dt.datetime) -> int:
    """Count newly inserted items (received between `first` and `last`) into the base
    rows and every level's cells, without recounting their days; returns the base rows
    touched.

    The items must be new to the rollups (inserted in this transaction, never counted):
    their counts are simply added, which gives what a recount would, at the cost of the
    new items rather than of every item of their days. Runs under the same lock as
    `rebuild`, so a concurrent recount of the same days either sees these items or
    finishes before they are added.
    """
    if not ids:
        return 0
    vendor = connection.vendor
    rows_sql, params = _item_rows_sql(
        timezone.localtime(first).date(), timezone.localtime(last).date(), vendor
    )
    measures = _measure_sql(vendor)
    keys = ["day", *DIMENSIONS, "segment"]
    base = _q(FeedbackRollup._meta.db_table)
    cells_table = _q(RollupCell._meta.db_table)
    # No savepoint: callers insert the items in the same transaction, and a failure here
    # must undo those too.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [UPKEEP_LOCK])
        rows: list[dict[str, Any]] = []
        names = [*keys, *MEASURES]
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                f"SELECT {', '.join(f'r.{k}' for k in keys)}, "  # noqa: S608 - names only
                f"{', '.join(measures[m] for m in MEASURES)} "
                f"FROM ({rows_sql} AND i.id IN ({marks})) r "
                f"GROUP BY {', '.join(f'r.{k}' for k in keys)}",
                [*_adapt(params), *part],
            )
            rows.extend(dict(zip(names, row, strict=True)) for row in cursor.fetchall())
        # Base rows: one per key (a recount groups by the key), so add to the row that
        # is there or insert it. Keys may be NULL (no product line), hence no upsert.
        merged: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rows:
            key = tuple(row[k] for k in keys)
            if key in merged:
                for name in MEASURES:
                    merged[key][name] += row[name]
            else:
                merged[key] = dict(row)
        additions = ", ".join(f"{_q(m)} = {_q(m)} + %s" for m in MEASURES)
        for key, row in merged.items():
            where = []
            values: list[Any] = []
            for name, value in zip(keys, key, strict=True):
                column = _q(name)
                if value is None:
                    where.append(f"{column} IS NULL")
                else:
                    where.append(f"{column} = %s")
                    values.append(_as_date(value) if name == "day" else value)
            cursor.execute(
                f"UPDATE {base} SET {additions} WHERE {' AND '.join(where)}",  # noqa: S608 - names only
                _adapt([*(row[m] for m in MEASURES), *values]),
            )
            if cursor.rowcount == 0:
                columns = [*keys, *MEASURES]
                cursor.execute(
                    f"INSERT INTO {base} ({', '.join(_q(c) for c in columns)}) "  # noqa: S608 - names only
                    f"VALUES ({', '.join(['%s'] * len(columns))})",
                    _adapt([_as_date(row["day"]), *(row[c] for c in columns[1:])]),
                )
        deltas = list(_cell_deltas(merged.values()).items())
        columns = [*CELL_KEY, *MEASURES]
        marks = f"({', '.join(['%s'] * len(columns))})"
        upsert = f"ON CONFLICT ({', '.join(_q(c) for c in CELL_KEY)}) DO UPDATE SET " + ", ".join(
            f"{_q(m)} = {cells_table}.{_q(m)} + excluded.{_q(m)}" for m in MEASURES
        )
        # One statement for all the cells (each key once, as ON CONFLICT requires): a
        # statement per cell is parsed and planned once per cell, a dozen per group.
        size = rows_per_statement(connection, len(columns))
        for start in range(0, len(deltas), size):
            batch = deltas[start : start + size]
            cursor.execute(
                f"INSERT INTO {cells_table} ({', '.join(_q(c) for c in columns)}) "  # noqa: S608 - names only
                f"VALUES {', '.join([marks] * len(batch))} {upsert}",
                _adapt([value for cell, sums in batch for value in (*cell, *sums)]),
            )
    return len(merged)


def rebuild_all() -> int:
    """Recount every day that has items (and clear the rest); returns the base rows."""
    bounds = FeedbackItem.objects.order_by().aggregate(
        first=Min("received_at"), last=Max("received_at")
    )
    with transaction.atomic():
        RollupCell.objects.all().delete()
        FeedbackRollup.objects.all().delete()
        if bounds["first"] is None:
            return 0
        first = timezone.localtime(bounds["first"]).date()
        last = timezone.localtime(bounds["last"]).date()
        _count_base(first, last)
        _add_cells(first, last, 1, upsert=False)
        return FeedbackRollup.objects.count()


def count_levels(levels: Iterable[int]) -> None:
    """Fill new levels' cells from the base rows (a migration that adds a level)."""
    bounds = FeedbackRollup.objects.order_by().aggregate(first=Min("day"), last=Max("day"))
    if bounds["first"] is None:
        return
    with transaction.atomic():
        RollupCell.objects.filter(level__in=list(levels)).delete()
        _add_cells(bounds["first"], bounds["last"], 1, upsert=False, levels=levels)


def TruncDateMin(field: str) -> Any:
    return Min(TruncDate(field, tzinfo=timezone.get_current_timezone()))


def TruncDateMax(field: str) -> Any:
    return Max(TruncDate(field, tzinfo=timezone.get_current_timezone()))


def refresh_for(moments: Iterable[dt.datetime | None]) -> int:
    """Rebuild the days the given received-at moments fall on (contiguous runs at once)."""
    days = sorted({timezone.localtime(m).date() for m in moments if m is not None})
    if not days:
        return 0
    rows = 0
    run_start = previous = days[0]
    for day in days[1:]:
        if (day - previous).days > 1:
            rows += rebuild(run_start, previous)
            run_start = day
        previous = day
    rows += rebuild(run_start, previous)
    return rows


def on_items_changed(sender: Any, span: tuple[dt.datetime, dt.datetime], **kwargs: Any) -> None:
    """Receiver of feedback's `items_changed` signal: recount the span's days."""
    first, last = span
    rebuild(timezone.localtime(first).date(), timezone.localtime(last).date())


def on_items_added(sender: Any, items: Sequence[FeedbackItem], **kwargs: Any) -> None:
    """Receiver of feedback's `items_added` signal: add the new items' counts."""
    received = [item.received_at for item in items]
    add_items([item.pk for item in items], min(received), max(received))


def on_item_saved(sender: Any, instance: FeedbackItem, **kwargs: Any) -> None:
    """Receiver of FeedbackItem saves and deletes: recount its day (and its old day)."""
    loaded = instance._audit_loaded or {}
    refresh_for([instance.received_at, loaded.get("received_at")])
