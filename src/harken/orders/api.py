"""Orders in the API: the same services as the pages, so the same guards.

Records are read with their serializers; every change is a POST to the collection (to
record) or to a named step of a record (`…/{id}/accept/`, `…/{id}/confirm/`), each
calling its service. Files (the customer's acceptance, a change confirmation, review
evidence) are sent as multipart form data.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from harken.api.base import ReadOnlyTrackedViewSet, TrackedViewSet, with_verb
from harken.communications.choices import Channel, Direction, Phase
from harken.communications.models import Communication
from harken.customers.models import Contact, Customer, ProductLine
from harken.documents.api import as_api_error
from harken.documents.models import DocumentVersion

from . import filters, services
from .choices import (
    AcceptanceKind,
    Answer,
    ChangeAspect,
    ChangeOrigin,
    EventType,
    IntakeField,
    ReviewOutcome,
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
    OrderVersion,
    RequirementReview,
    ReviewAnswer,
    ReviewQuestion,
)


class NumberField(serializers.SlugRelatedField):
    """A record named by its number (`COM-2026-0001`)."""

    def __init__(self, model: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(slug_field="number", queryset=model._default_manager.all(), **kwargs)


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a service; its refusals become the API's 400 (naming the field) or 403."""
    try:
        return fn(*args, **kwargs)
    except (DjangoValidationError, PermissionDenied) as exc:
        raise as_api_error(exc) from exc


def reason_of(request: Request, *names: str) -> str:
    data = request.data if hasattr(request.data, "get") else {}
    for name in (*names, "reason"):
        if data.get(name):
            return str(data[name])
    return ""


ReasonRequest = inline_serializer("OrdersReasonRequest", fields={"reason": serializers.CharField()})
EmptyRequest = inline_serializer("OrdersEmptyRequest", fields={})


# --------------------------------------------------------------------------------------
# Enquiries
# --------------------------------------------------------------------------------------

ENQUIRY_TEXT = [
    "customer_reference",
    "requested_scope",
    "requirements_stated",
    "requirements_implied",
    "requirements_statutory",
    "requirements_ours",
    "special_handling",
]


class EnquirySerializer(serializers.ModelSerializer):
    missing_intake = serializers.SerializerMethodField()

    class Meta:
        model = Enquiry
        fields = [
            "id",
            "number",
            "customer",
            "contact",
            "received_via",
            "received_at",
            *ENQUIRY_TEXT,
            "product_line",
            "requested_delivery",
            "customer_property",
            "owner",
            "status",
            "first_response_due",
            "first_responded_at",
            "first_response",
            "lost_reason",
            "missing_intake",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_missing_intake(self, obj: Enquiry) -> list[str]:
        from .models import missing_intake

        return missing_intake(obj)


class EnquiryWriteSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True
    )
    received_via = NumberField(Communication, help_text="The communication's number.")
    received_at = serializers.DateTimeField(required=False)
    product_line = serializers.PrimaryKeyRelatedField(
        queryset=ProductLine.objects.all(), required=False, allow_null=True
    )
    requested_delivery = serializers.DateField(required=False, allow_null=True)
    customer_property = serializers.BooleanField(required=False)
    customer_reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    requested_scope = serializers.CharField(required=False, allow_blank=True)
    requirements_stated = serializers.CharField(required=False, allow_blank=True)
    requirements_implied = serializers.CharField(required=False, allow_blank=True)
    requirements_statutory = serializers.CharField(required=False, allow_blank=True)
    requirements_ours = serializers.CharField(required=False, allow_blank=True)
    special_handling = serializers.CharField(required=False, allow_blank=True)


class EnquiryUpdateSerializer(EnquiryWriteSerializer):
    customer = None  # type: ignore[assignment]


class ExchangeSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=Direction.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    subject = serializers.CharField(required=False, allow_blank=True, max_length=300)
    body = serializers.CharField(required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField(required=False)
    phase = serializers.ChoiceField(choices=Phase.choices, required=False, allow_blank=True)
    contacts = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), many=True, required=False
    )
    documents = serializers.PrimaryKeyRelatedField(
        queryset=DocumentVersion.objects.all(), many=True, required=False
    )


class ExchangeMixin:
    """`POST …/{id}/exchanges/`: log a communication about the record."""

    @extend_schema(request=ExchangeSerializer, responses={201: dict})
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def exchanges(self, request: Request, pk: Any = None) -> Response:
        record = self.get_object()  # type: ignore[attr-defined]
        incoming = ExchangeSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        data["versions"] = data.pop("documents", [])
        communication = call(services.log_exchange, record, actor=request.user, **data)
        return Response(
            {"id": communication.pk, "number": communication.number},
            status=status.HTTP_201_CREATED,
        )


class EnquiryViewSet(ExchangeMixin, ReadOnlyTrackedViewSet):
    """Enquiries. POST records one; PATCH completes the intake while it is received or
    being clarified; the review starts with `start-review`."""

    queryset = Enquiry.objects.select_related("customer", "received_via", "first_response")
    serializer_class = EnquirySerializer
    filterset_class = filters.EnquiryFilterSet

    @extend_schema(request=EnquiryWriteSerializer, responses={201: EnquirySerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = EnquiryWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        intake = services.EnquiryIntake(**{**data, "owner": request.user})
        enquiry = call(services.record_enquiry, intake, actor=request.user)
        return Response(EnquirySerializer(enquiry).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EnquiryUpdateSerializer, responses=EnquirySerializer)
    @with_verb("change")
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        enquiry = self.get_object()
        incoming = EnquiryUpdateSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        call(services.update_enquiry, enquiry, actor=request.user, **incoming.validated_data)
        return Response(EnquirySerializer(enquiry).data)

    @extend_schema(request=EmptyRequest, responses={201: dict})
    @action(detail=True, methods=["post"], url_path="start-review")
    @with_verb("change")
    def start_review(self, request: Request, pk: Any = None) -> Response:
        """Start (or after a clarification resume) the requirement review."""
        review = call(services.start_review, self.get_object(), actor=request.user)
        return Response(RequirementReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonRequest, responses=EnquirySerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def lose(self, request: Request, pk: Any = None) -> Response:
        enquiry = call(
            services.lose_enquiry,
            self.get_object(),
            actor=request.user,
            reason=reason_of(request, "lost_reason"),
        )
        return Response(EnquirySerializer(enquiry).data)


# --------------------------------------------------------------------------------------
# Requirement reviews
# --------------------------------------------------------------------------------------


# A string described in words rather than an enum: the schema generator turns every enum
# into a component named after the field, and other apps have "outcome" fields with their
# own choices, which would collide (a deploy-check warning).
OUTCOME_SCHEMA = {
    "type": "string",
    "description": "One of: " + ", ".join(ReviewOutcome.values) + "; empty until chosen.",
}


@extend_schema_field(OUTCOME_SCHEMA)
class OutcomeField(serializers.ChoiceField):
    """A review's outcome (accept, accept with conditions, decline, need clarification)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        super().__init__(choices=ReviewOutcome.choices, **kwargs)


class ReviewAnswerSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewAnswer
        fields = ["id", "question", "text", "position", "answer", "note"]
        read_only_fields = fields


class RequirementReviewSerializer(serializers.ModelSerializer):
    answers = ReviewAnswerSerializer(many=True, read_only=True)
    outcome = OutcomeField(read_only=True)

    class Meta:
        model = RequirementReview
        fields = [
            "id",
            "number",
            "enquiry",
            "order",
            "kind",
            "round",
            "status",
            "outcome",
            "conditions",
            "decline_reason",
            "clarification",
            "notes",
            "evidence",
            "reviewer",
            "completed_at",
            "answers",
            "created_at",
        ]
        read_only_fields = fields


class AnswerInput(serializers.Serializer):
    id = serializers.IntegerField()
    answer = serializers.ChoiceField(choices=Answer.choices, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)


class ReviewInputSerializer(serializers.Serializer):
    answers = AnswerInput(many=True, required=False)
    outcome = OutcomeField(required=False)
    conditions = serializers.CharField(required=False, allow_blank=True)
    decline_reason = serializers.CharField(required=False, allow_blank=True)
    clarification = serializers.CharField(required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    evidence = serializers.FileField(required=False)

    def review_input(self, review: RequirementReview) -> services.ReviewInput:
        data = self.validated_data
        current = {a.pk: (a.answer, a.note) for a in review.answers.all()}
        for row in data.get("answers") or []:
            current[row["id"]] = (row["answer"], row.get("note", ""))
        return services.ReviewInput(
            answers=current,
            outcome=data.get("outcome", review.outcome),
            conditions=data.get("conditions", review.conditions),
            decline_reason=data.get("decline_reason", review.decline_reason),
            clarification=data.get("clarification", review.clarification),
            notes=data.get("notes", review.notes),
            evidence=data.get("evidence"),
        )


class RequirementReviewViewSet(ReadOnlyTrackedViewSet):
    """Reviews open with an enquiry's `start-review` (or an order's `review-differences`);
    `answers` saves the reviewer's answers, `complete` completes the review."""

    queryset = RequirementReview.objects.select_related("enquiry").prefetch_related("answers")
    serializer_class = RequirementReviewSerializer
    filterset_class = filters.RequirementReviewFilterSet

    @extend_schema(request=ReviewInputSerializer, responses=RequirementReviewSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def answers(self, request: Request, pk: Any = None) -> Response:
        review = self.get_object()
        incoming = ReviewInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        call(services.save_review, review, actor=request.user, data=incoming.review_input(review))
        return Response(RequirementReviewSerializer(review).data)

    @extend_schema(request=ReviewInputSerializer, responses=RequirementReviewSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def complete(self, request: Request, pk: Any = None) -> Response:
        review = self.get_object()
        incoming = ReviewInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        call(
            services.complete_review,
            review,
            actor=request.user,
            data=incoming.review_input(review),
        )
        return Response(RequirementReviewSerializer(review).data)


# --------------------------------------------------------------------------------------
# Offers
# --------------------------------------------------------------------------------------


class OfferSerializer(serializers.ModelSerializer):
    documents = serializers.SerializerMethodField()

    class Meta:
        model = Offer
        fields = [
            "id",
            "number",
            "enquiry",
            "review",
            "issued_at",
            "valid_until",
            "scope",
            "requirements",
            "delivery_date",
            "price",
            "currency",
            "file",
            "sent_via",
            "status",
            "closing_reason",
            "documents",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_documents(self, obj: Offer) -> list[str]:
        known = self.context.get("documents")
        if known is None:
            known = documents_of([obj])
        return known.get(obj.pk, [])


def documents_of(offers: list[Offer]) -> dict[int, list[str]]:
    """The document versions each offer used, for a page of offers in one query."""
    from django.contrib.contenttypes.models import ContentType

    from harken.documents.models import Distribution

    found: dict[int, list[str]] = {}
    copies = (
        Distribution.objects.filter(
            via_type=ContentType.objects.get_for_model(Offer),
            via_id__in=[str(o.pk) for o in offers],
        )
        .select_related("version__document")
        .order_by("pk")
    )
    for d in copies:
        found.setdefault(int(d.via_id), []).append(f"{d.number} {d.version}")
    return found


class OfferWriteSerializer(serializers.Serializer):
    enquiry = serializers.PrimaryKeyRelatedField(queryset=Enquiry.objects.all())
    scope = serializers.CharField()
    requirements = serializers.CharField(required=False, allow_blank=True)
    delivery_date = serializers.DateField(required=False, allow_null=True)
    price = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    currency = serializers.CharField(required=False, max_length=3)
    valid_until = serializers.DateField(required=False, allow_null=True)
    documents = serializers.PrimaryKeyRelatedField(
        queryset=DocumentVersion.objects.all(),
        many=True,
        required=False,
        help_text="Ids of the approved document versions the offer used.",
    )
    file = serializers.FileField(required=False)
    sent_via = NumberField(Communication)


class OfferViewSet(ReadOnlyTrackedViewSet):
    queryset = Offer.objects.select_related("enquiry", "review")
    serializer_class = OfferSerializer
    filterset_class = filters.OfferFilterSet

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("many") and args:
            rows = list(args[0])
            args = (rows, *args[1:])
            context = kwargs.setdefault("context", self.get_serializer_context())
            context["documents"] = documents_of(rows)
        return super().get_serializer(*args, **kwargs)

    @extend_schema(request=OfferWriteSerializer, responses={201: OfferSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = OfferWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        enquiry = data.pop("enquiry")
        data["versions"] = data.pop("documents", [])
        offer = call(
            services.issue_offer, enquiry, actor=request.user, terms=services.OfferTerms(**data)
        )
        return Response(OfferSerializer(offer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonRequest, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def reject(self, request: Request, pk: Any = None) -> Response:
        offer = call(
            services.close_offer,
            self.get_object(),
            actor=request.user,
            name="reject",
            reason=reason_of(request),
        )
        return Response(OfferSerializer(offer).data)

    @extend_schema(request=ReasonRequest, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def withdraw(self, request: Request, pk: Any = None) -> Response:
        offer = call(
            services.close_offer,
            self.get_object(),
            actor=request.user,
            name="withdraw",
            reason=reason_of(request),
        )
        return Response(OfferSerializer(offer).data)


# --------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------


class OrderVersionSerializer(serializers.ModelSerializer):
    change: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="number", read_only=True
    )

    class Meta:
        model = OrderVersion
        fields = [
            "number",
            "change",
            "effective_at",
            "scope",
            "requirements",
            "delivery_date",
            "price",
            "currency",
            "customer_property",
            "changed",
        ]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    versions = OrderVersionSerializer(many=True, read_only=True)
    acceptance_sha256 = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "enquiry",
            "offer",
            "customer",
            "contact",
            "acceptance_kind",
            "customer_reference",
            "acceptance_file",
            "acceptance_sha256",
            "acceptance_received_at",
            "acceptance_via",
            "differs_from_offer",
            "differences",
            "scope",
            "requirements",
            "delivery_date",
            "price",
            "currency",
            "customer_property",
            "version",
            "status",
            "accepted_by",
            "accepted_at",
            "closing_reason",
            "versions",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_acceptance_sha256(self, obj: Order) -> str | None:
        return obj.acceptance_file.sha256 if obj.acceptance_file_id else None  # type: ignore[union-attr]


class AcceptanceWriteSerializer(serializers.Serializer):
    enquiry = serializers.PrimaryKeyRelatedField(queryset=Enquiry.objects.all())
    offer = serializers.PrimaryKeyRelatedField(
        queryset=Offer.objects.all(), required=False, allow_null=True
    )
    acceptance_kind = serializers.ChoiceField(choices=AcceptanceKind.choices)
    customer_reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    received_at = serializers.DateTimeField(required=False)
    file = serializers.FileField(required=False)
    via = NumberField(Communication)
    differences = serializers.CharField(required=False, allow_blank=True)
    scope = serializers.CharField(required=False, allow_blank=True)
    requirements = serializers.CharField(required=False, allow_blank=True)
    delivery_date = serializers.DateField(required=False, allow_null=True)
    price = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )


class AcceptSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="The customer's acceptance.")
    customer_reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    documents = serializers.PrimaryKeyRelatedField(
        queryset=DocumentVersion.objects.all(), many=True, required=False
    )


DifferencesRequest = inline_serializer(
    "OrderDifferencesRequest", fields={"differences": serializers.CharField()}
)


class OrderViewSet(ExchangeMixin, ReadOnlyTrackedViewSet):
    """Orders. POST records the customer's acceptance (the order waits for ours);
    `accept` accepts it — refused without a completed requirement review."""

    queryset = Order.objects.select_related("acceptance_file").prefetch_related("versions__change")
    serializer_class = OrderSerializer
    filterset_class = filters.OrderFilterSet

    @extend_schema(request=AcceptanceWriteSerializer, responses={201: OrderSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = AcceptanceWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        enquiry, offer = data.pop("enquiry"), data.pop("offer", None)
        record = services.AcceptanceRecord(kind=data.pop("acceptance_kind"), **data)
        order = call(
            services.record_acceptance, enquiry, actor=request.user, record=record, offer=offer
        )
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AcceptSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def accept(self, request: Request, pk: Any = None) -> Response:
        order = self.get_object()
        incoming = AcceptSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        call(
            services.accept_order,
            order,
            actor=request.user,
            file=data.get("file"),
            customer_reference=data.get("customer_reference", ""),
            versions=list(data.get("documents") or []),
        )
        return Response(OrderSerializer(self.get_object()).data)

    @extend_schema(request=DifferencesRequest, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def differences(self, request: Request, pk: Any = None) -> Response:
        order = call(
            services.note_differences,
            self.get_object(),
            actor=request.user,
            differences=reason_of(request, "differences"),
        )
        return Response(OrderSerializer(order).data)

    @extend_schema(request=EmptyRequest, responses={201: RequirementReviewSerializer})
    @action(detail=True, methods=["post"], url_path="review-differences")
    @with_verb("change")
    def review_differences(self, request: Request, pk: Any = None) -> Response:
        review = call(services.review_differences, self.get_object(), actor=request.user)
        return Response(RequirementReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    def _close(self, request: Request, name: str) -> Response:
        order = call(
            services.close_order,
            self.get_object(),
            actor=request.user,
            name=name,
            reason=reason_of(request, "closing_reason"),
        )
        return Response(OrderSerializer(order).data)

    @extend_schema(request=ReasonRequest, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def refuse(self, request: Request, pk: Any = None) -> Response:
        return self._close(request, "refuse")

    @extend_schema(request=ReasonRequest, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def cancel(self, request: Request, pk: Any = None) -> Response:
        return self._close(request, "cancel")

    @extend_schema(request=EmptyRequest, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def complete(self, request: Request, pk: Any = None) -> Response:
        return self._close(request, "complete")


# --------------------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------------------


class ChangeRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "number",
            "order",
            "origin",
            "requested_at",
            "received_via",
            "aspects",
            "description",
            "new_scope",
            "new_requirements",
            "new_delivery_date",
            "new_price",
            "new_customer_property",
            "confirmation_due",
            "impact_summary",
            "feasible",
            "impact_reviewed_by",
            "impact_reviewed_at",
            "communicated_via",
            "communicated_at",
            "confirmation_file",
            "confirmation_reference",
            "confirmed_at",
            "confirmed_via",
            "status",
            "closing_reason",
            "created_at",
        ]
        read_only_fields = fields


class ChangeWriteSerializer(serializers.Serializer):
    order = serializers.PrimaryKeyRelatedField(queryset=Order.objects.all())
    origin = serializers.ChoiceField(choices=ChangeOrigin.choices)
    description = serializers.CharField()
    aspects = serializers.ListField(child=serializers.ChoiceField(choices=ChangeAspect.choices))
    new_scope = serializers.CharField(required=False, allow_blank=True)
    new_requirements = serializers.CharField(required=False, allow_blank=True)
    new_delivery_date = serializers.DateField(required=False, allow_null=True)
    new_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    new_customer_property = serializers.BooleanField(required=False, allow_null=True, default=None)
    requested_at = serializers.DateTimeField(required=False)
    received_via = NumberField(Communication)


ImpactRequest = inline_serializer(
    "ChangeImpactRequest",
    fields={"feasible": serializers.BooleanField(), "impact": serializers.CharField()},
)


class CommunicateSerializer(serializers.Serializer):
    communication = NumberField(Communication, help_text="A communication already logged.")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    subject = serializers.CharField(required=False, allow_blank=True, max_length=300)
    body = serializers.CharField(required=False, allow_blank=True)
    contacts = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), many=True, required=False
    )
    documents = serializers.PrimaryKeyRelatedField(
        queryset=DocumentVersion.objects.all(), many=True, required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("communication") is None and not attrs.get("channel"):
            raise serializers.ValidationError(
                {"channel": ["Give the channel, or the number of a logged communication."]}
            )
        return attrs


class ConfirmSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The customer's confirmation.")
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    confirmed_at = serializers.DateTimeField(required=False)
    via = NumberField(Communication)


class ChangeRequestViewSet(ExchangeMixin, ReadOnlyTrackedViewSet):
    """Changes to accepted orders: `impact`, `communicate`, then `confirm` with the
    customer's confirmation (only then is the change effective), or `reject`."""

    queryset = ChangeRequest.objects.select_related("order")
    serializer_class = ChangeRequestSerializer
    filterset_class = filters.ChangeRequestFilterSet

    @extend_schema(request=ChangeWriteSerializer, responses={201: ChangeRequestSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = ChangeWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        order = data.pop("order")
        change = call(
            services.request_change,
            order,
            actor=request.user,
            proposal=services.ChangeProposal(**data),
        )
        return Response(ChangeRequestSerializer(change).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ImpactRequest, responses=ChangeRequestSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def impact(self, request: Request, pk: Any = None) -> Response:
        raw = request.data.get("feasible") if hasattr(request.data, "get") else None
        if raw is None:
            raise serializers.ValidationError({"feasible": ["Say whether it is feasible."]})
        feasible = serializers.BooleanField().to_internal_value(raw)
        change = call(
            services.review_impact,
            self.get_object(),
            actor=request.user,
            feasible=feasible,
            impact=reason_of(request, "impact"),
        )
        return Response(ChangeRequestSerializer(change).data)

    @extend_schema(request=CommunicateSerializer, responses=ChangeRequestSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def communicate(self, request: Request, pk: Any = None) -> Response:
        change = self.get_object()
        incoming = CommunicateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        data["versions"] = data.pop("documents", [])
        call(services.communicate_change, change, actor=request.user, **data)
        return Response(ChangeRequestSerializer(change).data)

    @extend_schema(request=ConfirmSerializer, responses=ChangeRequestSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def confirm(self, request: Request, pk: Any = None) -> Response:
        change = self.get_object()
        incoming = ConfirmSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        call(services.confirm_change, change, actor=request.user, **incoming.validated_data)
        return Response(ChangeRequestSerializer(change).data)

    @extend_schema(request=ReasonRequest, responses=ChangeRequestSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def reject(self, request: Request, pk: Any = None) -> Response:
        change = call(
            services.reject_change, self.get_object(), actor=request.user, reason=reason_of(request)
        )
        return Response(ChangeRequestSerializer(change).data)


# --------------------------------------------------------------------------------------
# Escalations and notices
# --------------------------------------------------------------------------------------


class EscalationRuleSerializer(serializers.ModelSerializer):
    records_required = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False
    )

    class Meta:
        model = EscalationRule
        fields = [
            "id",
            "event_type",
            "severity",
            "approver_role",
            "escalate_to_role",
            "customer_impacting",
            "notify_within_days",
            "notify_within_hours",
            "records_required",
            "notice_template",
            "active",
        ]


class EscalationRuleViewSet(TrackedViewSet):
    """The escalation matrix: one rule per event type and severity."""

    queryset = EscalationRule.objects.all()
    serializer_class = EscalationRuleSerializer
    filterset_class = filters.EscalationRuleFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]


class EscalationSerializer(serializers.ModelSerializer):
    breached = serializers.BooleanField(read_only=True)
    missing_records = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "number",
            "rule",
            "event_type",
            "severity",
            "customer",
            "order",
            "title",
            "description",
            "occurred_at",
            "raised_at",
            "customer_impacting",
            "approver_role",
            "escalate_to_role",
            "escalated_to",
            "records_required",
            "records",
            "missing_records",
            "notice_due",
            "customer_told_at",
            "breached",
            "breach_explanation",
            "status",
            "closed_at",
        ]
        read_only_fields = fields


class EscalationWriteSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    order = serializers.PrimaryKeyRelatedField(
        queryset=Order.objects.all(), required=False, allow_null=True
    )
    event_type = serializers.ChoiceField(choices=EventType.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    occurred_at = serializers.DateTimeField(required=False)


RecordRequest = inline_serializer(
    "EscalationRecordRequest",
    fields={"item": serializers.CharField(), "text": serializers.CharField()},
)
ExplainRequest = inline_serializer(
    "EscalationExplainRequest", fields={"explanation": serializers.CharField()}
)
DraftRequest = inline_serializer(
    "NoticeDraftRequest", fields={"contact": serializers.IntegerField(required=False)}
)


class NoticeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notice
        fields = [
            "id",
            "number",
            "escalation",
            "template_version",
            "contact",
            "subject",
            "body",
            "status",
            "approved_by",
            "approved_at",
            "sent_by",
            "sent_at",
            "communication",
            "withdrawn_reason",
            "created_at",
        ]
        read_only_fields = fields


class EscalationViewSet(ReadOnlyTrackedViewSet):
    """Escalations. POST raises one against the matrix (deadline and roles from it)."""

    queryset = Escalation.objects.select_related("customer")
    serializer_class = EscalationSerializer
    filterset_class = filters.EscalationFilterSet

    @extend_schema(request=EscalationWriteSerializer, responses={201: EscalationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = EscalationWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        escalation = call(services.raise_escalation, actor=request.user, **incoming.validated_data)
        return Response(EscalationSerializer(escalation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RecordRequest, responses=EscalationSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def record(self, request: Request, pk: Any = None) -> Response:
        escalation = call(
            services.record_escalation_item,
            self.get_object(),
            actor=request.user,
            item=reason_of(request, "item"),
            text=str(request.data.get("text", "")),
        )
        return Response(EscalationSerializer(escalation).data)

    @extend_schema(request=ExplainRequest, responses=EscalationSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def explain(self, request: Request, pk: Any = None) -> Response:
        escalation = call(
            services.explain_breach,
            self.get_object(),
            actor=request.user,
            explanation=reason_of(request, "explanation"),
        )
        return Response(EscalationSerializer(escalation).data)

    @extend_schema(request=EmptyRequest, responses=EscalationSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def close(self, request: Request, pk: Any = None) -> Response:
        escalation = call(services.close_escalation, self.get_object(), actor=request.user)
        return Response(EscalationSerializer(escalation).data)

    @extend_schema(request=DraftRequest, responses={201: NoticeSerializer})
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def notice(self, request: Request, pk: Any = None) -> Response:
        escalation = self.get_object()
        contact = None
        ref = str(request.data.get("contact", "") if hasattr(request.data, "get") else "")
        if ref:
            contact = Contact.objects.filter(pk=int(ref) if ref.isdigit() else 0).first()
            if contact is None:
                raise serializers.ValidationError({"contact": ["No such contact."]})
        notice = call(services.draft_notice, escalation, actor=request.user, contact=contact)
        return Response(NoticeSerializer(notice).data, status=status.HTTP_201_CREATED)


NoticeEditRequest = inline_serializer(
    "NoticeEditRequest",
    fields={"subject": serializers.CharField(), "body": serializers.CharField()},
)


class NoticeViewSet(ReadOnlyTrackedViewSet):
    """Customer notices: drafted from an escalation (`…/escalations/{id}/notice/`),
    corrected while a draft, `approve`d by the role the matrix names, then `send`."""

    queryset = Notice.objects.select_related("escalation")
    serializer_class = NoticeSerializer
    filterset_class = filters.NoticeFilterSet

    @extend_schema(request=NoticeEditRequest, responses=NoticeSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def edit(self, request: Request, pk: Any = None) -> Response:
        notice = call(
            services.edit_notice,
            self.get_object(),
            actor=request.user,
            subject=reason_of(request, "subject"),
            body=str(request.data.get("body", "")),
        )
        return Response(NoticeSerializer(notice).data)

    @extend_schema(request=EmptyRequest, responses=NoticeSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def approve(self, request: Request, pk: Any = None) -> Response:
        notice = call(services.approve_notice, self.get_object(), actor=request.user)
        return Response(NoticeSerializer(notice).data)

    @extend_schema(request=EmptyRequest, responses=NoticeSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def send(self, request: Request, pk: Any = None) -> Response:
        notice = call(services.send_notice, self.get_object(), actor=request.user)
        return Response(NoticeSerializer(notice).data)

    @extend_schema(request=ReasonRequest, responses=NoticeSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def withdraw(self, request: Request, pk: Any = None) -> Response:
        notice = call(
            services.withdraw_notice,
            self.get_object(),
            actor=request.user,
            reason=reason_of(request, "withdrawn_reason"),
        )
        return Response(NoticeSerializer(notice).data)


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------


class IntakeProfileSerializer(serializers.ModelSerializer):
    required_fields = serializers.ListField(
        child=serializers.ChoiceField(choices=IntakeField.choices), required=False
    )

    class Meta:
        model = IntakeProfile
        fields = [
            "id",
            "product_line",
            "required_fields",
            "first_response_days",
            "change_confirmation_days",
            "notes",
        ]


class IntakeProfileViewSet(TrackedViewSet):
    queryset = IntakeProfile.objects.all()
    serializer_class = IntakeProfileSerializer
    filterset_class = filters.IntakeProfileFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


class ReviewQuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewQuestion
        fields = ["id", "code", "text", "guidance", "product_line", "position", "active"]


class ReviewQuestionViewSet(TrackedViewSet):
    queryset = ReviewQuestion.objects.all()
    serializer_class = ReviewQuestionSerializer
    filterset_class = filters.ReviewQuestionFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]


def register(router: Any) -> None:
    """Registers this app's viewsets on the API router."""
    router.register("enquiries", EnquiryViewSet)
    router.register("requirement-reviews", RequirementReviewViewSet)
    router.register("offers", OfferViewSet)
    router.register("orders", OrderViewSet)
    router.register("order-changes", ChangeRequestViewSet)
    router.register("escalation-rules", EscalationRuleViewSet)
    router.register("escalations", EscalationViewSet)
    router.register("customer-notices", NoticeViewSet)
    router.register("intake-profiles", IntakeProfileViewSet)
    router.register("review-checklist", ReviewQuestionViewSet)
