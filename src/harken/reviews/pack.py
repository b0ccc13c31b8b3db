"""The content of a review pack, built from the data for a period and a scope.

`build_content` returns one JSON-ready dictionary: headline figures with intervals
and tests, the trend narrative, volumes and the Pareto of complaint categories, top
recurring issues with their dispositions and root-cause hypotheses, the status of
actions (and of those opened by earlier reviews), voice-of-customer excerpts, survey
sample sizes and their limitations, quality objectives, the perception source
register as of the period's end, and the charts as SVG. Issuing a pack freezes this
dictionary; the HTML and the PDF are rendered from it alone, so what was issued can
always be shown again exactly.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics as pystats
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from harken.actions.choices import CLOSED_ACTION_STATES, OPEN_ACTION_STATES, ActionStatus
from harken.actions.models import Action, Theme
from harken.core.models import AuditEvent
from harken.customers.models import ProductLine
from harken.feedback.choices import ItemKind
from harken.feedback.models import Category, FeedbackItem
from harken.insights import metrics
from harken.insights.choices import HIGHER_IS_WORSE, Dimension, Grain, Metric

from . import narrative
from .choices import PackKind

HEADLINE = (
    Metric.NPS,
    Metric.CSAT,
    Metric.CES,
    Metric.COMPLAINTS,
    Metric.COMPLAINT_RATE,
    Metric.NEGATIVE_SHARE,
    Metric.CONFIRMED_SHARE,
)
TOP_ISSUES = 5
# How the narrative names each measure, and how many decimals it reads to.
NARRATIVE = {
    Metric.NPS: ("NPS", 1),
    Metric.CSAT: ("CSAT", 1),
    Metric.CES: ("The customer effort score", 2),
    Metric.COMPLAINTS: ("The number of complaints", 0),
    Metric.COMPLAINT_RATE: ("The complaint rate", 1),
    Metric.NEGATIVE_SHARE: ("The share of negative sentiment", 1),
    Metric.CONFIRMED_SHARE: ("The share of feedback confirmed by a person", 1),
}
EXCERPTS_PER_ISSUE = 3
BLOCKED_AFTER_DAYS = 30
STANDING_LABELS = {
    "closed_effective": "Closed, effective",
    "closed_not_effective": "Closed, not effective",
    "overdue": "Overdue",
    "blocked": "Blocked",
    "on_track": "On track",
}
TREND_PERIODS = 6


def scope_of(scope: dict[str, Any], start: dt.date, end: dt.date) -> metrics.Scope:
    def ints(name: str) -> tuple[int, ...]:
        return tuple(int(v) for v in scope.get(name, []) if str(v).isdigit())

    return metrics.Scope(
        start,
        end,
        sources=ints("sources"),
        product_lines=ints("product_lines"),
        regions=ints("regions"),
        segments=tuple(str(v) for v in scope.get("segments", [])),
    )


def previous_period(current: metrics.Scope) -> metrics.Scope:
    """The calendar period of the same number of months just before (a quarter's previous
    is the quarter before); other periods compare with the same number of days before."""
    start, end = current.date_from, current.date_to
    following = end + dt.timedelta(days=1)
    if start.day == 1 and following.day == 1:
        months = (following.year - start.year) * 12 + following.month - start.month
        month = start.month - 1 - months
        before = dt.date(start.year + month // 12, month % 12 + 1, 1)
        return current.with_period(before, start - dt.timedelta(days=1))
    return current.previous()


def period_word(start: dt.date, end: dt.date) -> str:
    days = (end - start).days + 1
    if days <= 31:
        return "month"
    if days <= 92:
        return "quarter"
    if days <= 184:
        return "half-year"
    return "year"


def grain_for(word: str) -> str:
    return Grain.MONTH if word == "month" else Grain.QUARTER


def value_dict(value: metrics.Value) -> dict[str, Any]:
    return value.as_dict()


def build_content(
    *,
    period_start: dt.date,
    period_end: dt.date,
    scope: dict[str, Any] | None = None,
    anonymise: bool = True,
    kind: str = PackKind.REVIEW,
    commentary: str = "",
    resources_assessment: str = "",
    opportunities: str = "",
    with_charts: bool = True,
) -> dict[str, Any]:
    scope = scope or {}
    current = scope_of(scope, period_start, period_end)
    previous = previous_period(current)
    word = period_word(period_start, period_end)
    grain = grain_for(word)
    content: dict[str, Any] = {
        "kind": kind,
        "company": settings.COMPANY_NAME,
        "period": {"start": period_start.isoformat(), "end": period_end.isoformat(), "word": word},
        "previous_period": {
            "start": previous.date_from.isoformat(),
            "end": previous.date_to.isoformat(),
        },
        "scope": scope_labels(scope),
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "commentary": commentary,
    }
    headline, sentences = headline_figures(current, previous, word, grain)
    content["headline"] = headline
    volumes = volume_figures(current, previous)
    content["volumes"] = volumes
    line_sentences, top = category_line_changes(current, previous, word, grain)
    content["narrative"] = sentences + line_sentences
    content["top_issues"] = top_issues(current, top)
    content["actions"] = action_status(period_start, period_end)
    content["voice_of_customer"] = excerpts(current, volumes["complaint_categories"], anonymise)
    content["surveys"] = survey_figures(current)
    content["objectives"] = objectives_standing(period_end)
    content["register"] = register_snapshot(period_end)
    if kind == PackKind.MANAGEMENT:
        content["management"] = {
            "resources_assessment": resources_assessment,
            "opportunities": opportunities,
            "effectiveness": effectiveness_of_actions(period_start, period_end),
        }
    if with_charts:
        content["charts"] = charts(current, volumes, headline, grain)
    return content


def scope_labels(scope: dict[str, Any]) -> dict[str, list[str]]:
    from harken.customers.models import Region
    from harken.feedback.models import PerceptionSource

    labels: dict[str, list[str]] = {}
    for key, model in (
        ("sources", PerceptionSource),
        ("product_lines", ProductLine),
        ("regions", Region),
    ):
        ids = [int(v) for v in scope.get(key, []) if str(v).isdigit()]
        if ids:
            labels[key] = list(
                model.objects.filter(pk__in=ids).order_by("name").values_list("name", flat=True)
            )
    if scope.get("segments"):
        labels["segments"] = [str(s) for s in scope["segments"]]
    return labels


def headline_figures(
    current: metrics.Scope, previous: metrics.Scope, word: str, grain: str
) -> tuple[list[dict[str, Any]], list[str]]:
    rows, sentences = [], []
    cache: dict[metrics.Scope, metrics.Totals] = {}
    history_start = current.date_from
    for _ in range(TREND_PERIODS - 1):
        history_start = (history_start - dt.timedelta(days=1)).replace(day=1)
        if grain == Grain.QUARTER:
            history_start = dt.date(history_start.year, (history_start.month - 1) // 3 * 3 + 1, 1)
    history = current.with_period(history_start, current.date_to)
    for metric in HEADLINE:
        change = metrics.compare(current, metric, previous, cache=cache)
        points = metrics.series(history, metric, grain)[None]
        trend = [p.value.value for p in points]
        label, decimals = NARRATIVE[Metric(metric)]
        figure = narrative.Figure(
            label=label,
            decimals=decimals,
            current=change.current.value,
            previous=change.previous.value,
            unit=change.current.unit,
            p_value=change.p_value,
            higher_is_worse=metric in HIGHER_IS_WORSE,
            streak=narrative.streak_of(trend) if change.significant else 1,
            period_word=word,
            warning=change.current.warning or change.previous.warning,
        )
        text = narrative.sentence(figure)
        rows.append(
            {
                "metric": metric,
                "label": str(Metric(metric).label),
                "current": value_dict(change.current),
                "previous": value_dict(change.previous),
                "p_value": change.p_value,
                "test": change.test,
                "significant": change.significant,
                "adverse": change.adverse,
                "sentence": text,
                "trend": trend,
                "trend_periods": [p.period.isoformat() for p in points],
            }
        )
        if change.current.value is not None:
            sentences.append(text)
    return rows, sentences


def volume_figures(current: metrics.Scope, previous: metrics.Scope) -> dict[str, Any]:
    now_by_kind = {
        k: int(t.get("items"))
        for (_, k), t in metrics.by_period(current, Grain.QUARTER, Dimension.KIND).items()
    }
    kinds: dict[str, int] = {}
    for key, count in now_by_kind.items():
        kinds[key] = kinds.get(key, 0) + count
    complaints_scope = metrics.Scope(**{**current.__dict__, "kinds": (ItemKind.COMPLAINT,)})
    before_scope = metrics.Scope(**{**previous.__dict__, "kinds": (ItemKind.COMPLAINT,)})
    by_category = _counts_by(complaints_scope, Dimension.CATEGORY)
    before = _counts_by(before_scope, Dimension.CATEGORY)
    labels = metrics.dimension_labels(Dimension.CATEGORY, list(by_category))
    ordered = sorted(by_category.items(), key=lambda pair: -pair[1])
    total = sum(by_category.values())
    running = 0
    pareto = []
    for key, count in ordered:
        running += count
        pareto.append(
            {
                "category_id": key,
                "category": labels.get(key, "(none)"),
                "count": count,
                "previous": before.get(key, 0),
                "cumulative_percent": round(100 * running / total, 1) if total else 0.0,
            }
        )
    return {
        "by_kind": [
            {"kind": k, "label": str(ItemKind(k).label) if k in ItemKind.values else k, "count": n}
            for k, n in sorted(kinds.items(), key=lambda pair: -pair[1])
        ],
        "items": sum(kinds.values()),
        "complaints": total,
        "complaint_categories": pareto,
    }


def _counts_by(scope: metrics.Scope, by: str) -> dict[Any, int]:
    counts: dict[Any, int] = {}
    for (_, key), totals in metrics.by_period(scope, Grain.QUARTER, by).items():
        counts[key] = counts.get(key, 0) + int(totals.get("items"))
    return counts


def category_line_changes(
    current: metrics.Scope, previous: metrics.Scope, word: str, grain: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """Complaint rates per category × product line that changed significantly."""
    lines = dict(ProductLine.objects.values_list("pk", "name"))
    categories = dict(Category.objects.values_list("pk", "name"))
    complaints = metrics.Scope(**{**current.__dict__, "kinds": (ItemKind.COMPLAINT,)})
    grouped = metrics.grouped(complaints, ("category_id", "product_line_id"))
    counts = sorted(
        (
            {"category_id": category, "product_line_id": line, "n": cell.get("items")}
            for (category, line), cell in grouped.items()
            if cell.get("items") > 0
        ),
        key=lambda row: (-row["n"], row["category_id"] or 0, row["product_line_id"] or 0),
    )[: TOP_ISSUES * 3]
    sentences, top = [], []
    for row in counts:
        category, line = row["category_id"], row["product_line_id"]
        if category is None:
            continue
        narrowed = metrics.Scope(
            **{
                **current.__dict__,
                "categories": (category,),
                "product_lines": (line,) if line else current.product_lines,
            }
        )
        before = metrics.Scope(
            **{**narrowed.__dict__, "date_from": previous.date_from, "date_to": previous.date_to}
        )
        metric = Metric.COMPLAINT_RATE if line else Metric.COMPLAINTS
        change = metrics.compare(narrowed, metric, before)
        if change.current.value is None:
            metric = Metric.COMPLAINTS
            change = metrics.compare(narrowed, metric, before)
        label = f"{categories.get(category, '?')} complaints" + (
            f" on {lines[line]}" if line in lines else ""
        )
        entry = {
            "category_id": category,
            "product_line_id": line,
            "label": label,
            "count": row["n"],
            "metric": metric,
            "current": change.current.value,
            "previous": change.previous.value,
            "unit": change.current.unit,
            "p_value": change.p_value,
            "significant": change.significant,
            "adverse": change.adverse,
        }
        top.append(entry)
        if change.significant:
            history = narrowed.with_period(
                narrowed.date_from - dt.timedelta(days=550), narrowed.date_to
            )
            trend = [p.value.value for p in metrics.series(history, metric, grain)[None]]
            sentences.append(
                narrative.sentence(
                    narrative.Figure(
                        label=label[0].upper() + label[1:],
                        current=change.current.value,
                        previous=change.previous.value,
                        unit=change.current.unit,
                        p_value=change.p_value,
                        higher_is_worse=True,
                        decimals=1 if metric == Metric.COMPLAINT_RATE else 0,
                        streak=narrative.streak_of(trend),
                        period_word=word,
                    )
                )
            )
    return sentences, top[:TOP_ISSUES]


def top_issues(current: metrics.Scope, top: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The top category × product line issues with their theme, disposition and causes."""
    result = []
    for entry in top:
        themes = Theme.objects.filter(
            category_id=entry["category_id"], product_line_id=entry["product_line_id"]
        )
        theme = themes.order_by("-created_at").first()
        issue = {**entry, "theme": None, "disposition": None, "hypotheses": [], "actions": []}
        if theme is not None:
            issue["theme"] = {"number": theme.number, "title": theme.title}
            disposition = theme.current_disposition()
            if disposition is not None:
                issue["disposition"] = {
                    "decision": disposition.get_decision_display(),
                    "rationale": disposition.rationale,
                    "approver": str(disposition.approver),
                    "decided_on": disposition.decided_on.isoformat(),
                }
            for action in theme.actions.all():
                if action.root_cause:
                    issue["hypotheses"].append(action.root_cause)
                elif action.whys:
                    issue["hypotheses"].append(str(action.whys[-1]))
                issue["actions"].append(
                    {
                        "number": action.number,
                        "title": action.title,
                        "status": action.get_status_display(),
                    }
                )
        result.append(issue)
    return result


def action_status(period_start: dt.date, period_end: dt.date) -> dict[str, Any]:
    """Where every action stands at the period's end, and those from earlier reviews."""
    end = timezone.make_aware(dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time.min))
    relevant = Action.objects.filter(created_at__lt=end).filter(
        Q(status__in=OPEN_ACTION_STATES) | Q(closed_at__gte=end - dt.timedelta(days=400))
    )
    last_change = dict(
        AuditEvent.objects.filter(object_type="actions.action", at__lt=end)
        .values("object_id")
        .annotate(last=Max("at"))
        .values_list("object_id", "last")
    )
    rows = []
    counts = {
        "closed_effective": 0,
        "closed_not_effective": 0,
        "overdue": 0,
        "blocked": 0,
        "on_track": 0,
    }
    from_reviews = set(
        Action.objects.filter(meeting_decisions__isnull=False).values_list("pk", flat=True)
    )
    for action in relevant.select_related("owner").order_by("due_date"):
        if action.status == ActionStatus.CLOSED_EFFECTIVE:
            standing = "closed_effective"
        elif action.status == ActionStatus.CLOSED_NOT_EFFECTIVE:
            standing = "closed_not_effective"
        elif action.due_date < period_end:
            standing = "overdue"
        elif (last := last_change.get(str(action.pk))) and (end - last).days > BLOCKED_AFTER_DAYS:
            standing = "blocked"
        else:
            standing = "on_track"
        counts[standing] += 1
        rows.append(
            {
                "number": action.number,
                "title": action.title,
                "kind": action.get_kind_display(),
                "owner": str(action.owner),
                "due_date": action.due_date.isoformat(),
                "status": action.get_status_display(),
                "standing": standing,
                "standing_label": STANDING_LABELS[standing],
                "from_review": action.pk in from_reviews,
            }
        )
    return {"counts": counts, "rows": rows}


def _anonymiser(items: Iterable[FeedbackItem]) -> Any:
    names = set()
    for item in items:
        if item.customer is not None:
            names.add(item.customer.name)
        if item.contact is not None:
            names.add(item.contact.name)
    patterns = [re.escape(n) for n in sorted(names, key=len, reverse=True) if n]
    names_re = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None
    email_re = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")

    def clean(text: str) -> str:
        text = email_re.sub("[e-mail]", text)
        return names_re.sub("[customer]", text) if names_re else text

    return clean


def excerpts(
    current: metrics.Scope, categories: list[dict[str, Any]], anonymise: bool
) -> list[dict[str, Any]]:
    """Representative verbatims for the top complaint categories: the texts whose
    sentiment is nearest the category's median, so neither the angriest nor the mildest
    speak for everyone."""
    result = []
    for entry in categories[:3]:
        if entry["category_id"] is None:
            continue
        items = list(
            FeedbackItem.objects.filter(
                current.item_filter(), kind=ItemKind.COMPLAINT, category_id=entry["category_id"]
            )
            .exclude(text="")
            .select_related("customer", "contact")
            .order_by("-received_at")[:200]
        )
        scores = {i.pk: i.sentiment_score for i in items if i.sentiment_score is not None}
        if not scores:
            continue
        median = pystats.median(scores.values())
        scored = [i for i in items if i.pk in scores]
        chosen = sorted(scored, key=lambda i: (abs(scores[i.pk] - median), i.pk))[
            :EXCERPTS_PER_ISSUE
        ]
        clean = _anonymiser(chosen) if anonymise else (lambda text: text)
        result.append(
            {
                "category": entry["category"],
                "quotes": [
                    {
                        "number": i.complaint_number or i.number,
                        "text": clean(i.text[:400]),
                        "customer": "" if anonymise else (i.customer.name if i.customer else ""),
                        "received": timezone.localtime(i.received_at).date().isoformat(),
                    }
                    for i in chosen
                ],
            }
        )
    return result


def survey_figures(current: metrics.Scope) -> dict[str, Any]:
    """Answers per structured source, and the limitations a reader must know."""
    from harken.feedback.models import PerceptionSource

    rows = []
    limitations = []
    scored = {
        key[0]: cell.get("scored") for key, cell in metrics.grouped(current, ("source_id",)).items()
    }
    for source in PerceptionSource.objects.filter(structured=True, active=True).order_by("name"):
        answers = scored.get(source.pk, 0)
        rows.append({"source": source.name, "answers": answers, "third_party": source.third_party})
        if answers < 30:
            limitations.append(
                f"{source.name}: {answers} answers — too few to read percentages with confidence."
            )
    from harken.surveys.services import response_rates

    rates = response_rates(current.date_from, current.date_to)
    for rate in rates:
        if rate.get("low_response"):
            limitations.append(
                f"{rate['survey']} {rate['title']}: response rate "
                f"{(rate['response_rate'] or 0) * 100:.0f}% — low; "
                + (rate.get("nonresponse_note") or "read its figures with care.")
            )
    limitations.append(
        "Answers from tools outside Harken are counted as received; their response rates "
        "are not known here."
    )
    return {"sources": rows, "limitations": limitations, "rates": rates}


def objectives_standing(period_end: dt.date) -> list[dict[str, Any]]:
    from harken.insights.objectives import standing

    rows = []
    for entry in standing(period_end + dt.timedelta(days=1)):
        objective = entry["objective"]
        rows.append(
            {
                "name": objective.name,
                "met": entry["met"],
                "parts": [
                    {
                        "label": part.label,
                        "value": part.current.value,
                        "on_target": part.on_target,
                        "warning": part.current.warning,
                    }
                    for part in entry["parts"]
                ],
            }
        )
    return rows


def register_snapshot(period_end: dt.date) -> dict[str, Any]:
    from harken.feedback.register import register_as_of

    register = register_as_of(period_end)
    return {
        "as_of": period_end.isoformat(),
        "version": register.version,
        "warnings": register.warnings,
        "sources": [
            {
                "name": s.name,
                "kind": s.get_kind_display(),
                "structured": s.structured,
                "owner": s.get_owner_role_display() if s.owner_role else "",
                "collection_method": s.collection_method,
                "retention": s.retention,
                "in_scope": s.in_scope,
                "third_party": s.third_party,
                "active": s.active,
            }
            for s in register.sources
        ],
    }


def effectiveness_of_actions(period_start: dt.date, period_end: dt.date) -> list[dict[str, Any]]:
    start = timezone.make_aware(dt.datetime.combine(period_start, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time.min))
    closed = Action.objects.filter(
        status__in=CLOSED_ACTION_STATES, closed_at__gte=start, closed_at__lt=end
    )
    rows = []
    for action in closed.select_related("effectiveness_check"):
        check = getattr(action, "effectiveness_check", None)
        rows.append(
            {
                "number": action.number,
                "title": action.title,
                "verdict": check.get_verdict_display() if check and check.verdict else "",
                "explanation": check.explanation if check else "",
            }
        )
    return rows


def charts(
    current: metrics.Scope, volumes: dict[str, Any], headline: list[dict[str, Any]], grain: str
) -> dict[str, str]:
    """The pack's charts as SVG (vector graphics in the HTML and the PDF)."""
    from harken.insights import charts as svg
    from harken.insights.detection import complaint_charts

    result: dict[str, str] = {}
    pareto = volumes["complaint_categories"]
    if pareto:
        result["pareto"] = svg.pareto(
            [p["category"] for p in pareto],
            [p["count"] for p in pareto],
            title="Complaints by category",
        )
    totals = metrics.totals(current)
    nps_counts = totals.histogram("nps", range(11))
    if any(nps_counts):
        result["nps"] = svg.nps_distribution(nps_counts, title="NPS answers")
    history = current.with_period(
        (current.date_to.replace(day=1) - dt.timedelta(days=366)).replace(day=1), current.date_to
    )
    chart = complaint_charts(history)[None]
    result["control"] = svg.control_chart(chart, title=chart.unit.capitalize())
    trends = [row for row in headline if row["metric"] in {Metric.NPS, Metric.CSAT}]
    lines = {row["label"]: row["trend"] for row in trends}
    if trends and any(v is not None for values in lines.values() for v in values):
        labels = [dt.date.fromisoformat(p) for p in trends[0]["trend_periods"]]
        result["trend"] = svg.line_chart(labels, lines, title="NPS and CSAT by period")
    return result
