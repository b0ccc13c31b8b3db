"""The trace of any record: one thread from intake to effectiveness, gaps included.

Starting from a feedback item, a theme, a signal, an action, a review pack or a
review meeting, `trace_for` gathers the records that belong to the same story and
places each at its stage — intake → analysis → decision → action → effectiveness →
customer informed. A stage with nothing in it is a gap, shown as such ("no
effectiveness check defined"), never left out. Each node links to its record and its
audit events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from harken.actions.models import Action, Disposition, EffectivenessCheck, Theme
from harken.feedback.models import FeedbackItem
from harken.insights.models import Signal
from harken.reviews.models import MeetingDecision, ReviewMeeting, ReviewPack

from .choices import STAGE_ORDER, Stage

MAX_ITEMS = 25


@dataclass
class Node:
    """One record (or one gap) at one stage of the thread."""

    stage: str
    title: str
    detail: str = ""
    at: dt.datetime | dt.date | None = None
    url: str = ""
    history_url: str = ""
    gap: bool = False
    key: str = ""
    status: str = ""

    @property
    def sort_at(self) -> dt.datetime:
        if self.at is None:
            return dt.datetime.max.replace(tzinfo=dt.UTC)
        if isinstance(self.at, dt.datetime):
            return self.at
        return timezone.make_aware(dt.datetime.combine(self.at, dt.time.min))


@dataclass
class Trace:
    """The thread of one record: its nodes by stage, the links between them, the gaps."""

    subject: Any
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def add(self, node: Node) -> Node:
        if node.key and node.key in self.seen:
            return node
        if node.key:
            self.seen.add(node.key)
        self.nodes.append(node)
        return node

    def link(self, a: str, b: str) -> None:
        if a and b and (a, b) not in self.edges:
            self.edges.append((a, b))

    def gap(self, stage: str, text: str) -> None:
        self.add(Node(stage=stage, title=text, gap=True, key=f"gap:{stage}:{text}"))

    def by_stage(self) -> list[tuple[str, str, list[Node]]]:
        labels = dict(Stage.choices)
        return [
            (stage, str(labels[stage]), [n for n in self.nodes if n.stage == stage])
            for stage in STAGE_ORDER
        ]

    def timeline(self) -> list[Node]:
        return sorted((n for n in self.nodes if not n.gap), key=lambda n: n.sort_at)

    @property
    def gaps(self) -> list[Node]:
        return [n for n in self.nodes if n.gap]


def key_of(obj: models.Model) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def url_of(obj: models.Model) -> str:
    try:
        return obj.get_absolute_url()  # type: ignore[attr-defined]
    except (AttributeError, NoReverseMatch):
        return ""


def history_of(obj: models.Model) -> str:
    return (
        reverse("core:auditevent_list") + f"?object_type={obj._meta.label_lower}&object_id={obj.pk}"
    )


def node(
    obj: models.Model, stage: str, title: str, detail: str = "", at: Any = None, status: str = ""
) -> Node:
    return Node(
        stage=stage,
        title=title,
        detail=detail,
        at=at,
        url=url_of(obj),
        history_url=history_of(obj),
        key=key_of(obj),
        status=status,
    )


# --------------------------------------------------------------------------------------
# Building the thread
# --------------------------------------------------------------------------------------


def trace_for(obj: models.Model) -> Trace:
    """The thread `obj` belongs to (see the module docstring)."""
    trace = Trace(subject=obj)
    items: list[FeedbackItem] = []
    themes: set[Theme] = set()
    actions: set[Action] = set()
    signals: set[Signal] = set()
    if isinstance(obj, FeedbackItem):
        items = [obj]
    elif isinstance(obj, Theme):
        themes.add(obj)
    elif isinstance(obj, Signal):
        signals.add(obj)
    elif isinstance(obj, Action):
        actions.add(obj)
    elif isinstance(obj, Disposition):
        themes.add(obj.theme)
    elif isinstance(obj, ReviewMeeting | ReviewPack):
        return trace_review(obj, trace)
    else:
        raise ValueError(f"Harken cannot trace a {obj._meta.verbose_name}.")

    for item in items:
        themes.update(item.themes.all())
        actions.update(item.actions.all())
    for signal in signals:
        themes.update(signal.themes.all())
        actions.update(signal.actions.all())
    for theme in list(themes):
        actions.update(theme.actions.all())
        signals.update(theme.signals.all())
    for action in list(actions):
        themes.update(action.themes.all())
        signals.update(action.signals.all())
    if not items:
        for source in (*themes, *actions, *signals):
            related = getattr(source, "items", None)
            if related is not None:
                items.extend(related.select_related("source", "import_batch__file")[:MAX_ITEMS])
    items = list({i.pk: i for i in items}.values())[:MAX_ITEMS]

    intake(trace, items)
    analysis(trace, items, themes, signals)
    decisions(trace, themes)
    action_nodes(trace, actions)
    customer(trace, items)
    return trace


def intake(trace: Trace, items: list[FeedbackItem]) -> None:
    if not items:
        trace.gap(Stage.INTAKE, "No feedback item is linked")
        return
    for item in items:
        detail = f"{item.get_kind_display()} via {item.source}"
        if item.customer_id:
            detail += f" from {item.customer}"
        batch = item.import_batch
        if batch is not None:
            detail += f"; imported in {batch.number} (file SHA-256 {batch.file.sha256[:12]}…)"
        trace.add(
            node(item, Stage.INTAKE, str(item), detail, item.received_at, item.get_status_display())
        )


def analysis(
    trace: Trace, items: list[FeedbackItem], themes: set[Theme], signals: set[Signal]
) -> None:
    for item in items:
        if item.classification_confirmed:
            who = f" by {item.classified_by.get_username()}" if item.classified_by else ""
            trace.add(
                Node(
                    stage=Stage.ANALYSIS,
                    title=f"Classified {item.category or 'without a category'}"
                    + (f", {item.get_impact_display().lower()} impact" if item.impact else ""),
                    detail=f"{item.number} confirmed{who}",
                    at=item.classified_at,
                    url=url_of(item),
                    history_url=history_of(item),
                    key=f"classification:{item.pk}",
                )
            )
        else:
            trace.gap(
                Stage.ANALYSIS, f"{item.number}: the suggested classification is not confirmed"
            )
    for signal in signals:
        trace.add(
            node(
                signal,
                Stage.ANALYSIS,
                str(signal),
                signal.description,
                signal.created_at,
                signal.get_status_display(),
            )
        )
    for theme in themes:
        trace.add(node(theme, Stage.ANALYSIS, str(theme), theme.description, theme.created_at))
    if not themes and not signals:
        trace.gap(Stage.ANALYSIS, "Not part of a theme or a signal")


def decisions(trace: Trace, themes: set[Theme]) -> None:
    decided = False
    for theme in themes:
        for disposition in theme.dispositions.all():
            decided = True
            n = trace.add(
                node(
                    disposition,
                    Stage.DECISION,
                    f"{disposition.get_decision_display()}: {theme.title}",
                    f"{disposition.rationale} — approved by {disposition.approver.get_username()}"
                    + (f" in {disposition.decided_in}" if disposition.decided_in else ""),
                    disposition.decided_on,
                )
            )
            trace.link(key_of(theme), n.key)
            for decision in MeetingDecision.objects.filter(disposition=disposition).select_related(
                "meeting"
            ):
                m = trace.add(
                    node(
                        decision.meeting,
                        Stage.DECISION,
                        str(decision.meeting),
                        decision.text,
                        decision.meeting.held_on,
                    )
                )
                trace.link(m.key, n.key)
        if not theme.dispositions.exists():
            trace.gap(Stage.DECISION, f"{theme.number} has no disposition")
    if not themes:
        trace.gap(Stage.DECISION, "No disposition (the feedback is not part of a theme)")
    _ = decided


def action_nodes(trace: Trace, actions: set[Action]) -> None:
    if not actions:
        trace.gap(Stage.ACTION, "No action")
        trace.gap(Stage.EFFECTIVENESS, "No effectiveness check (there is no action)")
        return
    for action in sorted(actions, key=lambda a: a.pk):
        steps = list(action.steps.all())
        done = sum(1 for s in steps if s.done_at)
        detail = f"{action.get_kind_display()}, owner {action.owner.get_username()}, due {action.due_date}"
        if action.root_cause:
            detail += f"; root cause: {action.root_cause}"
        detail += f"; {done} of {len(steps)} steps done"
        a = trace.add(
            node(
                action,
                Stage.ACTION,
                str(action),
                detail,
                action.created_at,
                action.get_status_display(),
            )
        )
        for theme in action.themes.all():
            trace.link(key_of(theme), a.key)
        for signal in action.signals.all():
            trace.link(key_of(signal), a.key)
        check: EffectivenessCheck | None = getattr(action, "effectiveness_check", None)
        if check is None:
            trace.gap(Stage.EFFECTIVENESS, f"{action.number}: no effectiveness check defined")
            continue
        verdict = (
            check.get_verdict_display()
            if check.verdict
            else (
                f"proposed: {check.get_proposed_verdict_display()}"
                if check.proposed_verdict
                else "not computed yet"
            )
        )
        e = trace.add(
            Node(
                stage=Stage.EFFECTIVENESS,
                title=f"{action.number}: {verdict}",
                detail=check.explanation
                or f"{check.get_metric_display()} from {check.evaluation_from} to {check.evaluation_to}",
                at=check.verdict_at or check.computed_at,
                url=url_of(action),
                history_url=history_of(check),
                key=key_of(check),
                status=check.verdict or check.proposed_verdict,
            )
        )
        trace.link(a.key, e.key)
        if not check.verdict:
            trace.gap(Stage.EFFECTIVENESS, f"{action.number}: the verdict is not confirmed")


def customer(trace: Trace, items: list[FeedbackItem]) -> None:
    complaints = [i for i in items if i.kind == "complaint"]
    if not complaints:
        return
    for item in complaints:
        if item.acknowledged_at:
            trace.add(
                Node(
                    stage=Stage.CUSTOMER,
                    title=f"{item.complaint_number} acknowledged",
                    at=item.acknowledged_at,
                    url=url_of(item),
                    history_url=history_of(item),
                    key=f"ack:{item.pk}",
                )
            )
        else:
            trace.gap(Stage.CUSTOMER, f"{item.complaint_number}: not acknowledged")
        loop_nodes(trace, item)
        if item.resolved_at:
            trace.add(
                Node(
                    stage=Stage.CUSTOMER,
                    title=f"{item.complaint_number} resolved; customer told the outcome",
                    at=item.resolved_at,
                    url=url_of(item),
                    history_url=history_of(item),
                    key=f"resolved:{item.pk}",
                )
            )
        else:
            trace.gap(Stage.CUSTOMER, f"{item.complaint_number}: no resolution recorded")


def loop_nodes(trace: Trace, item: FeedbackItem) -> None:
    """Closing the loop (surveys): the outcome message and the follow-up survey."""
    from harken.surveys.models import LoopCase

    case = LoopCase.objects.filter(complaint=item).select_related("communication").first()
    if case is None:
        return
    if case.outcome_sent_at:
        trace.add(
            Node(
                stage=Stage.CUSTOMER,
                title=f"{item.complaint_number}: outcome message sent",
                detail=str(case.communication or ""),
                at=case.outcome_sent_at,
                url=url_of(case),
                history_url=history_of(case),
                key=key_of(case),
            )
        )
    else:
        trace.gap(Stage.CUSTOMER, f"{item.complaint_number}: the outcome message is not sent yet")
    response = getattr(case, "follow_up_response", None)
    if response is not None:
        trace.add(
            Node(
                stage=Stage.CUSTOMER,
                title=f"{item.complaint_number}: follow-up survey answered"
                + (
                    f" (score {response.score:g})"
                    if getattr(response, "score", None) is not None
                    else ""
                ),
                at=getattr(response, "submitted_at", None),
                url=url_of(case),
                key=f"followup:{case.pk}",
            )
        )


def trace_review(obj: ReviewMeeting | ReviewPack, trace: Trace) -> Trace:
    """A review's thread: its pack, the meeting, each decision and what it made."""
    meetings = [obj] if isinstance(obj, ReviewMeeting) else list(obj.meetings.all())
    packs = [obj] if isinstance(obj, ReviewPack) else ([obj.pack] if obj.pack else [])
    for pack in packs:
        trace.add(
            node(
                pack,
                Stage.ANALYSIS,
                str(pack),
                f"{pack.get_kind_display()}, {pack.get_status_display().lower()}",
                pack.issued_at or pack.created_at,
            )
        )
    if not packs:
        trace.gap(Stage.ANALYSIS, "No review pack")
    for meeting in meetings:
        m = trace.add(
            node(
                meeting,
                Stage.DECISION,
                str(meeting),
                meeting.minutes[:300],
                meeting.held_on,
                meeting.get_status_display(),
            )
        )
        for pack in packs:
            trace.link(key_of(pack), m.key)
        actions = set()
        for decision in meeting.decisions.select_related("action", "disposition"):
            if decision.action:
                actions.add(decision.action)
            if decision.disposition:
                d = trace.add(
                    node(
                        decision.disposition,
                        Stage.DECISION,
                        decision.text,
                        decision.disposition.rationale,
                        decision.disposition.decided_on,
                    )
                )
                trace.link(m.key, d.key)
        if actions:
            action_nodes(trace, actions)
            for action in actions:
                trace.link(m.key, key_of(action))
    if not meetings:
        trace.gap(Stage.DECISION, "The pack has not been reviewed in a meeting")
    return trace
