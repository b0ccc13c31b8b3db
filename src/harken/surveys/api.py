"""Surveys in the API: surveys and their questions, invitations (one at a time from other
systems, after a delivery for example), responses, opt-outs, loop rules and cases, and
response rates. Every change goes through the same services as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from harken.api.base import HistoryMixin, ReadOnlyTrackedViewSet, with_verb
from harken.core.workflow import TransitionError, apply_transition
from harken.customers.models import Contact

from . import filters, loop, services
from .choices import SurveyKind, Trigger
from .models import Invitation, LoopCase, LoopRule, OptOut, Question, Survey, SurveyResponse


def api_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(exc.message_dict)
    return serializers.ValidationError({"detail": exc.messages})


class SurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = Survey
        fields = [
            "id",
            "number",
            "title",
            "kind",
            "trigger",
            "status",
            "source",
            "languages",
            "default_language",
            "texts",
            "reminder_after_days",
            "valid_days",
            "open_link",
            "repeat_months",
            "invite_after_days",
            "round",
            "previous_round",
            "nonresponse_note",
            "opened_at",
            "closed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "number",
            "round",
            "previous_round",
            "status",
            "languages",
            "texts",
            "opened_at",
            "closed_at",
            "created_at",
            "updated_at",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            if "kind" in attrs and attrs["kind"] != self.instance.kind:
                raise serializers.ValidationError({"kind": ["The kind is chosen when creating."]})
            if (
                "source" in attrs
                and attrs["source"] != self.instance.source
                and (self.instance.status != "draft")
            ):
                raise serializers.ValidationError(
                    {"source": ["Answers already count for this source; it stays."]}
                )
        current = self.instance
        errors = services.schedule_errors(
            attrs.get("trigger", current.trigger if current else Trigger.CAMPAIGN),
            attrs.get("repeat_months", current.repeat_months if current else 0),
            attrs.get("invite_after_days", current.invite_after_days if current else 3),
        )
        if errors:
            raise serializers.ValidationError({k: [v] for k, v in errors.items()})
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Survey:
        request = self.context["request"]
        try:
            return services.create_survey(
                actor=request.user,
                title=validated_data["title"],
                source=validated_data["source"],
                kind=validated_data.get("kind", SurveyKind.NPS),
                trigger=validated_data.get("trigger", Trigger.CAMPAIGN),
                default_language=validated_data.get("default_language", "en"),
                reminder_after_days=validated_data.get("reminder_after_days", 5),
                valid_days=validated_data.get("valid_days", 30),
                open_link=validated_data.get("open_link", False),
                repeat_months=validated_data.get("repeat_months", 0),
                invite_after_days=validated_data.get("invite_after_days", 3),
            )
        except DjangoValidationError as exc:
            raise api_errors(exc) from exc


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = ["id", "survey", "position", "kind", "scale", "required", "options", "texts"]
        read_only_fields = ["position"]


class InvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = [
            "id",
            "survey",
            "contact",
            "customer",
            "email",
            "language",
            "status",
            "attempts",
            "last_error",
            "sent_at",
            "expires_at",
            "reminded_at",
            "opened_at",
            "responded_at",
            "bounced_at",
            "opted_out_at",
            "trigger_item",
            "trigger_ref",
            "created_at",
        ]
        read_only_fields = fields


class InviteRequestSerializer(serializers.Serializer):
    survey = serializers.PrimaryKeyRelatedField(queryset=Survey.objects.all())
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())
    trigger_ref = serializers.CharField(max_length=100, required=False, allow_blank=True)


class SurveyResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "survey",
            "invitation",
            "contact",
            "customer",
            "language",
            "status",
            "answers",
            "score",
            "comment",
            "submitted_at",
            "feedback_item",
            "created_at",
        ]
        read_only_fields = fields


class OptOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = OptOut
        fields = ["id", "email", "contact", "invitation", "via", "opted_out_at", "note"]
        read_only_fields = ["contact", "invitation", "via", "opted_out_at"]


class LoopRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = LoopRule
        fields = [
            "id",
            "source",
            "active",
            "send_outcome",
            "outcome_template",
            "follow_up_survey",
            "follow_up_delay_days",
            "applies_from",
        ]
        read_only_fields = ["applies_from"]

    def save_rule(self, rule: LoopRule | None) -> LoopRule:
        data = {**self.validated_data}
        current = (
            {
                name: getattr(rule, name)
                for name in (
                    "source",
                    "active",
                    "send_outcome",
                    "outcome_template",
                    "follow_up_survey",
                    "follow_up_delay_days",
                )
            }
            if rule
            else {}
        )
        merged = {**current, **data}
        try:
            return loop.save_rule(
                actor=self.context["request"].user,
                rule=rule,
                source=rule.source if rule else merged["source"],
                active=merged.get("active", True),
                send_outcome=merged.get("send_outcome", True),
                outcome_template=merged.get("outcome_template"),
                follow_up_survey=merged.get("follow_up_survey"),
                follow_up_delay_days=merged.get("follow_up_delay_days", 14),
            )
        except DjangoValidationError as exc:
            raise api_errors(exc) from exc

    def create(self, validated_data: dict[str, Any]) -> LoopRule:
        return self.save_rule(None)

    def update(self, instance: LoopRule, validated_data: dict[str, Any]) -> LoopRule:
        if "source" in validated_data and validated_data["source"] != instance.source:
            raise serializers.ValidationError({"source": ["A rule stays with its source."]})
        return self.save_rule(instance)


class LoopCaseSerializer(serializers.ModelSerializer):
    customer_informed = serializers.BooleanField(read_only=True)
    follow_up_score = serializers.SerializerMethodField()

    class Meta:
        model = LoopCase
        fields = [
            "id",
            "complaint",
            "rule",
            "contact",
            "resolved_at",
            "outcome_status",
            "outcome_sent_at",
            "customer_informed",
            "communication",
            "follow_up_status",
            "follow_up_due_at",
            "invitation",
            "follow_up_score",
            "note",
        ]
        read_only_fields = fields

    def get_follow_up_score(self, obj: LoopCase) -> float | None:
        response = obj.follow_up_response
        return response.score if response is not None else None


ResponseRateSerializer = inline_serializer(
    "SurveyResponseRate",
    many=True,
    fields={
        "survey": serializers.CharField(),
        "title": serializers.CharField(),
        "kind": serializers.CharField(),
        "trigger": serializers.CharField(),
        "source": serializers.CharField(),
        "source_id": serializers.IntegerField(),
        "invited": serializers.IntegerField(),
        "delivered": serializers.IntegerField(),
        "bounced": serializers.IntegerField(),
        "opened": serializers.IntegerField(),
        "responded": serializers.IntegerField(),
        "opted_out": serializers.IntegerField(),
        "non_response": serializers.IntegerField(),
        "response_rate": serializers.FloatField(allow_null=True),
        "low_response": serializers.BooleanField(),
        "nonresponse_note": serializers.CharField(),
    },
)


def _date(value: str | None, default: dt.date, name: str) -> dt.date:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise serializers.ValidationError({name: ["Use a date as YYYY-MM-DD."]}) from exc


class SurveyViewSet(
    HistoryMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Surveys; created as drafts with default texts, opened and closed by name."""

    queryset = Survey.objects.select_related("source")
    serializer_class = SurveySerializer
    filterset_class = filters.SurveyFilterSet

    @extend_schema(
        request=inline_serializer(
            "SurveyStep",
            fields={"step": serializers.ChoiceField(choices=["open", "close", "reopen"])},
        )
    )
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def step(self, request: Request, pk: Any = None) -> Response:
        survey = self.get_object()
        name = request.data.get("step")
        try:
            if name == "open":
                services.open_survey(survey, actor=request.user)
            elif name == "close":
                services.close_survey(survey, actor=request.user)
            elif name == "reopen":
                apply_transition(survey, "reopen", actor=request.user)
            else:
                raise serializers.ValidationError({"step": ["Use open, close or reopen."]})
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except TransitionError as exc:
            raise serializers.ValidationError({"step": exc.messages}) from exc
        return Response(self.get_serializer(survey).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from", str, description="First day (YYYY-MM-DD); default a year ago."
            ),
            OpenApiParameter("to", str, description="Last day (YYYY-MM-DD); default today."),
        ],
        responses=ResponseRateSerializer,
    )
    # A plain list by month, neither paginated nor filtered (the schema says so).
    @action(
        detail=False,
        methods=["get"],
        url_path="response-rates",
        pagination_class=None,
        filter_backends=[],
    )
    def response_rates(self, request: Request) -> Response:
        today = timezone.localdate()
        end = _date(request.query_params.get("to"), today, "to")
        start = _date(request.query_params.get("from"), end - dt.timedelta(days=365), "from")
        if start > end:
            raise serializers.ValidationError({"from": ["The period starts after it ends."]})
        return Response(services.response_rates(start, end))


class QuestionViewSet(HistoryMixin, viewsets.ModelViewSet):
    """A draft survey's questions; fixed once the survey opens."""

    queryset = Question.objects.select_related("survey")
    serializer_class = QuestionSerializer
    filterset_fields = ["survey", "kind"]

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        try:
            serializer.instance = services.add_question(
                data["survey"],
                actor=self.request.user,
                kind=data["kind"],
                texts=data.get("texts") or {},
                scale=data.get("scale", ""),
                required=data.get("required", False),
                options=data.get("options") or [],
            )
        except DjangoValidationError as exc:
            raise api_errors(exc) from exc

    def perform_update(self, serializer: Any) -> None:
        values = {k: v for k, v in serializer.validated_data.items() if k != "survey"}
        try:
            services.update_question(serializer.instance, actor=self.request.user, **values)
        except DjangoValidationError as exc:
            raise api_errors(exc) from exc

    def perform_destroy(self, instance: Question) -> None:
        try:
            services.delete_question(instance, actor=self.request.user)
        except DjangoValidationError as exc:
            raise api_errors(exc) from exc


class InvitationViewSet(HistoryMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Invitations. POST invites one contact (after a delivery, say): the same rules as a
    campaign (never twice, opt-outs, the throttle); the tick sends it."""

    queryset = Invitation.objects.select_related("survey", "contact", "customer")
    serializer_class = InvitationSerializer
    filterset_class = filters.InvitationFilterSet

    @extend_schema(request=InviteRequestSerializer, responses={201: InvitationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = InviteRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            plan = services.invite(
                data["survey"],
                [data["contact"]],
                actor=request.user,
                trigger_ref=data.get("trigger_ref", ""),
            )
        except DjangoValidationError as exc:
            raise api_errors(exc) from exc
        if not plan.created:
            reason = plan.skipped[0].reason if plan.skipped else "not invited"
            raise serializers.ValidationError({"contact": [f"Not invited: {reason}."]})
        return Response(self.get_serializer(plan.created[0]).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=inline_serializer("BounceRequest", fields={"reason": serializers.CharField()})
    )
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def bounce(self, request: Request, pk: Any = None) -> Response:
        invitation = self.get_object()
        try:
            services.mark_bounced(
                invitation, actor=request.user, reason=str(request.data.get("reason", ""))
            )
        except DjangoValidationError as exc:
            raise api_errors(exc) from exc
        return Response(self.get_serializer(invitation).data)


class SurveyResponseViewSet(ReadOnlyTrackedViewSet):
    queryset = SurveyResponse.objects.select_related("survey")
    serializer_class = SurveyResponseSerializer
    filterset_class = filters.SurveyResponseFilterSet


class OptOutViewSet(
    HistoryMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Addresses that want no survey invitations; POST records one told to a person."""

    queryset = OptOut.objects.all()
    serializer_class = OptOutSerializer
    filterset_class = filters.OptOutFilterSet

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        try:
            serializer.instance = services.record_opt_out(
                data["email"], actor=self.request.user, note=data.get("note", "")
            )
        except DjangoValidationError as exc:
            raise api_errors(exc) from exc

    def perform_destroy(self, instance: OptOut) -> None:
        services.withdraw_opt_out(instance, actor=self.request.user)


class LoopRuleViewSet(HistoryMixin, viewsets.ModelViewSet):
    queryset = LoopRule.objects.select_related("source")
    serializer_class = LoopRuleSerializer
    filterset_class = filters.LoopRuleFilterSet
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class LoopCaseViewSet(ReadOnlyTrackedViewSet):
    queryset = LoopCase.objects.select_related("complaint", "invitation__response")
    serializer_class = LoopCaseSerializer
    filterset_class = filters.LoopCaseFilterSet


def register(router: Any) -> None:
    """Registers this app's viewsets on the API router."""
    router.register("surveys", SurveyViewSet)
    router.register("survey-questions", QuestionViewSet)
    router.register("survey-invitations", InvitationViewSet)
    router.register("survey-responses", SurveyResponseViewSet)
    router.register("survey-opt-outs", OptOutViewSet)
    router.register("loop-rules", LoopRuleViewSet)
    router.register("loop-cases", LoopCaseViewSet)
