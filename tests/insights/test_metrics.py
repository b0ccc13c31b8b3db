"""Metrics over rollups: exact figures on constructed data, rollups kept in step, signals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from tests.factories import CustomerFactory, PerceptionSourceFactory, ProductLineFactory

from harken.feedback.models import Category, FeedbackItem
from harken.feedback.services import Intake, classify, record_feedback, remap_category
from harken.insights import metrics
from harken.insights import statistics as st
from harken.insights.choices import Dimension, Grain, Metric
from harken.insights.detection import detect
from harken.insights.models import Exposure, FeedbackRollup, Signal
from harken.insights.rollups import rebuild_all

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour))


def rollup_snapshot() -> list[tuple]:
    fields = [f.attname for f in FeedbackRollup._meta.concrete_fields if f.name != "id"]
    return sorted(tuple(row) for row in FeedbackRollup.objects.values_list(*fields))


@pytest.fixture
def survey():
    return PerceptionSourceFactory(
        name="NPS", structured=True, default_kind="survey_response", default_scale="nps"
    )


@pytest.fixture
def inbox():
    return PerceptionSourceFactory(name="Inbox", default_kind="complaint")


def test_nps_and_csat_match_the_statistics_on_the_same_answers(survey):
    day = dt.date(2026, 3, 10)
    scores = [10, 10, 9, 9, 9, 8, 7, 6, 3, 0]
    for index, score in enumerate(scores):
        record_feedback(Intake(source=survey, score=score, received_at=at(day, 8 + index)))
    scope = metrics.Scope(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    result = metrics.value(scope, Metric.NPS)
    expected = st.nps(5, 2, 3)
    assert result.value == pytest.approx(20.0)
    assert (result.lower, result.upper, result.n) == (expected.lower, expected.upper, 10)
    assert result.warning  # ten answers are a small sample


def test_complaint_rate_uses_orders_shipped(inbox):
    line = ProductLineFactory(code="VAL")
    for day in range(1, 7):
        record_feedback(
            Intake(
                source=inbox, text="late", product_line=line, received_at=at(dt.date(2026, 4, day))
            )
        )
    Exposure.objects.create(
        month=dt.date(2026, 4, 1), kind="orders_shipped", product_line=line, value=1500
    )
    Exposure.objects.create(month=dt.date(2026, 4, 1), kind="orders_shipped", value=3000)
    scope = metrics.Scope(dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    overall = metrics.value(scope, Metric.COMPLAINT_RATE)
    assert overall.value == pytest.approx(2.0)
    line_scope = metrics.Scope(dt.date(2026, 4, 1), dt.date(2026, 4, 30), product_lines=(line.pk,))
    assert metrics.value(line_scope, Metric.COMPLAINT_RATE).value == pytest.approx(4.0)
    assert metrics.value(line_scope, Metric.COMPLAINT_RATE).lower == pytest.approx(
        st.rate(6, 1500, per=1000).lower
    )


def test_periods_are_calendar_periods_in_the_company_zone(inbox):
    # 23:30 on 31 March in Berlin is still March there, though it is 21:30 UTC.
    late = timezone.make_aware(dt.datetime(2026, 3, 31, 23, 30))
    record_feedback(Intake(source=inbox, text="x", received_at=late))
    scope = metrics.Scope(dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    points = metrics.series(scope, Metric.COMPLAINTS, Grain.MONTH)[None]
    assert [(p.period, p.value.value) for p in points] == [
        (dt.date(2026, 3, 1), 1.0),
        (dt.date(2026, 4, 1), 0.0),
    ]


def test_split_by_a_dimension(inbox):
    valves, pumps = ProductLineFactory(code="V"), ProductLineFactory(code="P")
    for line, n in ((valves, 3), (pumps, 1)):
        for i in range(n):
            record_feedback(
                Intake(
                    source=inbox,
                    text=f"{line.code}{i}",
                    product_line=line,
                    received_at=at(dt.date(2026, 5, 2 + i)),
                )
            )
    scope = metrics.Scope(dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    split = metrics.series(scope, Metric.COMPLAINTS, Grain.MONTH, by=Dimension.PRODUCT_LINE)
    assert {key: points[0].value.value for key, points in split.items()} == {
        valves.pk: 3.0,
        pumps.pk: 1.0,
    }


def test_a_customers_figures_come_from_the_items(survey):
    customer = CustomerFactory(segment="key_account")
    other = CustomerFactory()
    record_feedback(
        Intake(source=survey, score=10, customer=customer, received_at=at(dt.date(2026, 6, 3)))
    )
    record_feedback(
        Intake(source=survey, score=0, customer=other, received_at=at(dt.date(2026, 6, 3)))
    )
    scope = metrics.Scope(dt.date(2026, 6, 1), dt.date(2026, 6, 30), customer=customer.pk)
    assert metrics.value(scope, Metric.NPS).value == 100.0
    segment = metrics.Scope(dt.date(2026, 6, 1), dt.date(2026, 6, 30), segments=("key_account",))
    assert metrics.value(segment, Metric.NPS).value == 100.0


def test_change_between_periods_is_tested(survey):
    for i in range(40):
        record_feedback(
            Intake(
                source=survey,
                score=10 if i < 30 else 5,
                received_at=at(dt.date(2026, 1, 1 + i % 28), 1 + i % 20),
            )
        )
        record_feedback(
            Intake(
                source=survey,
                score=10 if i < 10 else 2,
                received_at=at(dt.date(2026, 2, 1 + i % 28), 1 + i % 20),
            )
        )
    change = metrics.compare(
        metrics.Scope(dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        Metric.NPS,
        metrics.Scope(dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
    )
    expected = st.nps_difference_test(st.nps(30, 0, 10), st.nps(10, 0, 30))
    assert change.difference == pytest.approx(-100.0)
    assert change.p_value == pytest.approx(expected.p_value)
    assert change.significant and change.adverse


def test_incremental_rollups_agree_with_a_full_rebuild(inbox, analyst):
    line = ProductLineFactory(code="R")
    items = [
        record_feedback(
            Intake(
                source=inbox, text=text, product_line=line, received_at=at(dt.date(2026, 7, day))
            )
        )[0]
        for day, text in (
            (1, "late delivery"),
            (1, "invoice wrong"),
            (2, "broken part"),
            (9, "thanks"),
        )
    ]
    classify(
        items[0],
        actor=analyst,
        category=Category.objects.get(code="quality_defect"),
        impact="major",
    )
    remap_category(
        Category.objects.get(code="billing"),
        Category.objects.get(code="other"),
        actor=analyst,
        reason="test",
    )
    items[3].delete()
    incremental = rollup_snapshot()
    rebuild_all()
    assert rollup_snapshot() == incremental
    assert sum(FeedbackRollup.objects.values_list("items", flat=True)) == 3


def test_the_rising_complaints_of_one_line_are_flagged_once(inbox):
    today = dt.date(2026, 11, 21)
    line = ProductLineFactory(code="VAL", name="Industrial Valves")
    delivery = Category.objects.get(code="delivery")
    months = [dt.date(2024 + (m - 1) // 12, (m - 1) % 12 + 1, 1) for m in range(11, 35)]
    for month in months:
        Exposure.objects.create(month=month, kind="orders_shipped", product_line=line, value=1000)
        n = 12 if month >= dt.date(2026, 7, 1) else 2 + month.month % 2
        for i in range(n):
            FeedbackItem.objects.create(
                source=inbox,
                kind="complaint",
                received_at=at(month.replace(day=1 + i)),
                text="late",
                product_line=line,
                category=delivery,
                dedupe_key=f"x:{month}-{i}",
            )
    created = detect(today)
    titles = [s.title for s in created]
    assert any(t.startswith("Industrial Valves — Delivery") for t in titles)
    assert Signal.objects.count() == len(created)
    assert detect(today) == []
    signal = next(s for s in created if s.title.startswith("Industrial Valves — Delivery"))
    assert signal.evidence["filter"]["product_line"] == [line.pk]
    assert signal.evidence["filter"]["category"] == [delivery.pk]


def test_scope_from_params_names_bad_parameters():
    with pytest.raises(metrics.ScopeError) as info:
        metrics.scope_from_params({"from": "yesterday", "region": "north"})
    assert set(info.value.errors) == {"from", "region"}
    scope = metrics.scope_from_params(
        {"from": "2026-01-01", "to": "2026-03-31", "product_line": "3,4"}
    )
    assert scope.product_lines == (3, 4)


def test_retention_counts_customers_active_at_the_start_and_not_deactivated_since():
    """Who was active when the period began is walked back from today through the audit
    trail's activations and deactivations; who was deactivated during it is lost."""
    from harken.core.workflow import apply_transition

    today = timezone.localdate()
    long_ago = dt.date(2020, 1, 1)
    CustomerFactory(customer_since=long_ago)  # active throughout: retained
    lost = CustomerFactory(customer_since=long_ago)
    back_again = CustomerFactory(customer_since=long_ago)
    CustomerFactory(customer_since=today - dt.timedelta(days=5))  # joined during the period
    CustomerFactory(customer_since=long_ago, status="inactive")  # gone before the period
    apply_transition(lost, "deactivate", actor=None)
    apply_transition(back_again, "deactivate", actor=None)
    apply_transition(back_again, "activate", actor=None)
    scope = metrics.Scope(today - dt.timedelta(days=30), today)
    result = metrics.retention(scope)
    assert (result.successes, result.total) == (1, 3)
    earlier = metrics.Scope(today - dt.timedelta(days=90), today - dt.timedelta(days=60))
    before = metrics.retention(earlier)
    # Every deactivation came after that period: all three were active through it.
    assert (before.successes, before.total) == (3, 3)
