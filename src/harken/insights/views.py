"""Insights pages: the dashboard (and its JSON twin), explore, signals, quality
objectives and exposure.

Every figure comes from `metrics`, `detection` and `objectives`, which aggregate in SQL
over the rollups; this module only arranges their answers for people (and for the
dashboard's JSON, so that the page and scripts read one computation). Each number links
to the feedback list filtered to the records behind it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.views import View

from harken.core import audit
from harken.core.exports import neutralise
from harken.core.permissions import can
from harken.core.tables import Column
from harken.core.templatetags.harken import badge
from harken.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectPermissionMixin,
    ObjectTransitionView,
)
from harken.feedback.choices import ItemKind
from harken.feedback.filters import FeedbackItemFilterSet
from harken.feedback.models import FeedbackItem
from harken.feedback.services import overdue_count

from . import detection, filters, forms, metrics, objectives
from . import statistics as st
from .choices import (
    SIGNAL_COLOURS,
    Dimension,
    ExposureKind,
    Grain,
    Metric,
    SignalStatus,
)
from .models import NPS_BUCKETS, Exposure, FeedbackRollup, QualityObjective, Signal

COMPLAINT = ItemKind.COMPLAINT
ALPHA = 0.05
TREND_MONTHS = 12
CHART_MONTHS = 24
TOP_ISSUES = 10
OPEN_SIGNALS_SHOWN = 10

# --------------------------------------------------------------------------------------
# Links to the records behind a number
# --------------------------------------------------------------------------------------

SPLIT_PARAMS = {
    Dimension.SOURCE: "source",
    Dimension.PRODUCT_LINE: "product_line",
    Dimension.REGION: "region",
    Dimension.CATEGORY: "category",
    Dimension.KIND: "kind",
    Dimension.SEGMENT: "segment",
}


def records_url(params: Mapping[str, Any], **extra: Any) -> str:
    """The feedback list filtered by `params` (plus `extra`)."""
    # Scope.as_params() and signal evidence use the feedback list's own filter names.
    query = {**params, **extra}
    return reverse("feedback:feedbackitem_list") + "?" + urlencode(query, doseq=True)


def scope_records_url(scope: metrics.Scope, **extra: Any) -> str:
    return records_url(scope.as_params(), **extra)


def exposure_url(scope: metrics.Scope, kinds: Iterable[str]) -> str:
    params: dict[str, Any] = {
        "kind": list(kinds),
        "month_from": scope.date_from.strftime("%Y-%m"),
        "month_to": scope.date_to.strftime("%Y-%m"),
    }
    if scope.product_lines:
        params["product_line"] = list(scope.product_lines)
    if scope.regions:
        params["region"] = list(scope.regions)
    return reverse("insights:exposure_list") + "?" + urlencode(params, doseq=True)


# --------------------------------------------------------------------------------------
# The dashboard's computation (one function serves the page and its JSON)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    metric: str
    label: str
    decimals: int
    complaints_only: bool = False


HEADLINES = (
    Headline(Metric.NPS, "NPS", 1),
    Headline(Metric.CSAT, "CSAT (% satisfied)", 1),
    Headline(Metric.CES, "CES (1–7, lower is easier)", 2),
    Headline(Metric.COMPLAINTS, "Complaints", 0, complaints_only=True),
    Headline(Metric.COMPLAINT_RATE, "Complaints per 1,000 orders", 2, complaints_only=True),
    Headline(Metric.NEGATIVE_SHARE, "Negative sentiment (%)", 1),
    Headline(Metric.CONFIRMED_SHARE, "Confirmed by a person (%)", 1),
    Headline(Metric.OTIF, "On time in full (%)", 1),
)


def p_text(p_value: float | None) -> str:
    if p_value is None:
        return ""
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def change_text(p_value: float | None, significant: bool, warning: str | None = None) -> str:
    if p_value is None:
        return "change not tested" + (f": {warning}" if warning else "")
    return f"{'significant' if significant else 'not significant'} ({p_text(p_value)})"


def rounded(value: float | None, decimals: int = 2) -> float | None:
    return None if value is None else round(value, decimals)


def value_dict(value: metrics.Value, decimals: int = 2) -> dict[str, Any]:
    return {
        "value": rounded(value.value, decimals),
        "lower": rounded(value.lower, decimals),
        "upper": rounded(value.upper, decimals),
        "n": value.n,
        "warning": value.warning,
        "unit": value.unit,
    }


def proportion_dict(result: st.ProportionResult) -> dict[str, Any]:
    def pct(x: float | None) -> float | None:
        return None if x is None else round(100 * x, 1)

    return {
        "value": pct(result.proportion),
        "lower": pct(result.lower),
        "upper": pct(result.upper),
        "n": result.total,
        "warning": result.warning,
        "unit": "%",
    }


def headline(
    scope: metrics.Scope, item: Headline, cache: dict[metrics.Scope, metrics.Totals] | None = None
) -> dict[str, Any]:
    change = metrics.compare(scope, item.metric, alpha=ALPHA, cache=cache)
    if item.metric == Metric.OTIF:
        url = exposure_url(scope, [ExposureKind.DELIVERIES, ExposureKind.DELIVERIES_OTIF])
    elif item.complaints_only:
        url = scope_records_url(scope, kind=COMPLAINT)
    else:
        url = scope_records_url(scope)
    return {
        "metric": item.metric,
        "label": item.label,
        "decimals": item.decimals,
        **value_dict(change.current, item.decimals),
        "previous": rounded(change.previous.value, item.decimals),
        "difference": rounded(change.difference, item.decimals),
        "p_value": change.p_value,
        "significant": change.significant,
        "adverse": change.adverse,
        "improved": change.significant and not change.adverse,
        "test": change.test,
        "change": change_text(change.p_value, change.significant, change.warning),
        "url": url,
    }


def timings(
    scope: metrics.Scope,
    previous: metrics.Scope,
    cache: dict[metrics.Scope, metrics.Totals] | None = None,
) -> list[dict[str, Any]]:
    """Time to acknowledge and resolve complaints, now and in the previous period."""
    url = scope_records_url(scope, kind=COMPLAINT)
    before = {t.what: t for t in metrics.complaint_timings(previous, cache)}
    rows = []
    for now in metrics.complaint_timings(scope, cache):
        earlier = before[now.what]
        a, b = earlier.within_target, now.within_target
        test = st.two_proportion_test(a.successes, a.total, b.successes, b.total, alpha=ALPHA)
        worse = test.difference is not None and test.difference < 0
        rows.append(
            {
                "what": now.what,
                "label": f"Time to {now.what}",
                "n": now.n,
                "median_hours": rounded(now.median_hours, 1),
                "p90_hours": rounded(now.p90_hours, 1),
                "within_target": proportion_dict(b),
                "previous_median_hours": rounded(earlier.median_hours, 1),
                "previous_within_target": proportion_dict(a)["value"],
                "p_value": test.p_value,
                "significant": test.significant,
                "adverse": test.significant and worse,
                "improved": test.significant and not worse,
                "change": change_text(test.p_value, test.significant, test.warning),
                "url": url,
            }
        )
    return rows


def retention_figures(scope: metrics.Scope, previous: metrics.Scope) -> dict[str, Any]:
    now, before = metrics.retention(scope), metrics.retention(previous)
    test = st.two_proportion_test(
        before.successes, before.total, now.successes, now.total, alpha=ALPHA
    )
    worse = test.difference is not None and test.difference < 0
    return {
        "metric": "retention",
        "label": "Customers retained (%)",
        **proportion_dict(now),
        "previous": proportion_dict(before)["value"],
        "p_value": test.p_value,
        "significant": test.significant,
        "adverse": test.significant and worse,
        "improved": test.significant and not worse,
        "change": change_text(test.p_value, test.significant, test.warning),
        "url": reverse("customers:customer_list") + "?status=inactive",
    }


def trend_scope(scope: metrics.Scope, months: int) -> metrics.Scope:
    end_month = scope.date_to.replace(day=1)
    return scope.with_period(forms.months_back(end_month, months - 1), scope.date_to)


def trends(scope: metrics.Scope) -> dict[str, Any]:
    """Monthly NPS (with its interval), CSAT and complaint rate over the last twelve months."""
    history = trend_scope(scope, TREND_MONTHS)
    # One GROUP BY serves the three metrics (series() would run one per metric).
    cells = metrics.by_period(history, Grain.MONTH)
    orders = metrics.exposure_by_period(history, Grain.MONTH, ExposureKind.ORDERS_SHIPPED)
    spans = metrics.periods(history.date_from, history.date_to, Grain.MONTH)
    result: dict[str, Any] = {
        "labels": [start.isoformat() for start, _ in spans],
        "title": f"{history.date_from:%b %Y} to {history.date_to:%b %Y}",
    }
    for metric in (Metric.NPS, Metric.CSAT, Metric.COMPLAINT_RATE):
        result[str(metric)] = [
            value_dict(
                metrics.metric_value(
                    metric,
                    cells.get((start, None), metrics.Totals()),
                    orders.get((start, None)) if metric == Metric.COMPLAINT_RATE else None,
                )
            )
            for start, _ in spans
        ]
    return result


def control_chart(scope: metrics.Scope) -> dict[str, Any]:
    """The complaint u-chart over 24 months ending with the scope, with its special causes."""
    history = trend_scope(scope, CHART_MONTHS)
    series = detection.complaint_charts(history)[None]
    return chart_payload(series)


def chart_payload(series: detection.ChartSeries) -> dict[str, Any]:
    worse: set[int] = set()
    better: set[int] = set()
    for signal in series.signals:
        up = signal.direction in {st.Direction.ABOVE, st.Direction.INCREASING}
        (worse if up else better).update(range(signal.start, signal.end + 1))
    points = series.chart.points
    return {
        "labels": [label.isoformat() for label in series.labels],
        "counts": list(series.counts),
        "values": [rounded(p.value, 3) for p in points],
        "centre": [rounded(p.centre, 3) for p in points],
        "ucl": [rounded(p.ucl, 3) for p in points],
        "lcl": [rounded(p.lcl, 3) for p in points],
        # Points of special-cause patterns: more complaints than usual, and fewer.
        "special": sorted(worse),
        "special_fewer": sorted(better - worse),
        "signals": [
            {
                "rule": str(s.rule),
                "description": s.description,
                "direction": str(s.direction),
                "from": series.labels[s.start].isoformat(),
                "to": series.labels[s.end].isoformat(),
            }
            for s in series.signals
        ],
        "unit": series.unit,
    }


def pareto(scope: metrics.Scope) -> list[dict[str, Any]]:
    """Complaints per category in the scope, largest first, with the cumulative share."""
    complaints = metrics.Scope(**{**scope.__dict__, "kinds": (COMPLAINT,)})
    counts = metrics.grouped(complaints, ("category_id",))
    rows = [
        {"category_id": key[0], "n": cell.get("items")}
        for key, cell in counts.items()
        if cell.get("items") > 0
    ]
    rows.sort(key=lambda r: (-r["n"], none_first(r["category_id"])))
    labels = metrics.dimension_labels(Dimension.CATEGORY, [r["category_id"] for r in rows])
    total = sum(r["n"] for r in rows)
    result, running = [], 0
    for row in rows:
        running += row["n"]
        category = row["category_id"]
        extra: dict[str, Any] = {"kind": COMPLAINT}
        if category is not None:
            extra["category"] = [category]
        result.append(
            {
                "category": category,
                "label": labels[category],
                "count": row["n"],
                "cumulative_percent": round(100 * running / total, 1),
                "url": scope_records_url(scope, **extra) if category is not None else "",
            }
        )
    return result


def top_issues(scope: metrics.Scope, previous: metrics.Scope) -> list[dict[str, Any]]:
    """Category × product line with the most complaints, against the previous period.

    One GROUP BY over both periods' rollups; rising ones first, then by count.
    """
    keys = ("product_line_id", "category_id")
    now_counts = metrics.grouped(metrics.Scope(**{**scope.__dict__, "kinds": (COMPLAINT,)}), keys)
    before_counts = metrics.grouped(
        metrics.Scope(**{**previous.__dict__, "kinds": (COMPLAINT,)}), keys
    )
    rows = [
        {
            "product_line_id": key[0],
            "category_id": key[1],
            "now": cell.get("items"),
            "before": before_counts[key].get("items") if key in before_counts else 0,
        }
        for key, cell in now_counts.items()
        if cell.get("items") > 0
    ]
    rows.sort(
        key=lambda r: (-r["now"], none_first(r["product_line_id"]), none_first(r["category_id"]))
    )
    rows = rows[:TOP_ISSUES]
    lines = metrics.dimension_labels(Dimension.PRODUCT_LINE, [r["product_line_id"] for r in rows])
    categories = metrics.dimension_labels(Dimension.CATEGORY, [r["category_id"] for r in rows])
    days_now = float((scope.date_to - scope.date_from).days + 1)
    days_before = float((previous.date_to - previous.date_from).days + 1)
    result: list[dict[str, Any]] = []
    for row in rows:
        now, before = int(row["now"] or 0), int(row["before"] or 0)
        test = st.rate_ratio_test(before, days_before, now, days_now, alpha=ALPHA)
        extra: dict[str, Any] = {"kind": COMPLAINT}
        if row["product_line_id"] is not None:
            extra["product_line"] = [row["product_line_id"]]
        if row["category_id"] is not None:
            extra["category"] = [row["category_id"]]
        result.append(
            {
                "product_line": lines[row["product_line_id"]],
                "category": categories[row["category_id"]],
                "count": now,
                "previous": before,
                "difference": now - before,
                "rising": now > before,
                "p_value": test.p_value,
                "significant": test.significant,
                "change": change_text(test.p_value, test.significant),
                "url": scope_records_url(scope, **extra),
            }
        )
    result.sort(
        key=lambda r: (not r["rising"], -r["difference"] if r["rising"] else 0, -r["count"])
    )
    return result


def none_first(value: Any) -> tuple[bool, Any]:
    """A sort key that puts "none" (no category) before every id, as SQLite orders NULL."""
    return (value is not None, value or 0)


def open_signals() -> dict[str, Any]:
    query = Signal.objects.filter(status=SignalStatus.OPEN)
    shown = list(query.order_by("-period_end", "-id")[:OPEN_SIGNALS_SHOWN])
    return {
        "count": query.count() if len(shown) == OPEN_SIGNALS_SHOWN else len(shown),
        "items": [
            {
                "number": s.number,
                "title": s.title,
                "kind": str(s.get_kind_display()),
                "period_start": s.period_start.isoformat(),
                "period_end": s.period_end.isoformat(),
                "url": s.get_absolute_url(),
                "records_url": evidence_url(s),
            }
            for s in shown
        ],
        "list_url": reverse("insights:signal_list") + "?status=open",
    }


def evidence_url(signal: Signal) -> str:
    found = (signal.evidence or {}).get("filter")
    return records_url(found) if found else ""


def objective_standing(today: dt.date) -> list[dict[str, Any]]:
    rows = []
    for row in objectives.standing(today):
        objective = row["objective"]
        rows.append(
            {
                "name": objective.name,
                "url": objective.get_absolute_url(),
                "target": f"{objective.get_comparator_display()} {objective.target:g}",
                "met": row["met"],
                "parts": [
                    {
                        "label": part.label,
                        **value_dict(part.current),
                        "on_target": part.on_target,
                        "trend": [[day.isoformat(), rounded(v)] for day, v in part.trend],
                    }
                    for part in row["parts"]
                ],
            }
        )
    return rows


def overdue(scope: metrics.Scope) -> dict[str, Any]:
    """Complaints past a target now, narrowed by the scope's filters (not its dates).

    The feedback list's own filters narrow the same set the list's `overdue` filter
    selects, so the number and the list agree; the count reads the two deadline indexes
    without an outer pass over every complaint.
    """
    params = {
        key: value
        for key, value in scope.as_params().items()
        if key in {"source", "region", "product_line", "category", "segment"}
    }
    known = {k: v for k, v in params.items() if k in FeedbackItemFilterSet.base_filters}
    filterset = FeedbackItemFilterSet(known, queryset=FeedbackItem.objects.all())
    count = overdue_count(items=filterset.qs, open_only=True) if filterset.is_valid() else 0
    query = {**params, "overdue": "1"}
    return {
        "count": count,
        "url": reverse("feedback:feedbackitem_list") + "?" + urlencode(query, doseq=True),
    }


def dashboard_data(scope: metrics.Scope, today: dt.date | None = None) -> dict[str, Any]:
    """Everything the dashboard shows, JSON-ready."""
    today = today or timezone.localdate()
    previous = scope.previous()
    cache: dict[metrics.Scope, metrics.Totals] = {}
    nps_counts = metrics.cached_totals(scope, cache).histogram("nps", NPS_BUCKETS)
    return {
        "scope": {
            **scope.as_params(),
            "date_from": scope.date_from.isoformat(),
            "date_to": scope.date_to.isoformat(),
            "previous_from": previous.date_from.isoformat(),
            "previous_to": previous.date_to.isoformat(),
        },
        "records_url": scope_records_url(scope),
        "headline": [headline(scope, item, cache) for item in HEADLINES],
        "timings": timings(scope, previous, cache),
        "retention": retention_figures(scope, previous),
        "trends": trends(scope),
        "control_chart": control_chart(scope),
        "pareto": pareto(scope),
        "nps_distribution": {"scores": list(NPS_BUCKETS), "counts": nps_counts},
        "top_issues": top_issues(scope, previous),
        "signals": open_signals(),
        "objectives": objective_standing(today),
        "overdue": overdue(scope),
    }


class InsightsPermissionMixin(ObjectPermissionMixin):
    """Pages over the rollups: viewing them is `insights.view_feedbackrollup`."""

    model = FeedbackRollup


class DashboardView(InsightsPermissionMixin, View):
    template_name = "insights/dashboard.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = forms.ScopeForm(request.GET or None)
        scope = form.scope()
        data = dashboard_data(scope)
        context = {
            "form": form,
            "scope": scope,
            "previous": scope.previous(),
            "data": data,
            "data_url": reverse("insights:dashboard_data")
            + ("?" + request.GET.urlencode() if request.GET else ""),
            "can_detect": request.user.has_perm("insights.classify_signal"),
        }
        return render(request, self.template_name, context)


class DashboardDataView(InsightsPermissionMixin, View):
    """The dashboard's figures as JSON, for scripts (same parameters as the page)."""

    def get(self, request: HttpRequest) -> JsonResponse:
        form = forms.ScopeForm(request.GET or None)
        if request.GET and not form.is_valid():
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        return JsonResponse(dashboard_data(form.scope()))


# --------------------------------------------------------------------------------------
# Explore
# --------------------------------------------------------------------------------------


@dataclass
class ExploreTable:
    metric: str
    grain: str
    split: str
    keys: list[Any]
    labels: list[str]
    rows: list[dict[str, Any]]

    def chart(self) -> dict[str, Any]:
        return {
            "labels": [row["period"] for row in self.rows],
            "series": [
                {"label": label, "values": [row["cells"][i]["value"] for row in self.rows]}
                for i, label in enumerate(self.labels)
            ],
            "metric": str(Metric(self.metric).label),
        }


def explore_table(scope: metrics.Scope, metric: str, grain: str, split: str = "") -> ExploreTable:
    """Periods × split values: each cell the metric with its interval and n, in one GROUP BY."""
    found = metrics.series(scope, metric, grain, by=split or None)
    if split:
        names = metrics.dimension_labels(split, list(found))
        keys = sorted(found, key=lambda k: (k is None, names[k].lower()))
        labels = [names[k] for k in keys]
    else:
        keys, labels = [None], ["All"]
    spans = metrics.periods(scope.date_from, scope.date_to, grain)
    rows = []
    for index, (start, end) in enumerate(spans):
        period_scope = scope.with_period(max(start, scope.date_from), min(end, scope.date_to))
        cells = []
        for key in keys:
            points = found.get(key) or []
            value = points[index].value if index < len(points) else metrics.Value(metric, None)
            url = ""
            if metric != Metric.OTIF and (key is not None or not split):
                extra: dict[str, Any] = {}
                if split:
                    extra[SPLIT_PARAMS[Dimension(split)]] = [key]
                if metric in {Metric.COMPLAINTS, Metric.COMPLAINT_RATE}:
                    extra["kind"] = COMPLAINT
                url = scope_records_url(period_scope, **extra)
            cells.append({**value_dict(value), "url": url})
        rows.append({"period": start.isoformat(), "period_end": end.isoformat(), "cells": cells})
    return ExploreTable(metric, grain, split, keys, labels, rows)


EXPORT_HEADER = [
    "Period start",
    "Period end",
    "Split",
    "Value",
    "Lower 95%",
    "Upper 95%",
    "n",
    "Warning",
]


def export_rows(table: ExploreTable) -> Iterable[list[Any]]:
    for row in table.rows:
        for label, cell in zip(table.labels, row["cells"], strict=True):
            yield [
                row["period"],
                row["period_end"],
                neutralise(label),
                cell["value"],
                cell["lower"],
                cell["upper"],
                cell["n"],
                neutralise(cell["warning"] or ""),
            ]


class ExploreView(InsightsPermissionMixin, View):
    template_name = "insights/explore.html"

    def get_required_verb(self, request: HttpRequest) -> str:
        return "export" if request.GET.get("export") else "view"

    def get(self, request: HttpRequest) -> HttpResponseBase:
        form = forms.ExploreForm(request.GET or None)
        scope = form.scope()
        metric = form.choice("metric", Metric.NPS)
        grain = form.choice("grain", Grain.MONTH)
        split = form.choice("split", "")
        table = explore_table(scope, metric, grain, split)
        export = request.GET.get("export")
        if export in {"csv", "xlsx"}:
            return self.export(table, scope, export)
        context = {
            "form": form,
            "scope": scope,
            "table": table,
            "metric_label": Metric(metric).label,
            "chart": table.chart(),
            "can_export": can(request.user, "export", FeedbackRollup),
            "export_csv": "?" + self.query(export="csv"),
            "export_xlsx": "?" + self.query(export="xlsx"),
        }
        return render(request, self.template_name, context)

    def query(self, **extra: str) -> str:
        params = self.request.GET.copy()
        for key, value in extra.items():
            params[key] = value
        return params.urlencode()

    def export(self, table: ExploreTable, scope: metrics.Scope, fmt: str) -> HttpResponseBase:
        rows = list(export_rows(table))
        audit.record(
            "insights.exported",
            object_type="insights.feedbackrollup",
            object_label=f"{Metric(table.metric).label} by {table.grain}",
            changes={
                "format": fmt,
                "metric": table.metric,
                "grain": table.grain,
                "split": table.split,
                "scope": scope.as_params(),
                "rows": len(rows),
            },
        )
        name = slugify(f"{table.metric}-{table.grain}-{scope.date_from}-{scope.date_to}")
        if fmt == "csv":
            buffer = io.StringIO()
            buffer.write("\ufeff")
            writer = csv.writer(buffer)
            writer.writerow(EXPORT_HEADER)
            for row in rows:
                writer.writerow(["" if cell is None else cell for cell in row])
            response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        import tempfile

        from openpyxl import Workbook  # heavy; only when an XLSX is asked for

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=str(Metric(table.metric).label)[:31])
        sheet.append(EXPORT_HEADER)
        for row in rows:
            sheet.append(row)
        handle = tempfile.TemporaryFile()
        workbook.save(handle)
        handle.seek(0)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"{name}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )


# --------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------


class StatusColumn(Column):
    def value(self, obj: Any) -> Any:
        return badge(obj.get_status_display(), SIGNAL_COLOURS.get(obj.status, "secondary"))


class SignalListView(ObjectListView):
    model = Signal
    filterset_class = filters.SignalFilterSet
    template_name = "insights/signal_list.html"
    default_order = "-period_end"
    columns = (
        Column("number", "Number", order_by="number", link=True),
        StatusColumn("status", "Status", order_by="status"),
        Column("kind", "Kind", order_by="kind"),
        Column("title", "Title", link=True),
        Column("period_start", "From", order_by="period_start"),
        Column("period_end", "To", order_by="period_end"),
    )
    export_columns = (
        Column("number", "Number"),
        Column("status", "Status"),
        Column("kind", "Kind"),
        Column("metric", "Metric"),
        Column("title", "Title"),
        Column("description", "Description"),
        Column("period_start", "From"),
        Column("period_end", "To"),
        Column("rule", "Rule"),
        Column("dismissal_reason", "Reason for dismissal"),
    )

    def base_context(self, **extra: Any) -> dict[str, Any]:
        return super().base_context(
            can_detect=self.request.user.has_perm("insights.classify_signal"), **extra
        )


class SignalDetailView(ObjectDetailView):
    model = Signal
    template_name = "insights/signal_detail.html"
    fields = (
        Column("status", "Status"),
        Column("kind", "Kind"),
        Column("metric", "Metric"),
        Column("period_start", "From"),
        Column("period_end", "To"),
        Column("rule", "Rule"),
        Column("dismissal_reason", "Reason for dismissal"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        evidence = obj.evidence or {}
        points = evidence.get("points") or []
        return {
            "status_badge": badge(
                obj.get_status_display(), SIGNAL_COLOURS.get(obj.status, "secondary")
            ),
            "evidence": evidence,
            "points": points,
            "chart": {
                "labels": [p.get("month") for p in points],
                "values": [p.get("value") for p in points],
                "centre": [p.get("centre") for p in points],
                "ucl": [p.get("ucl") for p in points],
                "unit": evidence.get("unit", ""),
            },
            "records_url": evidence_url(obj),
        }


class SignalTransitionView(ObjectTransitionView):
    model = Signal


class SignalDetectView(ObjectPermissionMixin, View):
    """Look for signals now (what `harken tick` does on its schedule)."""

    http_method_names = ["post"]
    model = Signal

    def get_required_verb(self, request: HttpRequest) -> str:
        return "classify"

    def post(self, request: HttpRequest) -> HttpResponse:
        created = detection.detect()
        if created:
            messages.success(
                request,
                f"{len(created)} new signal{'s' if len(created) != 1 else ''}: "
                + "; ".join(s.title for s in created[:5]),
            )
        else:
            messages.info(request, "No new signals.")
        return HttpResponseRedirect(reverse("insights:signal_list"))


# --------------------------------------------------------------------------------------
# Quality objectives
# --------------------------------------------------------------------------------------


def standing_badges(parts: list[objectives.Assessment]) -> Any:
    def word(part: objectives.Assessment) -> tuple[str, str]:
        if part.on_target is None:
            return "secondary", "no data"
        return ("success", "on target") if part.on_target else ("danger", "off target")

    return format_html_join(
        " ",
        '<span class="badge text-bg-{}" title="{}">{}: {}</span>',
        (
            (word(p)[0], f"{p.period[0]:%Y-%m-%d} to {p.period[1]:%Y-%m-%d}", p.label, word(p)[1])
            for p in parts
        ),
    )


class StandingColumn(Column):
    """An objective's standing in its last full period, per part (a product line)."""

    def value(self, obj: Any) -> Any:
        if not obj.active:
            return None
        return standing_badges(objectives.assess(obj))


class TargetColumn(Column):
    def value(self, obj: Any) -> Any:
        return f"{obj.get_comparator_display()} {obj.target:g}"


class QualityObjectiveListView(ObjectListView):
    model = QualityObjective
    queryset = QualityObjective.objects.select_related("owner")
    filterset_class = filters.QualityObjectiveFilterSet
    default_order = "name"
    columns = (
        Column("name", "Name", order_by="name", link=True),
        Column("metric", "Metric", order_by="metric"),
        TargetColumn("target", "Target"),
        Column("frequency", "Frequency", order_by="frequency"),
        Column("owner", "Owner"),
        Column("active", "Active", order_by="active"),
        StandingColumn("standing", "Standing (last full period)"),
    )
    export_columns = columns[:-1]


class QualityObjectiveDetailView(ObjectDetailView):
    model = QualityObjective
    queryset = QualityObjective.objects.select_related("owner", "created_by", "updated_by")
    template_name = "insights/qualityobjective_detail.html"
    fields = (
        Column("metric", "Metric"),
        TargetColumn("target", "Target"),
        Column("per_product_line", "On every product line"),
        Column("owner", "Owner"),
        Column("frequency", "Monitoring frequency"),
        Column("active", "Active"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        from harken.customers.models import ProductLine

        parts = objectives.assess(obj)
        line_ids = (
            dict(ProductLine.objects.values_list("name", "pk")) if obj.per_product_line else {}
        )
        rows = []
        for index, part in enumerate(parts):
            scope = objectives.scope_of(obj, *part.period)
            if obj.per_product_line and part.label in line_ids:
                scope = metrics.Scope(
                    **{**scope.__dict__, "product_lines": (line_ids[part.label],)}
                )
            extra = (
                {"kind": COMPLAINT}
                if obj.metric in {Metric.COMPLAINTS, Metric.COMPLAINT_RATE}
                else {}
            )
            rows.append(
                {
                    "part": part,
                    "value": value_dict(part.current),
                    "url": "" if obj.metric == Metric.OTIF else scope_records_url(scope, **extra),
                    "chart_id": f"trend-{index}",
                    "trend": {
                        "labels": [day.isoformat() for day, _ in part.trend],
                        "values": [rounded(v) for _, v in part.trend],
                        "target": obj.target,
                    },
                }
            )
        return {
            "parts": rows,
            "trends": [row["trend"] for row in rows],
            "scope_labels": scope_labels(obj.scope or {}),
        }


def scope_labels(scope: Mapping[str, Any]) -> list[tuple[str, str]]:
    """An objective's stored scope in words."""
    names = {
        "segments": Dimension.SEGMENT,
        "regions": Dimension.REGION,
        "product_lines": Dimension.PRODUCT_LINE,
        "sources": Dimension.SOURCE,
        "categories": Dimension.CATEGORY,
    }
    result = []
    for key, dimension in names.items():
        values = scope.get(key) or []
        if values:
            labels = metrics.dimension_labels(dimension, list(values))
            result.append((str(Dimension(dimension).label), ", ".join(labels[v] for v in values)))
    return result


class QualityObjectiveEditView(ObjectEditView):
    model = QualityObjective
    form_class = forms.QualityObjectiveForm

    def get_form(self, instance: Any, data: Any = None, files: Any = None) -> Any:
        initial = {}
        if instance is None:
            initial["owner"] = self.request.user.pk
        return self.form_class(data=data, files=files, instance=instance, initial=initial)


class QualityObjectiveDeleteView(ObjectDeleteView):
    model = QualityObjective


# --------------------------------------------------------------------------------------
# Exposure
# --------------------------------------------------------------------------------------


class MonthColumn(Column):
    def value(self, obj: Any) -> Any:
        return f"{obj.month:%Y-%m}"


class ScopeColumn(Column):
    """Empty product line or region means the figure covers all of them."""

    def value(self, obj: Any) -> Any:
        found = super().value(obj)
        return found if found is not None else mark_safe('<span class="text-muted">all</span>')


class ExposureListView(ObjectListView):
    model = Exposure
    queryset = Exposure.objects.select_related("product_line", "region")
    filterset_class = filters.ExposureFilterSet
    template_name = "insights/exposure_list.html"
    default_order = "-month"
    columns = (
        MonthColumn("month", "Month", order_by="month", link=True),
        Column("kind", "Kind", order_by="kind"),
        ScopeColumn("product_line.name", "Product line"),
        ScopeColumn("region.name", "Region"),
        Column("value", "Value", order_by="value"),
    )
    export_columns = (
        MonthColumn("month", "month"),
        Column("kind", "kind_label"),
        Column("product_line.code", "product_line"),
        Column("region.code", "region"),
        Column("value", "value"),
    )

    def base_context(self, **extra: Any) -> dict[str, Any]:
        return super().base_context(
            can_import=can(self.request.user, "import", Exposure),
            import_url=reverse("insights:exposure_import"),
            **extra,
        )


class ExposureDetailView(ObjectDetailView):
    model = Exposure
    queryset = Exposure.objects.select_related("product_line", "region", "created_by", "updated_by")
    fields = (
        MonthColumn("month", "Month"),
        Column("kind", "Kind"),
        ScopeColumn("product_line", "Product line"),
        ScopeColumn("region", "Region"),
        Column("value", "Value"),
    )


class ExposureEditView(ObjectEditView):
    model = Exposure
    form_class = forms.ExposureForm


class ExposureDeleteView(ObjectDeleteView):
    model = Exposure


class ExposureImportView(ObjectPermissionMixin, View):
    """Upload a CSV of exposure figures: good rows land, bad rows are listed with reasons."""

    model = Exposure
    required_verb = "import"
    template_name = "insights/exposure_import.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.show(forms.ExposureImportForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.ExposureImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.show(form, status=422)
        upload = form.cleaned_data["file"]
        if upload.size > forms.MAX_IMPORT_BYTES:
            form.add_error("file", "The file is larger than 20 MB.")
            return self.show(form, status=422)
        data = upload.read()
        dry_run = form.cleaned_data["dry_run"]
        try:
            result = forms.import_exposure(data, dry_run=dry_run)
        except forms.ImportFileError as exc:
            form.add_error("file", str(exc))
            return self.show(form, status=422)
        if not dry_run:
            forms.record_import(data, upload.name, result)
        return self.show(forms.ExposureImportForm(), result=result)

    def show(self, form: Any, status: int = 200, result: Any = None) -> HttpResponse:
        context = self.base_context(form=form, result=result)
        return render(self.request, self.template_name, context, status=status)
