"""Core's API: the audit trail (read-only) and who I am."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from harken.core.filters import AuditEventFilterSet
from harken.core.models import AuditEvent

from .base import AuditEventSerializer
from .pagination import KeysetPagination


class SeqPagination(KeysetPagination):
    ordering = "-seq"


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The append-only audit trail. Nothing here can be changed."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    lookup_field = "seq"
    pagination_class = SeqPagination
    ordering_fields = ["seq", "at"]


@extend_schema(
    responses=inline_serializer(
        "Me",
        fields={
            "username": serializers.CharField(),
            "roles": serializers.ListField(child=serializers.CharField()),
        },
    )
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def me(request: Request) -> Response:
    """The signed-in user and their roles."""
    user = request.user
    return Response({"username": user.get_username(), "roles": sorted(getattr(user, "roles", ()))})
