"""Filters of the property register, the custody log, incidents and inventory checks,
shared by the pages and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from . import services
from .choices import (
    Confidentiality,
    CustodyKind,
    IncidentKind,
    IncidentStatus,
    PropertyKind,
    PropertyStatus,
    Severity,
)
from .models import CustodyEvent, InventoryCheck, PropertyIncident, PropertyItem

ATTENTION = (
    ("overdue", "Overdue for return or destruction"),
    ("check", "Due for a check"),
    ("retention", "Past retention"),
)
YES_NO = (("yes", "Yes"), ("no", "No"))
DATE = forms.DateInput(attrs={"type": "date"})


def as_id(value: str) -> int | None:
    value = value.strip()
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def customer_q(value: str, prefix: str = "customer") -> Q:
    """A customer typed as its id, number or part of its name."""
    value = value.strip()
    customer_id = as_id(value)
    if customer_id is not None:
        return Q(**{f"{prefix}_id": customer_id})
    return Q(**{f"{prefix}__number__iexact": value}) | Q(**{f"{prefix}__name__icontains": value})


class PropertyItemFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="search",
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text="Number, name, identifier, order or location.",
    )
    customer = django_filters.CharFilter(
        label="Customer", method="for_customer", help_text="Customer number or name (or its id)."
    )
    kind = django_filters.MultipleChoiceFilter(choices=PropertyKind.choices)
    status = django_filters.MultipleChoiceFilter(choices=PropertyStatus.choices)
    confidentiality = django_filters.MultipleChoiceFilter(choices=Confidentiality.choices)
    location = django_filters.CharFilter(
        label="Location", method="at_location", help_text="Where it is now, or its home."
    )
    attention = django_filters.ChoiceFilter(
        label="Needs attention", choices=ATTENTION, empty_label="Any", method="needs_attention"
    )
    order = django_filters.CharFilter(
        label="Order", field_name="order__number", lookup_expr="iexact", help_text="ORD-…"
    )

    class Meta:
        model = PropertyItem
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(
            Q(number__iexact=value)
            | Q(name__icontains=value)
            | Q(identifiers__icontains=value)
            | Q(order_reference__icontains=value)
            | Q(order__number__iexact=value)
            | Q(location__icontains=value)
        )

    def for_customer(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(customer_q(value))

    def at_location(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(location__icontains=value) | Q(storage_location__icontains=value))

    def needs_attention(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        now = timezone.now()
        today = timezone.localdate(now)
        wanted = {
            "overdue": services.overdue_end(today),
            "check": services.check_due(now),
            "retention": services.past_retention(today),
        }[value]
        return queryset.filter(pk__in=wanted.values("pk"))


class CustodyEventFilterSet(django_filters.FilterSet):
    item = django_filters.CharFilter(
        label="Item", method="for_item", help_text="Item number (PRP-…) or its id."
    )
    customer = django_filters.CharFilter(label="Customer", method="for_customer")
    kind = django_filters.MultipleChoiceFilter(label="Event", choices=CustodyKind.choices)
    occurred_from = django_filters.DateFilter(label="From", method="on_or_after", widget=DATE)
    occurred_to = django_filters.DateFilter(label="To", method="on_or_before", widget=DATE)

    class Meta:
        model = CustodyEvent
        fields: list[str] = []

    def for_item(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        item_id = as_id(value)
        if item_id is not None:
            return queryset.filter(item_id=item_id)
        return queryset.filter(item__number__iexact=value.strip())

    def for_customer(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(customer_q(value, "item__customer"))

    def on_or_after(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(occurred_at__gte=start_of_day(value))

    def on_or_before(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(occurred_at__lt=start_of_day(value + dt.timedelta(days=1)))


def start_of_day(day: dt.date) -> dt.datetime:
    day = min(max(day, dt.date(1900, 1, 1)), dt.date(9000, 1, 1))
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


class PropertyIncidentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="search",
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text="Incident or item number, or words of what happened.",
    )
    customer = django_filters.CharFilter(label="Customer", method="for_customer")
    kind = django_filters.MultipleChoiceFilter(choices=IncidentKind.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices)
    notified = django_filters.ChoiceFilter(
        label="Customer told", choices=YES_NO, empty_label="Either", method="is_notified"
    )
    late = django_filters.ChoiceFilter(
        label="Notification", choices=(("1", "Late"),), empty_label="Any", method="is_late"
    )

    class Meta:
        model = PropertyIncident
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(
            Q(number__iexact=value)
            | Q(item__number__iexact=value)
            | Q(what_happened__icontains=value)
        )

    def for_customer(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(customer_q(value, "item__customer"))

    def is_notified(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(notification__isnull=value != "yes")

    def is_late(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(notification__isnull=True, notify_by__lt=timezone.now())


class InventoryCheckFilterSet(django_filters.FilterSet):
    location = django_filters.CharFilter(lookup_expr="icontains")
    customer = django_filters.CharFilter(label="Customer", method="for_customer")

    class Meta:
        model = InventoryCheck
        fields: list[str] = []

    def for_customer(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(customer_q(value))
