"""Filters shared by the feedback pages and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from harken.customers.choices import Segment
from harken.customers.models import ProductLine, Region

from . import services
from .choices import (
    BatchStatus,
    Impact,
    ItemKind,
    ItemStatus,
    RuleKind,
    SentimentLabel,
    SourceKind,
)
from .models import Category, ClassificationRule, FeedbackItem, ImportBatch, PerceptionSource

YES_NO = (("yes", "Yes"), ("no", "No"))


# Dates outside these bounds change no answer, but would overflow in time zone arithmetic.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(9000, 1, 1)


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the company's time zone."""
    day = min(max(day, EARLIEST), LATEST)
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def as_id(value: str) -> int | None:
    """A record id typed or linked by a person, or None when it is not one."""
    value = value.strip()
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


class FeedbackItemFilterSet(django_filters.FilterSet):
    """What the feedback list, the home-page panel's links and the API filter by."""

    q = django_filters.CharFilter(
        label="Search",
        method="search",
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text="Number, complaint number, title or text.",
    )
    period = django_filters.NumberFilter(
        label="Received in the last … days", method="in_last_days", min_value=1, max_value=36500
    )
    received_from = django_filters.DateFilter(
        label="Received from",
        method="received_on_or_after",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_to = django_filters.DateFilter(
        label="Received to",
        method="received_on_or_before",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    kind = django_filters.MultipleChoiceFilter(choices=ItemKind.choices)
    status = django_filters.MultipleChoiceFilter(choices=ItemStatus.choices)
    overdue = django_filters.ChoiceFilter(
        label="Complaint targets",
        choices=(("1", "Past a target"),),
        empty_label="Any",
        method="past_target",
    )
    source = django_filters.ModelMultipleChoiceFilter(queryset=PerceptionSource.objects.all())
    category = django_filters.ModelMultipleChoiceFilter(queryset=Category.objects.all())
    confirmed = django_filters.ChoiceFilter(
        label="Classification confirmed",
        choices=YES_NO,
        empty_label="Either",
        method="is_confirmed",
    )
    impact = django_filters.MultipleChoiceFilter(choices=Impact.choices)
    sentiment_label = django_filters.MultipleChoiceFilter(
        label="Sentiment", choices=SentimentLabel.choices
    )
    # A text box rather than a select: there may be a million customers.
    customer = django_filters.CharFilter(
        label="Customer",
        method="for_customer",
        help_text="Customer number or name (or its id).",
    )
    product_line = django_filters.ModelMultipleChoiceFilter(
        label="Product line", queryset=ProductLine.objects.all()
    )
    region = django_filters.ModelMultipleChoiceFilter(queryset=Region.objects.all())
    segment = django_filters.MultipleChoiceFilter(
        label="Customer segment", field_name="customer__segment", choices=Segment.choices
    )
    import_batch = django_filters.CharFilter(
        label="Import batch", field_name="import_batch__number", lookup_expr="iexact"
    )

    class Meta:
        model = FeedbackItem
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(
            Q(number__iexact=value)
            | Q(complaint_number__iexact=value)
            | Q(title__icontains=value)
            | Q(text__icontains=value)
        )

    def in_last_days(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(received_at__gte=timezone.now() - dt.timedelta(days=int(value)))

    def received_on_or_after(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(received_at__gte=start_of_day(value))

    def received_on_or_before(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        # "To 31 March" includes the whole of that day in the company's zone.
        return queryset.filter(received_at__lt=start_of_day(min(value, LATEST) + dt.timedelta(1)))

    def past_target(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The home-page panel counts the same set; both leave closed complaints out.
        return queryset & services.overdue_complaints(open_only=True)

    def is_confirmed(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(classification_confirmed=value == "yes")

    def for_customer(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        customer_id = as_id(value)
        if customer_id is not None:
            return queryset.filter(customer_id=customer_id)
        return queryset.filter(
            Q(customer__number__iexact=value) | Q(customer__name__icontains=value)
        )


class PerceptionSourceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    kind = django_filters.MultipleChoiceFilter(choices=SourceKind.choices)

    class Meta:
        model = PerceptionSource
        fields = ["q", "kind", "structured", "in_scope", "active"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(name__icontains=value)
            | Q(collection_method__icontains=value)
            | Q(third_party__icontains=value)
        )


class ImportBatchFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    status = django_filters.MultipleChoiceFilter(choices=BatchStatus.choices)
    source = django_filters.ModelMultipleChoiceFilter(queryset=PerceptionSource.objects.all())

    class Meta:
        model = ImportBatch
        fields = ["q", "status", "source"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(
            Q(number__iexact=value)
            | Q(file__name__icontains=value)
            | Q(file__sha256__startswith=value.lower())
        )


class CategoryFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")

    class Meta:
        model = Category
        fields = ["q", "active"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value))


class ClassificationRuleFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    kind = django_filters.ChoiceFilter(choices=RuleKind.choices)

    class Meta:
        model = ClassificationRule
        fields = ["q", "category", "kind", "active"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(pattern__icontains=value)
