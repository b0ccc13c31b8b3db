"""Finding signals: control-chart rules on complaint rates and significant adverse changes.

Run by `harken tick` (and the dashboard's "look for signals" button). Each finding has
a fingerprint (what, where, which rule, which period), so running again never creates
the same signal twice; a person then acknowledges it, dismisses it with a reason, or
turns it into an action.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from harken.customers.models import ProductLine
from harken.feedback.models import Category

from . import statistics as st
from .choices import Dimension, Grain, Metric, SignalKind
from .metrics import Scope, by_period, compare, exposure_by_period, periods
from .models import Signal

HISTORY_MONTHS = 24
# Only findings that complete in the last few periods are news; older ones are history.
RECENT_PERIODS = 3


@dataclass(frozen=True)
class ChartSeries:
    """A u-chart of complaints per 1,000 orders (or per month when no orders are recorded)."""

    scope: Scope
    labels: list[dt.date]
    counts: list[int]
    exposures: list[float]
    per: float
    chart: st.ControlChart
    signals: list[st.Signal]
    unit: str


def history_scope(today: dt.date | None = None, months: int = HISTORY_MONTHS) -> Scope:
    today = today or timezone.localdate()
    end = today.replace(day=1) - dt.timedelta(days=1)  # the last full month
    start = end.replace(day=1)
    for _ in range(months - 1):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return Scope(start, end)


def complaint_charts(scope: Scope, by: str | None = None) -> dict[Any, ChartSeries]:
    """Monthly complaint u-charts for the scope, overall or per product line/category."""
    complaints_scope = Scope(**{**scope.__dict__, "kinds": ("complaint",)})
    cells = by_period(complaints_scope, Grain.MONTH, by)
    split_exposure = by if by in {Dimension.PRODUCT_LINE, Dimension.REGION} else None
    exposures = exposure_by_period(scope, Grain.MONTH, "orders_shipped", split_exposure)
    months = [start for start, _ in periods(scope.date_from, scope.date_to, Grain.MONTH)]
    keys = {key for _, key in cells} if by else {None}
    result = {}
    for key in keys:
        counts = [cells[(m, key)].complaints if (m, key) in cells else 0 for m in months]
        exposure_key = key if split_exposure else None
        raw_exposure = [exposures.get((m, exposure_key), 0.0) for m in months]
        if any(raw_exposure):
            per, unit = 1000.0, "complaints per 1,000 orders"
            chart = st.u_chart(counts, raw_exposure, per=per)
        else:
            per, unit = 1.0, "complaints per month"
            raw_exposure = [1.0] * len(months)
            chart = st.u_chart(counts, raw_exposure)
        found = st.collapse_signals(st.special_causes(chart))
        result[key] = ChartSeries(
            complaints_scope, months, counts, raw_exposure, per, chart, found, unit
        )
    return result


def fingerprint(**parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _create(**fields: Any) -> bool:
    try:
        with transaction.atomic():
            Signal.objects.create(**fields)
    except IntegrityError:
        return False
    return True


def detect(today: dt.date | None = None) -> list[Signal]:
    """Look for new signals; returns those created now."""
    today = today or timezone.localdate()
    scope = history_scope(today)
    before = set(Signal.objects.values_list("pk", flat=True))
    lines = dict(ProductLine.objects.values_list("pk", "name"))
    categories = dict(Category.objects.values_list("pk", "name"))
    recent_from = len(periods(scope.date_from, scope.date_to, Grain.MONTH)) - RECENT_PERIODS

    def record_chart(series: ChartSeries, where: str, scope_ids: dict[str, Any]) -> None:
        for signal in series.signals:
            if signal.direction not in {st.Direction.ABOVE, st.Direction.INCREASING}:
                continue  # fewer complaints than usual is good news, not a signal
            if signal.end < recent_from:
                continue
            first = series.labels[signal.start]
            last = series.labels[signal.end]
            last_day = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(
                days=1
            )
            points = series.chart.points[signal.start : signal.end + 1]
            _create(
                kind=SignalKind.CONTROL_CHART,
                metric=Metric.COMPLAINT_RATE if series.per != 1.0 else Metric.COMPLAINTS,
                title=f"{where}: {signal.description}",
                description=(
                    f"The control chart of {series.unit} for {where} flags {first:%B %Y}"
                    + (f" to {last:%B %Y}" if last != first else "")
                    + f": {signal.description}."
                ),
                scope={**scope_ids, "kinds": ["complaint"]},
                period_start=first,
                period_end=last_day,
                rule=str(signal.rule),
                evidence={
                    "unit": series.unit,
                    "points": [
                        {
                            "month": series.labels[signal.start + i].isoformat(),
                            "count": series.counts[signal.start + i],
                            "value": p.value,
                            "centre": p.centre,
                            "ucl": p.ucl,
                        }
                        for i, p in enumerate(points)
                    ],
                    "filter": {
                        **scope_ids,
                        "kind": "complaint",
                        "received_from": first.isoformat(),
                        "received_to": last_day.isoformat(),
                    },
                },
                fingerprint=fingerprint(
                    kind="chart", scope=scope_ids, rule=str(signal.rule), start=first
                ),
            )

    overall = complaint_charts(scope)[None]
    record_chart(overall, "All product lines", {})
    for line_id, series in complaint_charts(scope, Dimension.PRODUCT_LINE).items():
        if line_id is None:
            continue
        record_chart(series, lines.get(line_id, "?"), {"product_line": [line_id]})
        line_scope = Scope(scope.date_from, scope.date_to, product_lines=(line_id,))
        for category_id, cat_series in complaint_charts(line_scope, Dimension.CATEGORY).items():
            if category_id is None:
                continue
            where = f"{lines.get(line_id, '?')} — {categories.get(category_id, '?')}"
            record_chart(cat_series, where, {"product_line": [line_id], "category": [category_id]})
    detect_adverse_changes(today)
    return list(Signal.objects.exclude(pk__in=before).order_by("pk"))


def detect_adverse_changes(today: dt.date) -> None:
    """NPS, CSAT and complaint rate of the last full quarter against the one before."""
    quarter_start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    end = quarter_start - dt.timedelta(days=1)
    start = dt.date(end.year, (end.month - 1) // 3 * 3 + 1, 1)
    scope = Scope(start, end)
    previous_end = start - dt.timedelta(days=1)
    previous = Scope(
        dt.date(previous_end.year, (previous_end.month - 1) // 3 * 3 + 1, 1), previous_end
    )
    for metric in (Metric.NPS, Metric.CSAT, Metric.COMPLAINT_RATE):
        change = compare(scope, metric, previous)
        if not change.adverse:
            continue
        label = Metric(metric).label
        _create(
            kind=SignalKind.SIGNIFICANT_CHANGE,
            metric=metric,
            title=f"{label} worsened significantly in Q{(start.month - 1) // 3 + 1} {start.year}",
            description=(
                f"{label} went from {change.previous.value:.1f} to {change.current.value:.1f} "
                f"({change.test}, p = {change.p_value:.3g})."
            ),
            scope={},
            period_start=start,
            period_end=end,
            rule="significant_change",
            evidence={
                "current": change.current.as_dict(),
                "previous": change.previous.as_dict(),
                "p_value": change.p_value,
                "test": change.test,
                "filter": {"received_from": start.isoformat(), "received_to": end.isoformat()},
            },
            fingerprint=fingerprint(kind="change", metric=str(metric), start=start),
        )
