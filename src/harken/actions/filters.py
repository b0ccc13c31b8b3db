"""Filters of the action board and table, themes, proposals and decision rules.

One FilterSet per list, written so the API's viewsets can use the same one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from harken.core.forms import BootstrapMixin
from harken.customers.models import ProductLine
from harken.feedback.models import Category

from .choices import (
    OPEN_ACTION_STATES,
    ActionKind,
    ActionStatus,
    DispositionDecision,
    Priority,
    ProposalStatus,
    RuleCondition,
)
from .models import Action, DecisionRule, Disposition, Proposal, Theme

NO_DISPOSITION = "none"


class FilterForm(BootstrapMixin, forms.Form):
    """Filter forms styled like the other forms, with short multi-selects."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.SelectMultiple):
                # Model choices would cost a count query to measure; four rows do.
                choices = getattr(field, "choices", None)
                field.widget.attrs["size"] = (
                    min(4, len(choices)) if isinstance(choices, list) else 4
                )
                field.widget.attrs["class"] += " form-select-sm"
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] += " form-select-sm"
            else:
                field.widget.attrs["class"] += " form-control-sm"


def overdue_q(today: dt.date) -> Q:
    """Open actions past their due date: the board's red dates and the `overdue` filter."""
    return Q(status__in=OPEN_ACTION_STATES, due_date__lt=today)


class ActionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="search",
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text="Number or words of the title.",
    )
    status = django_filters.MultipleChoiceFilter(label="State", choices=ActionStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=ActionKind.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    owner = django_filters.ModelMultipleChoiceFilter(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username")
    )
    due_before = django_filters.DateFilter(
        label="Due on or before",
        field_name="due_date",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    overdue = django_filters.ChoiceFilter(
        label="Overdue",
        choices=(("1", "Overdue only"),),
        empty_label="Any",
        method="only_overdue",
    )

    class Meta:
        model = Action
        form = FilterForm
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(number__iexact=value) | Q(title__icontains=value))

    def only_overdue(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(overdue_q(timezone.localdate()))


class ThemeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    category = django_filters.ModelMultipleChoiceFilter(queryset=Category.objects.order_by("name"))
    product_line = django_filters.ModelMultipleChoiceFilter(
        label="Product line", queryset=ProductLine.objects.order_by("name")
    )
    disposition = django_filters.ChoiceFilter(
        label="Current disposition",
        choices=((NO_DISPOSITION, "No disposition"), *DispositionDecision.choices),
        empty_label="Any",
        method="by_disposition",
    )

    class Meta:
        model = Theme
        form = FilterForm
        fields = ["q", "category", "product_line", "disposition", "active"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(number__iexact=value) | Q(title__icontains=value))

    def by_disposition(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == NO_DISPOSITION:
            return queryset.exclude(Exists(Disposition.objects.filter(theme=OuterRef("pk"))))
        # The list annotates the current decision (views.ThemeListView); the API may not.
        if "current_decision" in queryset.query.annotations:
            return queryset.filter(current_decision=value)
        return queryset.filter(dispositions__decision=value).distinct()


class ProposalFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", field_name="title", lookup_expr="icontains")
    status = django_filters.MultipleChoiceFilter(choices=ProposalStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=ActionKind.choices)
    rule = django_filters.ModelChoiceFilter(queryset=DecisionRule.objects.order_by("name"))

    class Meta:
        model = Proposal
        form = FilterForm
        fields = ["q", "status", "kind", "rule"]


class DecisionRuleFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", field_name="name", lookup_expr="icontains")
    condition = django_filters.MultipleChoiceFilter(choices=RuleCondition.choices)
    proposes = django_filters.MultipleChoiceFilter(choices=ActionKind.choices)

    class Meta:
        model = DecisionRule
        form = FilterForm
        fields = ["q", "condition", "proposes", "active"]
