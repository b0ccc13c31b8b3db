"""Themes and their dispositions, decision rules and proposals, actions, their steps and
their effectiveness checks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from harken.core.models import EvidenceFile, NumberedModel, TrackedModel
from harken.core.workflow import Transition
from harken.customers.choices import Segment
from harken.customers.models import ProductLine
from harken.feedback.models import Category, FeedbackItem
from harken.insights.models import Signal

from .choices import (
    ActionKind,
    ActionStatus,
    CheckMetric,
    DispositionDecision,
    Priority,
    ProposalStatus,
    RootCauseMethod,
    RuleCondition,
    TargetKind,
    Verdict,
)


class Theme(NumberedModel):
    """A recurring issue: feedback items (and signals) that tell one story."""

    number_prefix = "THM"

    title = models.CharField(
        verbose_name=_("title"),
        max_length=200,
    )
    description = models.TextField(
        verbose_name=_("description"),
        blank=True,
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="themes",
    )
    product_line = models.ForeignKey(
        ProductLine,
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="themes",
    )
    segment = models.CharField(
        verbose_name=_("customer segment"),
        max_length=20,
        choices=Segment.choices,
        blank=True,
    )
    items = models.ManyToManyField(
        FeedbackItem,
        verbose_name=_("feedback items"),
        blank=True,
        related_name="themes",
    )
    signals = models.ManyToManyField(
        Signal,
        verbose_name=_("signals"),
        blank=True,
        related_name="themes",
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("theme")
        verbose_name_plural = _("themes")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def current_disposition(self) -> Disposition | None:
        return self.dispositions.order_by("-decided_on", "-pk").first()


class Disposition(TrackedModel):
    """A decision about a theme. Never changed: a new decision is a new row, so the
    history of what was decided, by whom and why stays on the record."""

    theme = models.ForeignKey(
        Theme,
        verbose_name=_("theme"),
        on_delete=models.PROTECT,
        related_name="dispositions",
    )
    decision = models.CharField(
        verbose_name=_("decision"),
        max_length=16,
        choices=DispositionDecision.choices,
    )
    rationale = models.TextField(
        verbose_name=_("rationale"),
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        related_name="approved_dispositions",
    )
    decided_on = models.DateField(
        verbose_name=_("decided on"),
    )
    decided_in = models.CharField(
        verbose_name=_("decided in"),
        max_length=200,
        blank=True,
        help_text=_("The meeting or review where it was decided, if any."),
    )
    review_by = models.DateField(
        verbose_name=_("review the decision by"),
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["-decided_on", "-pk"]
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")

    def __str__(self) -> str:
        return f"{self.theme.number}: {self.get_decision_display()} ({self.decided_on})"


class DecisionRule(TrackedModel):
    """When feedback calls for a corrective action, and when for an improvement."""

    name = models.CharField(
        verbose_name=_("name"),
        max_length=200,
        unique=True,
    )
    condition = models.CharField(
        verbose_name=_("condition"),
        max_length=32,
        choices=RuleCondition.choices,
    )
    proposes = models.CharField(
        verbose_name=_("proposes"),
        max_length=16,
        choices=ActionKind.choices,
    )
    threshold = models.PositiveIntegerField(
        verbose_name=_("at least N complaints"),
        default=5,
    )
    window_days = models.PositiveIntegerField(
        verbose_name=_("within M days"),
        default=30,
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("decision rule")
        verbose_name_plural = _("decision rules")

    def __str__(self) -> str:
        return self.name


class Proposal(TrackedModel):
    """An action a decision rule proposes; a quality role accepts or rejects it."""

    rule = models.ForeignKey(
        DecisionRule,
        verbose_name=_("rule"),
        on_delete=models.PROTECT,
        related_name="proposals",
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=16,
        choices=ActionKind.choices,
    )
    title = models.CharField(
        verbose_name=_("title"),
        max_length=300,
    )
    reason = models.TextField(
        verbose_name=_("why"),
    )
    items = models.ManyToManyField(
        FeedbackItem,
        verbose_name=_("feedback items"),
        blank=True,
        related_name="proposals",
    )
    signal = models.ForeignKey(
        Signal,
        verbose_name=_("signal"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    product_line = models.ForeignKey(
        ProductLine,
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    fingerprint = models.CharField(
        verbose_name=_("fingerprint"),
        max_length=64,
        unique=True,
        editable=False,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=16,
        choices=ProposalStatus.choices,
        default=ProposalStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(
        verbose_name=_("decided at"),
        null=True,
        blank=True,
    )
    rejection_reason = models.TextField(
        verbose_name=_("reason for rejection"),
        blank=True,
    )
    action = models.ForeignKey(
        "Action",
        verbose_name=_("action"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")

    def __str__(self) -> str:
        return self.title


class Action(NumberedModel):
    """A corrective or improvement action, grounded in the feedback that called for it."""

    number_prefix = "ACT"

    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=16,
        choices=ActionKind.choices,
    )
    title = models.CharField(
        verbose_name=_("title"),
        max_length=200,
    )
    problem_statement = models.TextField(
        verbose_name=_("problem statement"),
    )
    items = models.ManyToManyField(
        FeedbackItem,
        verbose_name=_("feedback items"),
        blank=True,
        related_name="actions",
    )
    themes = models.ManyToManyField(
        Theme,
        verbose_name=_("themes"),
        blank=True,
        related_name="actions",
    )
    signals = models.ManyToManyField(
        Signal,
        verbose_name=_("signals"),
        blank=True,
        related_name="actions",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_actions",
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approved_actions",
    )
    due_date = models.DateField(
        verbose_name=_("due date"),
    )
    priority = models.CharField(
        verbose_name=_("priority"),
        max_length=8,
        choices=Priority.choices,
        default=Priority.MEDIUM,
    )
    origin = models.CharField(
        verbose_name=_("origin"),
        max_length=200,
        blank=True,
        help_text=_("Where it came from: a decision rule, a review meeting, an audit…"),
    )
    containment = models.TextField(
        verbose_name=_("containment / interim steps"),
        blank=True,
    )
    root_cause_method = models.CharField(
        verbose_name=_("root cause method"),
        max_length=16,
        choices=RootCauseMethod.choices,
        blank=True,
    )
    whys = models.JSONField(
        verbose_name=_("5 whys"),
        default=list,
        blank=True,
        help_text=_("The chain of whys, in order."),
    )
    fishbone = models.JSONField(
        verbose_name=_("fishbone"),
        default=dict,
        blank=True,
        help_text=_("Causes by category (method, machine, material…)."),
    )
    root_cause = models.TextField(
        verbose_name=_("root cause"),
        blank=True,
    )
    root_cause_file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("root cause analysis file"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=24,
        choices=ActionStatus.choices,
        default=ActionStatus.OPEN,
    )
    closed_at = models.DateTimeField(
        verbose_name=_("closed at"),
        null=True,
        blank=True,
    )
    reopen_reason = models.TextField(
        verbose_name=_("reason for reopening"),
        blank=True,
    )

    transition_fields = ("reopen_reason",)
    transitions = (
        Transition(
            name="contain",
            label="Mark contained",
            sources=frozenset({ActionStatus.OPEN}),
            target=ActionStatus.CONTAINED,
            guard=lambda a: a.containment_blockers(),
        ),
        Transition(
            name="root_cause",
            label="Root cause found",
            sources=frozenset({ActionStatus.OPEN, ActionStatus.CONTAINED, ActionStatus.REOPENED}),
            target=ActionStatus.ROOT_CAUSE_FOUND,
            guard=lambda a: a.root_cause_blockers(),
        ),
        Transition(
            name="implement",
            label="Start implementing",
            sources=frozenset({ActionStatus.ROOT_CAUSE_FOUND}),
            target=ActionStatus.IMPLEMENTING,
            guard=lambda a: a.implement_blockers(),
        ),
        Transition(
            name="verify",
            label="Verify effectiveness",
            sources=frozenset({ActionStatus.IMPLEMENTING}),
            target=ActionStatus.VERIFYING,
            guard=lambda a: a.verify_blockers(),
        ),
        Transition(
            name="close_effective",
            label="Close as effective",
            sources=frozenset({ActionStatus.VERIFYING}),
            target=ActionStatus.CLOSED_EFFECTIVE,
            verb="close",
            guard=lambda a: a.close_blockers(Verdict.EFFECTIVE),
            style="success",
        ),
        Transition(
            name="close_not_effective",
            label="Close as not effective",
            sources=frozenset({ActionStatus.VERIFYING}),
            target=ActionStatus.CLOSED_NOT_EFFECTIVE,
            verb="close",
            guard=lambda a: a.close_blockers(Verdict.NOT_EFFECTIVE, Verdict.INCONCLUSIVE),
            style="outline-danger",
        ),
        Transition(
            name="reopen",
            label="Reopen",
            sources=frozenset({ActionStatus.CLOSED_EFFECTIVE, ActionStatus.CLOSED_NOT_EFFECTIVE}),
            target=ActionStatus.REOPENED,
            verb="close",
            guard=lambda a: [] if a.reopen_reason.strip() else ["Say why it is reopened."],
            fields=("reopen_reason",),
            style="outline-warning",
            after=lambda a, actor: a.start_new_round(),
        ),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        indexes = [models.Index(fields=["status", "due_date"], name="action_status_due_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def start_new_round(self) -> None:
        """Reopening starts a new effectiveness round: the confirmed verdict is set aside
        (it stays in the audit trail) so the check can be redefined and judged again."""
        check = getattr(self, "effectiveness_check", None)
        if check is not None and check.verdict:
            check.verdict = ""
            check.verdict_by = None
            check.verdict_at = None
            check.proposed_verdict = ""
            check.computed_at = None
            check.save(
                update_fields=[
                    "verdict",
                    "verdict_by",
                    "verdict_at",
                    "proposed_verdict",
                    "computed_at",
                ],
                audit_action="effectivenesscheck.reset",
            )
        self.closed_at = None
        self.save(update_fields=["closed_at"])

    def containment_blockers(self) -> list[str]:
        return [] if self.containment.strip() else ["Describe the containment."]

    def root_cause_blockers(self) -> list[str]:
        whys = [w for w in self.whys if str(w).strip()] if isinstance(self.whys, list) else []
        causes = (
            sum(len(v) for v in self.fishbone.values()) if isinstance(self.fishbone, dict) else 0
        )
        if len(whys) >= 2 or causes or self.root_cause.strip():
            if not self.root_cause.strip():
                return ["State the root cause the analysis arrived at."]
            return []
        return ["Record the root cause analysis (at least two whys, a fishbone or a text)."]

    def implement_blockers(self) -> list[str]:
        return [] if self.steps.exists() else ["Plan at least one step."]

    def verify_blockers(self) -> list[str]:
        reasons = []
        if not hasattr(self, "effectiveness_check") or self.effectiveness_check is None:
            reasons.append("Define how effectiveness will be checked.")
        if self.steps.filter(done_at__isnull=True).exists():
            reasons.append("Finish every step first.")
        return reasons

    def close_blockers(self, *verdicts: str) -> list[str]:
        check = getattr(self, "effectiveness_check", None)
        if check is None or not check.verdict:
            return ["A quality role must confirm the effectiveness verdict first."]
        if check.verdict not in verdicts:
            return [f"The confirmed verdict is {check.get_verdict_display().lower()}."]
        return []


class ActionStep(TrackedModel):
    """One planned step of an action, with its own owner and due date."""

    action = models.ForeignKey(
        Action,
        verbose_name=_("action"),
        on_delete=models.CASCADE,
        related_name="steps",
    )
    description = models.CharField(
        verbose_name=_("description"),
        max_length=500,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="action_steps",
    )
    due_date = models.DateField(
        verbose_name=_("due date"),
    )
    done_at = models.DateTimeField(
        verbose_name=_("done at"),
        null=True,
        blank=True,
    )
    outcome = models.TextField(
        verbose_name=_("outcome"),
        blank=True,
    )

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("action step")
        verbose_name_plural = _("action steps")

    def __str__(self) -> str:
        return self.description


class EffectivenessCheck(TrackedModel):
    """How success will be seen in the perception data, and what the data then said."""

    action = models.OneToOneField(
        Action,
        verbose_name=_("action"),
        on_delete=models.CASCADE,
        related_name="effectiveness_check",
    )
    metric = models.CharField(
        verbose_name=_("metric"),
        max_length=24,
        choices=CheckMetric.choices,
    )
    scope = models.JSONField(
        verbose_name=_("scope"),
        default=dict,
        blank=True,
        help_text=_("categories, product_lines, segments, sources (lists)."),
    )
    baseline_from = models.DateField(
        verbose_name=_("baseline from"),
    )
    baseline_to = models.DateField(
        verbose_name=_("baseline to"),
    )
    evaluation_from = models.DateField(
        verbose_name=_("evaluation from"),
    )
    evaluation_to = models.DateField(
        verbose_name=_("evaluation to"),
    )
    target_kind = models.CharField(
        verbose_name=_("target"),
        max_length=24,
        choices=TargetKind.choices,
    )
    target_value = models.FloatField(
        verbose_name=_("target value"),
        null=True,
        blank=True,
    )
    computed_at = models.DateTimeField(
        verbose_name=_("computed at"),
        null=True,
        blank=True,
    )
    result = models.JSONField(
        verbose_name=_("figures"),
        default=dict,
        blank=True,
    )
    proposed_verdict = models.CharField(
        verbose_name=_("proposed verdict"),
        max_length=16,
        choices=Verdict.choices,
        blank=True,
    )
    explanation = models.TextField(
        verbose_name=_("explanation"),
        blank=True,
    )
    verdict = models.CharField(
        verbose_name=_("confirmed verdict"),
        max_length=16,
        choices=Verdict.choices,
        blank=True,
    )
    verdict_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    verdict_at = models.DateTimeField(
        verbose_name=_("confirmed at"),
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["-evaluation_to"]
        verbose_name = _("effectiveness check")
        verbose_name_plural = _("effectiveness checks")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(baseline_from__lte=models.F("baseline_to")),
                name="check_baseline_in_order",
                violation_error_message=_("The baseline window ends before it starts."),
            ),
            models.CheckConstraint(
                condition=models.Q(evaluation_from__lte=models.F("evaluation_to")),
                name="check_evaluation_in_order",
                violation_error_message=_("The evaluation window ends before it starts."),
            ),
            models.CheckConstraint(
                condition=models.Q(baseline_to__lt=models.F("evaluation_from")),
                name="check_windows_do_not_overlap",
                violation_error_message=_("The evaluation window must start after the baseline."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action.number}: {self.get_metric_display()}"
