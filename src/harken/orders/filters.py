"""Filters shared by the order pages and the API."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.utils import timezone

from harken.core.choices import Role
from harken.core.filters import IsoDateTimeFilter
from harken.customers.models import ProductLine
from harken.documents.filters import by_customer_ref

from .choices import (
    OPEN_CHANGE_STATES,
    OPEN_ENQUIRY_STATES,
    AcceptanceKind,
    ChangeOrigin,
    ChangeStatus,
    EnquiryStatus,
    EscalationStatus,
    EventType,
    NoticeStatus,
    OfferStatus,
    OrderStatus,
    ReviewKind,
    ReviewOutcome,
    ReviewStatus,
    Severity,
)
from .models import (
    ChangeRequest,
    Enquiry,
    Escalation,
    EscalationRule,
    IntakeProfile,
    Notice,
    Offer,
    Order,
    RequirementReview,
    ReviewQuestion,
)


def people():
    return get_user_model().objects.filter(is_active=True)


class EnquiryFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    customer = django_filters.CharFilter(label="Customer (id or number)", method=by_customer_ref)
    status = django_filters.MultipleChoiceFilter(choices=EnquiryStatus.choices)
    product_line = django_filters.ModelChoiceFilter(queryset=ProductLine.objects.all())
    owner = django_filters.ModelChoiceFilter(queryset=people(), label="Handled by")
    open = django_filters.BooleanFilter(label="Open", method="open_only")
    overdue = django_filters.BooleanFilter(label="First response overdue", method="overdue_only")
    customer_property = django_filters.BooleanFilter(label="Customer property involved")
    after = IsoDateTimeFilter(field_name="received_at", lookup_expr="gte", label="Received from")
    before = IsoDateTimeFilter(field_name="received_at", lookup_expr="lt", label="Received before")

    class Meta:
        model = Enquiry
        fields = [
            "q",
            "customer",
            "status",
            "product_line",
            "owner",
            "open",
            "overdue",
            "customer_property",
            "after",
            "before",
        ]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__iexact=value)
            | Q(customer_reference__iexact=value)
            | Q(requested_scope__icontains=value)
        )

    def open_only(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(status__in=OPEN_ENQUIRY_STATES)
        return queryset.exclude(status__in=OPEN_ENQUIRY_STATES)

    def overdue_only(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            status__in=OPEN_ENQUIRY_STATES,
            first_responded_at__isnull=True,
            first_response_due__lt=timezone.now(),
        )


class RequirementReviewFilterSet(django_filters.FilterSet):
    enquiry = django_filters.CharFilter(field_name="enquiry__number", lookup_expr="iexact")
    kind = django_filters.ChoiceFilter(choices=ReviewKind.choices)
    status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)
    outcome = django_filters.MultipleChoiceFilter(choices=ReviewOutcome.choices)
    reviewer = django_filters.ModelChoiceFilter(queryset=people())

    class Meta:
        model = RequirementReview
        fields = ["enquiry", "kind", "status", "outcome", "reviewer"]


class OfferFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    customer = django_filters.CharFilter(label="Customer (id or number)", method="by_customer")
    status = django_filters.MultipleChoiceFilter(choices=OfferStatus.choices)

    class Meta:
        model = Offer
        fields = ["q", "customer", "status", "enquiry"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__iexact=value) | Q(enquiry__number__iexact=value) | Q(scope__icontains=value)
        )

    def by_customer(self, queryset, name, value):
        return by_customer_ref(queryset, "enquiry__customer", value)


class OrderFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    customer = django_filters.CharFilter(label="Customer (id or number)", method=by_customer_ref)
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    acceptance_kind = django_filters.ChoiceFilter(choices=AcceptanceKind.choices)
    customer_property = django_filters.BooleanFilter(label="Customer property involved")
    differs_from_offer = django_filters.BooleanFilter(label="Differs from the offer")
    after = IsoDateTimeFilter(
        field_name="acceptance_received_at", lookup_expr="gte", label="Received from"
    )
    before = IsoDateTimeFilter(
        field_name="acceptance_received_at", lookup_expr="lt", label="Received before"
    )

    class Meta:
        model = Order
        fields = [
            "q",
            "customer",
            "status",
            "acceptance_kind",
            "customer_property",
            "differs_from_offer",
            "after",
            "before",
        ]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(number__iexact=value)
            | Q(customer_reference__iexact=value)
            | Q(enquiry__number__iexact=value)
            | Q(scope__icontains=value)
        )


class ChangeRequestFilterSet(django_filters.FilterSet):
    order = django_filters.CharFilter(field_name="order__number", lookup_expr="iexact")
    customer = django_filters.CharFilter(label="Customer (id or number)", method="by_customer")
    origin = django_filters.ChoiceFilter(choices=ChangeOrigin.choices)
    status = django_filters.MultipleChoiceFilter(choices=ChangeStatus.choices)
    overdue = django_filters.BooleanFilter(label="Past its confirmation target", method="late")

    class Meta:
        model = ChangeRequest
        fields = ["order", "customer", "origin", "status", "overdue"]

    def by_customer(self, queryset, name, value):
        return by_customer_ref(queryset, "order__customer", value)

    def late(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(status__in=OPEN_CHANGE_STATES, confirmation_due__lt=timezone.now())


class EscalationRuleFilterSet(django_filters.FilterSet):
    event_type = django_filters.MultipleChoiceFilter(choices=EventType.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    approver_role = django_filters.ChoiceFilter(choices=Role.choices)
    active = django_filters.BooleanFilter()

    class Meta:
        model = EscalationRule
        fields = ["event_type", "severity", "approver_role", "active"]


class EscalationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    customer = django_filters.CharFilter(label="Customer (id or number)", method=by_customer_ref)
    order = django_filters.CharFilter(field_name="order__number", lookup_expr="iexact")
    event_type = django_filters.MultipleChoiceFilter(choices=EventType.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    status = django_filters.MultipleChoiceFilter(choices=EscalationStatus.choices)
    breached = django_filters.BooleanFilter(label="Deadline missed", method="missed")

    class Meta:
        model = Escalation
        fields = ["q", "customer", "order", "event_type", "severity", "status", "breached"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__iexact=value) | Q(title__icontains=value))

    def missed(self, queryset, name, value):
        if value is None:
            return queryset
        late = Q(customer_impacting=True) & (
            Q(customer_told_at__isnull=True, notice_due__lt=timezone.now())
            | Q(customer_told_at__gt=F("notice_due"))
        )
        return queryset.filter(late) if value else queryset.exclude(late)


class NoticeFilterSet(django_filters.FilterSet):
    escalation = django_filters.CharFilter(field_name="escalation__number", lookup_expr="iexact")
    status = django_filters.MultipleChoiceFilter(choices=NoticeStatus.choices)

    class Meta:
        model = Notice
        fields = ["escalation", "status"]


class IntakeProfileFilterSet(django_filters.FilterSet):
    class Meta:
        model = IntakeProfile
        fields = ["product_line"]


class ReviewQuestionFilterSet(django_filters.FilterSet):
    class Meta:
        model = ReviewQuestion
        fields = ["product_line", "active"]
