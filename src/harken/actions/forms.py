"""Forms of the action pages. Forms check types and shapes; `services` decides and records,
and its ValidationErrors are put back on the fields they name (`service_errors`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from harken.core.forms import BootstrapMixin
from harken.customers.choices import Segment
from harken.customers.models import ProductLine
from harken.feedback.models import Category, FeedbackItem, PerceptionSource
from harken.insights.models import Signal

from .choices import (
    FISHBONE_CATEGORIES,
    ActionKind,
    CheckMetric,
    DispositionDecision,
    Priority,
    RootCauseMethod,
    TargetKind,
    Verdict,
)
from .models import Action, DecisionRule, Theme

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# A pasted list of numbers longer than this is a mistake, not evidence.
MAX_NUMBERS = 5000
WHY_FIELDS = 7


def users() -> QuerySet:
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


class FeedbackNumbersField(forms.CharField):
    """Feedback items typed or pasted by number (`FB-…` or a complaint's `CMP-…`)."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "CMP-2026-0042, FB-2026-0107"})

    def clean(self, value: Any) -> list[FeedbackItem]:
        text = super().clean(value) or ""
        numbers = list(dict.fromkeys(t.upper() for t in re.split(r"[\s,;]+", text) if t))
        if not numbers:
            return []
        if len(numbers) > MAX_NUMBERS:
            raise ValidationError(f"At most {MAX_NUMBERS:,} numbers at a time.")
        found = list(
            FeedbackItem.objects.filter(Q(number__in=numbers) | Q(complaint_number__in=numbers))
        )
        known = {i.number for i in found} | {i.complaint_number for i in found}
        missing = [n for n in numbers if n not in known]
        if missing:
            shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
            raise ValidationError(f"No feedback item has the number {shown}.")
        return found


# --------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------


class ActionForm(BootstrapMixin, forms.Form):
    """A new action; `services.open_action` opens it with the evidence cited."""

    kind = forms.ChoiceField(choices=ActionKind.choices)
    title = forms.CharField(max_length=200)
    problem_statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What is wrong, where, since when and how often, citing the feedback.",
    )
    owner = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    approver = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False)
    due_date = forms.DateField(widget=DATE)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.MEDIUM)
    origin = forms.CharField(
        max_length=200,
        required=False,
        help_text="Where it came from: a signal, a theme, a review meeting, an audit…",
    )
    evidence = FeedbackNumbersField(
        label="Feedback items cited",
        required=False,
        help_text="Numbers of feedback items or complaints, separated by spaces, commas or "
        "new lines.",
    )
    cite_records = forms.BooleanField(
        label="Also cite the feedback behind the linked signals and themes",
        required=False,
        initial=True,
    )
    signals = forms.ModelMultipleChoiceField(
        queryset=Signal.objects.all(), required=False, widget=forms.MultipleHiddenInput
    )
    themes = forms.ModelMultipleChoiceField(
        queryset=Theme.objects.all(), required=False, widget=forms.MultipleHiddenInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = users()  # type: ignore[attr-defined]
        self.fields["approver"].queryset = users()  # type: ignore[attr-defined]


class ActionEditForm(BootstrapMixin, forms.ModelForm):
    """The plain facts of an action (its analysis and check have their own forms)."""

    class Meta:
        model = Action
        fields = [
            "kind",
            "title",
            "problem_statement",
            "owner",
            "approver",
            "due_date",
            "priority",
            "origin",
            "containment",
        ]
        widgets = {
            "problem_statement": forms.Textarea(attrs={"rows": 6}),
            "containment": forms.Textarea(attrs={"rows": 3}),
            "due_date": DATE,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = users()  # type: ignore[attr-defined]
        self.fields["approver"].queryset = users()  # type: ignore[attr-defined]


class ContainmentForm(BootstrapMixin, forms.ModelForm):
    """What was done at once to protect customers while the cause is sought."""

    class Meta:
        model = Action
        fields = ["containment"]
        widgets = {"containment": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "containment": "What was done at once to protect customers (sorting stock, "
            "express shipping, a workaround…)."
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["containment"].required = True


def fishbone_field(category: str) -> str:
    return f"fishbone_{category.lower()}"


class RootCauseForm(BootstrapMixin, forms.Form):
    """The analysis: a chain of whys, fishbone causes by branch, and its conclusion."""

    root_cause_method = forms.ChoiceField(
        label="Method", choices=RootCauseMethod.choices, widget=forms.RadioSelect
    )
    root_cause = forms.CharField(
        label="Root cause",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The cause the analysis arrived at: the one that, removed, stops recurrence.",
    )
    root_cause_file = forms.FileField(
        label="Analysis file",
        required=False,
        help_text="Optional: the analysis as a document or picture (a fishbone drawn on a "
        "whiteboard, an 8D report), up to 50 MB. A new file replaces the one shown; the old "
        "one stays in the record's history.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index in range(1, WHY_FIELDS + 1):
            self.fields[f"why_{index}"] = forms.CharField(
                label=f"Why {index}",
                required=False,
                max_length=500,
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )
        for category in FISHBONE_CATEGORIES:
            self.fields[fishbone_field(category)] = forms.CharField(
                label=category,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
                help_text="One cause per line.",
            )
        # The radio buttons are drawn by the template; Bootstrap's select class is wrong here.
        self.fields["root_cause_method"].widget.attrs["class"] = "form-check-input"
        self.order_fields(["root_cause_method"])

    @classmethod
    def initial_for(cls, action: Action) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "root_cause_method": action.root_cause_method or RootCauseMethod.FIVE_WHYS,
            "root_cause": action.root_cause,
        }
        whys = action.whys if isinstance(action.whys, list) else []
        for index, why in enumerate(whys[:WHY_FIELDS], start=1):
            initial[f"why_{index}"] = why
        fishbone = action.fishbone if isinstance(action.fishbone, dict) else {}
        for category, causes in fishbone.items():
            initial[fishbone_field(category)] = "\n".join(causes)
        return initial

    def why_fields(self) -> list[forms.BoundField]:
        return [self[f"why_{index}"] for index in range(1, WHY_FIELDS + 1)]

    def fishbone_fields(self) -> list[forms.BoundField]:
        return [self[fishbone_field(category)] for category in FISHBONE_CATEGORIES]

    def whys(self) -> list[str]:
        return [
            self.cleaned_data.get(f"why_{index}", "") or "" for index in range(1, WHY_FIELDS + 1)
        ]

    def fishbone(self) -> dict[str, list[str]]:
        return {
            category: (self.cleaned_data.get(fishbone_field(category)) or "").splitlines()
            for category in FISHBONE_CATEGORIES
        }

    # The service names the chain and the diagram as a whole; the form shows it on
    # their first input.
    ALIASES = {"whys": "why_1", "fishbone": fishbone_field(FISHBONE_CATEGORIES[0])}


class StepForm(BootstrapMixin, forms.Form):
    description = forms.CharField(label="Step", max_length=500)
    owner = forms.ModelChoiceField(label="Who", queryset=get_user_model().objects.none())
    due_date = forms.DateField(label="Due", widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = users()  # type: ignore[attr-defined]


class StepDoneForm(BootstrapMixin, forms.Form):
    outcome = forms.CharField(label="Outcome", required=False, max_length=2000)


class CheckForm(BootstrapMixin, forms.Form):
    """How success will be seen in the perception data (`services.define_check`)."""

    metric = forms.ChoiceField(choices=CheckMetric.choices)
    categories = forms.ModelMultipleChoiceField(queryset=Category.objects.none(), required=False)
    product_lines = forms.ModelMultipleChoiceField(
        label="Product lines", queryset=ProductLine.objects.none(), required=False
    )
    segments = forms.MultipleChoiceField(
        label="Customer segments", choices=Segment.choices, required=False
    )
    sources = forms.ModelMultipleChoiceField(
        label="Sources", queryset=PerceptionSource.objects.none(), required=False
    )
    baseline_from = forms.DateField(label="Baseline from", widget=DATE)
    baseline_to = forms.DateField(label="Baseline to", widget=DATE)
    evaluation_from = forms.DateField(label="Evaluation from", widget=DATE)
    evaluation_to = forms.DateField(label="Evaluation to", widget=DATE)
    target_kind = forms.ChoiceField(label="Target", choices=TargetKind.choices)
    target_value = forms.FloatField(
        label="Target value",
        required=False,
        help_text="A percentage for relative targets; the metric's own unit otherwise. "
        "Leave empty for no recurrence.",
    )

    SCOPE_FIELDS = ("categories", "product_lines", "segments", "sources")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["categories"].queryset = Category.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["product_lines"].queryset = ProductLine.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["sources"].queryset = PerceptionSource.objects.order_by("name")  # type: ignore[attr-defined]
        for name in self.SCOPE_FIELDS:
            self.fields[name].widget.attrs["size"] = 4

    def scope(self) -> dict[str, list[Any]]:
        """The scope as the check stores it: ids (and segment codes), empty ones left out."""
        scope: dict[str, list[Any]] = {}
        for name in self.SCOPE_FIELDS:
            values = self.cleaned_data.get(name) or []
            if values:
                scope[name] = sorted(v if isinstance(v, str) else v.pk for v in values)
        return scope

    @staticmethod
    def initial_from_scope(scope: Mapping[str, Any]) -> dict[str, Any]:
        return {name: list(scope.get(name) or []) for name in CheckForm.SCOPE_FIELDS}


class VerdictForm(BootstrapMixin, forms.Form):
    verdict = forms.ChoiceField(label="Confirmed verdict", choices=Verdict.choices)
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required in practice when you override the proposal: say why.",
    )


# --------------------------------------------------------------------------------------
# Themes
# --------------------------------------------------------------------------------------


class ThemeForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Theme
        fields = ["title", "description", "category", "product_line", "segment", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class DispositionForm(BootstrapMixin, forms.Form):
    """A new decision about a theme; `services.dispose` records it beside the old ones."""

    decision = forms.ChoiceField(choices=DispositionDecision.choices)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    decided_on = forms.DateField(label="Decided on", widget=DATE, required=False)
    decided_in = forms.CharField(
        label="Decided in",
        max_length=200,
        required=False,
        help_text="The meeting or review, if any.",
    )
    review_by = forms.DateField(label="Review the decision by", widget=DATE, required=False)


class LinkItemsForm(BootstrapMixin, forms.Form):
    numbers = FeedbackNumbersField(
        label="Feedback numbers",
        help_text="Numbers of feedback items or complaints, separated by spaces, commas or "
        "new lines.",
    )


class CandidateForm(forms.Form):
    """One candidate of `services.theme_candidates`, posted back to become a theme."""

    category = forms.ModelChoiceField(queryset=Category.objects.all())
    product_line = forms.ModelChoiceField(queryset=ProductLine.objects.all(), required=False)
    days = forms.IntegerField(min_value=1, max_value=3650)


# --------------------------------------------------------------------------------------
# Proposals and rules
# --------------------------------------------------------------------------------------


class ProposalAcceptForm(BootstrapMixin, forms.Form):
    owner = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    due_date = forms.DateField(label="Due date", widget=DATE)
    title = forms.CharField(
        label="Title", max_length=200, required=False, help_text="Leave empty to keep it."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = users()  # type: ignore[attr-defined]


class ProposalRejectForm(BootstrapMixin, forms.Form):
    rejection_reason = forms.CharField(
        label="Why is it rejected?", widget=forms.Textarea(attrs={"rows": 2})
    )


class DecisionRuleForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = DecisionRule
        fields = ["name", "condition", "proposes", "threshold", "window_days", "active"]
        help_texts = {
            "threshold": "Used by the recurring-complaints condition.",
            "window_days": "How far back the rule looks.",
        }


def default_due(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=30)
