"""Sample audits: N records of a kind in a period, drawn reproducibly from a seed, each
checked for completeness against its kind's checklist — an internal audit on record."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils import timezone

from harken.actions.models import Action, Theme
from harken.feedback.models import FeedbackItem
from harken.reviews.models import ReviewMeeting

from .choices import SampleKind

Check = tuple[str, Callable[[Any], bool]]


def bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz),
        timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz),
    )


def complaint_checks() -> list[Check]:
    return [
        ("classification confirmed by a person", lambda i: i.classification_confirmed),
        ("impact rated", lambda i: bool(i.impact)),
        ("acknowledged", lambda i: i.acknowledged_at is not None),
        (
            "acknowledged within target",
            lambda i: (
                i.acknowledged_at is not None
                and (i.acknowledge_due is None or i.acknowledged_at <= i.acknowledge_due)
            ),
        ),
        ("resolution recorded", lambda i: i.resolved_at is not None),
        (
            "major or critical complaints are part of a theme or an action",
            lambda i: (
                i.impact not in {"major", "critical"} or i.themes.exists() or i.actions.exists()
            ),
        ),
    ]


def feedback_checks() -> list[Check]:
    return [
        ("classification confirmed by a person", lambda i: i.classification_confirmed),
        ("category set", lambda i: i.category_id is not None or i.score is not None),
        ("sentiment recorded", lambda i: bool(i.sentiment_label)),
        ("raw original record kept", lambda i: bool(i.raw)),
    ]


def action_checks() -> list[Check]:
    return [
        (
            "cites its evidence (feedback, themes or signals)",
            lambda a: a.items.exists() or a.themes.exists() or a.signals.exists(),
        ),
        ("root cause recorded", lambda a: bool(a.root_cause)),
        ("steps planned", lambda a: a.steps.exists()),
        ("effectiveness check defined", lambda a: hasattr(a, "effectiveness_check")),
        (
            "closed actions have a confirmed verdict",
            lambda a: (
                not a.status.startswith("closed")
                or (hasattr(a, "effectiveness_check") and bool(a.effectiveness_check.verdict))
            ),
        ),
        (
            "not overdue",
            lambda a: a.status.startswith("closed") or a.due_date >= timezone.localdate(),
        ),
    ]


def theme_checks() -> list[Check]:
    return [
        ("has a disposition", lambda t: t.dispositions.exists()),
        (
            "a 'fix' disposition has an action",
            lambda t: (
                (d := t.current_disposition()) is None or d.decision != "fix" or t.actions.exists()
            ),
        ),
        ("cites feedback", lambda t: t.items.exists()),
    ]


def review_checks() -> list[Check]:
    return [
        ("a pack was reviewed", lambda m: m.pack_id is not None),
        ("the pack is issued", lambda m: m.pack is not None and m.pack.status != "draft"),
        ("minutes approved", lambda m: m.status == "approved"),
        ("attendees recorded", lambda m: m.attendees.exists() or bool(m.other_attendees)),
    ]


def population(kind: str, start: dt.date, end: dt.date) -> tuple[models.QuerySet, list[Check]]:
    lo, hi = bounds(start, end)
    if kind == SampleKind.COMPLAINT:
        return FeedbackItem.objects.filter(
            kind="complaint", received_at__gte=lo, received_at__lt=hi
        ), complaint_checks()
    if kind == SampleKind.FEEDBACK:
        return FeedbackItem.objects.filter(
            received_at__gte=lo, received_at__lt=hi
        ), feedback_checks()
    if kind == SampleKind.ACTION:
        return Action.objects.filter(created_at__gte=lo, created_at__lt=hi), action_checks()
    if kind == SampleKind.THEME:
        return Theme.objects.filter(created_at__gte=lo, created_at__lt=hi), theme_checks()
    if kind == SampleKind.REVIEW:
        return ReviewMeeting.objects.filter(held_on__gte=start, held_on__lte=end), review_checks()
    raise ValueError(f"Unknown sample kind {kind!r}")


def draw(
    kind: str, start: dt.date, end: dt.date, size: int, seed: int
) -> tuple[int, list[Any], list[Check]]:
    """The same seed draws the same records: positions in primary-key order are chosen
    by a seeded generator, and only those rows are read."""
    queryset, checks = population(kind, start, end)
    ordered = queryset.order_by("pk")
    total = ordered.count()
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not secrecy
    positions = sorted(rng.sample(range(total), min(size, total)))
    records = [ordered[p] for p in positions]
    return total, records, checks


def assess(records: list[Any], checks: list[Check]) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        results = [{"check": label, "ok": bool(test(record))} for label, test in checks]
        try:
            url = record.get_absolute_url()
        except Exception:
            url = ""
        rows.append(
            {
                "record": str(record),
                "type": record._meta.label_lower,
                "id": record.pk,
                "url": url,
                "checks": results,
                "complete": all(r["ok"] for r in results),
            }
        )
    return rows
