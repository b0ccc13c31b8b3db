"""Forms of the review pages. Forms check types and shapes; `services` decides and records,
and its ValidationErrors are put back on the fields they name (`service_errors`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from harken.actions.choices import ActionKind, ActionStatus, DispositionDecision
from harken.actions.models import Action, Theme
from harken.core.forms import BootstrapMixin
from harken.customers.choices import Segment
from harken.customers.models import ProductLine, Region
from harken.feedback.models import PerceptionSource
from harken.insights.models import QualityObjective

from .choices import DecisionKind, PackKind
from .models import ReviewMeeting, ReviewPack, ReviewSeries

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# An action opened in a review is due a month later unless the meeting says otherwise.
ACTION_DUE_DAYS = 30


def people() -> QuerySet:
    return get_user_model().objects.filter(is_active=True).order_by("username")


def service_errors(
    form: forms.BaseForm, exc: ValidationError, aliases: Mapping[str, str] | None = None
) -> None:
    """Put a service's ValidationError on the form's fields (`aliases` renames the
    service's field names to the form's); names the form lacks go on the form itself."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, messages in exc.message_dict.items():
        field = aliases.get(name, name)
        form.add_error(field if field in form.fields else None, messages)


# --------------------------------------------------------------------------------------
# Series
# --------------------------------------------------------------------------------------


class ReviewSeriesForm(BootstrapMixin, forms.ModelForm):
    """A series with its scope chosen from lists; the scope is stored as the ids (and
    segment codes) `pack.build_content` reads, empty lists left out."""

    sources = forms.ModelMultipleChoiceField(
        label="Perception sources",
        queryset=PerceptionSource.objects.none(),
        required=False,
    )
    product_lines = forms.ModelMultipleChoiceField(
        label="Product lines",
        queryset=ProductLine.objects.none(),
        required=False,
    )
    regions = forms.ModelMultipleChoiceField(
        label="Regions",
        queryset=Region.objects.none(),
        required=False,
    )
    segments = forms.MultipleChoiceField(
        label="Customer segments",
        choices=Segment.choices,
        required=False,
        help_text="Leave a list empty to review all of its values. Hold Ctrl (⌘ on a Mac) "
        "to pick several.",
    )

    SCOPE_FIELDS = ("sources", "product_lines", "regions", "segments")

    class Meta:
        model = ReviewSeries
        fields = ["name", "kind", "cadence", "owner", "grace_days", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people()  # type: ignore[attr-defined]
        self.fields["sources"].queryset = PerceptionSource.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["product_lines"].queryset = ProductLine.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["regions"].queryset = Region.objects.order_by("name")  # type: ignore[attr-defined]
        scope = self.instance.scope if isinstance(self.instance.scope, dict) else {}
        for name in self.SCOPE_FIELDS:
            self.fields[name].widget.attrs["size"] = 5
            if not self.is_bound and scope.get(name):
                self.initial[name] = list(scope[name])

    def scope(self) -> dict[str, list[Any]]:
        scope: dict[str, list[Any]] = {}
        for name in self.SCOPE_FIELDS:
            values = self.cleaned_data.get(name) or []
            if values:
                scope[name] = sorted(v if isinstance(v, str) else v.pk for v in values)
        return scope

    def save(self, commit: bool = True) -> ReviewSeries:
        self.instance.scope = self.scope()
        return super().save(commit=commit)


# --------------------------------------------------------------------------------------
# Packs
# --------------------------------------------------------------------------------------


class DraftPackForm(BootstrapMixin, forms.Form):
    """What `services.draft_pack` needs: a series (or a kind), the period, anonymising."""

    series = forms.ModelChoiceField(
        label="Series",
        queryset=ReviewSeries.objects.none(),
        required=False,
        empty_label="None (a one-off pack over everything)",
        help_text="The pack takes the series' scope and kind.",
    )
    kind = forms.ChoiceField(
        label="Kind",
        choices=[("", "As the series produces (a review pack without one)"), *PackKind.choices],
        required=False,
    )
    period_start = forms.DateField(label="Period from", widget=DATE)
    period_end = forms.DateField(
        label="Period to",
        widget=DATE,
        help_text="Calendar months or quarters compare with the period just before.",
    )
    anonymise = forms.BooleanField(
        label="Anonymise customer names in the quotes",
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["series"].queryset = ReviewSeries.objects.filter(active=True).order_by("name")  # type: ignore[attr-defined]


class PackTextForm(BootstrapMixin, forms.ModelForm):
    """The words a person adds to a draft: commentary, and for the management review
    input the adequacy of resources and the opportunities for improvement."""

    MANAGEMENT_ONLY = ("resources_assessment", "opportunities")

    class Meta:
        model = ReviewPack
        fields = ["commentary", "resources_assessment", "opportunities"]
        widgets = {
            "commentary": forms.Textarea(attrs={"rows": 4}),
            "resources_assessment": forms.Textarea(attrs={"rows": 3}),
            "opportunities": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.kind != PackKind.MANAGEMENT:
            for name in self.MANAGEMENT_ONLY:
                self.fields.pop(name)


# --------------------------------------------------------------------------------------
# Meetings
# --------------------------------------------------------------------------------------


class PackChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} ({obj.get_status_display().lower()})"


class ReviewMeetingForm(BootstrapMixin, forms.ModelForm):
    """A meeting planned or held: who, when, which period and pack. The minutes have
    their own form on the meeting's page."""

    pack = PackChoiceField(
        label="Pack reviewed",
        queryset=ReviewPack.objects.none(),
        required=False,
    )

    class Meta:
        model = ReviewMeeting
        fields = [
            "series",
            "held_on",
            "period_start",
            "period_end",
            "pack",
            "chair",
            "attendees",
            "other_attendees",
        ]
        widgets = {
            "held_on": DATE,
            "period_start": DATE,
            "period_end": DATE,
        }
        help_texts = {
            "attendees": "People with a Harken account. Hold Ctrl (⌘ on a Mac) to pick several.",
            "other_attendees": "Anyone else present, by name and role.",
            "chair": "Only the chair approves the minutes.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["series"].queryset = ReviewSeries.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["pack"].queryset = ReviewPack.objects.order_by("-period_end", "-revision")  # type: ignore[attr-defined]
        self.fields["chair"].queryset = people()  # type: ignore[attr-defined]
        self.fields["attendees"].queryset = people()  # type: ignore[attr-defined]
        self.fields["attendees"].widget.attrs["size"] = 6

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            self.add_error("period_end", "The period ends before it starts.")
        return data


class MinutesForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = ReviewMeeting
        fields = ["minutes", "follow_ups"]
        widgets = {
            "minutes": forms.Textarea(attrs={"rows": 8}),
            "follow_ups": forms.Textarea(attrs={"rows": 3}),
        }


class DecisionForm(BootstrapMixin, forms.Form):
    """One decision of a meeting and what it makes (`services.record_decision`): a
    disposition of a theme, a new action, an action closed, a target changed, or
    something else written down."""

    kind = forms.ChoiceField(label="Kind of decision", choices=DecisionKind.choices)
    text = forms.CharField(
        label="The decision, as minuted",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # A disposition of a theme.
    theme = forms.ModelChoiceField(label="Theme", queryset=Theme.objects.none(), required=False)
    decision = forms.ChoiceField(
        label="Disposition",
        choices=[("", "---------"), *DispositionDecision.choices],
        required=False,
    )
    rationale = forms.CharField(
        label="Rationale",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Leave empty to use the decision's words.",
    )
    # An action opened.
    action_kind = forms.ChoiceField(
        label="Action kind",
        choices=[("", "---------"), *ActionKind.choices],
        required=False,
    )
    title = forms.CharField(label="Action title", max_length=200, required=False)
    problem_statement = forms.CharField(
        label="Problem statement",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Cite the figures of the pack that led to the action.",
    )
    owner = forms.ModelChoiceField(label="Owner", queryset=people().none(), required=False)
    due_date = forms.DateField(label="Due date", widget=DATE, required=False)
    # An action closed.
    action = forms.ModelChoiceField(
        label="Action to close",
        queryset=Action.objects.none(),
        required=False,
        help_text="Actions whose effectiveness is being verified; the confirmed verdict "
        "decides how each closes.",
    )
    # A target changed.
    objective = forms.ModelChoiceField(
        label="Quality objective",
        queryset=QualityObjective.objects.none(),
        required=False,
    )

    # The fields each kind asks for, in the order the page shows them.
    FIELDS_OF: dict[str, tuple[str, ...]] = {
        DecisionKind.DISPOSITION: ("theme", "decision", "rationale"),
        DecisionKind.ACTION_OPENED: (
            "action_kind",
            "title",
            "problem_statement",
            "owner",
            "due_date",
        ),
        DecisionKind.ACTION_CLOSED: ("action",),
        DecisionKind.TARGET_CHANGED: ("objective",),
        DecisionKind.OTHER: (),
    }
    REQUIRED_OF: dict[str, tuple[str, ...]] = {
        DecisionKind.DISPOSITION: ("theme", "decision"),
        DecisionKind.ACTION_OPENED: (
            "action_kind",
            "title",
            "problem_statement",
            "owner",
            "due_date",
        ),
        DecisionKind.ACTION_CLOSED: ("action",),
        DecisionKind.TARGET_CHANGED: ("objective",),
        DecisionKind.OTHER: (),
    }
    # The service names the action's kind `kind`; on this form that is `action_kind`.
    ACTION_ALIASES = {"kind": "action_kind"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = Theme.objects.filter(active=True).order_by("number")  # type: ignore[attr-defined]
        self.fields["owner"].queryset = people()  # type: ignore[attr-defined]
        self.fields["action"].queryset = Action.objects.filter(  # type: ignore[attr-defined]
            status=ActionStatus.VERIFYING
        ).order_by("number")
        self.fields["objective"].queryset = QualityObjective.objects.filter(  # type: ignore[attr-defined]
            active=True
        ).order_by("name")

    @classmethod
    def initial_for(cls, user: Any, today: dt.date) -> dict[str, Any]:
        return {
            "kind": DecisionKind.ACTION_OPENED,
            "action_kind": ActionKind.CORRECTIVE,
            "owner": user.pk,
            "due_date": today + dt.timedelta(days=ACTION_DUE_DAYS),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        for name in self.REQUIRED_OF.get(kind or "", ()):
            if not data.get(name) and name not in self.errors:
                label = self.fields[name].label or name
                self.add_error(name, f"{label} is needed for this kind of decision.")
        return data

    def groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(kind, label, fields) for the page: each kind's fields in a fieldset."""
        return [
            (kind, str(DecisionKind(kind).label), [self[name] for name in names])
            for kind, names in self.FIELDS_OF.items()
            if names
        ]

    def service_kwargs(self) -> dict[str, Any]:
        """The arguments of `services.record_decision` for the chosen kind."""
        data = self.cleaned_data
        kind = data["kind"]
        kwargs: dict[str, Any] = {"kind": kind, "text": data["text"]}
        if kind == DecisionKind.DISPOSITION:
            kwargs.update(
                theme=data["theme"], decision=data["decision"], rationale=data["rationale"]
            )
        elif kind == DecisionKind.ACTION_OPENED:
            kwargs["action_fields"] = {
                "kind": data["action_kind"],
                "title": data["title"],
                "problem_statement": data["problem_statement"],
                "owner": data["owner"],
                "due_date": data["due_date"],
            }
        elif kind == DecisionKind.ACTION_CLOSED:
            kwargs["action"] = data["action"]
        elif kind == DecisionKind.TARGET_CHANGED:
            kwargs["objective"] = data["objective"]
        return kwargs

    def aliases(self) -> dict[str, str]:
        return (
            self.ACTION_ALIASES
            if self.cleaned_data.get("kind") == DecisionKind.ACTION_OPENED
            else {}
        )
