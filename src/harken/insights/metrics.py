"""Satisfaction metrics for any scope and grain, computed in SQL over the rollups.

A `Scope` is a period (company-local dates, inclusive) plus filters. Counts, score
histograms, sentiment and complaint handling times come from the rollups: each
question is answered by the smallest rollup level that keeps the dimensions it filters
and splits by (`rollups.LEVELS`), from month rows for the whole months of the period
and day rows for the days at its edges, in one GROUP BY per table read. The statistics
(intervals, tests, control limits) are then computed from those sums by
`insights.statistics`. A single customer's figures come from the items (rollups have
no customer key), by the same aggregates (`rollups._aggregates`); so do the exact
median and 90th percentile handling times, at the ranks the rollups' counts give
(`complaint_timings`).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection
from django.db.models import Count, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models import DurationField as DjangoDurationField
from django.db.models.functions import TruncMonth, TruncQuarter, TruncWeek
from django.utils import timezone

from harken.feedback.choices import ItemKind
from harken.feedback.models import FeedbackItem

from . import statistics as st
from .choices import Dimension, ExposureKind, Grain, Metric
from .models import (
    CES_BUCKETS,
    CSAT_BUCKETS,
    NPS_BUCKETS,
    Exposure,
    FeedbackRollup,
    RollupCell,
)
from .rollups import (
    ALL_LEVEL,
    DAY,
    MEASURES,
    MONTH,
    HoursBetween,
    band_q,
    level_for,
    local_day_bounds,
    timing_bands,
)

COMPLAINT_KIND = ItemKind.COMPLAINT
RATE_PER = 1000.0


@dataclass(frozen=True)
class Scope:
    """A period and the filters that narrow the feedback measured."""

    date_from: dt.date
    date_to: dt.date
    sources: tuple[int, ...] = ()
    segments: tuple[str, ...] = ()
    regions: tuple[int, ...] = ()
    product_lines: tuple[int, ...] = ()
    categories: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    customer: int | None = None

    def __post_init__(self) -> None:
        if self.date_from > self.date_to:
            raise ValueError("The period starts after it ends.")

    def with_period(self, date_from: dt.date, date_to: dt.date) -> Scope:
        return replace(self, date_from=date_from, date_to=date_to)

    def previous(self) -> Scope:
        """The period of the same length just before this one."""
        length = (self.date_to - self.date_from).days + 1
        end = self.date_from - dt.timedelta(days=1)
        return self.with_period(end - dt.timedelta(days=length - 1), end)

    def filters(self) -> dict[str, tuple[Any, ...]]:
        """The non-empty filters by rollup dimension."""
        named = {
            "source_id": self.sources,
            "segment": self.segments,
            "region_id": self.regions,
            "product_line_id": self.product_lines,
            "category_id": self.categories,
            "kind": self.kinds,
        }
        return {name: values for name, values in named.items() if values}

    def dimension_filter(self) -> Q:
        q = Q()
        for name, values in self.filters().items():
            q &= Q(**{f"{name}__in": values})
        return q

    def rollup_filter(self) -> Q:
        """The base rollup rows (day × every dimension) of the scope."""
        return Q(day__gte=self.date_from, day__lte=self.date_to) & self.dimension_filter()

    def item_filter(self) -> Q:
        start, end = local_day_bounds(self.date_from, self.date_to)
        q = Q(received_at__gte=start, received_at__lt=end)
        for name, values in (
            ("source_id", self.sources),
            ("customer__segment", self.segments),
            ("region_id", self.regions),
            ("product_line_id", self.product_lines),
            ("category_id", self.categories),
            ("kind", self.kinds),
        ):
            if values:
                q &= Q(**{f"{name}__in": values})
        if self.customer is not None:
            q &= Q(customer_id=self.customer)
        return q

    def exposure_filter(self, kind: str) -> Q:
        q = Q(kind=kind, month__gte=self.date_from.replace(day=1), month__lte=self.date_to)
        q &= (
            Q(product_line_id__in=self.product_lines)
            if self.product_lines
            else Q(product_line__isnull=True)
        )
        q &= Q(region_id__in=self.regions) if self.regions else Q(region__isnull=True)
        return q

    def as_params(self) -> dict[str, Any]:
        """The scope as query parameters of the feedback list (the records behind a number)."""
        params: dict[str, Any] = {
            "received_from": self.date_from.isoformat(),
            "received_to": self.date_to.isoformat(),
        }
        for name, values in (
            ("source", self.sources),
            ("segment", self.segments),
            ("region", self.regions),
            ("product_line", self.product_lines),
            ("category", self.categories),
            ("kind", self.kinds),
        ):
            if values:
                params[name] = list(values)
        if self.customer is not None:
            params["customer"] = self.customer
        return params


SUM_FIELDS = MEASURES


@dataclass
class Totals:
    """Summed rollup counts of one cell (a period, or a period × dimension value)."""

    values: dict[str, float] = field(default_factory=dict)
    complaints: int = 0

    def get(self, name: str) -> int:
        return int(self.values.get(name) or 0)

    def add(self, other: Totals) -> None:
        for name, value in other.values.items():
            if value:
                self.values[name] = (self.values.get(name) or 0) + value
        self.complaints += other.complaints

    def histogram(self, scale: str, buckets: Iterable[int]) -> list[int]:
        return [self.get(f"{scale}_{value}") for value in buckets]

    def nps(self) -> st.NPSResult:
        return st.nps_from_histogram(self.histogram("nps", NPS_BUCKETS))

    def csat(self) -> st.ProportionResult:
        """Share satisfied: 4–5 on the 1–5 scale, plus "good" on two-point ratings."""
        satisfied = self.get("csat_4") + self.get("csat_5") + self.get("csat2_1")
        total = (
            sum(self.histogram("csat", CSAT_BUCKETS)) + self.get("csat2_0") + self.get("csat2_1")
        )
        return st.csat(satisfied, total)

    def ces(self) -> st.MeanResult:
        counts = self.histogram("ces", CES_BUCKETS)
        n = sum(counts)
        total = sum(value * count for value, count in zip(CES_BUCKETS, counts, strict=True))
        squares = sum(
            value * value * count for value, count in zip(CES_BUCKETS, counts, strict=True)
        )
        return st.mean_interval(float(total), float(squares), n, bounds=(1.0, 7.0))

    def negative_share(self) -> st.ProportionResult:
        return st.csat(self.get("negative"), self.get("sentiment_n"))

    def confirmed_share(self) -> st.ProportionResult:
        return st.csat(self.get("confirmed"), self.get("items"))


# Aggregates are aliased "t_<field>": an alias may not shadow the field it sums.
def _sum_annotations() -> dict[str, Any]:
    annotations: dict[str, Any] = {f"t_{name}": Sum(name) for name in SUM_FIELDS}
    annotations["t_complaints"] = Sum("items", filter=Q(kind=COMPLAINT_KIND))
    return annotations


TRUNC = {Grain.WEEK: TruncWeek, Grain.MONTH: TruncMonth, Grain.QUARTER: TruncQuarter}
DIMENSION_FIELDS = {
    Dimension.SOURCE: "source_id",
    Dimension.PRODUCT_LINE: "product_line_id",
    Dimension.REGION: "region_id",
    Dimension.CATEGORY: "category_id",
    Dimension.KIND: "kind",
    Dimension.SEGMENT: "segment",
}


def _as_totals(row: dict[str, Any]) -> Totals:
    values = {key.removeprefix("t_"): value for key, value in row.items()}
    complaints = int(values.pop("complaints", 0) or 0)
    return Totals(values=values, complaints=complaints)


def period_start(day: dt.date, grain: str) -> dt.date:
    if grain == Grain.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if grain == Grain.QUARTER:
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day.replace(day=1)


def next_period(start: dt.date, grain: str) -> dt.date:
    if grain == Grain.WEEK:
        return start + dt.timedelta(days=7)
    months = 3 if grain == Grain.QUARTER else 1
    month = start.month - 1 + months
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def periods(date_from: dt.date, date_to: dt.date, grain: str) -> list[tuple[dt.date, dt.date]]:
    """Calendar periods covering the dates: (first day, last day) of each."""
    result = []
    start = period_start(date_from, grain)
    while start <= date_to:
        following = next_period(start, grain)
        result.append((start, following - dt.timedelta(days=1)))
        start = following
    return result


def _as_date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _reads(
    date_from: dt.date, date_to: dt.date, days_only: bool
) -> list[tuple[str, dt.date, dt.date]]:
    """Which rollup rows cover the dates: (grain, first, last) with month rows for the
    whole months inside and day rows for the days at the edges."""
    if days_only:
        return [(DAY, date_from, date_to)]
    first_month = (
        date_from if date_from.day == 1 else next_period(date_from.replace(day=1), Grain.MONTH)
    )
    after = date_to + dt.timedelta(days=1)
    end_month = after if after.day == 1 else after.replace(day=1)  # first day not in a whole month
    if first_month >= end_month:
        return [(DAY, date_from, date_to)]
    reads = []
    if date_from < first_month:
        reads.append((DAY, date_from, first_month - dt.timedelta(days=1)))
    reads.append((MONTH, first_month, end_month - dt.timedelta(days=1)))
    if end_month <= date_to:
        reads.append((DAY, end_month, date_to))
    return reads


def _read_sql(table: str, period: str | None, keys: Sequence[str], where: list[str]) -> str:
    quote = connection.ops.quote_name
    complaints = f"SUM(CASE WHEN kind = '{COMPLAINT_KIND}' THEN items ELSE 0 END)"
    selected = [*([period] if period else []), *keys]
    columns = [*(quote(c) for c in selected), *(f"SUM({quote(m)})" for m in MEASURES), complaints]
    # Our own table and column names; the values are parameters.
    sql = f"SELECT {', '.join(columns)} FROM {quote(table)} WHERE {' AND '.join(where)}"  # noqa: S608
    if selected:
        sql += f" GROUP BY {', '.join(quote(c) for c in selected)}"
    return sql


def grouped(
    scope: Scope, keys: Sequence[str] = (), grain: str | None = None
) -> dict[tuple[Any, ...], Totals]:
    """Totals per value of the rollup dimensions `keys` (prefixed by the period start when
    a grain is given), read from the smallest rollup level that can answer.

    Keys are rollup dimension names (`product_line_id`, `kind`, `segment`…); a missing
    value (no product line) is None. The SQL is written here rather than by the ORM:
    compiling ninety sums through the ORM costs more than running them.
    """
    if scope.customer is not None:
        raise ValueError("per-customer figures come from the items")  # see customer_totals
    level = level_for({"kind", *scope.filters(), *keys})
    ops = connection.ops
    result: dict[tuple[Any, ...], Totals] = {}
    for read_grain, first, last in _reads(scope.date_from, scope.date_to, grain == Grain.WEEK):
        if read_grain == DAY and level == ALL_LEVEL:
            table, period = FeedbackRollup._meta.db_table, "day"
            where = ["day >= %s", "day <= %s"]
            params: list[Any] = [first, last]
        else:
            table, period = RollupCell._meta.db_table, "period"
            where = ["level = %s", "grain = %s", "period >= %s", "period <= %s"]
            params = [level, read_grain, first, last]
        for name, values in scope.filters().items():
            where.append(f"{ops.quote_name(name)} IN ({', '.join(['%s'] * len(values))})")
            params.extend(values)
        sql = _read_sql(table, period if grain else None, keys, where)
        adapted = [ops.adapt_datefield_value(p) if isinstance(p, dt.date) else p for p in params]
        with connection.cursor() as cursor:
            cursor.execute(sql, adapted)
            rows = cursor.fetchall()
        width = len(keys) + (1 if grain else 0)
        for row in rows:
            if row[width] is None:
                continue  # no rows at all: SUM over nothing
            key: tuple[Any, ...] = ()
            if grain:
                day = row[0]
                day = dt.date.fromisoformat(day) if isinstance(day, str) else _as_date(day)
                key = (period_start(day, grain),)
            for index, name in enumerate(keys, start=width - len(keys)):
                value = row[index]
                key += (None if value in (0, None) and name.endswith("_id") else value,)
            cell = Totals(
                values=dict(zip(MEASURES, row[width:-1], strict=True)),
                complaints=int(row[-1] or 0),
            )
            if key in result:
                result[key].add(cell)
            else:
                result[key] = cell
    return result


def totals(scope: Scope) -> Totals:
    """The summed counts of the whole scope."""
    if scope.customer is not None:
        return customer_totals(scope)
    return grouped(scope).get((), Totals())


def by_period(scope: Scope, grain: str, by: str | None = None) -> dict[tuple[dt.date, Any], Totals]:
    """Totals per (period start, dimension value), from the rollups."""
    if grain not in TRUNC:
        raise ValueError(f"Unknown grain {grain!r}; use week, month or quarter.")
    if by is not None and by not in DIMENSION_FIELDS:
        raise ValueError(f"Cannot split by {by!r}.")
    if scope.customer is not None:
        return _customer_by_period(scope, grain, by)
    keys = [DIMENSION_FIELDS[Dimension(by)]] if by is not None else []
    cells = grouped(scope, keys, grain)
    return {(key[0], key[1] if by is not None else None): cell for key, cell in cells.items()}


def exposure_by_period(
    scope: Scope, grain: str, kind: str, by: str | None = None
) -> dict[tuple[dt.date, Any], float]:
    """Summed exposure per period (and product line or region when split by one)."""
    q = Q(kind=kind, month__gte=scope.date_from.replace(day=1), month__lte=scope.date_to)
    split_field = None
    if by == Dimension.PRODUCT_LINE:
        split_field = "product_line_id"
        q &= Q(product_line__isnull=False)
        if scope.product_lines:
            q &= Q(product_line_id__in=scope.product_lines)
        q &= Q(region_id__in=scope.regions) if scope.regions else Q(region__isnull=True)
    elif by == Dimension.REGION:
        split_field = "region_id"
        q &= Q(region__isnull=False)
        if scope.regions:
            q &= Q(region_id__in=scope.regions)
        q &= (
            Q(product_line_id__in=scope.product_lines)
            if scope.product_lines
            else Q(product_line__isnull=True)
        )
    else:
        q = scope.exposure_filter(kind)
    keys = ["period", *([split_field] if split_field else [])]
    rows = (
        Exposure.objects.filter(q)
        .annotate(period=TRUNC[Grain(grain)]("month"))
        .values(*keys)
        .annotate(total=Sum("value"))
        .order_by()
    )
    return {
        (_as_date(row["period"]), row.get(split_field) if split_field else None): float(
            row["total"]
        )
        for row in rows
    }


# ---------------------------------------------------------------------------------------
# Metric values
# ---------------------------------------------------------------------------------------


@dataclass
class Value:
    """One metric's value with what it rests on: interval, sample size, warning."""

    metric: str
    value: float | None
    lower: float | None = None
    upper: float | None = None
    n: int = 0
    warning: str | None = None
    unit: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
            "n": self.n,
            "warning": self.warning,
            "unit": self.unit,
        }


def metric_value(metric: str, cell: Totals, exposure: float | None = None) -> Value:
    if metric == Metric.ITEMS:
        return Value(metric, float(cell.get("items")), n=cell.get("items"))
    if metric == Metric.COMPLAINTS:
        return Value(metric, float(cell.complaints), n=cell.complaints)
    if metric == Metric.NPS:
        r = cell.nps()
        return Value(metric, r.score, r.lower, r.upper, r.n, r.warning)
    if metric in {Metric.CSAT, Metric.NEGATIVE_SHARE, Metric.CONFIRMED_SHARE}:
        p = {
            Metric.CSAT: cell.csat,
            Metric.NEGATIVE_SHARE: cell.negative_share,
            Metric.CONFIRMED_SHARE: cell.confirmed_share,
        }[Metric(metric)]()
        scale = 100.0
        return Value(
            metric,
            None if p.proportion is None else p.proportion * scale,
            None if p.lower is None else p.lower * scale,
            None if p.upper is None else p.upper * scale,
            p.total,
            p.warning,
            "%",
        )
    if metric == Metric.CES:
        m = cell.ces()
        return Value(metric, m.mean, m.lower, m.upper, m.n, m.warning)
    if metric == Metric.COMPLAINT_RATE:
        if exposure is None:
            return Value(
                metric,
                None,
                warning="No orders shipped are recorded for this scope.",
                unit="per 1,000 orders",
            )
        rate = st.rate(cell.complaints, exposure, per=RATE_PER)
        return Value(
            metric,
            rate.rate,
            rate.lower,
            rate.upper,
            cell.complaints,
            rate.warning,
            "per 1,000 orders",
        )
    raise ValueError(f"Unknown metric {metric!r}.")


def exposure_total(scope: Scope, kind: str = ExposureKind.ORDERS_SHIPPED) -> float | None:
    return exposure_totals(scope, (kind,))[kind]


def exposure_totals(scope: Scope, kinds: Sequence[str]) -> dict[str, float | None]:
    """Summed exposure of each kind over the scope (None: nothing recorded), one query."""
    q = Q()
    for kind in kinds:
        q |= scope.exposure_filter(kind)
    found = dict(
        Exposure.objects.filter(q)
        .order_by()
        .values("kind")
        .annotate(total=Sum("value"))
        .values_list("kind", "total")
    )
    return {kind: None if found.get(kind) is None else float(found[kind]) for kind in kinds}


def value(scope: Scope, metric: str, cell: Totals | None = None) -> Value:
    """One metric over the whole scope (`cell`: the scope's totals, when known already)."""
    if metric == Metric.OTIF:
        return otif(scope)
    exposure = exposure_total(scope) if metric == Metric.COMPLAINT_RATE else None
    return metric_value(metric, cell if cell is not None else totals(scope), exposure)


def cached_totals(scope: Scope, cache: dict[Scope, Totals] | None) -> Totals:
    """Totals of a scope, remembered in `cache` (one dashboard or pack asks many metrics
    of the same two periods)."""
    if cache is None:
        return totals(scope)
    if scope not in cache:
        cache[scope] = totals(scope)
    return cache[scope]


def otif(scope: Scope) -> Value:
    found = exposure_totals(scope, (ExposureKind.DELIVERIES_OTIF, ExposureKind.DELIVERIES))
    return otif_value(found[ExposureKind.DELIVERIES_OTIF], found[ExposureKind.DELIVERIES])


def otif_value(otif_total: float | None, deliveries: float | None) -> Value:
    if not deliveries:
        return Value(
            Metric.OTIF, None, warning="No deliveries are recorded for this scope.", unit="%"
        )
    p = st.csat(int(otif_total or 0), int(deliveries))
    return Value(
        Metric.OTIF,
        p.percent,
        p.lower and p.lower * 100,
        p.upper and p.upper * 100,
        p.total,
        p.warning,
        "%",
    )


def exposure_by_line(scope: Scope, kind: str) -> dict[int, float]:
    """Summed exposure per product line: `exposure_total` of the scope narrowed to each
    line, in one query."""
    q = Q(kind=kind, month__gte=scope.date_from.replace(day=1), month__lte=scope.date_to)
    q &= Q(product_line__isnull=False)
    q &= Q(region_id__in=scope.regions) if scope.regions else Q(region__isnull=True)
    rows = Exposure.objects.filter(q).values("product_line_id").annotate(total=Sum("value"))
    return {row["product_line_id"]: float(row["total"]) for row in rows.order_by()}


def values_by_line(scope: Scope, metric: str, lines: Sequence[int]) -> dict[int, Value]:
    """The metric for each product line: what `value` gives for the scope narrowed to
    that line, from one grouped read of the rollups (and one of exposure)."""
    narrowed = replace(scope, product_lines=tuple(lines))
    if metric == Metric.OTIF:
        otif_totals = exposure_by_line(narrowed, ExposureKind.DELIVERIES_OTIF)
        deliveries = exposure_by_line(narrowed, ExposureKind.DELIVERIES)
        return {line: otif_value(otif_totals.get(line), deliveries.get(line)) for line in lines}
    cells = grouped(narrowed, ("product_line_id",)) if lines else {}
    orders = (
        exposure_by_line(narrowed, ExposureKind.ORDERS_SHIPPED)
        if metric == Metric.COMPLAINT_RATE
        else {}
    )
    return {
        line: metric_value(metric, cells.get((line,), Totals()), orders.get(line)) for line in lines
    }


@dataclass
class SeriesPoint:
    period: dt.date
    period_end: dt.date
    value: Value


def series(
    scope: Scope, metric: str, grain: str = Grain.MONTH, by: str | None = None
) -> dict[Any, list[SeriesPoint]]:
    """The metric per period, for the whole scope (key None) or per dimension value."""
    cells = by_period(scope, grain, by)
    exposures = (
        exposure_by_period(scope, grain, ExposureKind.ORDERS_SHIPPED, by)
        if metric == Metric.COMPLAINT_RATE
        else {}
    )
    keys = sorted({key for _, key in cells}, key=lambda k: (k is None, str(k))) if by else [None]
    result: dict[Any, list[SeriesPoint]] = {}
    for key in keys:
        points = []
        for start, end in periods(scope.date_from, scope.date_to, grain):
            cell = cells.get((start, key), Totals())
            exposure = exposures.get((start, key)) if metric == Metric.COMPLAINT_RATE else None
            if metric == Metric.OTIF:
                val = otif(scope.with_period(max(start, scope.date_from), min(end, scope.date_to)))
            else:
                val = metric_value(metric, cell, exposure)
            points.append(SeriesPoint(start, end, val))
        result[key] = points
    return result


# ---------------------------------------------------------------------------------------
# Change between periods
# ---------------------------------------------------------------------------------------


@dataclass
class Change:
    metric: str
    current: Value
    previous: Value
    difference: float | None
    p_value: float | None
    significant: bool
    adverse: bool
    test: str
    warning: str | None = None


def compare(
    scope: Scope,
    metric: str,
    previous: Scope | None = None,
    *,
    alpha: float = 0.05,
    cache: dict[Scope, Totals] | None = None,
) -> Change:
    """The metric now and in the previous period, with the right test of the change.

    Pass the same `cache` dict to several calls to count each period's totals once.
    """
    from .choices import HIGHER_IS_WORSE

    previous = previous or scope.previous()
    now_cell, before_cell = cached_totals(scope, cache), cached_totals(previous, cache)
    if metric == Metric.COMPLAINT_RATE:
        e1, e2 = exposure_total(previous), exposure_total(scope)
        current, earlier = metric_value(metric, now_cell, e2), metric_value(metric, before_cell, e1)
    else:
        current, earlier = value(scope, metric, now_cell), value(previous, metric, before_cell)
    p_value: float | None = None
    test = ""
    warning = None
    if metric == Metric.NPS:
        result = st.nps_difference_test(before_cell.nps(), now_cell.nps(), alpha=alpha)
        p_value, test, warning = result.p_value, "z-test on the NPS difference", result.warning
    elif metric in {Metric.CSAT, Metric.NEGATIVE_SHARE, Metric.CONFIRMED_SHARE}:
        a = getattr(
            before_cell,
            {
                Metric.CSAT: "csat",
                Metric.NEGATIVE_SHARE: "negative_share",
                Metric.CONFIRMED_SHARE: "confirmed_share",
            }[Metric(metric)],
        )()
        b = getattr(
            now_cell,
            {
                Metric.CSAT: "csat",
                Metric.NEGATIVE_SHARE: "negative_share",
                Metric.CONFIRMED_SHARE: "confirmed_share",
            }[Metric(metric)],
        )()
        result2 = st.two_proportion_test(a.successes, a.total, b.successes, b.total, alpha=alpha)
        p_value, test, warning = result2.p_value, "two-proportion z-test", result2.warning
    elif metric == Metric.COMPLAINT_RATE:
        if e1 and e2:
            result3 = st.rate_ratio_test(
                before_cell.complaints, e1, now_cell.complaints, e2, alpha=alpha
            )
            p_value, test, warning = result3.p_value, "exact rate-ratio test", result3.warning
        else:
            warning = "No orders shipped are recorded for one of the periods."
    elif metric == Metric.COMPLAINTS:
        # Counts with equal exposure (the periods' lengths) compare as Poisson rates.
        e1 = float((previous.date_to - previous.date_from).days + 1)
        e2 = float((scope.date_to - scope.date_from).days + 1)
        result4 = st.rate_ratio_test(
            before_cell.complaints, e1, now_cell.complaints, e2, alpha=alpha
        )
        p_value, test, warning = result4.p_value, "exact rate-ratio test per day", result4.warning
    difference = None
    if current.value is not None and earlier.value is not None:
        difference = current.value - earlier.value
    significant = p_value is not None and p_value < alpha
    worse = (
        difference is not None
        and ((difference > 0) == (metric in HIGHER_IS_WORSE))
        and difference != 0
    )
    return Change(
        metric,
        current,
        earlier,
        difference,
        p_value,
        significant,
        significant and worse,
        test,
        warning,
    )


# ---------------------------------------------------------------------------------------
# Complaint handling times and per-customer figures (from the items)
# ---------------------------------------------------------------------------------------


@dataclass
class Timing:
    what: str
    n: int
    median_hours: float | None
    p90_hours: float | None
    within_target: st.ProportionResult


TIMING_STAMPS = (
    ("acknowledge", "ack", "acknowledged_at", "acknowledge_due"),
    ("resolve", "resolve", "resolved_at", "resolve_due"),
)
PERCENTILES = (0.5, 0.9)


def _offset(fraction: float, n: int) -> int:
    """The rank (from 0) of the item that gives a percentile of n sorted values."""
    return min(n - 1, max(0, round(fraction * (n - 1))))


def complaint_timings(scope: Scope, cache: dict[Scope, Totals] | None = None) -> list[Timing]:
    """Time to acknowledge and to resolve complaints received in the scope.

    Counts and the share on time come from the rollups. The median and 90th percentile
    are exact, the values at ranks `_offset` gives for the rollups' counts: on
    PostgreSQL picked by one aggregate from each stamp's sorted hours (its index of
    complaints by kind and date carries the stamps); elsewhere the rollups' histogram
    of hours says which band holds the wanted rank and how many come before it, one
    query reads the hours of the complaints in those bands only, and the rank is
    counted within the band.
    """
    if scope.customer is not None:
        return complaint_timings_direct(scope)
    complaints = Scope(**{**scope.__dict__, "kinds": (COMPLAINT_KIND,)})
    cell = cached_totals(complaints, cache)
    ranks = {
        (prefix, fraction): _offset(fraction, n)
        for _, prefix, _, _ in TIMING_STAMPS
        if (n := cell.get(f"{prefix}_n"))
        for fraction in PERCENTILES
    }
    picker = _ranked_hours if connection.vendor == "postgresql" else _banded_hours
    picked = picker(complaints, cell, ranks) if ranks else {}
    return [
        Timing(
            what=what,
            n=cell.get(f"{prefix}_n"),
            median_hours=picked.get((prefix, 0.5)),
            p90_hours=picked.get((prefix, 0.9)),
            within_target=st.csat(cell.get(f"{prefix}_on_time"), cell.get(f"{prefix}_n")),
        )
        for what, prefix, _, _ in TIMING_STAMPS
    ]


def _hours_expressions() -> dict[str, HoursBetween]:
    return {
        prefix: HoursBetween(F(stamp), F("received_at")) for _, prefix, stamp, _ in TIMING_STAMPS
    }


def _ranked_hours(
    complaints: Scope, cell: Totals, ranks: dict[tuple[str, float], int]
) -> dict[tuple[str, float], float | None]:
    """The hours at the given ranks, each picked from its stamp's sorted hours in SQL
    (PostgreSQL: the identical aggregates are computed once per stamp)."""
    inner = (
        FeedbackItem.objects.filter(complaints.item_filter())
        .annotate(
            **{f"h_{prefix}": expression for prefix, expression in _hours_expressions().items()}
        )
        .values(*(f"h_{prefix}" for _, prefix, _, _ in TIMING_STAMPS))
        .order_by()
    )
    inner_sql, inner_params = inner.query.sql_with_params()
    keys = list(ranks)
    picks = ", ".join(
        f"(array_agg(t.h_{prefix} ORDER BY t.h_{prefix}) FILTER "
        f"(WHERE t.h_{prefix} IS NOT NULL))[%s]"
        for prefix, _ in keys
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {picks} FROM ({inner_sql}) t",  # noqa: S608 - names only
            [*(ranks[key] + 1 for key in keys), *inner_params],
        )
        row = cursor.fetchone()
    return {
        key: None if value is None else float(value) for key, value in zip(keys, row, strict=True)
    }


def _banded_hours(
    complaints: Scope, cell: Totals, ranks: dict[tuple[str, float], int]
) -> dict[tuple[str, float], float | None]:
    """The hours at the given ranks, read from the histogram bands that hold them."""
    bands = timing_bands()
    wanted: dict[tuple[str, float], tuple[int, int]] = {}  # (band, rank within the band)
    for (prefix, fraction), overall in ranks.items():
        rank = overall
        for index, _, _ in bands:
            count = cell.get(f"{prefix}_h{index}")
            if rank < count:
                wanted[(prefix, fraction)] = (index, rank)
                break
            rank -= count
    expressions = _hours_expressions()
    q = Q()
    for (prefix, _), (index, _) in wanted.items():
        _, lower, upper = bands[index]
        q |= Q(**{f"{STAMP_OF[prefix]}__isnull": False}) & band_q(expressions[prefix], lower, upper)
    query = (
        FeedbackItem.objects.filter(complaints.item_filter())
        .filter(q)
        .annotate(ack_hours=expressions["ack"], resolve_hours=expressions["resolve"])
        .values_list("ack_hours", "resolve_hours")
        .order_by()
    )
    # Thousands of plain floats: read by the cursor, not through the ORM's converters.
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    # A value's band is the number of band edges at or below it (lower edges are
    # inclusive); only the wanted (prefix, band) pairs are kept.
    edges = [lower for _, lower, _ in bands if lower is not None]
    wanted_bands = {(prefix, index) for (prefix, _), (index, _) in wanted.items()}
    hours: dict[tuple[str, int], list[float]] = {}
    for ack, resolve in found:
        for prefix, raw in (("ack", ack), ("resolve", resolve)):
            if raw is None:
                continue
            value = float(raw)
            key = (prefix, bisect_right(edges, value))
            if key in wanted_bands:
                hours.setdefault(key, []).append(value)
    picked: dict[tuple[str, float], float | None] = {}
    for (prefix, fraction), (index, rank) in wanted.items():
        values = sorted(hours.get((prefix, index), []))
        picked[(prefix, fraction)] = values[rank] if rank < len(values) else None
    return picked


STAMP_OF = {prefix: stamp for _, prefix, stamp, _ in TIMING_STAMPS}


def _percentile(queryset: QuerySet, expression: str, fraction: float, n: int) -> float | None:
    if n == 0:
        return None
    value = queryset.order_by(expression).values_list(expression, flat=True)[_offset(fraction, n)]
    return value.total_seconds() / 3600 if isinstance(value, dt.timedelta) else float(value) / 3.6e9


def complaint_timings_direct(scope: Scope) -> list[Timing]:
    """Time to acknowledge and to resolve complaints, sorted straight from the items (a
    customer's figures, and the reference the rollup path is tested against)."""
    complaints = FeedbackItem.objects.filter(scope.item_filter(), kind=COMPLAINT_KIND)
    result = []
    for what, _, stamp, due in TIMING_STAMPS:
        done = complaints.filter(**{f"{stamp}__isnull": False}).annotate(
            took=ExpressionWrapper(F(stamp) - F("received_at"), output_field=DjangoDurationField())
        )
        counts = done.aggregate(
            n=Count("id"), on_time=Count("id", filter=Q(**{f"{stamp}__lte": F(due)}))
        )
        n = counts["n"]
        result.append(
            Timing(
                what=what,
                n=n,
                median_hours=_percentile(done, "took", 0.5, n),
                p90_hours=_percentile(done, "took", 0.9, n),
                within_target=st.csat(counts["on_time"], n),
            )
        )
    return result


def customer_totals(scope: Scope) -> Totals:
    """A customer's figures straight from their items (rollups have no customer key)."""
    return direct_totals(scope)


def direct_totals(scope: Scope) -> Totals:
    """The scope's totals counted straight from the items."""
    cells = _customer_by_period(scope, Grain.QUARTER, None, whole=True)
    return next(iter(cells.values()), Totals())


def direct_by_period(
    scope: Scope, grain: str, by: str | None = None
) -> dict[tuple[dt.date, Any], Totals]:
    """Totals per period (and dimension value) counted straight from the items."""
    return _customer_by_period(scope, grain, by)


def _customer_by_period(
    scope: Scope, grain: str, by: str | None, whole: bool = False
) -> dict[tuple[dt.date, Any], Totals]:
    from .rollups import _aggregates

    items = FeedbackItem.objects.filter(scope.item_filter())
    keys: list[str] = []
    if not whole:
        from django.db.models.functions import TruncDate

        day = TruncDate("received_at", tzinfo=timezone.get_current_timezone())
        items = items.annotate(period=TRUNC[Grain(grain)](day))
        keys.append("period")
    if by is not None:
        keys.append(DIMENSION_FIELDS[Dimension(by)].replace("segment", "customer__segment"))
    aggregates = _aggregates()
    aggregates["complaints"] = Count("id", filter=Q(kind=COMPLAINT_KIND))
    rows = (
        items.values(*keys).annotate(**aggregates).order_by()
        if keys
        else [items.aggregate(**aggregates)]
    )
    result = {}
    for row in rows:
        period = _as_date(row.pop("period")) if "period" in row else scope.date_from
        key = row.pop(keys[-1]) if by is not None else None
        result[(period, key)] = _as_totals(row)
    return result


def retention(scope: Scope) -> st.ProportionResult:
    """Customers active at the period's start who were not deactivated during it.

    Deactivations are read from the audit trail (`customer.deactivate` events), so the
    figure can be computed for any past period.
    """
    from harken.core.models import AuditEvent
    from harken.customers.models import Customer

    start, end = local_day_bounds(scope.date_from, scope.date_to)
    events = AuditEvent.objects.filter(object_type="customers.customer", at__gte=start)
    changed_after_start = events.filter(action__in=["customer.deactivate", "customer.activate"])
    # Customers who were not yet customers when the period began do not count.
    existing = Q(customer_since__lt=scope.date_from) | Q(
        customer_since__isnull=True, created_at__lt=start
    )
    statuses = dict(Customer.objects.filter(existing).values_list("pk", "status"))
    existed = set(statuses)
    active_now = {pk for pk, status in statuses.items() if status == "active"}
    # Walk back from today to the period's start to know who was active then.
    active_at_start = set(active_now)
    lost = set()
    for action, object_id, at in changed_after_start.order_by("-seq").values_list(
        "action", "object_id", "at"
    ):
        pk = int(object_id)
        if action == "customer.deactivate":
            active_at_start.add(pk)
            if at < end:
                lost.add(pk)
        else:
            active_at_start.discard(pk)
    active_at_start &= existed
    lost &= active_at_start
    total = len(active_at_start)
    return st.csat(total - len(lost), total)


def dimension_labels(by: str, keys: Sequence[Any]) -> dict[Any, str]:
    """Readable labels for the values of a dimension."""
    from harken.customers.choices import Segment
    from harken.customers.models import ProductLine, Region
    from harken.feedback.models import Category, PerceptionSource

    models: dict[str, Any] = {
        Dimension.SOURCE: PerceptionSource,
        Dimension.PRODUCT_LINE: ProductLine,
        Dimension.REGION: Region,
        Dimension.CATEGORY: Category,
    }
    if by in models:
        ids = [k for k in keys if k is not None]
        names = dict(models[Dimension(by)].objects.filter(pk__in=ids).values_list("pk", "name"))
        return {k: names.get(k, "—") if k is not None else "(none)" for k in keys}
    if by == Dimension.KIND:
        return {k: str(ItemKind(k).label) if k in ItemKind.values else str(k) for k in keys}
    if by == Dimension.SEGMENT:
        return {k: str(Segment(k).label) if k in Segment.values else "(no customer)" for k in keys}
    return {k: str(k) for k in keys}


def default_scope(today: dt.date | None = None, months: int = 3) -> Scope:
    """The last `months` full calendar months."""
    today = today or timezone.localdate()
    end = today.replace(day=1) - dt.timedelta(days=1)
    start = end.replace(day=1)
    for _ in range(months - 1):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return Scope(start, end)


__all__ = [
    "Change",
    "Scope",
    "SeriesPoint",
    "Totals",
    "Value",
    "by_period",
    "compare",
    "complaint_timings",
    "default_scope",
    "periods",
    "retention",
    "series",
    "totals",
    "value",
]


class ScopeError(ValueError):
    """Query parameters that do not make a scope; `errors` maps each to its reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def scope_from_params(params: Any, *, default: Scope | None = None) -> Scope:
    """A Scope from query parameters (`from`, `to`, and repeatable filters), validated.

    Accepts a QueryDict or a plain mapping of name -> value or list of values.
    """

    def values(name: str) -> list[str]:
        if hasattr(params, "getlist"):
            raw = params.getlist(name)
        else:
            raw = params.get(name, [])
            raw = raw if isinstance(raw, list | tuple) else [raw]
        return [str(v) for part in raw for v in str(part).split(",") if str(v).strip()]

    errors: dict[str, str] = {}
    base = default or default_scope()

    def day(name: str, fallback: dt.date) -> dt.date:
        given = values(name)
        if not given:
            return fallback
        try:
            return dt.date.fromisoformat(given[0])
        except ValueError:
            errors[name] = f"{given[0]!r} is not a date (YYYY-MM-DD)."
            return fallback

    def ids(name: str) -> tuple[int, ...]:
        result = []
        for v in values(name):
            if v.isdigit():
                result.append(int(v))
            else:
                errors[name] = f"{v!r} is not an id."
        return tuple(result)

    date_from = day("from", base.date_from)
    date_to = day("to", base.date_to)
    if date_from > date_to and "from" not in errors and "to" not in errors:
        errors["from"] = "The period starts after it ends."
    customer = ids("customer")
    scope_kwargs: dict[str, Any] = {
        "sources": ids("source"),
        "regions": ids("region"),
        "product_lines": ids("product_line"),
        "categories": ids("category"),
        "segments": tuple(values("segment")),
        "kinds": tuple(values("kind")),
        "customer": customer[0] if customer else None,
    }
    if errors:
        raise ScopeError(errors)
    return Scope(date_from, date_to, **scope_kwargs)
