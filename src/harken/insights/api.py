"""Insights in the API: metric series, exposure, objectives and signals."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from harken.api.base import ReadOnlyTrackedViewSet, TrackedViewSet, TransitionMixin, with_verb
from harken.core.permissions import perm_name

from . import metrics
from .choices import Dimension, Grain, Metric
from .models import Exposure, FeedbackRollup, QualityObjective, Signal


class ExposureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Exposure
        fields = [
            "id",
            "month",
            "kind",
            "product_line",
            "region",
            "value",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # The table's check constraint refuses a negative count; say so as a field error.
        extra_kwargs = {"value": {"min_value": 0}}

    def validate_month(self, value: Any) -> Any:
        if value.day != 1:
            raise serializers.ValidationError("Give the first day of the month.")
        return value


class QualityObjectiveSerializer(serializers.ModelSerializer):
    class Meta:
        model = QualityObjective
        fields = [
            "id",
            "name",
            "metric",
            "comparator",
            "target",
            "scope",
            "per_product_line",
            "owner",
            "frequency",
            "active",
        ]

    def validate_scope(self, value: Any) -> Any:
        allowed = {"sources", "segments", "regions", "product_lines", "categories"}
        if not isinstance(value, dict) or set(value) - allowed:
            raise serializers.ValidationError(
                f"Use an object with any of: {', '.join(sorted(allowed))} (lists)."
            )
        if any(not isinstance(v, list) for v in value.values()):
            raise serializers.ValidationError("Each scope entry is a list.")
        return value


class SignalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Signal
        fields = [
            "id",
            "number",
            "kind",
            "metric",
            "title",
            "description",
            "scope",
            "period_start",
            "period_end",
            "rule",
            "evidence",
            "status",
            "dismissal_reason",
            "created_at",
        ]
        read_only_fields = fields


class ExposureViewSet(TrackedViewSet):
    queryset = Exposure.objects.select_related("product_line", "region")
    serializer_class = ExposureSerializer
    filterset_fields = ["kind", "month", "product_line", "region"]


class QualityObjectiveViewSet(TrackedViewSet):
    queryset = QualityObjective.objects.all()
    serializer_class = QualityObjectiveSerializer
    filterset_fields = ["metric", "active"]

    @action(detail=True, methods=["get"])
    def standing(self, request: Request, pk: Any = None) -> Response:
        """The objective's standing in its last full period, per part, with its trend."""
        from .objectives import assess

        objective = self.get_object()
        return Response(
            [
                {
                    "part": a.label,
                    "period": [a.period[0], a.period[1]],
                    "current": a.current.as_dict(),
                    "on_target": a.on_target,
                    "trend": [{"period": p, "value": v} for p, v in a.trend],
                }
                for a in assess(objective)
            ]
        )


class SignalViewSet(TransitionMixin, ReadOnlyTrackedViewSet):
    queryset = Signal.objects.all()
    serializer_class = SignalSerializer
    filterset_fields = ["status", "kind", "metric"]

    @extend_schema(request=None, responses=SignalSerializer(many=True))
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    @with_verb("classify")
    def detect(self, request: Request) -> Response:
        """Look for new signals now; answers with the signals created."""
        from .detection import detect

        created = detect()
        return Response(SignalSerializer(created, many=True).data)


SCOPE_PARAMETERS = [
    OpenApiParameter(
        "from", str, description="First day (YYYY-MM-DD); default: the last 3 full months."
    ),
    OpenApiParameter("to", str, description="Last day (YYYY-MM-DD)."),
    OpenApiParameter("source", int, many=True),
    OpenApiParameter("segment", str, many=True),
    OpenApiParameter("region", int, many=True),
    OpenApiParameter("product_line", int, many=True),
    OpenApiParameter("category", int, many=True),
    OpenApiParameter("kind", str, many=True),
    OpenApiParameter("customer", int),
]


class MetricsView(APIView):
    """`GET /api/metrics/?metric=nps&grain=month&by=product_line&from=…&to=…`: a metric over
    the period with its interval, the change against the previous period with its test,
    and the series per period (split by a dimension when `by` is given)."""

    queryset = FeedbackRollup.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("metric", str, enum=Metric.values, required=True),
            OpenApiParameter("grain", str, enum=Grain.values),
            OpenApiParameter("by", str, enum=Dimension.values),
            *SCOPE_PARAMETERS,
        ],
        responses=dict,
    )
    def get(self, request: Request) -> Response:
        errors: dict[str, list[str]] = {}
        metric = request.query_params.get("metric", "")
        grain = request.query_params.get("grain", Grain.MONTH)
        by = request.query_params.get("by") or None
        if metric not in Metric.values:
            errors["metric"] = [f"Choose one of {', '.join(Metric.values)}."]
        if grain not in Grain.values:
            errors["grain"] = ["Choose week, month or quarter."]
        if by is not None and by not in Dimension.values:
            errors["by"] = [f"Choose one of {', '.join(Dimension.values)}."]
        try:
            scope = metrics.scope_from_params(request.query_params)
        except metrics.ScopeError as exc:
            errors.update({k: [v] for k, v in exc.errors.items()})
        if errors:
            raise serializers.ValidationError(errors)
        return Response(metric_payload(scope, metric, grain, by))


def metric_payload(scope: metrics.Scope, metric: str, grain: str, by: str | None) -> dict[str, Any]:
    """The JSON shape shared by the API and `harken metrics --json`."""
    change = metrics.compare(scope, metric)
    split = metrics.series(scope, metric, grain, by)
    labels = metrics.dimension_labels(by, list(split)) if by else {None: "all"}
    return {
        "metric": metric,
        "scope": {
            "from": scope.date_from.isoformat(),
            "to": scope.date_to.isoformat(),
            **{
                k: v
                for k, v in scope.as_params().items()
                if k not in {"received_from", "received_to"}
            },
        },
        "total": change.current.as_dict(),
        "previous": change.previous.as_dict(),
        "change": {
            "difference": change.difference,
            "p_value": change.p_value,
            "significant": change.significant,
            "adverse": change.adverse,
            "test": change.test,
            "warning": change.warning,
        },
        "grain": grain,
        "series": [
            {
                "key": key,
                "label": labels.get(key, str(key)),
                "points": [
                    {
                        "period": p.period.isoformat(),
                        "period_end": p.period_end.isoformat(),
                        **p.value.as_dict(),
                    }
                    for p in points
                ],
            }
            for key, points in split.items()
        ],
    }


def register(router: Any) -> None:
    router.register("exposures", ExposureViewSet)
    router.register("quality-objectives", QualityObjectiveViewSet)
    router.register("signals", SignalViewSet)


__all__ = ["MetricsView", "metric_payload", "perm_name", "register"]
