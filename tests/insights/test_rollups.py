"""The rollup path gives the figures the direct SQL over the items gives.

Constructed data with every dimension, scores on each scale, sentiment, handling times
and items at local midnight around month ends and daylight-saving changes; then edits,
a move across a month end, a deletion, a re-classification and a bulk re-mapping. After
each, every scope, grain and split read from the rollups must equal the same question
asked of the items, and incremental upkeep must equal a full rebuild.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.utils import timezone
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    PerceptionSourceFactory,
    ProductLineFactory,
    RegionFactory,
)

from harken.core.numbering import reserve_numbers
from harken.feedback.models import FeedbackItem
from harken.feedback.services import classify, remap_category
from harken.feedback.signals import bulk_added
from harken.insights import metrics
from harken.insights.choices import Dimension, Grain
from harken.insights.models import FeedbackRollup, RollupCell
from harken.insights.rollups import (
    LEVELS,
    MEASURES,
    add_items,
    count_levels,
    level_for,
    local_day_sql,
    rebuild_all,
    utc_offsets,
)

pytestmark = pytest.mark.django_db

BERLIN = "Europe/Berlin"


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour, minute))


# Moments that fall on the other side of a local day or month than in UTC, and around
# the daylight-saving changes of 2026 (29 March, 25 October).
EDGE_MOMENTS = [
    local(2026, 1, 31, 23, 30),
    local(2026, 2, 1, 0, 15),
    local(2026, 2, 28, 23, 59),
    local(2026, 3, 1, 0, 0),
    local(2026, 3, 29, 1, 30),
    local(2026, 3, 29, 3, 30),
    local(2026, 3, 31, 23, 30),
    local(2026, 4, 1, 0, 30),
    local(2026, 4, 30, 23, 45),
    local(2026, 6, 30, 23, 10),
    local(2026, 7, 1, 1, 0),
]


@pytest.fixture
def world() -> dict[str, Any]:
    rng = random.Random(7)
    lines = [ProductLineFactory(code=f"L{i}") for i in range(3)]
    regions = [RegionFactory(code=f"R{i}") for i in range(2)]
    categories = [CategoryFactory(code=f"c{i}") for i in range(3)]
    customers = [
        CustomerFactory(segment=segment, region=regions[i % 2])
        for i, segment in enumerate(("key_account", "standard", "distributor"))
    ]
    sources = [
        PerceptionSourceFactory(name="Inbox", default_kind="complaint"),
        PerceptionSourceFactory(
            name="Survey", structured=True, default_kind="survey_response", default_scale="nps"
        ),
    ]
    moments = list(EDGE_MOMENTS)
    start = local(2026, 1, 1, 0, 0)
    for _ in range(140):
        moments.append(start + dt.timedelta(minutes=rng.randrange(200 * 24 * 60)))
    world = {
        "lines": lines,
        "regions": regions,
        "categories": categories,
        "customers": customers,
        "sources": sources,
    }
    items = [
        FeedbackItem.objects.create(**item_fields(rng, world, moment, f"rollup-{n}"))
        for n, moment in enumerate(moments)
    ]
    return {"items": items, **world}


SCALES = [("nps", 11), ("csat", 5), ("ces", 7), ("stars", 5), ("csat2", 2), ("", 0)]


def item_fields(
    rng: random.Random, world: dict[str, Any], moment: dt.datetime, key: str
) -> dict[str, Any]:
    """A random item of every dimension, scale, sentiment and handling time."""
    kind = rng.choice(("complaint", "complaint", "survey_response", "compliment"))
    scale, top = rng.choice(SCALES)
    score = None
    if scale:
        low = 0 if scale in {"nps", "csat2"} else 1
        score = rng.choice([float(rng.randint(low, low + top - 1)), low + rng.random() * top])
    fields: dict[str, Any] = {
        "source": world["sources"][0] if kind == "complaint" else world["sources"][1],
        "kind": kind,
        "received_at": moment,
        "customer": rng.choice([*world["customers"], None]),
        "product_line": rng.choice([*world["lines"], None]),
        "region": rng.choice([*world["regions"], None]),
        "category": rng.choice([*world["categories"], None]),
        "score": score,
        "scale": scale,
        "classification_confirmed": rng.random() < 0.5,
        "impact": rng.choice(("", "minor", "critical")),
        "sentiment_score": rng.choice([None, round(rng.uniform(-1, 1), 3)]),
        "sentiment_label": rng.choice(("", "negative", "neutral", "positive")),
        "text": f"item {key}",
        "dedupe_key": f"x:{key}",
    }
    if kind == "complaint":
        fields["acknowledge_due"] = moment + dt.timedelta(hours=24)
        fields["resolve_due"] = moment + dt.timedelta(days=7)
        if rng.random() < 0.9:
            # Whole hours on purpose: band edges must count the same on both paths.
            hours = rng.choice([rng.randint(0, 30), rng.random() * 80])
            fields["acknowledged_at"] = moment + dt.timedelta(hours=hours)
        if rng.random() < 0.7:
            fields["resolved_at"] = moment + dt.timedelta(hours=rng.random() * 900)
    return fields


def same(rollup: metrics.Totals, direct: metrics.Totals) -> bool:
    for name in MEASURES:
        if name == "sentiment_sum":
            if rollup.values.get(name) or direct.values.get(name):
                assert (rollup.values.get(name) or 0) == pytest.approx(
                    direct.values.get(name) or 0, abs=1e-9
                )
            continue
        assert rollup.get(name) == direct.get(name), name
    assert rollup.complaints == direct.complaints
    return True


def normal(key: Any) -> Any:
    return None if key == "" else key  # no customer: '' in the rollups, None from a join


def assert_agree(scope: metrics.Scope, grain: str, by: str | None) -> None:
    rollup = metrics.by_period(scope, grain, by)
    direct = metrics.direct_by_period(scope, grain, by)
    rollup = {(p, normal(k)): t for (p, k), t in rollup.items() if t.get("items")}
    direct = {(p, normal(k)): t for (p, k), t in direct.items() if t.get("items")}
    assert set(rollup) == set(direct), (scope, grain, by)
    for key in rollup:
        assert same(rollup[key], direct[key])


def scopes(world: dict[str, Any]) -> list[metrics.Scope]:
    line, region = world["lines"][0].pk, world["regions"][1].pk
    category, source = world["categories"][2].pk, world["sources"][0].pk
    return [
        metrics.Scope(dt.date(2026, 1, 1), dt.date(2026, 7, 31)),
        metrics.Scope(dt.date(2026, 2, 1), dt.date(2026, 4, 30)),  # whole months
        metrics.Scope(dt.date(2026, 1, 31), dt.date(2026, 4, 1)),  # a day each side
        metrics.Scope(dt.date(2026, 3, 29), dt.date(2026, 3, 29)),  # the spring change
        metrics.Scope(dt.date(2026, 3, 5), dt.date(2026, 3, 20)),  # inside a month
        metrics.Scope(dt.date(2026, 1, 1), dt.date(2026, 6, 30), product_lines=(line,)),
        metrics.Scope(dt.date(2026, 2, 3), dt.date(2026, 6, 30), regions=(region,)),
        metrics.Scope(dt.date(2026, 1, 1), dt.date(2026, 5, 17), categories=(category,)),
        metrics.Scope(dt.date(2026, 1, 10), dt.date(2026, 7, 31), sources=(source,)),
        metrics.Scope(dt.date(2026, 1, 1), dt.date(2026, 7, 31), segments=("key_account",)),
        metrics.Scope(dt.date(2026, 1, 1), dt.date(2026, 7, 31), kinds=("complaint",)),
        metrics.Scope(
            dt.date(2026, 2, 14),
            dt.date(2026, 6, 3),
            product_lines=(line,),
            categories=(category,),
            kinds=("complaint",),
        ),
    ]


def assert_everything_agrees(world: dict[str, Any]) -> None:
    for scope in scopes(world):
        assert same(metrics.totals(scope), metrics.direct_totals(scope))
        for grain in (Grain.WEEK, Grain.MONTH, Grain.QUARTER):
            assert_agree(scope, grain, None)
        for by in Dimension.values:
            assert_agree(scope, Grain.MONTH, by)
        for fast, slow in zip(
            metrics.complaint_timings(scope),
            metrics.complaint_timings_direct(scope),
            strict=True,
        ):
            assert (fast.what, fast.n) == (slow.what, slow.n)
            assert fast.within_target == slow.within_target
            for got, expected in (
                (fast.median_hours, slow.median_hours),
                (fast.p90_hours, slow.p90_hours),
            ):
                assert got == pytest.approx(expected, abs=1e-6)


def snapshot(model: Any) -> list[tuple[Any, ...]]:
    fields = [f.attname for f in model._meta.concrete_fields if f.name != "id"]
    rows = []
    for row in model.objects.values_list(*fields):
        row = tuple(round(v, 9) if isinstance(v, float) else ("" if v is None else v) for v in row)
        rows.append(row)
    return sorted(rows, key=repr)


def assert_incremental_equals_rebuild() -> None:
    kept = snapshot(FeedbackRollup), snapshot(RollupCell)
    rebuild_all()
    assert (snapshot(FeedbackRollup), snapshot(RollupCell)) == kept


def test_rollups_agree_with_the_items(world):
    assert RollupCell.objects.filter(items__lte=0).count() == 0
    assert_everything_agrees(world)
    assert_incremental_equals_rebuild()


def test_rollups_follow_edits_moves_deletions_and_remapping(world, analyst):
    items = world["items"]
    # Re-classify (category, impact: confirmed from now on).
    classify(items[20], actor=analyst, category=world["categories"][0], impact="critical")
    # Move an item across a month end, and across the spring change.
    items[3].received_at = local(2026, 2, 28, 23, 30)
    items[3].save()
    items[4].received_at = local(2026, 5, 1, 0, 5)
    items[4].save()
    # Acknowledge one late; delete two.
    items[30].acknowledged_at = items[30].received_at + dt.timedelta(hours=17)
    items[30].save()
    items[0].delete()
    items[40].delete()
    remap_category(world["categories"][1], world["categories"][2], actor=analyst, reason="merge")
    assert RollupCell.objects.filter(items__lte=0).count() == 0
    assert_everything_agrees(world)
    assert_incremental_equals_rebuild()


def test_items_added_in_bulk_are_counted_as_a_recount_would(world):
    """Additive upkeep (new items' counts added to base rows and cells) equals a full
    rebuild: items on days that already have their base rows and on new days, new keys
    and existing ones, every dimension empty or set, around month ends and the
    daylight-saving changes, in several rounds."""
    rng = random.Random(11)
    existing = [item.received_at for item in world["items"]]
    for round_ in range(4):
        moments = [
            rng.choice(existing) + dt.timedelta(minutes=rng.randrange(-90, 90)) for _ in range(60)
        ]
        moments += [local(2026, 8, 1 + n % 20, n % 24, 7) for n in range(15)]  # new days
        moments += rng.sample(EDGE_MOMENTS, 5)
        numbers = reserve_numbers(FeedbackItem.number_prefix, len(moments))
        items = FeedbackItem.objects.bulk_create(
            [
                FeedbackItem(number=number, **item_fields(rng, world, moment, f"b{round_}-{n}"))
                for n, (moment, number) in enumerate(zip(moments, numbers, strict=True))
            ]
        )
        assert all(item.pk for item in items)
        bulk_added(FeedbackItem, items)
        assert RollupCell.objects.filter(items__lte=0).count() == 0
        assert_incremental_equals_rebuild()
    assert_everything_agrees(world)


def test_adding_no_items_changes_nothing(world):
    kept = snapshot(FeedbackRollup), snapshot(RollupCell)
    assert add_items([], local(2026, 3, 1), local(2026, 3, 1)) == 0
    bulk_added(FeedbackItem, [])
    assert (snapshot(FeedbackRollup), snapshot(RollupCell)) == kept


def test_local_days_in_sql_match_the_zone(world):
    """The SQL local day (offsets written into the query) is the zone's calendar day."""
    from django.db import connection

    start, end = local(2026, 1, 1, 0, 0), local(2026, 12, 31, 0, 0)
    expression = local_day_sql("received_at", start, end, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {expression} FROM feedback_feedbackitem"  # noqa: S608 - test SQL
        )
        found = {pk: str(day) for pk, day in cursor.fetchall()}
    for item in FeedbackItem.objects.all():
        assert found[item.pk] == timezone.localtime(item.received_at).date().isoformat()


def test_zone_offsets_change_at_the_transitions(settings):
    settings.TIME_ZONE = BERLIN
    offsets = utc_offsets(local(2026, 1, 1), local(2026, 12, 31))
    assert [(at.isoformat(), seconds) for at, seconds in offsets[1:]] == [
        ("2026-03-29T01:00:00+00:00", 7200),
        ("2026-10-25T01:00:00+00:00", 3600),
    ]


def test_the_smallest_level_that_keeps_the_dimensions_answers():
    assert level_for({"kind"}) == 1
    assert level_for({"kind", "category_id"}) == 2
    assert level_for({"kind", "source_id"}) == 3
    assert level_for({"kind", "segment"}) == 4
    assert level_for({"kind", "region_id"}) == 5
    assert level_for({"kind", "segment", "product_line_id"}) == max(LEVELS)


def test_a_new_level_is_counted_from_the_base_rows(world):
    """What the migration that adds levels 4 and 5 does to a database that has data."""
    kept = snapshot(RollupCell)
    RollupCell.objects.filter(level__in=(4, 5)).delete()
    assert snapshot(RollupCell) != kept
    count_levels((4, 5))
    assert snapshot(RollupCell) == kept
