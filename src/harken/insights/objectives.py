"""Whether each quality objective is met, now and over its recent periods."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from .choices import Comparator, Dimension, Frequency, Grain
from .metrics import Scope, Value, series, value, values_by_line
from .models import QualityObjective

TREND_PERIODS = 6


@dataclass
class Assessment:
    """An objective's standing: per scope part (a product line when per line)."""

    objective: QualityObjective
    label: str
    current: Value
    on_target: bool | None
    trend: list[tuple[dt.date, float | None]]
    period: tuple[dt.date, dt.date]


def meets(objective: QualityObjective, figure: float | None) -> bool | None:
    if figure is None:
        return None
    if objective.comparator == Comparator.AT_LEAST:
        return figure >= objective.target
    return figure <= objective.target


def scope_of(objective: QualityObjective, date_from: dt.date, date_to: dt.date) -> Scope:
    s = objective.scope or {}

    def ints(name: str) -> tuple[int, ...]:
        return tuple(int(v) for v in s.get(name, []) if str(v).isdigit())

    return Scope(
        date_from,
        date_to,
        sources=ints("sources"),
        segments=tuple(str(v) for v in s.get("segments", [])),
        regions=ints("regions"),
        product_lines=ints("product_lines"),
        categories=ints("categories"),
    )


def last_period(
    objective: QualityObjective, today: dt.date | None = None
) -> tuple[dt.date, dt.date, str]:
    today = today or timezone.localdate()
    if objective.frequency == Frequency.QUARTERLY:
        quarter_start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        end = quarter_start - dt.timedelta(days=1)
        return dt.date(end.year, (end.month - 1) // 3 * 3 + 1, 1), end, Grain.QUARTER
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end, Grain.MONTH


def assess(objective: QualityObjective, today: dt.date | None = None) -> list[Assessment]:
    """The objective's standing in its last full period, with the periods before it."""
    start, end, grain = last_period(objective, today)
    trend_start = start
    for _ in range(TREND_PERIODS - 1):
        trend_start = (trend_start - dt.timedelta(days=1)).replace(day=1)
        if grain == Grain.QUARTER:
            trend_start = dt.date(trend_start.year, (trend_start.month - 1) // 3 * 3 + 1, 1)
    scope = scope_of(objective, start, end)
    history = scope_of(objective, trend_start, end)
    if not objective.per_product_line:
        current = value(scope, objective.metric)
        points = series(history, objective.metric, grain)[None]
        return [
            Assessment(
                objective,
                "All",
                current,
                meets(objective, current.value),
                [(p.period, p.value.value) for p in points],
                (start, end),
            )
        ]
    from harken.customers.models import ProductLine

    lines = list(ProductLine.objects.filter(active=True))
    if scope.product_lines:
        lines = [line for line in lines if line.pk in scope.product_lines]
    split = series(history, objective.metric, grain, by=Dimension.PRODUCT_LINE)
    currents = values_by_line(scope, objective.metric, [line.pk for line in lines])
    result = []
    for line in lines:
        current = currents[line.pk]
        points = split.get(line.pk, [])
        result.append(
            Assessment(
                objective,
                line.name,
                current,
                meets(objective, current.value),
                [(p.period, p.value.value) for p in points],
                (start, end),
            )
        )
    return result


def standing(today: dt.date | None = None) -> list[dict[str, Any]]:
    """Every active objective with its parts, for the dashboard and the review pack."""
    rows = []
    for objective in QualityObjective.objects.filter(active=True).select_related("owner"):
        parts = assess(objective, today)
        rows.append(
            {
                "objective": objective,
                "parts": parts,
                "met": all(p.on_target for p in parts if p.on_target is not None)
                if any(p.on_target is not None for p in parts)
                else None,
            }
        )
    return rows
