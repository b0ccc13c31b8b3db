"""Demo actions: the rising late deliveries of Industrial Valves become a theme, a
disposition to fix, a corrective action with its 5 whys and a check that comes out
effective; an earlier improvement came out not effective and was reopened; the rules
leave a few proposals in the queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from harken.core.workflow import apply_transition
from harken.customers.models import ProductLine
from harken.feedback.models import Category, FeedbackItem
from harken.insights.models import Signal

from . import services
from .choices import ActionKind, CheckMetric, RootCauseMethod, TargetKind, Verdict
from .rules import run_rules


def quarter_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    start = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    following = dt.date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


def build_actions(*, seed: int, stdout: Any = None) -> str:
    User = get_user_model()
    quality = User.objects.get(username="quality")
    owner = User.objects.get(username="owner")
    today = timezone.localdate()
    valves = ProductLine.objects.get(code="VAL")
    delivery = Category.objects.get(code="delivery")
    responsiveness = Category.objects.get(code="responsiveness")
    this_quarter_start, _ = quarter_bounds(today)
    spike_start, spike_end = quarter_bounds(this_quarter_start - dt.timedelta(days=1))

    def local(day: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    spike_items = FeedbackItem.objects.filter(
        kind="complaint",
        product_line=valves,
        category=delivery,
        received_at__gte=local(spike_start),
        received_at__lt=local(spike_end + dt.timedelta(days=1)),
    )
    theme = services.Theme.objects.create(
        title="Late deliveries of Industrial Valves",
        description="Valve orders arriving days late since the carrier change in the summer.",
        category=delivery,
        product_line=valves,
    )
    theme.items.add(*spike_items)
    signals = [
        s
        for s in Signal.objects.all()
        if s.scope.get("product_line") == [valves.pk] and s.scope.get("category") == [delivery.pk]
    ]
    theme.signals.add(*signals)
    decided = spike_end + dt.timedelta(days=6)
    services.dispose(
        theme,
        actor=quality,
        decision="fix",
        rationale="A contract requirement (delivery date) is missed repeatedly: a nonconformity.",
        decided_on=decided,
        decided_in=f"Monthly customer satisfaction review, {decided:%B %Y}",
    )
    count = spike_items.count()
    action = services.open_action(
        actor=quality,
        kind=ActionKind.CORRECTIVE,
        title="Restore on-time delivery of Industrial Valves",
        problem_statement=(
            f"{count} delivery complaints on Industrial Valves in "
            f"{spike_start:%B}–{spike_end:%B %Y} "
            "against about 3 a quarter before; the control chart flags the rise. Customers "
            "report orders arriving 5 to 15 days late."
        ),
        owner=owner,
        approver=quality,
        due_date=decided + dt.timedelta(days=30),
        items=spike_items,
        themes=[theme],
        signals=signals,
        priority="high",
        origin=f"Theme {theme.number}, disposition: fix",
    )
    action.containment = (
        "Open valve orders shipped by the previous carrier with express pick-up; "
        "the dispatch team checks carrier tracking daily."
    )
    action.save(update_fields=["containment"])
    apply_transition(action, "contain", actor=quality)
    services.record_root_cause(
        action,
        actor=owner,
        method=RootCauseMethod.FIVE_WHYS,
        whys=[
            "Why were valve orders late? They sat at the carrier's hub for 3 to 5 days.",
            "Why did they sit there? The new carrier consolidates part loads weekly.",
            "Why weekly? The contract signed in June buys their economy service.",
            "Why the economy service? The carrier was chosen on price alone.",
            "Why on price alone? Our carrier selection has no delivery-performance criterion.",
        ],
        root_cause=(
            "Carrier selection without a delivery-performance criterion led to a weekly "
            "consolidation service."
        ),
    )
    apply_transition(action, "root_cause", actor=owner)
    steps = [
        services.add_step(
            action,
            actor=owner,
            description="Change the carrier contract to daily pick-up and 48-hour delivery",
            owner=owner,
            due_date=decided + dt.timedelta(days=7),
        ),
        services.add_step(
            action,
            actor=owner,
            description="Add on-time-in-full performance to the carrier selection procedure",
            owner=quality,
            due_date=decided + dt.timedelta(days=14),
        ),
    ]
    apply_transition(action, "implement", actor=owner)
    for step in steps:
        services.complete_step(step, actor=owner, outcome="Done.")
    check = services.define_check(
        action,
        actor=owner,
        metric=CheckMetric.COMPLAINT_RATE,
        scope={"categories": [delivery.pk], "product_lines": [valves.pk]},
        baseline=(spike_start, spike_end),
        evaluation=(this_quarter_start, today - dt.timedelta(days=7)),
        target_kind=TargetKind.RELATIVE_REDUCTION,
        target_value=40,
    )
    apply_transition(action, "verify", actor=owner)
    services.compute_check(check)
    verdicts = [check.proposed_verdict]
    if check.proposed_verdict == Verdict.EFFECTIVE:
        services.confirm_verdict(check, actor=quality, verdict=Verdict.EFFECTIVE)
        services.close_action(action, actor=quality)

    # An earlier improvement that did not change perception, reopened for a new analysis.
    year_ago = quarter_bounds(today - dt.timedelta(days=365))
    following = quarter_bounds(year_ago[1] + dt.timedelta(days=1))
    improvement = services.open_action(
        actor=quality,
        kind=ActionKind.IMPROVEMENT,
        title="Answer technical queries within one working day",
        problem_statement="Customers tell us they wait for answers to technical questions.",
        owner=owner,
        approver=quality,
        due_date=year_ago[1],
        origin="Quarterly management review",
    )
    services.record_root_cause(
        improvement,
        actor=owner,
        method=RootCauseMethod.FISHBONE,
        fishbone={
            "Manpower": ["One application engineer covers all product lines"],
            "Method": ["No queue for technical queries; they arrive in personal inboxes"],
        },
        root_cause="Queries reach one person's inbox and wait there.",
    )
    apply_transition(improvement, "root_cause", actor=owner)
    step = services.add_step(
        improvement,
        actor=owner,
        description="Route technical queries to a shared queue with a one-day target",
        owner=owner,
        due_date=year_ago[1],
    )
    apply_transition(improvement, "implement", actor=owner)
    services.complete_step(step, actor=owner, outcome="Shared queue live.")
    weak = services.define_check(
        improvement,
        actor=owner,
        metric=CheckMetric.COMPLAINTS,
        scope={"categories": [responsiveness.pk]},
        baseline=year_ago,
        evaluation=following,
        target_kind=TargetKind.RELATIVE_REDUCTION,
        target_value=50,
    )
    apply_transition(improvement, "verify", actor=owner)
    services.compute_check(weak)
    verdicts.append(weak.proposed_verdict)
    services.confirm_verdict(
        weak,
        actor=quality,
        verdict=weak.proposed_verdict
        if weak.proposed_verdict != Verdict.EFFECTIVE
        else Verdict.NOT_EFFECTIVE,
    )
    services.close_action(improvement, actor=quality)
    improvement.reopen_reason = (
        "Complaints about responsiveness did not fall; the queue is not used by sales."
    )
    apply_transition(
        improvement, "reopen", actor=quality, values={"reopen_reason": improvement.reopen_reason}
    )

    proposals = run_rules(today)
    return (
        f"1 theme with its disposition, 2 actions (verdicts: {', '.join(verdicts)}), "
        f"{len(proposals)} proposals"
    )
