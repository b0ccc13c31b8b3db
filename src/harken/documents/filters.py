"""Filters shared by the document pages and the API."""

import django_filters
from django.db.models import Q

from harken.core.choices import Role
from harken.core.filters import IsoDateTimeFilter

from .choices import DocumentKind, Occasion, VersionStatus
from .models import Acknowledgement, Distribution, Document, DocumentVersion


def by_customer_ref(queryset, name, value):
    """A customer given by id or by number (a select of a million customers would not do)."""
    value = (value or "").strip()
    if not value:
        return queryset
    if value.isdigit():
        return queryset.filter(**{f"{name}_id": int(value)})
    return queryset.filter(**{f"{name}__number__iexact": value})


class DocumentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    kind = django_filters.MultipleChoiceFilter(choices=DocumentKind.choices)
    owner_role = django_filters.ChoiceFilter(choices=Role.choices, label="Owner role")
    clause = django_filters.CharFilter(label="Clause", method="by_clause")

    class Meta:
        model = Document
        fields = ["q", "kind", "owner_role", "clause"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(number__iexact=value.strip()))

    def by_clause(self, queryset, name, value):
        # Clauses are stored as "8.2.1, 9.1.2": match whole entries, not "8.2" in "8.2.1".
        value = value.strip()
        return queryset.filter(
            Q(clauses=value)
            | Q(clauses__startswith=f"{value},")
            | Q(clauses__endswith=f", {value}")
            | Q(clauses__contains=f", {value},")
        )


class DocumentVersionFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=VersionStatus.choices)

    class Meta:
        model = DocumentVersion
        fields = ["document", "status", "is_current"]


class DistributionFilterSet(django_filters.FilterSet):
    customer = django_filters.CharFilter(label="Customer (id or number)", method=by_customer_ref)
    document = django_filters.ModelChoiceFilter(
        field_name="version__document", queryset=Document.objects.all(), label="Document"
    )
    version = django_filters.NumberFilter(field_name="version_id", label="Version id")
    occasion = django_filters.MultipleChoiceFilter(choices=Occasion.choices)
    after = IsoDateTimeFilter(field_name="distributed_at", lookup_expr="gte", label="From")
    before = IsoDateTimeFilter(field_name="distributed_at", lookup_expr="lt", label="Before")

    class Meta:
        model = Distribution
        fields = ["customer", "document", "version", "occasion", "after", "before"]


class AcknowledgementFilterSet(django_filters.FilterSet):
    document = django_filters.ModelChoiceFilter(
        field_name="version__document", queryset=Document.objects.all(), label="Document"
    )
    version = django_filters.NumberFilter(field_name="version_id", label="Version id")

    class Meta:
        model = Acknowledgement
        fields = ["document", "version", "user"]
