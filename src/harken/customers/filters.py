"""Filters shared by the customer pages and the API."""

import django_filters
from django.db.models import Q

from .choices import CustomerStatus, OfferingKind, Segment
from .models import Contact, Customer, ProductLine, Region


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    segment = django_filters.MultipleChoiceFilter(choices=Segment.choices)
    status = django_filters.MultipleChoiceFilter(choices=CustomerStatus.choices)
    region = django_filters.ModelMultipleChoiceFilter(queryset=Region.objects.all())
    product_line = django_filters.ModelChoiceFilter(
        field_name="product_lines", queryset=ProductLine.objects.all(), label="Product line"
    )

    class Meta:
        model = Customer
        fields = ["q", "segment", "status", "region", "product_line", "account_owner"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(number__iexact=value) | Q(external_ref__iexact=value)
        )


class ContactFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")

    class Meta:
        model = Contact
        fields = ["q", "customer", "active", "is_primary"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value))


class ProductLineFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OfferingKind.choices)

    class Meta:
        model = ProductLine
        fields = ["kind", "active"]


class RegionFilterSet(django_filters.FilterSet):
    class Meta:
        model = Region
        fields = ["code"]
