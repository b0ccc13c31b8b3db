"""Filters shared by the survey pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from harken.core.filters import IsoDateTimeFilter

from .choices import (
    FollowUpStatus,
    InvitationStatus,
    OutcomeStatus,
    ResponseStatus,
    SurveyKind,
    SurveyStatus,
    Trigger,
)
from .models import Invitation, LoopCase, LoopRule, OptOut, Survey, SurveyResponse


class SurveyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    status = django_filters.MultipleChoiceFilter(choices=SurveyStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=SurveyKind.choices)
    trigger = django_filters.MultipleChoiceFilter(choices=Trigger.choices)

    class Meta:
        model = Survey
        fields = ["q", "status", "kind", "trigger", "source"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(number__iexact=value))


class InvitationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    status = django_filters.MultipleChoiceFilter(choices=InvitationStatus.choices)
    survey = django_filters.ModelChoiceFilter(queryset=Survey.objects.all())
    # Ids, not drop-downs: a list of every customer or contact would be enormous.
    customer = django_filters.NumberFilter(field_name="customer", label="Customer id")
    contact = django_filters.NumberFilter(field_name="contact", label="Contact id")
    sent_after = IsoDateTimeFilter(field_name="sent_at", lookup_expr="gte", label="Sent from")
    sent_before = IsoDateTimeFilter(field_name="sent_at", lookup_expr="lt", label="Sent before")

    class Meta:
        model = Invitation
        fields = ["q", "status", "survey", "customer", "contact"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(email__icontains=value) | Q(contact__name__icontains=value) | Q(trigger_ref=value)
        )


class SurveyResponseFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ResponseStatus.choices)
    survey = django_filters.ModelChoiceFilter(queryset=Survey.objects.all())
    customer = django_filters.NumberFilter(field_name="customer", label="Customer id")
    anonymous = django_filters.BooleanFilter(
        field_name="invitation", lookup_expr="isnull", label="Through the open link"
    )

    class Meta:
        model = SurveyResponse
        fields = ["status", "survey", "customer", "anonymous"]


class OptOutFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="email", lookup_expr="icontains", label="Search")

    class Meta:
        model = OptOut
        fields = ["q", "via"]


class LoopRuleFilterSet(django_filters.FilterSet):
    class Meta:
        model = LoopRule
        fields = ["active", "source"]


class LoopCaseFilterSet(django_filters.FilterSet):
    outcome_status = django_filters.MultipleChoiceFilter(choices=OutcomeStatus.choices)
    follow_up_status = django_filters.MultipleChoiceFilter(choices=FollowUpStatus.choices)

    class Meta:
        model = LoopCase
        fields = ["outcome_status", "follow_up_status", "rule"]
