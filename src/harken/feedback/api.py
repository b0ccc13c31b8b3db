"""Feedback in the API: intake (single or a list, idempotent), the register, the taxonomy,
import batches, and a per-source webhook for tools that push."""

from __future__ import annotations

import hmac
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from harken.api.base import ReadOnlyTrackedViewSet, TrackedViewSet, TransitionMixin, with_verb
from harken.core.audit import Actor, audit_context
from harken.core.choices import ActorType
from harken.customers.models import Contact, Customer, ProductLine, Region

from . import services
from .choices import ExpectationType, Impact, ItemKind, Scale
from .filters import FeedbackItemFilterSet
from .models import Category, ClassificationRule, FeedbackItem, ImportBatch, PerceptionSource

MAX_ITEMS_PER_CALL = 500


class PerceptionSourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = PerceptionSource
        fields = [
            "id",
            "name",
            "kind",
            "structured",
            "owner_role",
            "owner",
            "collection_method",
            "fields_captured",
            "storage_location",
            "retention",
            "in_scope",
            "scope_rationale",
            "third_party",
            "active",
            "default_kind",
            "default_scale",
            "acknowledge_days",
            "resolve_days",
            "created_at",
            "updated_at",
        ]


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "code", "name", "description", "active"]


class ClassificationRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClassificationRule
        fields = ["id", "category", "kind", "pattern", "weight", "active"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from .classify import InvalidPattern, pattern_source

        kind = attrs.get("kind", getattr(self.instance, "kind", "keyword"))
        pattern = attrs.get("pattern", getattr(self.instance, "pattern", ""))
        try:
            pattern_source(kind, pattern)
        except InvalidPattern as exc:
            raise serializers.ValidationError({"pattern": [str(exc)]}) from exc
        return attrs


class FeedbackItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeedbackItem
        fields = [
            "id",
            "number",
            "complaint_number",
            "source",
            "kind",
            "received_at",
            "customer",
            "contact",
            "product_line",
            "region",
            "title",
            "text",
            "score",
            "scale",
            "category",
            "suggested_category",
            "suggestion_rule",
            "classification_confirmed",
            "classified_by",
            "classified_at",
            "impact",
            "expectation_type",
            "sentiment_score",
            "sentiment_label",
            "sentiment_source",
            "status",
            "acknowledged_at",
            "resolved_at",
            "acknowledge_due",
            "resolve_due",
            "external_provider",
            "external_id",
            "tags",
            "import_batch",
            "created_at",
        ]
        read_only_fields = fields


class IntakeSerializer(serializers.Serializer):
    """One piece of feedback as a client sends it; references by id or by natural key."""

    # The serializer metaclass takes declared fields off the class, so this does not
    # replace Field.source at run time.
    source = serializers.CharField(  # type: ignore[assignment]
        required=False, help_text="Source id or name (not needed on the webhook)."
    )
    kind = serializers.ChoiceField(choices=ItemKind.choices, required=False)
    received_at = serializers.DateTimeField(required=False)
    title = serializers.CharField(required=False, allow_blank=True, max_length=300)
    text = serializers.CharField(
        required=False, allow_blank=True, max_length=services.MAX_TEXT, trim_whitespace=False
    )
    score = serializers.FloatField(required=False, allow_null=True)
    scale = serializers.ChoiceField(choices=Scale.choices, required=False, allow_blank=True)
    customer = serializers.CharField(
        required=False, allow_blank=True, help_text="Customer id, number or external reference."
    )
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    product_line = serializers.CharField(
        required=False, allow_blank=True, help_text="Product line id, code or name."
    )
    region = serializers.CharField(required=False, allow_blank=True, help_text="Region code.")
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=200)
    external_provider = serializers.CharField(required=False, allow_blank=True, max_length=200)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    impact = serializers.ChoiceField(choices=Impact.choices, required=False, allow_blank=True)
    expectation_type = serializers.ChoiceField(
        choices=ExpectationType.choices, required=False, allow_blank=True
    )
    raw = serializers.DictField(required=False)

    def to_intake(self, source: PerceptionSource | None) -> services.Intake:
        data = self.validated_data
        errors: dict[str, list[str]] = {}
        if source is None:
            source = lookup(PerceptionSource, data.get("source", ""), ["name"], errors, "source")
        customer = lookup(
            Customer, data.get("customer", ""), ["number", "external_ref"], errors, "customer"
        )
        product_line = lookup(
            ProductLine, data.get("product_line", ""), ["code", "name"], errors, "product_line"
        )
        region = lookup(Region, data.get("region", ""), ["code", "name"], errors, "region")
        contact = None
        email = (data.get("contact_email") or "").lower()
        if email:
            contacts = Contact.objects.filter(email__iexact=email)
            if customer is not None:
                contacts = contacts.filter(customer=customer)
            contact = contacts.first()
        if source is None and "source" not in errors:
            errors["source"] = ["Name the source."]
        if errors:
            raise serializers.ValidationError(errors)
        assert source is not None  # noqa: S101 - narrowed by the errors check above
        return services.Intake(
            source=source,
            kind=data.get("kind", ""),
            received_at=data.get("received_at"),
            title=data.get("title", ""),
            text=data.get("text", ""),
            score=data.get("score"),
            scale=data.get("scale", ""),
            customer=customer,
            contact=contact,
            product_line=product_line,
            region=region,
            external_id=data.get("external_id", ""),
            external_provider=data.get("external_provider", ""),
            tags=data.get("tags"),
            raw=data.get("raw") or dict(self.initial_data),
            impact=data.get("impact", ""),
            expectation_type=data.get("expectation_type", ""),
        )


def lookup(model: Any, value: str, keys: list[str], errors: dict[str, list[str]], name: str) -> Any:
    """Find a record by id or by one of its natural keys; note an error when none matches."""
    value = (value or "").strip()
    if not value:
        return None
    found = None
    if value.isdigit():
        found = model.objects.filter(pk=int(value)).first()
    for key in keys:
        if found is None:
            found = model.objects.filter(**{f"{key}__iexact": value}).first()
    if found is None:
        errors[name] = [f"No {model._meta.verbose_name} matches {value!r}."]
    return found


def record_many(payload: Any, *, source: PerceptionSource | None) -> tuple[int, Any]:
    """Validate every item, then record them all (or none); answer like the intake API."""
    many = isinstance(payload, list)
    entries = payload if many else [payload]
    if not entries:
        raise serializers.ValidationError({"non_field_errors": ["Send at least one item."]})
    if len(entries) > MAX_ITEMS_PER_CALL:
        raise serializers.ValidationError(
            {"non_field_errors": [f"Send at most {MAX_ITEMS_PER_CALL} items per call."]}
        )
    intakes: list[services.Intake] = []
    errors: dict[str, Any] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            errors[str(index)] = {"non_field_errors": ["Each item must be a JSON object."]}
            continue
        serializer = IntakeSerializer(data=entry)
        try:
            serializer.is_valid(raise_exception=True)
            intake = serializer.to_intake(source)
            services.validate_intake(intake)
        except serializers.ValidationError as exc:
            errors[str(index)] = exc.detail
            continue
        except DjangoValidationError as exc:
            errors[str(index)] = exc.message_dict
            continue
        intakes.append(intake)
    if errors:
        raise serializers.ValidationError(errors if many else errors["0"])
    results = []
    with transaction.atomic():
        for intake in intakes:
            item, created = services.record_feedback(intake)
            results.append({"created": created, **FeedbackItemSerializer(item).data})
    any_created = any(r["created"] for r in results)
    code = status.HTTP_201_CREATED if any_created else status.HTTP_200_OK
    return code, results if many else results[0]


class FeedbackItemViewSet(TransitionMixin, ReadOnlyTrackedViewSet):
    """Feedback items. POST one object or a list; re-sending the same item changes nothing
    (idempotent on source + external id, or on the content without an id)."""

    queryset = FeedbackItem.objects.select_related("source")
    serializer_class = FeedbackItemSerializer
    filterset_class = FeedbackItemFilterSet

    @extend_schema(
        request=IntakeSerializer,
        responses={201: FeedbackItemSerializer, 200: FeedbackItemSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        code, body = record_many(request.data, source=None)
        return Response(body, status=code)

    @extend_schema(request=None, responses=FeedbackItemSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def acknowledge(self, request: Request, pk: Any = None) -> Response:
        item = self.get_object()
        try:
            services.acknowledge(item, actor=request.user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(self.get_serializer(item).data)


class PerceptionSourceViewSet(TrackedViewSet):
    queryset = PerceptionSource.objects.all()
    serializer_class = PerceptionSourceSerializer
    filterset_fields = ["kind", "structured", "active", "in_scope"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class CategoryViewSet(TrackedViewSet):
    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    filterset_fields = ["active"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class ClassificationRuleViewSet(TrackedViewSet):
    queryset = ClassificationRule.objects.all()
    serializer_class = ClassificationRuleSerializer
    filterset_fields = ["category", "kind", "active"]


class ImportBatchSerializer(serializers.ModelSerializer):
    file_name = serializers.CharField(source="file.name", read_only=True)
    file_sha256 = serializers.CharField(source="file.sha256", read_only=True)

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "number",
            "source",
            "file_name",
            "file_sha256",
            "preset",
            "options",
            "status",
            "dry_run",
            "rows_read",
            "created_count",
            "duplicate_count",
            "rejected_count",
            "sentiment_done",
            "rows_digest",
            "message",
            "started_at",
            "finished_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class ImportBatchViewSet(ReadOnlyTrackedViewSet):
    queryset = ImportBatch.objects.select_related("file")
    serializer_class = ImportBatchSerializer
    filterset_fields = ["source", "status"]


class WebhookView(APIView):
    """`POST /api/feedback/webhook/<token>/`: a tool pushes feedback into one source.

    The token in the URL is the source's secret (shown on the source's page); no other
    credentials are needed, and the body is the same as `POST /api/feedback/`.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=IntakeSerializer,
        responses={
            201: FeedbackItemSerializer,
            200: FeedbackItemSerializer,
            404: OpenApiResponse(description="Unknown token"),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        source = PerceptionSource.objects.filter(webhook_token=token, active=True).first()
        if source is None or not hmac.compare_digest(source.webhook_token, token):
            return Response(
                {"detail": "Unknown or retired webhook.", "errors": {}},
                status=status.HTTP_404_NOT_FOUND,
            )
        actor = Actor(type=ActorType.TOKEN, label=f"webhook:{source.name}"[:150])
        with audit_context(actor=actor, request_id=getattr(request._request, "request_id", None)):
            code, body = record_many(request.data, source=source)
        return Response(body, status=code)


def register(router: Any) -> None:
    router.register("feedback", FeedbackItemViewSet, basename="feedbackitem")
    router.register("perception-sources", PerceptionSourceViewSet)
    router.register("categories", CategoryViewSet)
    router.register("classification-rules", ClassificationRuleViewSet)
    router.register("import-batches", ImportBatchViewSet)


__all__ = ["WebhookView", "register", "viewsets"]
