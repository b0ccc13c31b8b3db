"""The query planner's statistics: refreshed by the tick (and after the demo and large
imports) on SQLite, left to autovacuum on PostgreSQL; and the overdue-complaints read
that depends on them counts exactly what the plain condition does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from tests.factories import FeedbackItemFactory

from harken.core.registry import registry
from harken.core.ticks import refresh_statistics
from harken.feedback.models import FeedbackItem
from harken.feedback.services import overdue_complaints

pytestmark = pytest.mark.django_db


def test_the_tick_refreshes_the_planner_statistics():
    assert ("database statistics", refresh_statistics) in registry.tick
    FeedbackItemFactory.create_batch(3)
    message = refresh_statistics(timezone.now())
    if connection.vendor == "sqlite":
        assert message == "query planner statistics refreshed"
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'feedback_feedbackitem'")
            assert cursor.fetchone()[0] > 0
    else:
        assert message == "left to PostgreSQL's autovacuum"


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
