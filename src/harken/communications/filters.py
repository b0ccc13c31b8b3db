"""Filters shared by the communication pages and the API."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q

from harken.core.filters import IsoDateTimeFilter
from harken.documents.filters import by_customer_ref

from .choices import Channel, CommunicationStatus, Direction, Phase
from .models import Communication, LifecycleStage, Mailbox, MailRun, Thread


class CommunicationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    customer = django_filters.CharFilter(label="Customer (id or number)", method=by_customer_ref)
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    status = django_filters.MultipleChoiceFilter(choices=CommunicationStatus.choices)
    phase = django_filters.ChoiceFilter(choices=Phase.choices, label="Lifecycle phase")
    staff = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.filter(is_active=True), label="Our staff member"
    )
    mailbox = django_filters.ModelChoiceFilter(queryset=Mailbox.objects.all())
    after = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte", label="From")
    before = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt", label="Before")

    class Meta:
        model = Communication
        fields = [
            "q",
            "customer",
            "channel",
            "direction",
            "status",
            "phase",
            "staff",
            "mailbox",
            "thread",
            "after",
            "before",
        ]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(subject__icontains=value)
            | Q(number__iexact=value)
            | Q(from_address__iexact=value)
            | Q(body__icontains=value)
        )


class ThreadFilterSet(django_filters.FilterSet):
    customer = django_filters.CharFilter(label="Customer (id or number)", method=by_customer_ref)

    class Meta:
        model = Thread
        fields = ["customer"]


class MailboxFilterSet(django_filters.FilterSet):
    class Meta:
        model = Mailbox
        fields = ["active"]


class MailRunFilterSet(django_filters.FilterSet):
    class Meta:
        model = MailRun
        fields = ["mailbox", "kind", "status"]


class LifecycleStageFilterSet(django_filters.FilterSet):
    class Meta:
        model = LifecycleStage
        fields = ["owner_role", "primary_channel"]
