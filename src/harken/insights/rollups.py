"""Keeping the feedback rollups in step with the items.

A rollup row counts the items of one company-local day for one combination of source,
product line, region, category, kind and customer segment, with score histograms and
sentiment sums. Whenever items change, the days they fall on are rebuilt from the
items in one GROUP BY (a day is a few thousand items even at ten million in all), in
the same transaction as the change. `harken rollups --rebuild` rebuilds everything; a
test checks that incremental upkeep and a full rebuild agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count, F, FloatField, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from harken.feedback.models import FeedbackItem

from .models import (
    CES_BUCKETS,
    CSAT2_BUCKETS,
    CSAT_BUCKETS,
    NPS_BUCKETS,
    STARS_BUCKETS,
    FeedbackRollup,
)

SCALE_BUCKETS = {
    "nps": NPS_BUCKETS,
    "csat": CSAT_BUCKETS,
    "ces": CES_BUCKETS,
    "stars": STARS_BUCKETS,
    "csat2": CSAT2_BUCKETS,
}
DIMENSIONS = ("source_id", "product_line_id", "region_id", "category_id", "kind")
BATCH = 5000


def bucket_fields() -> list[str]:
    return [f"{scale}_{value}" for scale, values in SCALE_BUCKETS.items() for value in values]


def _aggregates() -> dict[str, Any]:
    aggregates: dict[str, Any] = {
        "items": Count("id"),
        "confirmed": Count("id", filter=Q(classification_confirmed=True)),
        "critical": Count("id", filter=Q(impact="critical")),
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
    return aggregates


def local_day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min), tz)
    end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min), tz)
    return start, end


def rebuild(first: dt.date, last: dt.date) -> int:
    """Recount the rollups of the local days first..last from the items; returns rows."""
    start, end = local_day_bounds(first, last)
    items = (
        FeedbackItem.objects.filter(received_at__gte=start, received_at__lt=end)
        .annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
        .values("day", *DIMENSIONS, segment=Coalesce(F("customer__segment"), Value("")))
        .annotate(**_aggregates())
        .order_by()
    )
    created = 0
    with transaction.atomic():
        FeedbackRollup.objects.filter(day__gte=first, day__lte=last).delete()
        batch: list[FeedbackRollup] = []
        for row in items.iterator(chunk_size=BATCH):
            batch.append(FeedbackRollup(**row))
            if len(batch) >= BATCH:
                FeedbackRollup.objects.bulk_create(batch)
                created += len(batch)
                batch = []
        if batch:
            FeedbackRollup.objects.bulk_create(batch)
            created += len(batch)
    return created


def rebuild_all() -> int:
    """Recount every day that has items (and clear the rest)."""
    bounds = FeedbackItem.objects.order_by().aggregate(
        first=TruncDateMin("received_at"), last=TruncDateMax("received_at")
    )
    with transaction.atomic():
        FeedbackRollup.objects.all().delete()
        if bounds["first"] is None:
            return 0
        return rebuild(bounds["first"], bounds["last"])


def TruncDateMin(field: str) -> Any:
    from django.db.models import Min

    return Min(TruncDate(field, tzinfo=timezone.get_current_timezone()))


def TruncDateMax(field: str) -> Any:
    from django.db.models import Max

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


def on_item_saved(sender: Any, instance: FeedbackItem, **kwargs: Any) -> None:
    """Receiver of FeedbackItem saves and deletes: recount its day (and its old day)."""
    loaded = instance._audit_loaded or {}
    refresh_for([instance.received_at, loaded.get("received_at")])
