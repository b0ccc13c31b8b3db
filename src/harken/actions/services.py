"""Action workflows: themes and dispositions, proposals, actions, steps, checks, verdicts.

Pages, the API, the commands and `harken tick` call these functions; each checks who
may act, validates, saves in one transaction and leaves its audit events.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from harken.core import audit
from harken.core.models import AuditEvent
from harken.feedback.models import FeedbackItem
from harken.insights.choices import SignalStatus
from harken.insights.models import Signal

from . import effectiveness
from .choices import (
    FISHBONE_CATEGORIES,
    OPEN_ACTION_STATES,
    ActionKind,
    ActionStatus,
    CheckMetric,
    DispositionDecision,
    ProposalStatus,
    RootCauseMethod,
    TargetKind,
    Verdict,
)
from .models import Action, ActionStep, Disposition, EffectivenessCheck, Proposal, Theme

logger = logging.getLogger(__name__)


def require(actor: Any, perm: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied("Your role does not allow this.")


# --------------------------------------------------------------------------------------
# Themes and dispositions
# --------------------------------------------------------------------------------------


def theme_stats(theme: Theme) -> dict[str, Any]:
    """First seen, last seen and count of a theme's items (one aggregate query)."""
    return theme.items.aggregate(
        first_seen=Min("received_at"), last_seen=Max("received_at"), count=Count("id")
    )


def link_items(theme: Theme, items: Iterable[FeedbackItem], *, actor: Any) -> int:
    """Add feedback items to a theme (recorded as a change of the theme's items)."""
    require(actor, "actions.change_theme")
    items = list(items)
    theme.items.add(*items)
    return len(items)


def dispose(
    theme: Theme,
    *,
    actor: Any,
    decision: str,
    rationale: str,
    decided_on: dt.date | None = None,
    decided_in: str = "",
    review_by: dt.date | None = None,
) -> Disposition:
    """Record a new decision about a theme; earlier ones stay as they were.

    Only a quality manager (the `dispose` verb) approves a disposition.
    """
    require(actor, "actions.dispose_theme")
    errors = {}
    if decision not in DispositionDecision.values:
        errors["decision"] = "Choose accept the risk, fix, investigate or monitor."
    if not rationale.strip():
        errors["rationale"] = "Give the rationale."
    if review_by and decided_on and review_by < decided_on:
        errors["review_by"] = "The review date is before the decision."
    if errors:
        raise ValidationError(errors)
    return Disposition.objects.create(
        theme=theme,
        decision=decision,
        rationale=rationale.strip(),
        approver=actor,
        decided_on=decided_on or timezone.localdate(),
        decided_in=decided_in,
        review_by=review_by,
    )


def theme_candidates(days: int = 90, minimum: int = 3) -> list[dict[str, Any]]:
    """Category × product line combinations with at least `minimum` complaints in the
    last `days` days that no active theme covers yet: candidates for a new theme."""
    since = timezone.now() - dt.timedelta(days=days)
    rows = (
        FeedbackItem.objects.filter(
            kind="complaint", received_at__gte=since, category__isnull=False
        )
        .values("category_id", "category__name", "product_line_id", "product_line__name")
        .annotate(count=Count("id"), first=Min("received_at"), last=Max("received_at"))
        .filter(count__gte=minimum)
        .order_by("-count")
    )
    covered = set(Theme.objects.filter(active=True).values_list("category_id", "product_line_id"))
    return [r for r in rows if (r["category_id"], r["product_line_id"]) not in covered]


# --------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------


def open_action(
    *,
    actor: Any,
    kind: str,
    title: str,
    problem_statement: str,
    owner: Any,
    due_date: dt.date,
    items: Iterable[FeedbackItem] = (),
    themes: Iterable[Theme] = (),
    signals: Iterable[Signal] = (),
    priority: str = "medium",
    origin: str = "",
    approver: Any = None,
) -> Action:
    """Open an action grounded in its evidence; signals it answers are marked actioned."""
    require(actor, "actions.add_action")
    errors = {}
    if kind not in ActionKind.values:
        errors["kind"] = "Choose corrective or improvement."
    if not title.strip():
        errors["title"] = "Give the action a title."
    if not problem_statement.strip():
        errors["problem_statement"] = "State the problem, citing the feedback."
    if owner is None:
        errors["owner"] = "Name the owner."
    if due_date is None:
        errors["due_date"] = "Give a due date."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        action = Action.objects.create(
            kind=kind,
            title=title.strip(),
            problem_statement=problem_statement.strip(),
            owner=owner,
            approver=approver,
            due_date=due_date,
            priority=priority,
            origin=origin,
        )
        action.items.add(*items)
        action.themes.add(*themes)
        signals = list(signals)
        action.signals.add(*signals)
        for signal in signals:
            if signal.status != SignalStatus.ACTIONED:
                signal.status = SignalStatus.ACTIONED
                signal.save(update_fields=["status"], audit_action="signal.actioned")
    return action


def record_containment(action: Action, *, actor: Any, text: str) -> Action:
    """Record what was done at once to protect customers while the cause is found."""
    require(actor, "actions.change_action")
    if not text.strip():
        raise ValidationError({"containment": "Describe the containment."})
    action.containment = text.strip()
    action.save(update_fields=["containment"], audit_action="action.containment_recorded")
    return action


def record_root_cause(
    action: Action,
    *,
    actor: Any,
    method: str,
    root_cause: str,
    whys: list[str] | None = None,
    fishbone: dict[str, list[str]] | None = None,
    containment: str | None = None,
    file: Any = None,
) -> Action:
    """Record the analysis (5 whys in order, fishbone by category, or free text)."""
    require(actor, "actions.change_action")
    errors = {}
    if method not in RootCauseMethod.values:
        errors["root_cause_method"] = "Choose 5 whys, fishbone or free text."
    whys = [w.strip() for w in (whys or []) if w and w.strip()]
    fishbone = {k: [c.strip() for c in v if c and c.strip()] for k, v in (fishbone or {}).items()}
    fishbone = {k: v for k, v in fishbone.items() if v}
    unknown = set(fishbone) - set(FISHBONE_CATEGORIES)
    if unknown:
        errors["fishbone"] = f"Unknown branches: {', '.join(sorted(unknown))}."
    if method == RootCauseMethod.FIVE_WHYS and len(whys) < 2:
        errors["whys"] = "Ask why at least twice."
    if method == RootCauseMethod.FISHBONE and not fishbone:
        errors["fishbone"] = "Name at least one cause."
    if not root_cause.strip():
        errors["root_cause"] = "State the root cause the analysis arrived at."
    if errors:
        raise ValidationError(errors)
    action.root_cause_method = method
    action.whys = whys
    action.fishbone = fishbone
    action.root_cause = root_cause.strip()
    fields = ["root_cause_method", "whys", "fishbone", "root_cause"]
    if containment is not None:
        action.containment = containment.strip()
        fields.append("containment")
    if file is not None:
        from harken.core.files import FileRefused, store_file

        try:
            action.root_cause_file = store_file(
                file,
                name=getattr(file, "name", "root-cause")[:255],
                content_type=getattr(file, "content_type", "") or "",
                purpose="root cause analysis",
                max_size=50 * 1024 * 1024,
                uploaded=True,
            )
        except FileRefused as exc:
            raise ValidationError({"root_cause_file": str(exc)}) from exc
        fields.append("root_cause_file")
    action.save(update_fields=fields, audit_action="action.root_cause_recorded")
    return action


def add_step(
    action: Action, *, actor: Any, description: str, owner: Any, due_date: dt.date
) -> ActionStep:
    require(actor, "actions.change_action")
    if action.status not in OPEN_ACTION_STATES:
        raise ValidationError({"action": "The action is closed; reopen it to plan more."})
    errors = {}
    if not description.strip():
        errors["description"] = "Describe the step."
    if owner is None:
        errors["owner"] = "Name who does it."
    if due_date is None:
        errors["due_date"] = "Give a due date."
    if errors:
        raise ValidationError(errors)
    return ActionStep.objects.create(
        action=action, description=description.strip(), owner=owner, due_date=due_date
    )


def complete_step(step: ActionStep, *, actor: Any, outcome: str = "") -> ActionStep:
    require(actor, "actions.change_action")
    if step.done_at is not None:
        raise ValidationError({"done_at": "The step is done already."})
    step.done_at = timezone.now()
    step.outcome = outcome.strip()
    step.save(update_fields=["done_at", "outcome"], audit_action="actionstep.done")
    return step


# --------------------------------------------------------------------------------------
# Effectiveness
# --------------------------------------------------------------------------------------


def define_check(
    action: Action,
    *,
    actor: Any,
    metric: str,
    scope: dict[str, Any],
    baseline: tuple[dt.date, dt.date],
    evaluation: tuple[dt.date, dt.date],
    target_kind: str,
    target_value: float | None,
) -> EffectivenessCheck:
    """Say how success will be seen. Can be changed until a verdict is confirmed."""
    require(actor, "actions.change_action")
    errors = {}
    if metric not in CheckMetric.values:
        errors["metric"] = "Choose a metric."
    if target_kind not in TargetKind.values:
        errors["target_kind"] = "Choose a target."
    if target_kind != TargetKind.NO_RECURRENCE and target_value is None:
        errors["target_value"] = "Give the target value."
    if target_kind in {TargetKind.RELATIVE_REDUCTION, TargetKind.RELATIVE_INCREASE} and (
        target_value is not None and not 0 < target_value <= 100
    ):
        errors["target_value"] = "A relative target is a percentage between 0 and 100."
    if target_kind == TargetKind.NO_RECURRENCE and metric not in {
        CheckMetric.COMPLAINTS,
        CheckMetric.COMPLAINT_RATE,
    }:
        errors["target_kind"] = "No recurrence is judged on complaints."
    if baseline[0] > baseline[1]:
        errors["baseline_to"] = "The baseline window ends before it starts."
    if evaluation[0] > evaluation[1]:
        errors["evaluation_to"] = "The evaluation window ends before it starts."
    if baseline[1] >= evaluation[0]:
        errors["evaluation_from"] = "The evaluation window must start after the baseline."
    allowed = {"categories", "product_lines", "segments", "sources", "regions"}
    if not isinstance(scope, dict) or set(scope) - allowed:
        errors["scope"] = f"Use any of: {', '.join(sorted(allowed))}."
    existing = getattr(action, "effectiveness_check", None)
    if existing is not None and existing.verdict:
        errors["verdict"] = "The verdict is confirmed; the check can no longer change."
    if errors:
        raise ValidationError(errors)
    values = {
        "metric": metric,
        "scope": scope,
        "baseline_from": baseline[0],
        "baseline_to": baseline[1],
        "evaluation_from": evaluation[0],
        "evaluation_to": evaluation[1],
        "target_kind": target_kind,
        "target_value": target_value,
    }
    if existing is None:
        return EffectivenessCheck.objects.create(action=action, **values)
    for key, value in values.items():
        setattr(existing, key, value)
    existing.computed_at = None
    existing.proposed_verdict = ""
    existing.result = {}
    existing.save()
    return existing


def compute_check(check: EffectivenessCheck, *, today: dt.date | None = None) -> EffectivenessCheck:
    """Compute the figures and propose a verdict. Before the evaluation window ends the
    result is provisional (the explanation says so)."""
    today = today or timezone.localdate()
    if today < check.evaluation_from:
        raise ValidationError(
            {
                "evaluation_from": f"The evaluation window opens on {check.evaluation_from}; compute it then."
            }
        )
    outcome = effectiveness.evaluate(
        metric=check.metric,
        scope=check.scope,
        baseline=(check.baseline_from, check.baseline_to),
        evaluation=(check.evaluation_from, min(check.evaluation_to, today)),
        target_kind=check.target_kind,
        target_value=check.target_value,
    )
    check.result = outcome.as_dict()
    check.proposed_verdict = outcome.verdict
    check.explanation = outcome.explanation
    if today <= check.evaluation_to:
        check.explanation += (
            f" Provisional: the evaluation window runs until {check.evaluation_to}."
        )
    check.computed_at = timezone.now()
    check.save(
        update_fields=["result", "proposed_verdict", "explanation", "computed_at"],
        audit_action="effectivenesscheck.computed",
    )
    return check


def confirm_verdict(
    check: EffectivenessCheck, *, actor: Any, verdict: str, note: str = ""
) -> EffectivenessCheck:
    """A quality role confirms (or overrides) the proposed verdict."""
    require(actor, "actions.close_action")
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": "Choose effective, not effective or inconclusive."})
    if check.computed_at is None:
        raise ValidationError({"verdict": "Compute the check first."})
    if timezone.localdate() <= check.evaluation_to:
        raise ValidationError(
            {"verdict": f"The evaluation window runs until {check.evaluation_to}."}
        )
    check.verdict = verdict
    check.verdict_by = actor
    check.verdict_at = timezone.now()
    check.save(
        update_fields=["verdict", "verdict_by", "verdict_at"],
        audit_action="effectivenesscheck.confirmed",
    )
    if verdict != check.proposed_verdict or note:
        audit.record(
            "effectivenesscheck.override"
            if verdict != check.proposed_verdict
            else "effectivenesscheck.note",
            check,
            changes={"proposed": check.proposed_verdict, "confirmed": verdict, "note": note},
        )
    return check


def close_action(action: Action, *, actor: Any) -> Action:
    """Close by the confirmed verdict (effective or not)."""
    from harken.core.workflow import apply_transition

    check = getattr(action, "effectiveness_check", None)
    name = (
        "close_effective" if check and check.verdict == Verdict.EFFECTIVE else "close_not_effective"
    )
    action.closed_at = timezone.now()
    apply_transition(action, name, actor=actor, values={"closed_at": action.closed_at})
    return action


# --------------------------------------------------------------------------------------
# Proposals
# --------------------------------------------------------------------------------------


def accept_proposal(
    proposal: Proposal, *, actor: Any, owner: Any, due_date: dt.date, title: str = ""
) -> Action:
    """Turn a proposal into an action that cites its evidence."""
    require(actor, "actions.classify_proposal")
    if proposal.status != ProposalStatus.PENDING:
        raise ValidationError(
            {"status": f"The proposal is {proposal.get_status_display().lower()}."}
        )
    with transaction.atomic():
        action = open_action(
            actor=actor,
            kind=proposal.kind,
            title=title or proposal.title,
            problem_statement=proposal.reason,
            owner=owner,
            due_date=due_date,
            items=proposal.items.all(),
            signals=[proposal.signal] if proposal.signal else [],
            origin=f"Decision rule: {proposal.rule.name}",
        )
        proposal.status = ProposalStatus.ACCEPTED
        proposal.decided_by = actor
        proposal.decided_at = timezone.now()
        proposal.action = action
        proposal.save(
            update_fields=["status", "decided_by", "decided_at", "action"],
            audit_action="proposal.accepted",
        )
    return action


def reject_proposal(proposal: Proposal, *, actor: Any, reason: str) -> Proposal:
    require(actor, "actions.classify_proposal")
    if proposal.status != ProposalStatus.PENDING:
        raise ValidationError(
            {"status": f"The proposal is {proposal.get_status_display().lower()}."}
        )
    if not reason.strip():
        raise ValidationError({"rejection_reason": "Say why it is rejected."})
    proposal.status = ProposalStatus.REJECTED
    proposal.decided_by = actor
    proposal.decided_at = timezone.now()
    proposal.rejection_reason = reason.strip()
    proposal.save(
        update_fields=["status", "decided_by", "decided_at", "rejection_reason"],
        audit_action="proposal.rejected",
    )
    return proposal


# --------------------------------------------------------------------------------------
# Periodic duties
# --------------------------------------------------------------------------------------


def notify_overdue(today: dt.date) -> tuple[int, int]:
    """E-mail owners of overdue actions and steps, once per record and due date.

    Returns (sent, failed). A reminder the mail server refuses is not marked as sent, so
    the next tick tries again.
    """
    sent = failed = 0
    overdue_actions = Action.objects.filter(status__in=OPEN_ACTION_STATES, due_date__lt=today)
    overdue_steps = ActionStep.objects.filter(
        done_at__isnull=True, due_date__lt=today, action__status__in=OPEN_ACTION_STATES
    ).select_related("action", "owner")
    records: list[tuple[Any, Any, str]] = [
        *((a, a.owner, f"{a.number} {a.title}") for a in overdue_actions.select_related("owner")),
        *((s, s.owner, f"step of {s.action.number}: {s.description}") for s in overdue_steps),
    ]
    for record, owner, label in records:
        already = AuditEvent.objects.filter(
            action=f"{record.audit_name()}.overdue_notified",
            object_type=record._meta.label_lower,
            object_id=str(record.pk),
            changes__due_date=record.due_date.isoformat(),
        ).exists()
        if already:
            continue
        if owner.email:
            try:
                send_mail(
                    subject=f"Overdue: {label}"[:200],
                    message=(
                        f"{label} was due on {record.due_date:%d %B %Y} and is not finished.\n\n"
                        f"{settings.COMPANY_NAME} — Harken"
                    ),
                    from_email=None,
                    recipient_list=[owner.email],
                    fail_silently=False,
                )
            except OSError as exc:  # smtplib errors are OSErrors too
                logger.warning("Overdue reminder for %s not sent: %s", label, exc)
                failed += 1
                continue
        audit.record(
            f"{record.audit_name()}.overdue_notified",
            record,
            changes={"due_date": record.due_date.isoformat(), "to": owner.email or "(no e-mail)"},
        )
        sent += 1
    return sent, failed


def compute_due_checks(today: dt.date) -> int:
    """Compute each check whose evaluation window has ended and that has no verdict yet
    and no final computation (one made after the window ended)."""
    count = 0
    candidates = EffectivenessCheck.objects.filter(verdict="", evaluation_to__lt=today)
    for check in candidates.select_related("action"):
        final = (
            check.computed_at and timezone.localtime(check.computed_at).date() > check.evaluation_to
        )
        if not final:
            compute_check(check, today=today)
            count += 1
    return count


def detect_recurrence(today: dt.date) -> int:
    """New complaints matching an effective action's scope after it closed: a signal."""
    from harken.insights.detection import fingerprint
    from harken.insights.models import Signal as InsightSignal

    created = 0
    for action in Action.objects.filter(
        status=ActionStatus.CLOSED_EFFECTIVE, closed_at__isnull=False
    ):
        check = getattr(action, "effectiveness_check", None)
        if check is None:
            continue
        scope = effectiveness.scope_for(
            check.scope, timezone.localtime(action.closed_at).date(), today
        )
        complaints = FeedbackItem.objects.filter(scope.item_filter(), kind="complaint")
        found = complaints.aggregate(n=Count("id"), first=Min("received_at"))
        if not found["n"]:
            continue
        first_day = timezone.localtime(found["first"]).date()
        key = fingerprint(kind="recurrence", action=action.pk, month=first_day.strftime("%Y-%m"))
        if InsightSignal.objects.filter(fingerprint=key).exists():
            continue
        InsightSignal.objects.create(
            kind="recurrence",
            metric="complaints",
            title=f"Recurrence after {action.number}: {found['n']} new matching complaints",
            description=(
                f"{action.number} ({action.title}) was closed as effective on "
                f"{timezone.localtime(action.closed_at):%d %B %Y}; {found['n']} complaints "
                f"matching its check's scope have arrived since."
            ),
            scope=check.scope,
            period_start=first_day,
            period_end=today,
            rule="recurrence",
            evidence={
                "action": action.number,
                "filter": {
                    "category": check.scope.get("categories", []),
                    "product_line": check.scope.get("product_lines", []),
                    "kind": "complaint",
                    "received_from": timezone.localtime(action.closed_at).date().isoformat(),
                },
            },
            fingerprint=key,
        )
        created += 1
    return created
