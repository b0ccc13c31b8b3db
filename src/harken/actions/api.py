"""Actions in the API: themes, dispositions, rules, proposals, actions, steps, checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from harken.api.base import ReadOnlyTrackedViewSet, TrackedViewSet, TransitionMixin, with_verb

from . import services
from .models import (
    Action,
    ActionStep,
    DecisionRule,
    Disposition,
    EffectivenessCheck,
    Proposal,
    Theme,
)


def django_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    )


class DispositionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Disposition
        fields = [
            "id",
            "theme",
            "decision",
            "rationale",
            "approver",
            "decided_on",
            "decided_in",
            "review_by",
            "created_at",
        ]
        read_only_fields = fields


class ThemeSerializer(serializers.ModelSerializer):
    current_disposition = serializers.SerializerMethodField()

    class Meta:
        model = Theme
        fields = [
            "id",
            "number",
            "title",
            "description",
            "category",
            "product_line",
            "segment",
            "items",
            "signals",
            "active",
            "current_disposition",
            "created_at",
        ]
        read_only_fields = ["number", "created_at"]

    def get_current_disposition(self, theme: Theme) -> dict[str, Any] | None:
        current = theme.current_disposition()
        return DispositionSerializer(current).data if current else None


class DisposeRequest(serializers.Serializer):
    decision = serializers.CharField()
    rationale = serializers.CharField()
    decided_on = serializers.DateField(required=False)
    decided_in = serializers.CharField(required=False, allow_blank=True)
    review_by = serializers.DateField(required=False, allow_null=True)


class ThemeViewSet(TrackedViewSet):
    queryset = Theme.objects.prefetch_related("items", "signals", "dispositions")
    serializer_class = ThemeSerializer
    filterset_fields = ["category", "product_line", "active"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    @extend_schema(request=DisposeRequest, responses=DispositionSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("dispose")
    def dispose(self, request: Request, pk: Any = None) -> Response:
        """Record a new disposition (the earlier ones stay on the record)."""
        theme = self.get_object()
        data = DisposeRequest(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            disposition = services.dispose(theme, actor=request.user, **data.validated_data)
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        return Response(DispositionSerializer(disposition).data, status=201)


class DecisionRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = DecisionRule
        fields = ["id", "name", "condition", "proposes", "threshold", "window_days", "active"]


class DecisionRuleViewSet(TrackedViewSet):
    queryset = DecisionRule.objects.all()
    serializer_class = DecisionRuleSerializer


class ProposalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Proposal
        fields = [
            "id",
            "rule",
            "kind",
            "title",
            "reason",
            "items",
            "signal",
            "category",
            "product_line",
            "status",
            "decided_by",
            "decided_at",
            "rejection_reason",
            "action",
            "created_at",
        ]
        read_only_fields = fields


AcceptRequest = inline_serializer(
    "AcceptProposal",
    fields={
        "owner": serializers.IntegerField(),
        "due_date": serializers.DateField(),
        "title": serializers.CharField(required=False),
    },
)
RejectRequest = inline_serializer("RejectProposal", fields={"reason": serializers.CharField()})


class ProposalViewSet(ReadOnlyTrackedViewSet):
    queryset = Proposal.objects.select_related("rule").prefetch_related("items")
    serializer_class = ProposalSerializer
    filterset_fields = ["status", "kind", "rule"]

    @extend_schema(request=AcceptRequest, responses={201: dict})
    @action(detail=True, methods=["post"])
    @with_verb("classify")
    def accept(self, request: Request, pk: Any = None) -> Response:
        proposal = self.get_object()
        owner_id = str(request.data.get("owner", ""))
        owner = get_user_model().objects.filter(pk=owner_id).first() if owner_id.isdigit() else None
        try:
            due = dt.date.fromisoformat(str(request.data.get("due_date", "")))
        except ValueError:
            raise serializers.ValidationError({"due_date": ["Give a date (YYYY-MM-DD)."]}) from None
        if owner is None:
            raise serializers.ValidationError({"owner": ["No such user."]})
        try:
            created = services.accept_proposal(
                proposal,
                actor=request.user,
                owner=owner,
                due_date=due,
                title=request.data.get("title", ""),
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        return Response(ActionSerializer(created).data, status=201)

    @extend_schema(request=RejectRequest, responses=ProposalSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("classify")
    def reject(self, request: Request, pk: Any = None) -> Response:
        proposal = self.get_object()
        try:
            services.reject_proposal(
                proposal, actor=request.user, reason=str(request.data.get("reason", ""))
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        return Response(ProposalSerializer(proposal).data)


class ActionStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActionStep
        fields = ["id", "action", "description", "owner", "due_date", "done_at", "outcome"]
        read_only_fields = ["done_at"]


class EffectivenessCheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = EffectivenessCheck
        fields = [
            "id",
            "action",
            "metric",
            "scope",
            "baseline_from",
            "baseline_to",
            "evaluation_from",
            "evaluation_to",
            "target_kind",
            "target_value",
            "computed_at",
            "result",
            "proposed_verdict",
            "explanation",
            "verdict",
            "verdict_by",
            "verdict_at",
        ]
        read_only_fields = [
            "computed_at",
            "result",
            "proposed_verdict",
            "explanation",
            "verdict",
            "verdict_by",
            "verdict_at",
        ]


class ActionSerializer(serializers.ModelSerializer):
    steps = ActionStepSerializer(many=True, read_only=True)
    effectiveness_check = EffectivenessCheckSerializer(read_only=True)

    class Meta:
        model = Action
        fields = [
            "id",
            "number",
            "kind",
            "title",
            "problem_statement",
            "items",
            "themes",
            "signals",
            "owner",
            "approver",
            "due_date",
            "priority",
            "origin",
            "containment",
            "root_cause_method",
            "whys",
            "fishbone",
            "root_cause",
            "status",
            "closed_at",
            "reopen_reason",
            "steps",
            "effectiveness_check",
            "created_at",
        ]
        read_only_fields = ["number", "status", "closed_at", "reopen_reason", "created_at"]

    def create(self, validated_data: dict[str, Any]) -> Action:
        request = self.context["request"]
        many = {k: validated_data.pop(k, []) for k in ("items", "themes", "signals")}
        extra = {
            k: validated_data.pop(k)
            for k in ("containment", "root_cause_method", "whys", "fishbone", "root_cause")
            if k in validated_data
        }
        try:
            created = services.open_action(actor=request.user, **validated_data, **many)
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        if extra:
            for key, value in extra.items():
                setattr(created, key, value)
            created.save(update_fields=list(extra))
        return created


class CheckRequest(serializers.Serializer):
    metric = serializers.CharField()
    scope = serializers.DictField(required=False)
    baseline_from = serializers.DateField()
    baseline_to = serializers.DateField()
    evaluation_from = serializers.DateField()
    evaluation_to = serializers.DateField()
    target_kind = serializers.CharField()
    target_value = serializers.FloatField(required=False, allow_null=True)


class ActionViewSet(TransitionMixin, TrackedViewSet):
    queryset = Action.objects.select_related("owner", "effectiveness_check").prefetch_related(
        "steps", "items", "themes", "signals"
    )
    serializer_class = ActionSerializer
    filterset_fields = ["status", "kind", "owner", "priority"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    @extend_schema(request=CheckRequest, responses=EffectivenessCheckSerializer)
    @action(detail=True, methods=["post"], url_path="effectiveness-check")
    @with_verb("change")
    def effectiveness_check(self, request: Request, pk: Any = None) -> Response:
        """Define (or redefine) how success will be seen, and compute it now."""
        target = self.get_object()
        data = CheckRequest(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            check = services.define_check(
                target,
                actor=request.user,
                metric=v["metric"],
                scope=v.get("scope") or {},
                baseline=(v["baseline_from"], v["baseline_to"]),
                evaluation=(v["evaluation_from"], v["evaluation_to"]),
                target_kind=v["target_kind"],
                target_value=v.get("target_value"),
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        from django.utils import timezone

        if timezone.localdate() >= check.evaluation_from:
            services.compute_check(check)
        return Response(EffectivenessCheckSerializer(check).data)

    @extend_schema(
        request=inline_serializer("ConfirmVerdict", fields={"verdict": serializers.CharField()}),
        responses=EffectivenessCheckSerializer,
    )
    @action(detail=True, methods=["post"])
    @with_verb("close")
    def verdict(self, request: Request, pk: Any = None) -> Response:
        target = self.get_object()
        check = getattr(target, "effectiveness_check", None)
        if check is None:
            raise serializers.ValidationError({"verdict": ["Define the check first."]})
        try:
            services.confirm_verdict(
                check, actor=request.user, verdict=str(request.data.get("verdict", ""))
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        return Response(EffectivenessCheckSerializer(check).data)


class ActionStepViewSet(TrackedViewSet):
    queryset = ActionStep.objects.all()
    serializer_class = ActionStepSerializer
    filterset_fields = ["action", "owner"]

    def perform_create(self, serializer: Any) -> None:
        v = serializer.validated_data
        try:
            serializer.instance = services.add_step(
                v["action"],
                actor=self.request.user,
                description=v["description"],
                owner=v["owner"],
                due_date=v["due_date"],
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc

    @extend_schema(
        request=inline_serializer(
            "StepDone", fields={"outcome": serializers.CharField(required=False)}
        )
    )
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def done(self, request: Request, pk: Any = None) -> Response:
        step = self.get_object()
        try:
            services.complete_step(
                step, actor=request.user, outcome=str(request.data.get("outcome", ""))
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        return Response(ActionStepSerializer(step).data)


def register(router: Any) -> None:
    router.register("themes", ThemeViewSet)
    router.register("decision-rules", DecisionRuleViewSet)
    router.register("proposals", ProposalViewSet)
    router.register("actions", ActionViewSet)
    router.register("action-steps", ActionStepViewSet)
