"""Filters of the audit trail, shared by its page and its API endpoint, and the date-time
filter every list uses."""

import datetime as dt
from typing import Any

import django_filters
from django_filters.fields import IsoDateTimeField

from .choices import ActorType
from .models import AuditEvent


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, as the same moment in UTC.

    Python accepts offsets up to ±23:59 but PostgreSQL only to ±15:59, so a value such as
    `2026-01-05T10:00+16:30` would fail the query instead of finding records.
    """

    def to_python(self, value: Any) -> Any:
        moment = super().to_python(value)
        if isinstance(moment, dt.datetime) and moment.tzinfo is not None:
            return moment.astimezone(dt.UTC)
        return moment


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """django-filter's ISO 8601 filter, comparing in UTC (see UtcIsoDateTimeField)."""

    field_class = UtcIsoDateTimeField


class AuditEventFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    action = django_filters.CharFilter(lookup_expr="istartswith", label="Action starts with")
    actor_label = django_filters.CharFilter(lookup_expr="iexact", label="Actor")
    actor_type = django_filters.ChoiceFilter(choices=ActorType.choices, label="Actor type")
    object_type = django_filters.CharFilter(lookup_expr="iexact", label="Object type")
    object_id = django_filters.CharFilter(label="Object id")
    at_after = IsoDateTimeFilter(field_name="at", lookup_expr="gte", label="From")
    at_before = IsoDateTimeFilter(field_name="at", lookup_expr="lt", label="Before")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor_label", "actor_type", "object_type", "object_id"]

    def search(self, queryset, name, value):
        return queryset.filter(object_label__icontains=value)
