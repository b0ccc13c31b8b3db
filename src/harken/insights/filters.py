"""Filters of the insights lists (signals, objectives, exposure), shared with the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from harken.customers.models import ProductLine, Region

from .choices import ExposureKind, Metric, SignalKind, SignalStatus
from .forms import MonthField
from .models import Exposure, QualityObjective, Signal


class MonthFilter(django_filters.Filter):
    field_class = MonthField


class ExposureFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=ExposureKind.choices)
    month_from = MonthFilter(label="From month", field_name="month", lookup_expr="gte")
    month_to = MonthFilter(label="To month", field_name="month", lookup_expr="lte")
    product_line = django_filters.ModelMultipleChoiceFilter(
        label="Product line", queryset=ProductLine.objects.order_by("name")
    )
    region = django_filters.ModelMultipleChoiceFilter(queryset=Region.objects.order_by("name"))
    scope = django_filters.ChoiceFilter(
        label="Figures",
        choices=(("total", "Company-wide only"), ("split", "Per line or region only")),
        empty_label="All",
        method="by_scope",
    )

    class Meta:
        model = Exposure
        fields = ["kind", "month_from", "month_to", "product_line", "region"]

    def by_scope(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        total = Q(product_line__isnull=True, region__isnull=True)
        return queryset.filter(total) if value == "total" else queryset.exclude(total)


class SignalFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    status = django_filters.MultipleChoiceFilter(choices=SignalStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=SignalKind.choices)
    metric = django_filters.MultipleChoiceFilter(choices=Metric.choices)

    class Meta:
        model = Signal
        fields = ["q", "status", "kind", "metric"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(number__iexact=value) | Q(title__icontains=value))


class QualityObjectiveFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", field_name="name", lookup_expr="icontains")
    metric = django_filters.MultipleChoiceFilter(choices=Metric.choices)

    class Meta:
        model = QualityObjective
        fields = ["q", "metric", "active", "frequency"]
