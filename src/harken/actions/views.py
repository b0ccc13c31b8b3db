"""Action pages: the board, an action from its evidence to its effectiveness check, themes
and their dispositions, the proposals queue and the decision rules.

Every change goes through `services` (or, for plain edits, the generic edit view and its
automatic audit trail); this module arranges the records and the services' answers for
people and puts the services' refusals back on the form fields they name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
    Window,
)
from django.db.models.functions import RowNumber, TruncMonth
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views import View

from harken.core.permissions import can
from harken.core.tables import Column
from harken.core.templatetags.harken import badge
from harken.core.views.generic import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectPermissionMixin,
    ObjectTransitionView,
)
from harken.core.workflow import TransitionError, available_transitions, get_transition
from harken.feedback.choices import ItemKind
from harken.feedback.filters import FeedbackItemFilterSet
from harken.feedback.models import FeedbackItem
from harken.insights import metrics
from harken.insights.choices import Dimension, Grain, SignalKind
from harken.insights.models import Signal

from . import effectiveness, filters, forms, rules, services
from .choices import (
    ACTION_COLOURS,
    CLOSED_ACTION_STATES,
    FISHBONE_CATEGORIES,
    OPEN_ACTION_STATES,
    PROPOSAL_COLOURS,
    VERDICT_COLOURS,
    ActionKind,
    ActionStatus,
    CheckMetric,
    DispositionDecision,
    Priority,
    ProposalStatus,
    TargetKind,
)
from .models import Action, ActionStep, DecisionRule, Disposition, Proposal, Theme

# The board's columns, in the order work moves through them.
BOARD_STATES = (
    ActionStatus.OPEN,
    ActionStatus.CONTAINED,
    ActionStatus.ROOT_CAUSE_FOUND,
    ActionStatus.IMPLEMENTING,
    ActionStatus.VERIFYING,
    ActionStatus.CLOSED_EFFECTIVE,
    ActionStatus.CLOSED_NOT_EFFECTIVE,
    ActionStatus.REOPENED,
)
PRIORITY_COLOURS = {
    Priority.LOW: "light border",
    Priority.MEDIUM: "secondary",
    Priority.HIGH: "warning",
    Priority.URGENT: "danger",
}
# Cards per column; the table view shows the rest.
BOARD_LIMIT = 50
# Feedback the new-action page cites on its own (from a signal's or theme's records).
MAX_CITED = 1000
# Up to this many, the feedback behind a signal or theme is cited unless unticked.
CITE_BY_DEFAULT = 200
EXCERPTS = 5
EVIDENCE_ROWS = 50
THEME_ITEM_ROWS = 100
PENDING_SHOWN = 100
# The effectiveness chart runs from six months before the baseline to a month after
# the evaluation window, so the windows are seen against what came before and after.
CHART_MONTHS_BEFORE = 6
THEME_TREND_MONTHS = 24


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(first: dt.date, count: int) -> dt.date:
    """The first day of the month `count` months after (or before) the month of `first`."""
    month = first.month - 1 + count
    return dt.date(first.year + month // 12, month % 12 + 1, 1)


def rounded(value: float | None, decimals: int = 3) -> float | None:
    return None if value is None else round(value, decimals)


def scope_labels(scope: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A check's stored scope in words: (dimension, values)."""
    dimensions = {
        "categories": Dimension.CATEGORY,
        "product_lines": Dimension.PRODUCT_LINE,
        "segments": Dimension.SEGMENT,
        "sources": Dimension.SOURCE,
        "regions": Dimension.REGION,
    }
    result = []
    for key, dimension in dimensions.items():
        values = list(scope.get(key) or [])
        if values:
            labels = metrics.dimension_labels(dimension, values)
            result.append((str(Dimension(dimension).label), ", ".join(labels[v] for v in values)))
    return result


def redirect_to(obj: Any, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(obj.get_absolute_url() + (f"#{anchor}" if anchor else ""))


def refusal(request: HttpRequest, exc: ValidationError) -> None:
    """A service's refusal as a message (for buttons that carry no form)."""
    for message in exc.messages:
        messages.error(request, message)


# --------------------------------------------------------------------------------------
# The board and the table
# --------------------------------------------------------------------------------------


class ActionStatusColumn(Column):
    def value(self, obj: Any) -> Any:
        return badge(obj.get_status_display(), ACTION_COLOURS.get(obj.status, "secondary"))


class DueColumn(Column):
    """The due date, red when an open action is past it."""

    def value(self, obj: Any) -> Any:
        if obj.status in OPEN_ACTION_STATES and obj.due_date < timezone.localdate():
            return format_html(
                '<span class="text-danger fw-semibold" title="Overdue">{}</span>',
                obj.due_date.isoformat(),
            )
        return obj.due_date


ACTION_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("title", "Title", order_by="title", link=True),
    Column("kind", "Kind", order_by="kind"),
    ActionStatusColumn("status", "State", order_by="status"),
    Column("owner", "Owner"),
    DueColumn("due_date", "Due", order_by="due_date"),
    Column("priority", "Priority", order_by="priority"),
)
ACTION_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number"),
    Column("title", "Title"),
    Column("kind", "Kind"),
    Column("status", "State"),
    Column("owner.username", "Owner"),
    Column("approver.username", "Approver"),
    Column("due_date", "Due date"),
    Column("priority", "Priority"),
    Column("origin", "Origin"),
    Column("problem_statement", "Problem statement"),
    Column("root_cause", "Root cause"),
    Column("created_at", "Opened at"),
    Column("closed_at", "Closed at"),
)


class ActionListView(ObjectListView):
    """The board (columns by state) and, with `?view=table`, the filterable table."""

    model = Action
    queryset = Action.objects.select_related("owner", "approver")
    filterset_class = filters.ActionFilterSet
    template_name = "actions/action_list.html"
    default_order = "due_date"
    columns = ACTION_COLUMNS
    export_columns = ACTION_EXPORT_COLUMNS

    def get(self, request: HttpRequest) -> HttpResponseBase:
        table = request.GET.get("view") == "table"
        if table or request.GET.get("export") or request.htmx:  # type: ignore[attr-defined]
            return super().get(request)
        return self.board(request)

    def base_context(self, **extra: Any) -> dict[str, Any]:
        return super().base_context(board=False, **extra)

    def board(self, request: HttpRequest) -> HttpResponse:
        queryset = self.get_queryset()
        filterset = filters.ActionFilterSet(request.GET, queryset=queryset, request=request)
        queryset = filterset.qs if filterset.is_valid() else queryset.none()
        today = timezone.localdate()
        counts = dict(
            queryset.order_by()
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        # One query for every column: each state's first BOARD_LIMIT cards, the open
        # ones by due date, the closed ones most recently closed first.
        ranked = queryset.annotate(
            board_rank=Window(
                RowNumber(),
                partition_by=[F("status")],
                order_by=[
                    Case(When(status__in=CLOSED_ACTION_STATES, then=F("closed_at"))).desc(
                        nulls_last=True
                    ),
                    F("due_date").asc(),
                    F("pk").asc(),
                ],
            )
        ).filter(board_rank__lte=BOARD_LIMIT)
        cards: dict[str, list[Action]] = {state: [] for state in BOARD_STATES}
        for action in sorted(ranked, key=lambda a: a.board_rank):
            action.overdue = action.status in OPEN_ACTION_STATES and action.due_date < today
            cards[action.status].append(action)
        columns = [
            {
                "state": state,
                "label": ActionStatus(state).label,
                "colour": ACTION_COLOURS.get(state, "secondary"),
                "count": counts.get(state, 0),
                "cards": cards[state],
                "more": counts.get(state, 0) - len(cards[state]),
            }
            for state in BOARD_STATES
        ]
        context = super().base_context(
            board=True,
            filterset=filterset,
            board_columns=columns,
            total=sum(counts.values()),
            priority_colours=PRIORITY_COLOURS,
        )
        return render(request, self.template_name, context)


class ActionAddView(ObjectPermissionMixin, View):
    """A new action, prefilled from the signal, feedback item or theme it answers;
    `?proposal=` goes to accepting that proposal instead."""

    model = Action
    required_verb = "add"
    template_name = "actions/action_add.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        proposal = request.GET.get("proposal", "")
        if proposal:
            found = get_object_or_404(Proposal, pk=as_pk(proposal))
            return HttpResponseRedirect(reverse("actions:proposal_accept", args=[found.pk]))
        initial = self.prefill(request)
        behind = records_behind(
            Theme.objects.filter(pk__in=initial.get("themes", [])),
            Signal.objects.filter(pk__in=initial.get("signals", [])),
        ).count()
        # Citing a few hundred complaints is evidence; citing a quarter's worth of all
        # feedback (an NPS signal's records) is noise, so it is then left to the person.
        initial["cite_records"] = 0 < behind <= CITE_BY_DEFAULT
        return self.show(forms.ActionForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.ActionForm(request.POST)
        if not form.is_valid():
            return self.show(form, status=422)
        data = form.cleaned_data
        themes, signals = list(data["themes"]), list(data["signals"])
        items = list(data["evidence"])
        if data["cite_records"]:
            items += cited_records(themes, signals)
        try:
            action = services.open_action(
                actor=request.user,
                kind=data["kind"],
                title=data["title"],
                problem_statement=data["problem_statement"],
                owner=data["owner"],
                approver=data["approver"],
                due_date=data["due_date"],
                priority=data["priority"],
                origin=data["origin"],
                items=items,
                themes=themes,
                signals=signals,
            )
        except ValidationError as exc:
            forms.service_errors(form, exc)
            return self.show(form, status=422)
        messages.success(request, f"Opened {action}.")
        return redirect_to(action)

    def prefill(self, request: HttpRequest) -> dict[str, Any]:
        today = timezone.localdate()
        initial: dict[str, Any] = {
            "kind": ActionKind.CORRECTIVE,
            "owner": request.user.pk,
            "due_date": forms.default_due(today),
        }
        if signal_id := request.GET.get("signal"):
            signal = get_object_or_404(Signal, pk=as_pk(signal_id))
            initial.update(
                kind=ActionKind.IMPROVEMENT
                if signal.kind == SignalKind.SIGNIFICANT_CHANGE
                else ActionKind.CORRECTIVE,
                title=signal.title[:200],
                problem_statement=signal.description,
                origin=f"Signal {signal.number}",
                signals=[signal.pk],
            )
        elif item_id := request.GET.get("item"):
            item = get_object_or_404(
                FeedbackItem.objects.select_related("customer"), pk=as_pk(item_id)
            )
            number = item.complaint_number or item.number
            said = item.text.strip() or item.title
            initial.update(
                kind=ActionKind.CORRECTIVE
                if item.kind == ItemKind.COMPLAINT
                else ActionKind.IMPROVEMENT,
                title=(item.title or said)[:200],
                problem_statement=(
                    f"{number}"
                    + (f" from {item.customer}" if item.customer else "")
                    + f", received {timezone.localtime(item.received_at):%d %B %Y}: {said}"
                ),
                origin=f"Feedback {number}",
                evidence=number,
            )
        elif theme_id := request.GET.get("theme"):
            theme = get_object_or_404(
                Theme.objects.select_related("category", "product_line"), pk=as_pk(theme_id)
            )
            stats = services.theme_stats(theme)
            where = ", ".join(str(x) for x in (theme.category, theme.product_line) if x is not None)
            summary = f"{stats['count']} feedback items"
            if stats["first_seen"]:
                summary += (
                    f" from {timezone.localtime(stats['first_seen']):%d %B %Y} to "
                    f"{timezone.localtime(stats['last_seen']):%d %B %Y}"
                )
            initial.update(
                title=theme.title,
                problem_statement="\n\n".join(
                    p
                    for p in (theme.description, summary + (f" ({where})." if where else "."))
                    if p
                ),
                origin=f"Theme {theme.number}",
                themes=[theme.pk],
            )
        return initial

    def show(self, form: forms.ActionForm, status: int = 200) -> HttpResponse:
        themes = Theme.objects.filter(pk__in=[as_pk(t) for t in form["themes"].value() or []])
        signals = Signal.objects.filter(pk__in=[as_pk(s) for s in form["signals"].value() or []])
        behind = records_behind(themes, signals).count() if themes or signals else 0
        if behind:
            form.fields["cite_records"].label = (
                f"Also cite the {behind:,} feedback item{'s' if behind != 1 else ''} behind "
                "the linked signals and themes"
                + (f" (the newest {MAX_CITED:,})" if behind > MAX_CITED else "")
            )
        else:
            # Nothing behind the links to cite: the choice would only puzzle.
            form.fields.pop("cite_records", None)
        context = self.base_context(form=form, linked_themes=themes, linked_signals=signals)
        return render(self.request, self.template_name, context, status=status)


def as_pk(value: Any) -> int:
    """A record id from a query string; anything else is a page that does not exist."""
    text = str(value).strip()
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    raise Http404("No such record.")


def records_behind(themes: Iterable[Theme], signals: Iterable[Signal]) -> QuerySet:
    """The feedback behind themes (their items) and signals (their evidence filter,
    which is the feedback list's query for the records behind the signal)."""
    wanted = Q(pk__in=[])
    for theme in themes:
        wanted |= Q(pk__in=theme.items.values("pk"))
    for signal in signals:
        found = (signal.evidence or {}).get("filter")
        if not found:
            continue
        query = QueryDict(mutable=True)
        for key, value in found.items():
            query.setlist(key, [str(v) for v in value] if isinstance(value, list) else [str(value)])
        filterset = FeedbackItemFilterSet(query, queryset=FeedbackItem.objects.all())
        if filterset.is_valid():
            wanted |= Q(pk__in=filterset.qs.values("pk"))
    return FeedbackItem.objects.filter(wanted)


def cited_records(themes: Iterable[Theme], signals: Iterable[Signal]) -> list[FeedbackItem]:
    return list(records_behind(themes, signals).order_by("-received_at")[:MAX_CITED])


class ActionEditView(ObjectEditView):
    model = Action
    form_class = forms.ActionEditForm


class ActionContainmentView(ObjectEditView):
    """The containment alone (what `contain` asks for), from the action's page."""

    model = Action
    form_class = forms.ContainmentForm


class ActionDetailView(ObjectDetailView):
    model = Action
    queryset = Action.objects.select_related(
        "owner",
        "approver",
        "root_cause_file",
        "effectiveness_check",
        "effectiveness_check__verdict_by",
        "created_by",
        "updated_by",
    )
    template_name = "actions/action_detail.html"
    fields = (
        Column("kind", "Kind"),
        Column("owner", "Owner"),
        Column("approver", "Approver"),
        Column("priority", "Priority"),
        Column("origin", "Origin"),
        Column("closed_at", "Closed at"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        user = self.request.user
        today = timezone.localdate()
        action: Action = obj
        can_change = can(user, "change", action)
        steps = list(action.steps.select_related("owner"))
        for step in steps:
            step.overdue = step.done_at is None and step.due_date < today  # type: ignore[attr-defined]
        check = getattr(action, "effectiveness_check", None)
        transitions = available_transitions(action, user)
        return {
            "status_badge": badge(
                action.get_status_display(),
                ACTION_COLOURS.get(ActionStatus(action.status), "secondary"),
            ),
            "overdue": action.status in OPEN_ACTION_STATES and action.due_date < today,
            "is_open": action.status in OPEN_ACTION_STATES,
            "evidence": evidence_of(action),
            "fishbone": [
                (category, action.fishbone.get(category, []))
                for category in FISHBONE_CATEGORIES
                if isinstance(action.fishbone, dict) and action.fishbone.get(category)
            ],
            "steps": steps,
            "step_form": forms.StepForm(
                initial={"owner": action.owner_id, "due_date": action.due_date}
            )
            if can_change and action.status in OPEN_ACTION_STATES
            else None,
            "containment_form": forms.ContainmentForm(instance=action)
            if can_change and action.status in OPEN_ACTION_STATES
            else None,
            "check": check_context(check, user, today) if check else None,
            "plain_transitions": [(t, b) for t, b in transitions if not t.fields],
            "form_transitions": [(t, b) for t, b in transitions if t.fields],
        }


def evidence_of(action: Action) -> dict[str, Any]:
    """What the action rests on: its feedback (counted, a few in the customers' words),
    its themes and its signals."""
    items = action.items.all()
    by_category = list(
        items.order_by().values("category__name").annotate(n=Count("id")).order_by("-n")
    )
    by_line = list(
        items.order_by().values("product_line__name").annotate(n=Count("id")).order_by("-n")
    )
    total = sum(row["n"] for row in by_category)
    rows = list(
        items.select_related("category", "product_line", "customer").order_by("-received_at")[
            :EVIDENCE_ROWS
        ]
    )
    excerpts = [item for item in rows if item.text.strip()][:EXCERPTS]
    return {
        "count": total,
        "by_category": [
            (row["category__name"] or "(not classified)", row["n"]) for row in by_category
        ],
        "by_product_line": [
            (row["product_line__name"] or "(no product line)", row["n"]) for row in by_line
        ],
        "items": rows,
        "excerpts": excerpts,
        "themes": list(action.themes.annotate(item_count=Count("items")).order_by("number")),
        "signals": list(action.signals.order_by("number")),
    }


def check_context(check: Any, user: Any, today: dt.date) -> dict[str, Any]:
    result = check.result or {}
    window_open = today <= check.evaluation_to
    can_close = can(user, "close", check.action)
    confirmable = can_close and not check.verdict and check.computed_at is not None
    relative = result.get("relative_change")
    return {
        "check": check,
        "scope": scope_labels(check.scope or {}),
        "result": result,
        "relative_percent": None if relative is None else relative * 100,
        "proposed_colour": VERDICT_COLOURS.get(check.proposed_verdict, "secondary"),
        "verdict_colour": VERDICT_COLOURS.get(check.verdict, "secondary"),
        "provisional": check.computed_at is not None and window_open,
        "window_open": window_open,
        "not_started": today < check.evaluation_from,
        "target": target_text(check),
        "verdict_form": forms.VerdictForm(initial={"verdict": check.proposed_verdict})
        if confirmable and not window_open
        else None,
        "confirm_waits": confirmable and window_open,
        "chart": check_chart(check, today),
    }


def target_text(check: Any) -> str:
    """ "Falls by at least 40 %", "Is at most 2.5", "No recurrence in the evaluation window"."""
    label = str(TargetKind(check.target_kind).label)
    if "…" not in label:
        return label
    value = "…" if check.target_value is None else f"{check.target_value:g}"
    return label.replace("…", value)


def check_chart(check: Any, today: dt.date) -> dict[str, Any]:
    """The check's metric per month from six months before the baseline to a month after
    the evaluation window, with both windows marked; months still to come stay empty."""
    start = add_months(month_start(check.baseline_from), -CHART_MONTHS_BEFORE)
    end = add_months(month_start(check.evaluation_to), 2) - dt.timedelta(days=1)
    metric = effectiveness.METRIC_OF[CheckMetric(check.metric)]
    values: dict[dt.date, metrics.Value] = {}
    measured_to = min(end, today)
    if measured_to >= start:
        scope = effectiveness.scope_for(check.scope or {}, start, measured_to)
        if check.metric in {CheckMetric.COMPLAINTS, CheckMetric.COMPLAINT_RATE}:
            scope = replace(scope, kinds=(ItemKind.COMPLAINT,))
        for point in metrics.series(scope, metric, Grain.MONTH)[None]:
            values[point.period] = point.value
    months = [first for first, _ in metrics.periods(start, end, Grain.MONTH)]

    def field(name: str) -> list[Any]:
        return [rounded(getattr(values[m], name)) if m in values else None for m in months]

    unit = next((v.unit for v in values.values() if v.unit), "")
    return {
        "label": str(CheckMetric(check.metric).label),
        "unit": unit,
        "labels": [m.isoformat() for m in months],
        "values": field("value"),
        "lower": field("lower"),
        "upper": field("upper"),
        "n": [values[m].n if m in values else None for m in months],
        "baseline": [
            month_start(check.baseline_from).isoformat(),
            month_start(check.baseline_to).isoformat(),
        ],
        "evaluation": [
            month_start(check.evaluation_from).isoformat(),
            month_start(check.evaluation_to).isoformat(),
        ],
    }


class ActionTransitionView(ObjectTransitionView):
    """Moves an action; closing goes through `services.close_action` (which stamps the
    closing time the recurrence watch starts from)."""

    model = Action
    CLOSING = frozenset({"close_effective", "close_not_effective"})

    def post(self, request: HttpRequest, pk: int, name: str) -> HttpResponse:
        if name not in self.CLOSING:
            return super().post(request, pk, name)
        action = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            reasons = get_transition(action, name).blockers(action)
            if reasons:
                raise TransitionError(reasons)
            services.close_action(action, actor=request.user)
        except ValidationError as exc:
            refusal(request, exc)
        else:
            messages.success(request, f"{action} is now {action.get_status_display()}.")
        return redirect_to(action)


class ActionPartView(ObjectPermissionMixin, View):
    """A form about one part of an action, on its own page or posted from the action's."""

    model = Action
    required_verb = "change"
    template_name = ""

    def get_action(self, pk: int) -> Action:
        return get_object_or_404(
            Action.objects.select_related("effectiveness_check", "owner"), pk=pk
        )

    def show(self, action: Action, form: Any, status: int = 200, **extra: Any) -> HttpResponse:
        context = self.base_context(object=action, form=form, **extra)
        return render(self.request, self.template_name, context, status=status)


class ActionRootCauseView(ActionPartView):
    """The root cause analysis (`services.record_root_cause`)."""

    template_name = "actions/action_rootcause.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        action = self.get_action(pk)
        return self.show(
            action, forms.RootCauseForm(initial=forms.RootCauseForm.initial_for(action))
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        action = self.get_action(pk)
        form = forms.RootCauseForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.show(action, form, status=422)
        try:
            services.record_root_cause(
                action,
                actor=request.user,
                method=form.cleaned_data["root_cause_method"],
                root_cause=form.cleaned_data["root_cause"],
                whys=form.whys(),
                fishbone=form.fishbone(),
                file=form.cleaned_data.get("root_cause_file"),
            )
        except ValidationError as exc:
            forms.service_errors(form, exc, forms.RootCauseForm.ALIASES)
            return self.show(action, form, status=422)
        messages.success(request, "Root cause analysis recorded.")
        return redirect_to(action, "root-cause")


class ActionRootCauseFileView(ObjectPermissionMixin, View):
    """The root cause analysis file attached to an action, to whoever may view it."""

    model = Action

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        action = get_object_or_404(Action.objects.select_related("root_cause_file"), pk=pk)
        evidence = action.root_cause_file
        if evidence is None:
            raise Http404("This action has no analysis file.")
        return FileResponse(
            evidence.open(),
            as_attachment=True,
            filename=evidence.name,
            content_type=evidence.content_type or "application/octet-stream",
        )


class ActionStepAddView(ActionPartView):
    http_method_names = ["post"]
    template_name = "actions/part_form.html"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        action = self.get_action(pk)
        form = forms.StepForm(request.POST)
        if form.is_valid():
            try:
                services.add_step(action, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                forms.service_errors(form, exc)
            else:
                messages.success(request, "Step added.")
                return redirect_to(action, "steps")
        return self.show(action, form, status=422, title="Add a step")


class ActionStepDoneView(ActionPartView):
    http_method_names = ["post"]
    template_name = "actions/part_form.html"

    def post(self, request: HttpRequest, pk: int, step: int) -> HttpResponse:
        action = self.get_action(pk)
        found = get_object_or_404(ActionStep, pk=step, action=action)
        form = forms.StepDoneForm(request.POST)
        if form.is_valid():
            try:
                services.complete_step(found, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                forms.service_errors(form, exc)
            else:
                messages.success(request, f"Step done: {found.description}.")
                return redirect_to(action, "steps")
        return self.show(action, form, status=422, title=f"Mark done: {found.description}")


class ActionCheckView(ActionPartView):
    """Define (or redefine) the effectiveness check, then compute it at once."""

    template_name = "actions/action_check.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        action = self.get_action(pk)
        return self.show(action, forms.CheckForm(initial=self.initial(action)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        action = self.get_action(pk)
        form = forms.CheckForm(request.POST)
        if not form.is_valid():
            return self.show(action, form, status=422)
        data = form.cleaned_data
        try:
            with transaction.atomic():
                check = services.define_check(
                    action,
                    actor=request.user,
                    metric=data["metric"],
                    scope=form.scope(),
                    baseline=(data["baseline_from"], data["baseline_to"]),
                    evaluation=(data["evaluation_from"], data["evaluation_to"]),
                    target_kind=data["target_kind"],
                    target_value=data["target_value"],
                )
                computed = compute_if_started(check)
        except ValidationError as exc:
            forms.service_errors(form, exc)
            return self.show(action, form, status=422)
        if computed:
            messages.success(request, "Effectiveness check defined and computed.")
        else:
            messages.success(request, f"Effectiveness check defined. {not_started(check)}")
        return redirect_to(action, "effectiveness")

    def initial(self, action: Action) -> dict[str, Any]:
        check = getattr(action, "effectiveness_check", None)
        if check is not None:
            return {
                "metric": check.metric,
                **forms.CheckForm.initial_from_scope(check.scope or {}),
                "baseline_from": check.baseline_from,
                "baseline_to": check.baseline_to,
                "evaluation_from": check.evaluation_from,
                "evaluation_to": check.evaluation_to,
                "target_kind": check.target_kind,
                "target_value": check.target_value,
            }
        # A quarter before the action was opened against a quarter after it is due.
        opened = month_start(timezone.localtime(action.created_at).date())
        after_due = add_months(month_start(action.due_date), 1)
        return {
            "metric": CheckMetric.COMPLAINT_RATE,
            **forms.CheckForm.initial_from_scope(likely_scope(action)),
            "baseline_from": add_months(opened, -3),
            "baseline_to": opened - dt.timedelta(days=1),
            "evaluation_from": after_due,
            "evaluation_to": add_months(after_due, 3) - dt.timedelta(days=1),
            "target_kind": TargetKind.RELATIVE_REDUCTION,
        }


def compute_if_started(check: Any) -> bool:
    """Compute the check once its evaluation window has begun (there is nothing to
    measure before; `services.compute_check` needs at least its first day)."""
    if timezone.localdate() < check.evaluation_from:
        return False
    services.compute_check(check)
    return True


def not_started(check: Any) -> str:
    return (
        f"It is computed from {check.evaluation_from:%d %B %Y}, when the evaluation window opens."
    )


def likely_scope(action: Action) -> dict[str, list[Any]]:
    """Where the problem is, as a first guess at the check's scope: the first theme's
    category and product line, or those most of the cited feedback shares."""
    theme = action.themes.order_by("pk").first()
    if theme is not None:
        return {
            "categories": [theme.category_id] if theme.category_id else [],
            "product_lines": [theme.product_line_id] if theme.product_line_id else [],
            "segments": [theme.segment] if theme.segment else [],
        }
    common = (
        action.items.order_by()
        .values("category_id", "product_line_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if common is None:
        return {}
    return {
        "categories": [common["category_id"]] if common["category_id"] else [],
        "product_lines": [common["product_line_id"]] if common["product_line_id"] else [],
    }


class ActionCheckComputeView(ActionPartView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        action = self.get_action(pk)
        check = getattr(action, "effectiveness_check", None)
        if check is None:
            messages.error(request, "Define the effectiveness check first.")
        elif check.verdict:
            messages.error(request, "The verdict is confirmed; the figures stay as they were.")
        elif compute_if_started(check):
            messages.success(request, "Effectiveness check recomputed.")
        else:
            messages.info(request, not_started(check))
        return redirect_to(action, "effectiveness")


class ActionCheckConfirmView(ActionPartView):
    """A quality role confirms (or overrides) the proposed verdict."""

    http_method_names = ["post"]
    required_verb = "close"
    template_name = "actions/part_form.html"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        action = self.get_action(pk)
        check = getattr(action, "effectiveness_check", None)
        if check is None:
            raise Http404("This action has no effectiveness check.")
        form = forms.VerdictForm(request.POST)
        if form.is_valid():
            try:
                services.confirm_verdict(check, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                forms.service_errors(form, exc)
            else:
                messages.success(request, f"Verdict confirmed: {check.get_verdict_display()}.")
                return redirect_to(action, "effectiveness")
        return self.show(action, form, status=422, title="Confirm the verdict")


# --------------------------------------------------------------------------------------
# Themes
# --------------------------------------------------------------------------------------


def current_decision() -> Subquery:
    latest = Disposition.objects.filter(theme=OuterRef("pk")).order_by("-decided_on", "-pk")
    return Subquery(latest.values("decision")[:1])


class DispositionColumn(Column):
    """The current decision as a badge; a theme without one stands out."""

    def value(self, obj: Any) -> Any:
        code = getattr(obj, "current_decision", None)
        if not code:
            return format_html('<span class="badge text-bg-danger">{}</span>', "no disposition")
        return badge(DispositionDecision(code).label, "info")


class DispositionTextColumn(Column):
    def value(self, obj: Any) -> Any:
        code = getattr(obj, "current_decision", None)
        return str(DispositionDecision(code).label) if code else "no disposition"


THEME_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("title", "Title", order_by="title", link=True),
    Column("category.name", "Category"),
    Column("product_line.name", "Product line"),
    Column("item_count", "Items", order_by="item_count"),
    Column("first_seen", "First seen", order_by="first_seen"),
    Column("last_seen", "Last seen", order_by="last_seen"),
    DispositionColumn("current_decision", "Disposition"),
)
THEME_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number"),
    Column("title", "Title"),
    Column("category.name", "Category"),
    Column("product_line.name", "Product line"),
    Column("segment", "Segment"),
    Column("item_count", "Items"),
    Column("first_seen", "First seen"),
    Column("last_seen", "Last seen"),
    DispositionTextColumn("current_decision", "Current disposition"),
    Column("active", "Active"),
)


def themes_with_figures() -> QuerySet:
    return Theme.objects.select_related("category", "product_line").annotate(
        item_count=Count("items", distinct=True),
        first_seen=Min("items__received_at"),
        last_seen=Max("items__received_at"),
        current_decision=current_decision(),
    )


class ThemeListView(ObjectListView):
    model = Theme
    filterset_class = filters.ThemeFilterSet
    template_name = "actions/theme_list.html"
    default_order = "-number"
    columns = THEME_COLUMNS
    export_columns = THEME_EXPORT_COLUMNS

    def get_queryset(self) -> QuerySet:
        return themes_with_figures()


class ThemeDetailView(ObjectDetailView):
    model = Theme
    template_name = "actions/theme_detail.html"
    fields = (
        Column("category", "Category", link=True),
        Column("product_line", "Product line", link=True),
        Column("segment", "Customer segment"),
        Column("active", "Active"),
    )

    def get_queryset(self) -> QuerySet:
        return Theme.objects.select_related("category", "product_line", "created_by", "updated_by")

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        theme: Theme = obj
        user = self.request.user
        stats = services.theme_stats(theme)
        dispositions = list(theme.dispositions.select_related("approver"))
        return {
            "stats": stats,
            "items": list(
                theme.items.select_related("category", "product_line", "customer").order_by(
                    "-received_at"
                )[:THEME_ITEM_ROWS]
            ),
            "signals": list(theme.signals.order_by("-period_end")),
            "dispositions": dispositions,
            "current": dispositions[0] if dispositions else None,
            "actions": list(theme.actions.select_related("owner").order_by("-created_at")),
            "disposition_form": forms.DispositionForm(initial={"decided_on": timezone.localdate()})
            if can(user, "dispose", theme)
            else None,
            "trend": theme_trend(theme, timezone.localdate()),
            "action_colours": ACTION_COLOURS,
        }


def theme_trend(theme: Theme, today: dt.date) -> dict[str, Any]:
    """The theme's items per month, from the first one (at most two years back) to now."""
    rows = (
        theme.items.order_by()
        .annotate(month=TruncMonth("received_at"))
        .values("month")
        .annotate(n=Count("id"))
    )
    counts = {
        (row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]): row["n"]
        for row in rows
    }
    last = max([month_start(today), *counts])
    first = min(counts, default=last)
    first = max(first, add_months(last, -(THEME_TREND_MONTHS - 1)))
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return {
        "labels": [m.isoformat() for m in months],
        "counts": [counts.get(m, 0) for m in months],
    }


class ThemeEditView(ObjectEditView):
    model = Theme
    form_class = forms.ThemeForm


class ThemeDisposeView(ObjectPermissionMixin, View):
    """Record a new disposition; the earlier ones stay as they were."""

    model = Theme
    required_verb = "dispose"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        theme = get_object_or_404(Theme, pk=pk)
        form = forms.DispositionForm(request.POST)
        if form.is_valid():
            try:
                services.dispose(theme, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                forms.service_errors(form, exc)
            else:
                messages.success(request, "Disposition recorded.")
                return redirect_to(theme, "dispositions")
        context = self.base_context(object=theme, form=form, title="Record a disposition")
        return render(request, "actions/part_form.html", context, status=422)


class ThemeLinkView(ObjectPermissionMixin, View):
    """Link feedback items to a theme by their numbers."""

    model = Theme
    required_verb = "change"
    template_name = "actions/theme_link.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        theme = get_object_or_404(Theme, pk=pk)
        return self.show(theme, forms.LinkItemsForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        theme = get_object_or_404(Theme, pk=pk)
        form = forms.LinkItemsForm(request.POST)
        if not form.is_valid():
            return self.show(theme, form, status=422)
        count = services.link_items(theme, form.cleaned_data["numbers"], actor=request.user)
        messages.success(request, f"Linked {count} feedback item{'s' if count != 1 else ''}.")
        return redirect_to(theme, "items")

    def show(self, theme: Theme, form: Any, status: int = 200) -> HttpResponse:
        context = self.base_context(object=theme, form=form)
        return render(self.request, self.template_name, context, status=status)


class ThemeCandidatesView(ObjectPermissionMixin, View):
    """Recurring complaints no active theme covers yet; one click makes one a theme."""

    model = Theme
    template_name = "actions/theme_candidates.html"

    def get_required_verb(self, request: HttpRequest) -> str:
        return "add" if request.method == "POST" else "view"

    def get(self, request: HttpRequest) -> HttpResponse:
        days = bounded(request.GET.get("days"), 90, 1, 3650)
        minimum = bounded(request.GET.get("minimum"), 3, 1, 10000)
        candidates = services.theme_candidates(days=days, minimum=minimum)
        context = self.base_context(
            candidates=candidates,
            days=days,
            minimum=minimum,
            can_create=can(request.user, "add", Theme) and can(request.user, "change", Theme),
        )
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.CandidateForm(request.POST)
        if not form.is_valid():
            messages.error(request, "That candidate is no longer valid; look again.")
            return HttpResponseRedirect(reverse("actions:theme_candidates"))
        category = form.cleaned_data["category"]
        line = form.cleaned_data["product_line"]
        since = timezone.now() - dt.timedelta(days=form.cleaned_data["days"])
        complaints = FeedbackItem.objects.filter(
            kind=ItemKind.COMPLAINT, received_at__gte=since, category=category, product_line=line
        )
        where = line.name if line else "no product line"
        with transaction.atomic():
            theme = Theme.objects.create(
                title=f"{category.name} complaints on {where}",
                category=category,
                product_line=line,
            )
            count = services.link_items(theme, complaints, actor=request.user)
        messages.success(request, f"Created {theme} with {count} complaints.")
        return redirect_to(theme)


def bounded(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return min(max(value, low), high)


# --------------------------------------------------------------------------------------
# Proposals
# --------------------------------------------------------------------------------------


class ProposalStatusColumn(Column):
    def value(self, obj: Any) -> Any:
        return badge(obj.get_status_display(), PROPOSAL_COLOURS.get(obj.status, "secondary"))


PROPOSAL_COLUMNS: tuple[Column, ...] = (
    Column("created_at", "Proposed", order_by="created_at"),
    Column("title", "Title", link=True),
    Column("rule", "Rule"),
    Column("kind", "Kind", order_by="kind"),
    ProposalStatusColumn("status", "Status", order_by="status"),
    Column("action", "Action"),
)
PROPOSAL_EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("created_at", "Proposed at"),
    Column("title", "Title"),
    Column("rule.name", "Rule"),
    Column("kind", "Kind"),
    Column("reason", "Why"),
    Column("status", "Status"),
    Column("decided_by.username", "Decided by"),
    Column("decided_at", "Decided at"),
    Column("rejection_reason", "Reason for rejection"),
    Column("action.number", "Action"),
)


class ProposalListView(ObjectListView):
    """The queue: pending proposals first, to accept or reject; every proposal below."""

    model = Proposal
    queryset = Proposal.objects.select_related("rule", "action", "decided_by")
    filterset_class = filters.ProposalFilterSet
    template_name = "actions/proposal_list.html"
    default_order = "-created_at"
    columns = PROPOSAL_COLUMNS
    export_columns = PROPOSAL_EXPORT_COLUMNS

    def base_context(self, **extra: Any) -> dict[str, Any]:
        user = self.request.user
        pending = (
            Proposal.objects.filter(status=ProposalStatus.PENDING)
            .select_related("rule", "signal", "category", "product_line")
            .annotate(item_count=Count("items"))
            .order_by("created_at", "pk")
        )
        can_decide = can(user, "classify", Proposal)
        return super().base_context(
            pending=list(pending[:PENDING_SHOWN]),
            pending_count=pending.count(),
            can_decide=can_decide and can(user, "add", Action),
            can_run=can_decide,
            # The queue's inline forms share one list of people (one query for them all).
            owner_choices=[(u.pk, str(u)) for u in forms.users()] if can_decide else [],
            default_due=forms.default_due(timezone.localdate()),
            **extra,
        )


class ProposalDetailView(ObjectDetailView):
    model = Proposal
    queryset = Proposal.objects.select_related(
        "rule", "signal", "category", "product_line", "decided_by", "action"
    )
    template_name = "actions/proposal_detail.html"
    fields = (
        ProposalStatusColumn("status", "Status"),
        Column("rule", "Rule", link=True),
        Column("kind", "Proposes"),
        Column("category", "Category", link=True),
        Column("product_line", "Product line", link=True),
        Column("signal", "Signal", link=True),
        Column("decided_by", "Decided by"),
        Column("decided_at", "Decided at"),
        Column("rejection_reason", "Reason for rejection"),
        Column("action", "Action", link=True),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        user = self.request.user
        pending = obj.status == ProposalStatus.PENDING
        can_decide = pending and can(user, "classify", obj) and can(user, "add", Action)
        return {
            "items": list(
                obj.items.select_related("category", "product_line", "customer").order_by(
                    "-received_at"
                )[:EVIDENCE_ROWS]
            ),
            "item_count": obj.items.count(),
            "accept_form": forms.ProposalAcceptForm(
                initial={"owner": user.pk, "due_date": forms.default_due(timezone.localdate())}
            )
            if can_decide
            else None,
            "reject_form": forms.ProposalRejectForm() if can_decide else None,
        }


class ProposalDecisionView(ObjectPermissionMixin, View):
    model = Proposal
    required_verb = "classify"

    def get_proposal(self, pk: int) -> Proposal:
        return get_object_or_404(
            Proposal.objects.select_related("rule", "signal", "category", "product_line"), pk=pk
        )

    def show(self, proposal: Proposal, form: Any, status: int = 200, **extra: Any) -> HttpResponse:
        context = self.base_context(object=proposal, form=form, **extra)
        return render(self.request, "actions/proposal_accept.html", context, status=status)


class ProposalAcceptView(ProposalDecisionView):
    """Accept a proposal: an action opens, citing the proposal's evidence."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = self.get_proposal(pk)
        form = forms.ProposalAcceptForm(
            initial={"owner": request.user.pk, "due_date": forms.default_due(timezone.localdate())}
        )
        return self.show(proposal, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = self.get_proposal(pk)
        form = forms.ProposalAcceptForm(request.POST)
        if form.is_valid():
            try:
                action = services.accept_proposal(proposal, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                forms.service_errors(form, exc)
            else:
                messages.success(request, f"Accepted: opened {action}.")
                return redirect_to(action)
        return self.show(proposal, form, status=422)


class ProposalRejectView(ProposalDecisionView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = self.get_proposal(pk)
        form = forms.ProposalRejectForm(request.POST)
        if form.is_valid():
            try:
                services.reject_proposal(
                    proposal, actor=request.user, reason=form.cleaned_data["rejection_reason"]
                )
            except ValidationError as exc:
                forms.service_errors(form, exc)
            else:
                messages.success(request, f"Rejected: {proposal}.")
                return HttpResponseRedirect(reverse("actions:proposal_list"))
        return self.show(proposal, form, status=422, rejecting=True)


class ProposalRunRulesView(ObjectPermissionMixin, View):
    """Evaluate the decision rules now (what `harken tick` does on its schedule)."""

    model = Proposal
    required_verb = "classify"
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        created = rules.run_rules()
        if created:
            messages.success(
                request,
                f"{len(created)} new proposal{'s' if len(created) != 1 else ''}: "
                + "; ".join(p.title for p in created[:5]),
            )
        else:
            messages.info(request, "No new proposals.")
        return HttpResponseRedirect(reverse("actions:proposal_list"))


# --------------------------------------------------------------------------------------
# Decision rules
# --------------------------------------------------------------------------------------


class DecisionRuleListView(ObjectListView):
    model = DecisionRule
    filterset_class = filters.DecisionRuleFilterSet
    default_order = "name"
    columns = (
        Column("name", "Name", order_by="name", link=True),
        Column("condition", "Condition", order_by="condition"),
        Column("proposes", "Proposes", order_by="proposes"),
        Column("threshold", "At least N complaints", order_by="threshold"),
        Column("window_days", "Within M days", order_by="window_days"),
        Column("active", "Active", order_by="active"),
    )


class DecisionRuleDetailView(ObjectDetailView):
    model = DecisionRule
    queryset = DecisionRule.objects.select_related("created_by", "updated_by")
    fields = (
        Column("condition", "Condition"),
        Column("proposes", "Proposes"),
        Column("threshold", "At least N complaints"),
        Column("window_days", "Within M days"),
        Column("active", "Active"),
    )


class DecisionRuleEditView(ObjectEditView):
    model = DecisionRule
    form_class = forms.DecisionRuleForm
