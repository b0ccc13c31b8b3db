"""Decision rules: when feedback calls for a corrective action, when for an improvement.

Each active rule is evaluated against the data and leaves proposals in a queue; a
quality role accepts (which opens the action) or rejects them with a reason. A
proposal's fingerprint (rule, what, where, which month) keeps a finding from being
proposed twice; a combination already covered by an open action is not proposed.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from harken.feedback.models import FeedbackItem
from harken.insights.detection import fingerprint
from harken.insights.models import Signal

from .choices import OPEN_ACTION_STATES, ActionKind, RuleCondition
from .models import Action, DecisionRule, Proposal


def _propose(
    rule: DecisionRule, key: str, items: list[FeedbackItem] | None = None, **fields: object
) -> Proposal | None:
    try:
        with transaction.atomic():
            proposal = Proposal.objects.create(
                rule=rule, kind=rule.proposes, fingerprint=key, **fields
            )
            if items:
                proposal.items.add(*items)
    except IntegrityError:
        return None
    return proposal


def _covered(category_id: int | None, product_line_id: int | None) -> bool:
    """Whether an open action already cites complaints of this category and product line."""

    def same(field: str, value: int | None) -> Q:
        return (
            Q(**{f"items__{field}__isnull": True})
            if value is None
            else Q(**{f"items__{field}": value})
        )

    return Action.objects.filter(
        same("category_id", category_id),
        same("product_line_id", product_line_id),
        status__in=OPEN_ACTION_STATES,
    ).exists()


def run_rules(today: dt.date | None = None) -> list[Proposal]:
    """Evaluate every active rule; returns the proposals created now."""
    today = today or timezone.localdate()
    created: list[Proposal] = []
    for rule in DecisionRule.objects.filter(active=True):
        handler = HANDLERS[RuleCondition(rule.condition)]
        created += [p for p in handler(rule, today) if p is not None]
    return created


def _critical(rule: DecisionRule, today: dt.date) -> list[Proposal | None]:
    since = timezone.now() - dt.timedelta(days=rule.window_days)
    items = FeedbackItem.objects.filter(
        impact="critical", received_at__gte=since, actions__isnull=True
    )
    result = []
    for item in items.select_related("customer", "product_line"):
        result.append(
            _propose(
                rule,
                fingerprint(rule=rule.pk, item=item.pk),
                [item],
                title=f"Critical: {item}"[:300],
                reason=(
                    f"{item.complaint_number or item.number} was rated critical"
                    + (f" ({item.customer})" if item.customer else "")
                    + f": {item.title or item.text[:200]}"
                ),
                category=item.category,
                product_line=item.product_line,
            )
        )
    return result


def _recurring(rule: DecisionRule, today: dt.date) -> list[Proposal | None]:
    since = timezone.now() - dt.timedelta(days=rule.window_days)
    groups = (
        FeedbackItem.objects.filter(
            kind="complaint", received_at__gte=since, category__isnull=False
        )
        .values("category_id", "category__name", "product_line_id", "product_line__name")
        .annotate(n=Count("id"))
        .filter(n__gte=rule.threshold)
    )
    result = []
    for group in groups:
        if _covered(group["category_id"], group["product_line_id"]):
            continue
        where = group["product_line__name"] or "no product line"
        items = list(
            FeedbackItem.objects.filter(
                kind="complaint",
                received_at__gte=since,
                category_id=group["category_id"],
                product_line_id=group["product_line_id"],
            )[:200]
        )
        result.append(
            _propose(
                rule,
                fingerprint(
                    rule=rule.pk,
                    category=group["category_id"],
                    line=group["product_line_id"],
                    month=today.strftime("%Y-%m"),
                ),
                items,
                title=f"Recurring {group['category__name'].lower()} complaints on {where}",
                reason=(
                    f"{group['n']} {group['category__name'].lower()} complaints on {where} in the "
                    f"last {rule.window_days} days (the rule asks for action from "
                    f"{rule.threshold})."
                ),
                category_id=group["category_id"],
                product_line_id=group["product_line_id"],
            )
        )
    return result


def _signals(rule: DecisionRule, today: dt.date, kinds: set[str]) -> list[Proposal | None]:
    result = []
    for signal in Signal.objects.filter(status="open", kind__in=kinds):
        result.append(
            _propose(
                rule,
                fingerprint(rule=rule.pk, signal=signal.pk),
                title=signal.title[:300],
                reason=signal.description,
                signal=signal,
            )
        )
    return result


HANDLERS = {
    RuleCondition.CRITICAL_ITEM: _critical,
    RuleCondition.RECURRING: _recurring,
    RuleCondition.CONTROL_CHART: lambda rule, today: _signals(
        rule, today, {"control_chart", "recurrence"}
    ),
    RuleCondition.ADVERSE_CHANGE: lambda rule, today: _signals(rule, today, {"significant_change"}),
}

DEFAULT_RULES = (
    (
        "Critical feedback needs a corrective action",
        RuleCondition.CRITICAL_ITEM,
        ActionKind.CORRECTIVE,
        1,
        30,
    ),
    (
        "Five complaints of one kind on one product line within 30 days",
        RuleCondition.RECURRING,
        ActionKind.CORRECTIVE,
        5,
        30,
    ),
    (
        "Control-chart signals need a corrective action",
        RuleCondition.CONTROL_CHART,
        ActionKind.CORRECTIVE,
        1,
        90,
    ),
    (
        "A significant adverse change in perception calls for an improvement",
        RuleCondition.ADVERSE_CHANGE,
        ActionKind.IMPROVEMENT,
        1,
        90,
    ),
)


def seed_rules(**kwargs: object) -> None:
    """The starting decision rules, created once after migrations (the quality manager
    edits them from then on)."""
    from harken.core.audit import Actor, audit_context

    if DecisionRule.objects.exists():
        return
    with audit_context(actor=Actor.system("seed")):
        for name, condition, proposes, threshold, window in DEFAULT_RULES:
            DecisionRule.objects.create(
                name=name,
                condition=condition,
                proposes=proposes,
                threshold=threshold,
                window_days=window,
            )
