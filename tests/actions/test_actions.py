"""Actions: decision rules, guarded transitions, effectiveness verdicts, dispositions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from tests.conftest import client_for
from tests.factories import PerceptionSourceFactory, ProductLineFactory

from harken.actions import rules, services
from harken.actions.models import Action, DecisionRule, Proposal, Theme
from harken.core.models import AuditEvent
from harken.core.workflow import TransitionError, apply_transition
from harken.feedback.models import Category, FeedbackItem
from harken.insights import statistics as st
from harken.insights.models import Exposure, Signal

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def inbox():
    return PerceptionSourceFactory(name="Inbox", default_kind="complaint")


@pytest.fixture
def delivery():
    return Category.objects.get(code="delivery")


@pytest.fixture
def line():
    return ProductLineFactory(code="VAL", name="Valves")


def complaints(source, category, line, days: list[dt.date], **extra) -> list[FeedbackItem]:
    return [
        FeedbackItem.objects.create(
            source=source,
            kind="complaint",
            received_at=at(day, 8 + i % 10),
            text="late",
            category=category,
            product_line=line,
            dedupe_key=f"x:{day}-{i}-{category.pk}",
            **extra,
        )
        for i, day in enumerate(days)
    ]


def new_action(actor, owner, **kwargs) -> Action:
    return services.open_action(
        actor=actor,
        kind=kwargs.pop("kind", "corrective"),
        title="Fix it",
        problem_statement="Complaints show it.",
        owner=owner,
        due_date=TODAY + dt.timedelta(days=30),
        **kwargs,
    )


# Decision rules ------------------------------------------------------------------------


def test_recurring_rule_fires_at_its_threshold_and_once(inbox, delivery, line):
    rule = DecisionRule.objects.get(condition="recurring")
    now = timezone.now()
    complaints(inbox, delivery, line, [(now - dt.timedelta(days=d)).date() for d in (1, 2, 3, 4)])
    assert [p for p in rules.run_rules() if p.rule == rule] == []
    complaints(inbox, delivery, line, [(now - dt.timedelta(days=5)).date()], impact="minor")
    created = [p for p in rules.run_rules() if p.rule == rule]
    assert len(created) == 1
    assert created[0].kind == "corrective"
    assert created[0].items.count() == 5
    assert "5 delivery complaints on Valves" in created[0].reason
    assert rules.run_rules() == []


def test_recurring_rule_skips_what_an_open_action_covers(
    inbox, delivery, line, quality_manager, owner
):
    now = timezone.now()
    items = complaints(
        inbox, delivery, line, [(now - dt.timedelta(days=d)).date() for d in range(6)]
    )
    new_action(quality_manager, owner, items=items[:1])
    assert not Proposal.objects.filter(rule__condition="recurring").exists() and not [
        p for p in rules.run_rules() if p.rule.condition == "recurring"
    ]


def test_critical_item_is_proposed_until_an_action_cites_it(
    inbox, delivery, line, quality_manager, owner
):
    (item,) = complaints(inbox, delivery, line, [timezone.localdate()], impact="critical")
    created = [p for p in rules.run_rules() if p.rule.condition == "critical_item"]
    assert [list(p.items.all()) for p in created] == [[item]]
    Proposal.objects.all().delete()
    new_action(quality_manager, owner, items=[item])
    assert [p for p in rules.run_rules() if p.rule.condition == "critical_item"] == []


def test_signals_become_proposals_of_the_right_kind(db):
    common = {"period_start": TODAY, "period_end": TODAY, "metric": "nps", "description": "d"}
    chart = Signal.objects.create(kind="control_chart", title="chart", fingerprint="a", **common)
    Signal.objects.create(kind="significant_change", title="change", fingerprint="b", **common)
    Signal.objects.create(
        kind="control_chart", title="gone", fingerprint="c", status="dismissed", **common
    )
    created = {p.title: p.kind for p in rules.run_rules()}
    assert created == {"chart": "corrective", "change": "improvement"}
    assert Proposal.objects.get(title="chart").signal == chart


def test_accepting_a_proposal_opens_the_action_with_its_evidence(
    inbox, delivery, line, analyst, owner
):
    now = timezone.now()
    complaints(inbox, delivery, line, [(now - dt.timedelta(days=d)).date() for d in range(5)])
    (proposal,) = rules.run_rules()
    action = services.accept_proposal(proposal, actor=analyst, owner=owner, due_date=TODAY)
    proposal.refresh_from_db()
    assert proposal.status == "accepted"
    assert proposal.action == action
    assert action.items.count() == 5
    assert action.origin.startswith("Decision rule: ")
    with pytest.raises(ValidationError):
        services.reject_proposal(proposal, actor=analyst, reason="too late")


def test_rejecting_needs_a_reason(db, analyst):
    common = {"period_start": TODAY, "period_end": TODAY, "metric": "nps", "description": "d"}
    Signal.objects.create(kind="control_chart", title="chart", fingerprint="z", **common)
    (proposal,) = rules.run_rules()
    with pytest.raises(ValidationError) as info:
        services.reject_proposal(proposal, actor=analyst, reason=" ")
    assert info.value.message_dict == {"rejection_reason": ["Say why it is rejected."]}


# Transitions -------------------------------------------------------------------------------


def test_every_guarded_transition_refuses_without_its_condition(quality_manager, owner):
    action = new_action(quality_manager, owner)
    with pytest.raises(TransitionError, match="Describe the containment"):
        apply_transition(action, "contain", actor=owner)
    with pytest.raises(TransitionError, match="Record the root cause analysis"):
        apply_transition(action, "root_cause", actor=owner)
    services.record_root_cause(
        action, actor=owner, method="five_whys", whys=["a", "b"], root_cause="c"
    )
    apply_transition(action, "root_cause", actor=owner)
    with pytest.raises(TransitionError, match="Plan at least one step"):
        apply_transition(action, "implement", actor=owner)
    step = services.add_step(action, actor=owner, description="Do", owner=owner, due_date=TODAY)
    apply_transition(action, "implement", actor=owner)
    with pytest.raises(TransitionError) as info:
        apply_transition(action, "verify", actor=owner)
    assert info.value.messages == [
        "Define how effectiveness will be checked.",
        "Finish every step first.",
    ]
    services.complete_step(step, actor=owner)
    services.define_check(
        action,
        actor=owner,
        metric="complaints",
        scope={},
        baseline=(dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        evaluation=(dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        target_kind="relative_reduction",
        target_value=50,
    )
    apply_transition(action, "verify", actor=owner)
    with pytest.raises(TransitionError, match="confirm the effectiveness verdict"):
        apply_transition(action, "close_effective", actor=quality_manager)
    with pytest.raises(PermissionDenied):
        apply_transition(action, "close_effective", actor=owner)


def test_root_cause_validation_names_fields(quality_manager, owner):
    action = new_action(quality_manager, owner)
    with pytest.raises(ValidationError) as info:
        services.record_root_cause(
            action, actor=owner, method="fishbone", fishbone={"Weather": ["rain"]}, root_cause=""
        )
    assert set(info.value.message_dict) == {"fishbone", "root_cause"}


def test_check_windows_must_not_overlap(quality_manager, owner):
    action = new_action(quality_manager, owner)
    with pytest.raises(ValidationError) as info:
        services.define_check(
            action,
            actor=owner,
            metric="csat",
            scope={},
            baseline=(dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
            evaluation=(dt.date(2026, 3, 1), dt.date(2026, 5, 31)),
            target_kind="relative_increase",
            target_value=150,
        )
    assert set(info.value.message_dict) == {"evaluation_from", "target_value"}


# Effectiveness -----------------------------------------------------------------------------


def check_for(
    action, owner, metric="complaint_rate", target=("relative_reduction", 40), scope=None
):
    return services.define_check(
        action,
        actor=owner,
        metric=metric,
        scope=scope or {},
        baseline=(dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        evaluation=(dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        target_kind=target[0],
        target_value=target[1],
    )


def exposure(line, per_month: float) -> None:
    for month in range(1, 7):
        Exposure.objects.create(
            month=dt.date(2026, month, 1), kind="orders_shipped", product_line=line, value=per_month
        )


def spread(start: dt.date, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=(i * 89) // max(n, 1)) for i in range(n)]


def test_a_clear_improvement_is_effective_with_the_exact_test(
    inbox, delivery, line, quality_manager, owner
):
    exposure(line, 1000)
    complaints(inbox, delivery, line, spread(dt.date(2026, 1, 1), 30))
    complaints(inbox, delivery, line, spread(dt.date(2026, 4, 1), 5))
    action = new_action(quality_manager, owner)
    check = services.compute_check(
        check_for(action, owner, scope={"categories": [delivery.pk], "product_lines": [line.pk]}),
        today=TODAY,
    )
    expected = st.rate_ratio_test(30, 3000.0, 5, 3000.0)
    assert check.proposed_verdict == "effective"
    assert check.result["baseline"]["value"] == pytest.approx(10.0)
    assert check.result["evaluation"]["value"] == pytest.approx(5 / 3)
    assert check.result["p_value"] == pytest.approx(expected.p_value)
    assert "fell from 10.00 to 1.67 (-83%" in check.explanation


def test_no_change_is_not_effective(inbox, delivery, line, quality_manager, owner):
    exposure(line, 1000)
    complaints(inbox, delivery, line, spread(dt.date(2026, 1, 1), 20))
    complaints(inbox, delivery, line, spread(dt.date(2026, 4, 1), 19))
    action = new_action(quality_manager, owner)
    check = services.compute_check(
        check_for(action, owner, scope={"product_lines": [line.pk]}), today=TODAY
    )
    assert check.proposed_verdict == "not_effective"


def test_a_drop_that_is_not_significant_is_not_effective(
    inbox, delivery, line, quality_manager, owner
):
    exposure(line, 1000)
    complaints(inbox, delivery, line, spread(dt.date(2026, 1, 1), 6))
    complaints(inbox, delivery, line, spread(dt.date(2026, 4, 1), 3))
    action = new_action(quality_manager, owner)
    check = services.compute_check(
        check_for(action, owner, scope={"product_lines": [line.pk]}), today=TODAY
    )
    assert check.proposed_verdict == "not_effective"
    assert "not statistically significant" in check.explanation


def test_too_little_data_is_inconclusive(inbox, delivery, line, quality_manager, owner):
    exposure(line, 1000)
    complaints(inbox, delivery, line, spread(dt.date(2026, 1, 1), 3))
    action = new_action(quality_manager, owner)
    check = services.compute_check(
        check_for(action, owner, scope={"product_lines": [line.pk]}), today=TODAY
    )
    assert check.proposed_verdict == "inconclusive"
    assert check.explanation.startswith("Only 3 complaints in the baseline window")


def test_no_recurrence_target(inbox, delivery, line, quality_manager, owner):
    complaints(inbox, delivery, line, spread(dt.date(2026, 1, 1), 4))
    action = new_action(quality_manager, owner)
    check = services.compute_check(
        check_for(
            action,
            owner,
            metric="complaints",
            target=("no_recurrence", None),
            scope={"product_lines": [line.pk]},
        ),
        today=TODAY,
    )
    assert check.proposed_verdict == "effective"


def test_verdict_needs_the_close_verb_and_an_ended_window(
    inbox, delivery, line, quality_manager, analyst, owner
):
    action = new_action(quality_manager, owner)
    check = services.compute_check(check_for(action, owner), today=TODAY)
    with pytest.raises(PermissionDenied):
        services.confirm_verdict(check, actor=analyst, verdict="effective")
    services.confirm_verdict(check, actor=quality_manager, verdict="not_effective", note="override")
    event = AuditEvent.objects.get(action="effectivenesscheck.override")
    assert event.changes == {
        "proposed": check.proposed_verdict,
        "confirmed": "not_effective",
        "note": "override",
    }
    with pytest.raises(ValidationError):
        services.define_check(
            action,
            actor=owner,
            metric="nps",
            scope={},
            baseline=(dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
            evaluation=(dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
            target_kind="at_least",
            target_value=30,
        )


# Dispositions ------------------------------------------------------------------------------


def test_a_new_disposition_keeps_the_old_one(quality_manager, analyst, delivery):
    theme = Theme.objects.create(title="Late", category=delivery)
    first = services.dispose(theme, actor=quality_manager, decision="monitor", rationale="Watch it")
    second = services.dispose(theme, actor=quality_manager, decision="fix", rationale="It grew")
    assert theme.current_disposition() == second
    assert list(theme.dispositions.all()) == [second, first] or set(theme.dispositions.all()) == {
        first,
        second,
    }
    first.refresh_from_db()
    assert first.decision == "monitor"
    with pytest.raises(PermissionDenied):
        services.dispose(theme, actor=analyst, decision="fix", rationale="x")
    with pytest.raises(ValidationError) as info:
        services.dispose(theme, actor=quality_manager, decision="ignore", rationale="")
    assert set(info.value.message_dict) == {"decision", "rationale"}


# Duties ------------------------------------------------------------------------------------


def test_overdue_reminders_are_sent_once(quality_manager, owner):
    action = new_action(quality_manager, owner)
    Action.objects.filter(pk=action.pk).update(due_date=TODAY - dt.timedelta(days=1))
    assert services.notify_overdue(TODAY) == (1, 0)
    assert mail.outbox[0].to == [owner.email]
    assert mail.outbox[0].subject.startswith(f"Overdue: {action.number}")
    assert services.notify_overdue(TODAY) == (0, 0)


def test_recurrence_after_an_effective_closure_raises_a_signal(
    inbox, delivery, line, quality_manager, owner
):
    action = new_action(quality_manager, owner)
    check = check_for(
        action,
        owner,
        metric="complaints",
        target=("no_recurrence", None),
        scope={"categories": [delivery.pk]},
    )
    check.verdict = "effective"
    check.save()
    Action.objects.filter(pk=action.pk).update(
        status="closed_effective", closed_at=at(dt.date(2026, 7, 1))
    )
    assert services.detect_recurrence(TODAY) == 0
    complaints(inbox, delivery, line, [dt.date(2026, 8, 3)])
    assert services.detect_recurrence(TODAY) == 1
    assert services.detect_recurrence(TODAY) == 0
    signal = Signal.objects.get(kind="recurrence")
    assert signal.evidence["filter"]["category"] == [delivery.pk]


# API -------------------------------------------------------------------------------------------


def test_api_walks_an_action_through_its_check(quality_manager, owner):
    client = client_for(quality_manager)
    created = client.post(
        "/api/actions/",
        {
            "kind": "corrective",
            "title": "API action",
            "problem_statement": "Seen in feedback",
            "owner": owner.pk,
            "due_date": "2026-12-31",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    bad = client.post(
        f"/api/actions/{pk}/effectiveness-check/",
        {
            "metric": "complaints",
            "baseline_from": "2026-01-01",
            "baseline_to": "2026-03-31",
            "evaluation_from": "2026-03-01",
            "evaluation_to": "2026-04-30",
            "target_kind": "relative_reduction",
            "target_value": 30,
        },
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "evaluation_from" in bad.json()["errors"]
    assert (
        client_for(owner).post(f"/api/actions/{pk}/verdict/", {"verdict": "effective"}).status_code
        == 403
    )


def test_reopening_starts_a_new_effectiveness_round(quality_manager, owner):
    action = new_action(quality_manager, owner)
    services.record_containment(action, actor=owner, text="Sorted stock")
    check = services.compute_check(check_for(action, owner), today=TODAY)
    services.confirm_verdict(check, actor=quality_manager, verdict="not_effective")
    Action.objects.filter(pk=action.pk).update(status="verifying")
    action.refresh_from_db()
    services.close_action(action, actor=quality_manager)
    action.refresh_from_db()
    assert action.status == "closed_not_effective" and action.closed_at is not None
    apply_transition(
        action, "reopen", actor=quality_manager, values={"reopen_reason": "Complaints continue"}
    )
    check.refresh_from_db()
    action.refresh_from_db()
    assert (check.verdict, check.proposed_verdict, action.closed_at) == ("", "", None)
    assert AuditEvent.objects.filter(
        action="effectivenesscheck.reset", object_id=str(check.pk)
    ).exists()
    services.define_check(
        action,
        actor=owner,
        metric="complaints",
        scope={},
        baseline=(dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        evaluation=(dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        target_kind="relative_reduction",
        target_value=30,
    )


def test_a_check_is_not_computed_before_its_window_opens(quality_manager, owner):
    action = new_action(quality_manager, owner)
    check = check_for(action, owner)
    with pytest.raises(ValidationError) as info:
        services.compute_check(check, today=dt.date(2026, 3, 31))
    assert "opens on 2026-04-01" in info.value.message_dict["evaluation_from"][0]
