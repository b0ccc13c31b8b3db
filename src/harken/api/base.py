"""Bases for every app's viewsets: audit history, transitions, keyset ordering."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from harken.core.models import AuditEvent
from harken.core.scoping import in_scope
from harken.core.workflow import TransitionError, apply_transition


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "at",
            "actor_type",
            "actor_id",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "changes",
            "request_id",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


def with_verb(verb: str) -> Any:
    """Mark a viewset action with the permission verb it needs."""

    def decorate(func: Any) -> Any:
        func.required_verb = verb
        return func

    return decorate


class HistoryMixin:
    """`GET …/{id}/history/`: the record's audit events, newest first."""

    # A plain list, neither paginated nor filtered: the schema says so only when the action
    # drops the viewset's pagination and filters.
    @extend_schema(responses=AuditEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, pk: Any = None) -> Response:
        obj = self.get_object()  # type: ignore[attr-defined]
        if not in_scope(request.user, obj):
            raise Http404
        events = AuditEvent.objects.filter(
            object_type=obj._meta.label_lower, object_id=str(obj.pk)
        ).order_by("-seq")[:500]
        return Response(AuditEventSerializer(events, many=True).data)


TransitionRequest = inline_serializer(
    "TransitionRequest",
    fields={"transition": serializers.CharField(), "values": serializers.DictField(required=False)},
)


class TransitionMixin:
    """`POST …/{id}/transition/` with {"transition": "name"}: a guarded state change."""

    @extend_schema(request=TransitionRequest)
    @action(detail=True, methods=["post"])
    @with_verb("change")  # and apply_transition checks the transition's own verb
    def transition(self, request: Request, pk: Any = None) -> Response:
        obj = self.get_object()  # type: ignore[attr-defined]
        name = request.data.get("transition")
        if not isinstance(name, str) or not name:
            raise serializers.ValidationError({"transition": ["Name the transition to make."]})
        values = request.data.get("values") or {}
        allowed = set(getattr(obj, "transition_fields", ()))
        if not isinstance(values, dict) or set(values) - allowed:
            raise serializers.ValidationError(
                {
                    "values": [
                        f"Only these fields may be set: {', '.join(sorted(allowed)) or 'none'}."
                    ]
                }
            )
        try:
            apply_transition(obj, name, actor=request.user, values=values)
        except PermissionDenied as exc:
            raise ApiPermissionDenied(str(exc)) from exc
        except TransitionError as exc:
            raise serializers.ValidationError({"transition": exc.messages}) from exc
        return Response(self.get_serializer(obj).data)  # type: ignore[attr-defined]


class TrackedViewSet(HistoryMixin, viewsets.ModelViewSet):
    """CRUD for a tracked model, plus its history."""


class ReadOnlyTrackedViewSet(HistoryMixin, viewsets.ReadOnlyModelViewSet):
    """Read-only access plus history."""


__all__ = [
    "AuditEventSerializer",
    "HistoryMixin",
    "ReadOnlyTrackedViewSet",
    "TrackedViewSet",
    "TransitionMixin",
    "mixins",
    "with_verb",
]
