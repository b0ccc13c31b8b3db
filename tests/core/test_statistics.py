"""The query planner's statistics: refreshed by the tick (and after the demo and large
imports) on SQLite, left to autovacuum on PostgreSQL; and the overdue-complaints read
that depends on them counts exactly what the plain condition does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from tests.factories import FeedbackItemFactory, ProductLineFactory

from harken.core.registry import registry
from harken.core.ticks import refresh_statistics
from harken.feedback.filters import FeedbackItemFilterSet
from harken.feedback.models import FeedbackItem
from harken.feedback.services import overdue_complaints, overdue_count

pytestmark = pytest.mark.django_db


def stat_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE tbl = %s", [table]
        )
        return cursor.fetchone()[0] or 0


def test_the_tick_refreshes_the_planner_statistics():
    assert ("database statistics", refresh_statistics) in registry.tick
    FeedbackItemFactory.create_batch(3)
    message = refresh_statistics(timezone.now())
    if connection.vendor != "sqlite":
        assert message == "left to PostgreSQL's autovacuum"
        return
    assert message.startswith("query planner statistics refreshed for ")
    table = FeedbackItem._meta.db_table
    assert stat_rows(table) == 3  # counted in full, not sampled
    # Nothing moved: nothing is analysed again.
    assert refresh_statistics(timezone.now()).startswith(
        "query planner statistics refreshed for 0 "
    )
    # Grown by more than a tenth: analysed again (with the tables the factory wrote to).
    FeedbackItemFactory.create_batch(2)
    assert not refresh_statistics(timezone.now()).startswith(
        "query planner statistics refreshed for 0 "
    )
    assert stat_rows(table) == 5


def test_overdue_complaints_are_exactly_those_past_a_deadline():
    now = timezone.now()
    past, future = now - dt.timedelta(days=1), now + dt.timedelta(days=1)
    cases = {
        "late to acknowledge": {
            "kind": "complaint",
            "acknowledge_due": past,
            "resolve_due": future,
        },
        "late to resolve": {
            "kind": "complaint",
            "acknowledge_due": past,
            "acknowledged_at": past,
            "resolve_due": past,
        },
        "both late": {"kind": "complaint", "acknowledge_due": past, "resolve_due": past},
        "in time": {"kind": "complaint", "acknowledge_due": future, "resolve_due": future},
        "done": {
            "kind": "complaint",
            "acknowledge_due": past,
            "acknowledged_at": past,
            "resolve_due": past,
            "resolved_at": past,
        },
        # Once a complaint, now a suggestion: its old deadlines no longer count.
        "not a complaint": {"kind": "suggestion", "acknowledge_due": past, "resolve_due": past},
    }
    made = {name: FeedbackItemFactory(**fields) for name, fields in cases.items()}
    FeedbackItem.objects.filter(pk=made["done"].pk).update(resolved_at=past)
    expected = set(
        FeedbackItem.objects.filter(kind="complaint")
        .filter(
            Q(acknowledged_at__isnull=True, acknowledge_due__lt=now)
            | Q(resolved_at__isnull=True, resolve_due__lt=now)
        )
        .values_list("pk", flat=True)
    )
    assert expected == {made[n].pk for n in ("late to acknowledge", "late to resolve", "both late")}
    assert set(overdue_complaints(now).values_list("pk", flat=True)) == expected
    assert overdue_complaints(now).count() == 3
    assert overdue_count(now) == 3


def test_the_overdue_count_narrowed_by_a_list_filter_counts_what_the_list_shows():
    """The dashboard counts overdue complaints among the list's other filters; the list
    applies its `overdue` filter to the same filters. Closed complaints are in neither."""
    now = timezone.now()
    past = now - dt.timedelta(days=2)
    late = FeedbackItemFactory.create_batch(3, kind="complaint", acknowledge_due=past)
    closed = FeedbackItemFactory(kind="complaint", acknowledge_due=past, status="closed")
    both = FeedbackItemFactory(kind="complaint", acknowledge_due=past, resolve_due=past)
    resolve_only = FeedbackItemFactory(
        kind="complaint", acknowledge_due=past, acknowledged_at=past, resolve_due=past
    )
    line = ProductLineFactory()
    FeedbackItem.objects.filter(pk=late[0].pk).update(product_line=line)
    FeedbackItem.objects.filter(pk__in=[late[1].pk, late[2].pk, closed.pk]).update(
        product_line=ProductLineFactory()
    )
    assert overdue_count(now) == 6
    assert overdue_count(now, open_only=True) == 5
    assert {both.pk, resolve_only.pk} <= set(
        overdue_complaints(now, open_only=True).values_list("pk", flat=True)
    )
    for params, expected in (({}, 5), ({"product_line": [str(line.pk)]}, 1)):
        narrowed = FeedbackItemFilterSet(params, queryset=FeedbackItem.objects.all())
        listed = FeedbackItemFilterSet(
            {**params, "overdue": "1"}, queryset=FeedbackItem.objects.all()
        )
        assert narrowed.is_valid() and listed.is_valid()
        assert overdue_count(now, items=narrowed.qs, open_only=True) == expected
        assert listed.qs.count() == expected
