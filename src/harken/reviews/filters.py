"""Filters of the review series, pack and meeting lists, written so the API's viewsets
can use the same ones."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from harken.core.forms import BootstrapMixin

from .choices import Cadence, MeetingStatus, PackKind, PackStatus
from .models import ReviewMeeting, ReviewPack, ReviewSeries

DATE = forms.DateInput(attrs={"type": "date"})


def people() -> QuerySet:
    return get_user_model().objects.filter(is_active=True).order_by("username")


class FilterForm(BootstrapMixin, forms.Form):
    """Filter forms styled like the other forms, small, with short multi-selects."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.SelectMultiple):
                choices = getattr(field, "choices", None)
                widget.attrs["size"] = min(4, len(choices)) if isinstance(choices, list) else 4
                widget.attrs["class"] += " form-select-sm"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] += " form-select-sm"
            else:
                widget.attrs["class"] += " form-control-sm"


class ReviewSeriesFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        field_name="name",
        lookup_expr="icontains",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    kind = django_filters.MultipleChoiceFilter(label="Produces", choices=PackKind.choices)
    cadence = django_filters.MultipleChoiceFilter(choices=Cadence.choices)
    owner = django_filters.ModelChoiceFilter(queryset=people())
    active = django_filters.BooleanFilter(
        widget=forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])
    )

    class Meta:
        model = ReviewSeries
        fields = ["q", "kind", "cadence", "owner", "active"]
        form = FilterForm


class ReviewPackFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="search",
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text="The pack's number.",
    )
    status = django_filters.MultipleChoiceFilter(choices=PackStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=PackKind.choices)
    series = django_filters.ModelChoiceFilter(queryset=ReviewSeries.objects.order_by("name"))
    ends_after = django_filters.DateFilter(
        label="Period ends on or after",
        field_name="period_end",
        lookup_expr="gte",
        widget=DATE,
    )
    ends_before = django_filters.DateFilter(
        label="Period ends on or before",
        field_name="period_end",
        lookup_expr="lte",
        widget=DATE,
    )

    class Meta:
        model = ReviewPack
        fields: list[str] = []
        form = FilterForm

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(number__icontains=value.strip())


class ReviewMeetingFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        field_name="number",
        lookup_expr="icontains",
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text="The meeting's number.",
    )
    series = django_filters.ModelChoiceFilter(queryset=ReviewSeries.objects.order_by("name"))
    status = django_filters.MultipleChoiceFilter(choices=MeetingStatus.choices)
    chair = django_filters.ModelChoiceFilter(queryset=people())
    held_after = django_filters.DateFilter(
        label="Held on or after", field_name="held_on", lookup_expr="gte", widget=DATE
    )
    held_before = django_filters.DateFilter(
        label="Held on or before", field_name="held_on", lookup_expr="lte", widget=DATE
    )

    class Meta:
        model = ReviewMeeting
        fields: list[str] = []
        form = FilterForm
