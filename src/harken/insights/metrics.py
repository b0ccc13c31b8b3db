"""Satisfaction metrics for any scope and grain, computed in SQL over the rollups.

A `Scope` is a period (company-local dates, inclusive) plus filters. Counts, score
histograms and sentiment come from `FeedbackRollup` in one GROUP BY per question;
the statistics (intervals, tests, control limits) are then computed from those sums
by `insights.statistics`. Only two questions read the items themselves, because a
rollup cannot answer them: a single customer's figures, and the time to acknowledge
and to resolve complaints (percentiles), both answered by SQL over an indexed subset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Count, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models import DurationField as DjangoDurationField
from django.db.models.functions import TruncMonth, TruncQuarter, TruncWeek
from django.utils import timezone

from harken.feedback.choices import ItemKind
from harken.feedback.models import FeedbackItem

from . import statistics as st
from .choices import Dimension, ExposureKind, Grain, Metric
from .models import CES_BUCKETS, CSAT_BUCKETS, NPS_BUCKETS, Exposure, FeedbackRollup
from .rollups import bucket_fields, local_day_bounds

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

    def rollup_filter(self) -> Q:
        q = Q(day__gte=self.date_from, day__lte=self.date_to)
        for name, values in (
            ("source_id", self.sources),
            ("segment", self.segments),
            ("region_id", self.regions),
            ("product_line_id", self.product_lines),
            ("category_id", self.categories),
            ("kind", self.kinds),
        ):
            if values:
                q &= Q(**{f"{name}__in": values})
        return q

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


SUM_FIELDS = (
    "items",
    "confirmed",
    "critical",
    "sentiment_n",
    "sentiment_sum",
    "negative",
    "neutral",
    "positive",
)


@dataclass
class Totals:
    """Summed rollup counts of one cell (a period, or a period × dimension value)."""

    values: dict[str, float] = field(default_factory=dict)
    complaints: int = 0

    def get(self, name: str) -> int:
        return int(self.values.get(name) or 0)

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
    names = (*SUM_FIELDS, *bucket_fields())
    annotations: dict[str, Any] = {f"t_{name}": Sum(name) for name in names}
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


def _rollups(scope: Scope) -> QuerySet:
    if scope.customer is not None:
        raise ValueError("per-customer figures come from the items")  # see customer_totals
    return FeedbackRollup.objects.filter(scope.rollup_filter())


def _as_totals(row: dict[str, Any]) -> Totals:
    values = {key.removeprefix("t_"): value for key, value in row.items()}
    complaints = int(values.pop("complaints", 0) or 0)
    return Totals(values=values, complaints=complaints)


def totals(scope: Scope) -> Totals:
    """The summed counts of the whole scope."""
    if scope.customer is not None:
        return customer_totals(scope)
    row = _rollups(scope).aggregate(**_sum_annotations())
    return _as_totals(row)


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


def by_period(scope: Scope, grain: str, by: str | None = None) -> dict[tuple[dt.date, Any], Totals]:
    """Totals per (period start, dimension value) in one GROUP BY."""
    if grain not in TRUNC:
        raise ValueError(f"Unknown grain {grain!r}; use week, month or quarter.")
    keys = ["period"]
    if by is not None:
        if by not in DIMENSION_FIELDS:
            raise ValueError(f"Cannot split by {by!r}.")
        keys.append(DIMENSION_FIELDS[Dimension(by)])
    if scope.customer is not None:
        return _customer_by_period(scope, grain, by)
    rows = (
        _rollups(scope)
        .annotate(period=TRUNC[Grain(grain)]("day"))
        .values(*keys)
        .annotate(**_sum_annotations())
        .order_by()
    )
    result = {}
    for row in rows:
        period = _as_date(row.pop("period"))
        value = row.pop(keys[1]) if by is not None else None
        result[(period, value)] = _as_totals(row)
    return result


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
    total = Exposure.objects.filter(scope.exposure_filter(kind)).aggregate(total=Sum("value"))[
        "total"
    ]
    return None if total is None else float(total)


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
    otif_total = exposure_total(scope, ExposureKind.DELIVERIES_OTIF)
    deliveries = exposure_total(scope, ExposureKind.DELIVERIES)
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
        e1, e2 = exposure_total(previous), exposure_total(scope)
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


def _percentile(queryset: QuerySet, expression: str, fraction: float, n: int) -> float | None:
    if n == 0:
        return None
    offset = min(n - 1, max(0, round(fraction * (n - 1))))
    value = queryset.order_by(expression).values_list(expression, flat=True)[offset]
    return value.total_seconds() / 3600 if isinstance(value, dt.timedelta) else float(value) / 3.6e9


def complaint_timings(scope: Scope) -> list[Timing]:
    """Time to acknowledge and to resolve complaints received in the scope."""
    complaints = FeedbackItem.objects.filter(scope.item_filter(), kind=COMPLAINT_KIND)
    result = []
    for what, stamp, due in (
        ("acknowledge", "acknowledged_at", "acknowledge_due"),
        ("resolve", "resolved_at", "resolve_due"),
    ):
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
    cells = _customer_by_period(scope, Grain.QUARTER, None, whole=True)
    return next(iter(cells.values()), Totals())


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
    active_now = set(
        Customer.objects.filter(existing, status="active").values_list("pk", flat=True)
    )
    existed = set(Customer.objects.filter(existing).values_list("pk", flat=True))
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
