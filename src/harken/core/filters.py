"""Filters of the audit trail, shared by its page and its API endpoint."""

import django_filters

from .choices import ActorType
from .models import AuditEvent


class AuditEventFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    action = django_filters.CharFilter(lookup_expr="istartswith", label="Action starts with")
    actor_label = django_filters.CharFilter(lookup_expr="iexact", label="Actor")
    actor_type = django_filters.ChoiceFilter(choices=ActorType.choices, label="Actor type")
    object_type = django_filters.CharFilter(lookup_expr="iexact", label="Object type")
    object_id = django_filters.CharFilter(label="Object id")
    at_after = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte", label="From")
    at_before = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt", label="Before")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor_label", "actor_type", "object_type", "object_id"]

    def search(self, queryset, name, value):
        return queryset.filter(object_label__icontains=value)
