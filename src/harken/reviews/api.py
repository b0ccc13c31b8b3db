"""Reviews in the API: series (with whether a review is due), packs (draft, issue,
revise, verify, download), meetings and their decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from harken.api.base import ReadOnlyTrackedViewSet, TrackedViewSet, TransitionMixin, with_verb

from . import services
from .models import MeetingDecision, ReviewMeeting, ReviewPack, ReviewSeries


def django_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    )


class ReviewSeriesSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField()

    class Meta:
        model = ReviewSeries
        fields = [
            "id",
            "name",
            "kind",
            "cadence",
            "scope",
            "owner",
            "grace_days",
            "active",
            "state",
        ]

    def get_state(self, series: ReviewSeries) -> dict[str, Any]:
        state = services.series_state(series)
        return {
            "period": [state.period[0], state.period[1]],
            "due_on": state.due_on,
            "reviewed": state.reviewed,
            "overdue": state.overdue,
        }


class ReviewSeriesViewSet(TrackedViewSet):
    queryset = ReviewSeries.objects.all()
    serializer_class = ReviewSeriesSerializer


class ReviewPackSerializer(serializers.ModelSerializer):
    html_sha256 = serializers.CharField(source="html_file.sha256", read_only=True, default="")
    pdf_sha256 = serializers.CharField(source="pdf_file.sha256", read_only=True, default="")

    class Meta:
        model = ReviewPack
        fields = [
            "id",
            "number",
            "series",
            "kind",
            "period_start",
            "period_end",
            "scope",
            "anonymise",
            "commentary",
            "resources_assessment",
            "opportunities",
            "status",
            "revision",
            "replaces",
            "content_sha256",
            "html_sha256",
            "pdf_sha256",
            "issued_at",
            "issued_by",
            "created_at",
        ]
        read_only_fields = fields


DraftRequest = inline_serializer(
    "DraftPack",
    fields={
        "period_start": serializers.DateField(),
        "period_end": serializers.DateField(),
        "series": serializers.IntegerField(required=False),
        "kind": serializers.CharField(required=False),
        "anonymise": serializers.BooleanField(required=False),
    },
)


class ReviewPackViewSet(ReadOnlyTrackedViewSet):
    queryset = ReviewPack.objects.select_related("html_file", "pdf_file")
    serializer_class = ReviewPackSerializer
    filterset_fields = ["status", "kind", "series"]

    @extend_schema(request=DraftRequest, responses={201: ReviewPackSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Draft a pack for a period (filled from the data at once)."""
        data = request.data
        errors: dict[str, list[str]] = {}
        dates: dict[str, dt.date] = {}
        for name in ("period_start", "period_end"):
            try:
                dates[name] = dt.date.fromisoformat(str(data.get(name, "")))
            except ValueError:
                errors[name] = ["Give a date (YYYY-MM-DD)."]
        series = None
        if data.get("series"):
            series = (
                ReviewSeries.objects.filter(pk=str(data["series"])).first()
                if str(data["series"]).isdigit()
                else None
            )
            if series is None:
                errors["series"] = ["No such review series."]
        if errors:
            raise serializers.ValidationError(errors)
        try:
            pack = services.draft_pack(
                actor=request.user,
                period_start=dates["period_start"],
                period_end=dates["period_end"],
                series=series,
                kind=data.get("kind") or None,
                anonymise=bool(data.get("anonymise", True)),
            )
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        return Response(ReviewPackSerializer(pack).data, status=201)

    @extend_schema(request=None, responses=ReviewPackSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("issue")
    def issue(self, request: Request, pk: Any = None) -> Response:
        pack = self.get_object()
        try:
            services.issue(pack, actor=request.user)
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        return Response(ReviewPackSerializer(pack).data)

    @extend_schema(request=None, responses={201: ReviewPackSerializer})
    @action(detail=True, methods=["post"])
    @with_verb("add")
    def revise(self, request: Request, pk: Any = None) -> Response:
        pack = self.get_object()
        try:
            revision = services.revise(pack, actor=request.user)
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc
        return Response(ReviewPackSerializer(revision).data, status=201)

    @extend_schema(
        responses=inline_serializer(
            "PackVerification",
            fields={
                "ok": serializers.BooleanField(),
                "problems": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    @action(detail=True, methods=["get"])
    def verify(self, request: Request, pk: Any = None) -> Response:
        result = services.verify(self.get_object())
        return Response({"ok": result.ok, "problems": result.problems})

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    @with_verb("export")
    def document(self, request: Request, pk: Any = None) -> HttpResponse:
        """The issued PDF (or HTML with ?format=html); a draft is rendered afresh."""
        pack = self.get_object()
        fmt = request.query_params.get("format", "pdf")
        if fmt not in {"pdf", "html"}:
            raise serializers.ValidationError({"format": ["Choose pdf or html."]})
        stored = pack.pdf_file if fmt == "pdf" else pack.html_file
        if stored is not None:
            with stored.open() as handle:
                body = handle.read()
        else:
            body = (
                services.render_pdf(pack) if fmt == "pdf" else services.render_html(pack).encode()
            )
        services.record_export(pack, fmt)
        response = HttpResponse(
            body, content_type="application/pdf" if fmt == "pdf" else "text/html"
        )
        response["Content-Disposition"] = f'attachment; filename="{pack.number}.{fmt}"'
        return response


class MeetingDecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeetingDecision
        fields = [
            "id",
            "meeting",
            "kind",
            "text",
            "disposition",
            "action",
            "objective",
            "created_at",
        ]
        read_only_fields = fields


class ReviewMeetingSerializer(serializers.ModelSerializer):
    decisions = MeetingDecisionSerializer(many=True, read_only=True)

    class Meta:
        model = ReviewMeeting
        fields = [
            "id",
            "number",
            "series",
            "held_on",
            "period_start",
            "period_end",
            "pack",
            "chair",
            "attendees",
            "other_attendees",
            "minutes",
            "follow_ups",
            "status",
            "approved_at",
            "decisions",
        ]
        read_only_fields = ["number", "status", "approved_at", "decisions"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance
        if instance is not None and instance.status == "approved":
            raise serializers.ValidationError(
                {"status": ["The minutes are approved; the meeting can no longer change."]}
            )
        start = attrs.get("period_start", getattr(instance, "period_start", None))
        end = attrs.get("period_end", getattr(instance, "period_end", None))
        if start and end and start > end:
            raise serializers.ValidationError({"period_end": ["The period ends before it starts."]})
        return attrs


class ReviewMeetingViewSet(TransitionMixin, TrackedViewSet):
    queryset = ReviewMeeting.objects.prefetch_related("decisions", "attendees")
    serializer_class = ReviewMeetingSerializer
    filterset_fields = ["series", "status"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    @extend_schema(request=None, responses=ReviewMeetingSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("approve")
    def approve(self, request: Request, pk: Any = None) -> Response:
        """The chair approves the minutes."""
        meeting = self.get_object()
        from django.core.exceptions import PermissionDenied as DjangoPermissionDenied

        from harken.core.workflow import TransitionError

        try:
            services.approve_minutes(meeting, actor=request.user)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except TransitionError as exc:
            raise serializers.ValidationError({"status": exc.messages}) from exc
        return Response(ReviewMeetingSerializer(meeting).data)


def register(router: Any) -> None:
    router.register("review-series", ReviewSeriesViewSet)
    router.register("review-packs", ReviewPackViewSet)
    router.register("review-meetings", ReviewMeetingViewSet)
