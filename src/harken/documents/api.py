"""Documents in the API: documents, versions with their steps, distributions, acknowledgements.

A version's steps and every distribution go through `services`, so the API refuses
what the pages refuse (an unapproved version is never distributed).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from harken.api.base import ReadOnlyTrackedViewSet, TrackedViewSet, with_verb
from harken.api.permissions import RolePermission
from harken.core.choices import Role
from harken.core.permissions import is_read_only
from harken.core.workflow import TransitionError

from . import filters, services
from .choices import Occasion, VersionStatus
from .forms import normalise_clauses
from .models import Acknowledgement, Distribution, Document, DocumentVersion


def as_api_error(exc: Exception) -> Exception:
    if isinstance(exc, PermissionDenied):
        return ApiPermissionDenied(str(exc))
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return serializers.ValidationError(detail)
    return exc


class DocumentSerializer(serializers.ModelSerializer):
    acknowledge_roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), required=False
    )
    current_version = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "number",
            "title",
            "kind",
            "owner_role",
            "clauses",
            "purpose",
            "acknowledge_roles",
            "current_version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["number", "created_at", "updated_at"]

    def validate_clauses(self, value: str) -> str:
        try:
            return normalise_clauses(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def get_current_version(self, obj: Document) -> int | None:
        return getattr(obj, "current_pk", None)


class DocumentVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentVersion
        fields = [
            "id",
            "document",
            "label",
            "body",
            "file",
            "change_summary",
            "status",
            "is_current",
            "effective_from",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
            "approved_by",
            "approved_at",
            "superseded_by",
            "superseded_at",
            "withdrawn_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "file",
            "status",
            "is_current",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
            "approved_by",
            "approved_at",
            "superseded_by",
            "superseded_at",
            "withdrawn_reason",
            "created_at",
            "updated_at",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            if not services.may_edit(self.instance):
                raise serializers.ValidationError(
                    {"status": ["Only a draft may be changed; make a new version instead."]}
                )
            if "document" in attrs and attrs["document"] != self.instance.document:
                raise serializers.ValidationError(
                    {"document": ["A version stays with its document."]}
                )
        return attrs

    def create(self, validated_data: dict[str, Any]) -> DocumentVersion:
        try:
            return services.create_version(
                validated_data["document"],
                actor=self.context["request"].user,
                label=validated_data.get("label", ""),
                body=validated_data.get("body", ""),
                change_summary=validated_data.get("change_summary", ""),
                effective_from=validated_data.get("effective_from"),
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from exc


StepRequest = inline_serializer(
    "DocumentVersionStepRequest",
    fields={
        "step": serializers.ChoiceField(
            choices=["submit", "review", "return", "approve", "withdraw"]
        ),
        "comment": serializers.CharField(required=False, allow_blank=True),
        "effective_from": serializers.DateField(required=False),
        "reason": serializers.CharField(required=False, allow_blank=True),
    },
)


class NotReadOnly(BasePermission):
    """Refuses the read-only roles before the record is looked up (auditors change nothing)."""

    message = "Your role may not change records."

    def has_permission(self, request: Any, view: Any) -> bool:
        return not is_read_only(request.user)


class DocumentVersionViewSet(TrackedViewSet):
    """Versions. POST creates a draft; PATCH changes a draft; `step` moves it along."""

    queryset = DocumentVersion.objects.select_related("document")
    serializer_class = DocumentVersionSerializer
    filterset_class = filters.DocumentVersionFilterSet
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def perform_destroy(self, instance: DocumentVersion) -> None:
        if instance.status != VersionStatus.DRAFT:
            raise serializers.ValidationError({"status": ["Only a draft may be deleted."]})
        instance.delete()

    @extend_schema(request=StepRequest, responses=DocumentVersionSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")  # and each step checks its own verb (approve, withdraw)
    def step(self, request: Request, pk: Any = None) -> Response:
        version = self.get_object()
        data = request.data if isinstance(request.data, dict) else {}
        name = data.get("step")
        user = request.user
        try:
            if name == "submit":
                services.submit(version, actor=user)
            elif name == "review":
                services.record_review(version, actor=user, comment=str(data.get("comment", "")))
            elif name == "return":
                services.return_to_draft(version, actor=user, comment=str(data.get("comment", "")))
            elif name == "approve":
                field = serializers.DateField(required=False, allow_null=True)
                effective = field.run_validation(data.get("effective_from"))
                services.approve(version, actor=user, effective_from=effective)
            elif name == "withdraw":
                services.withdraw(version, actor=user, reason=str(data.get("reason", "")))
            else:
                raise serializers.ValidationError(
                    {"step": ["Name the step: submit, review, return, approve or withdraw."]}
                )
        except TransitionError as exc:
            raise serializers.ValidationError({"step": exc.messages}) from exc
        except (DjangoValidationError, PermissionDenied) as exc:
            raise as_api_error(exc) from exc
        return Response(self.get_serializer(version).data)

    @extend_schema(request=None, responses={201: None})
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[RolePermission, NotReadOnly],
    )
    @with_verb("view")  # being asked to acknowledge is the permission (services.must_acknowledge)
    def acknowledge(self, request: Request, pk: Any = None) -> Response:
        version = self.get_object()
        try:
            ack = services.acknowledge(version, actor=request.user)
        except (DjangoValidationError, PermissionDenied) as exc:
            raise as_api_error(exc) from exc
        return Response(
            {"version": version.pk, "user": ack.user_id, "acknowledged_at": ack.acknowledged_at},
            status=status.HTTP_201_CREATED,
        )


class DocumentViewSet(TrackedViewSet):
    queryset = Document.objects.all()
    serializer_class = DocumentSerializer
    filterset_class = filters.DocumentFilterSet
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        from django.db.models import OuterRef, Subquery

        current = DocumentVersion.objects.filter(document=OuterRef("pk"), is_current=True)
        return super().get_queryset().annotate(current_pk=Subquery(current.values("pk")[:1]))


class DistributionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Distribution
        fields = [
            "id",
            "number",
            "version",
            "customer",
            "contact",
            "distributed_at",
            "occasion",
            "reason",
            "reference",
            "distributed_by",
            "created_at",
        ]
        read_only_fields = ["number", "distributed_by", "created_at"]
        extra_kwargs = {"distributed_at": {"required": False}}

    def validate_occasion(self, value: str) -> str:
        if value in {Occasion.COMMUNICATION, Occasion.NOTICE}:
            raise serializers.ValidationError(
                "Copies sent with a communication are recorded by logging the communication."
            )
        return value

    def create(self, validated_data: dict[str, Any]) -> Distribution:
        provision = services.Provision(
            version=validated_data["version"],
            customer=validated_data["customer"],
            contact=validated_data.get("contact"),
            at=validated_data.get("distributed_at"),
            occasion=validated_data["occasion"],
            reason=validated_data.get("reason", ""),
            reference=validated_data.get("reference", ""),
        )
        try:
            return services.record_distribution(provision, actor=self.context["request"].user)
        except DjangoValidationError as exc:
            raise as_api_error(exc) from exc


class DistributionViewSet(TrackedViewSet):
    """Copies of versions provided to customers: recorded once, never changed or deleted."""

    queryset = Distribution.objects.select_related("version", "customer")
    serializer_class = DistributionSerializer
    filterset_class = filters.DistributionFilterSet
    http_method_names = ["get", "post", "head", "options"]


class AcknowledgementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Acknowledgement
        fields = ["id", "version", "user", "acknowledged_at"]
        read_only_fields = fields


class AcknowledgementViewSet(ReadOnlyTrackedViewSet):
    queryset = Acknowledgement.objects.all()
    serializer_class = AcknowledgementSerializer
    filterset_class = filters.AcknowledgementFilterSet


def register(router: Any) -> None:
    router.register("documents", DocumentViewSet)
    router.register("document-versions", DocumentVersionViewSet)
    router.register("distributions", DistributionViewSet)
    router.register("acknowledgements", AcknowledgementViewSet)
