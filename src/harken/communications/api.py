"""Communications in the API: the log (logging goes through the same service as the quick
log form), triage steps, threads, mailboxes, mail runs and the lifecycle map."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from harken.api.base import ReadOnlyTrackedViewSet, TrackedViewSet, with_verb
from harken.customers.models import Contact, Customer
from harken.documents.api import as_api_error
from harken.documents.models import DocumentVersion

from . import filters, services
from .choices import Channel, Direction, Phase
from .models import Communication, LifecycleStage, Mailbox, MailRun, Thread


class CommunicationSerializer(serializers.ModelSerializer):
    concerns = serializers.SerializerMethodField()

    class Meta:
        model = Communication
        fields = [
            "id",
            "number",
            "customer",
            "contacts",
            "direction",
            "channel",
            "occurred_at",
            "staff",
            "subject",
            "body",
            "html_body",
            "phase",
            "status",
            "problems",
            "triage_note",
            "from_address",
            "to_addresses",
            "cc_addresses",
            "message_key",
            "in_reply_to",
            "thread",
            "mailbox",
            "concerns",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_concerns(self, obj: Communication) -> list[str]:
        return [link.label for link in obj.links.all()]


class LogSerializer(serializers.Serializer):
    """A communication as a client logs it; the answer is the logged communication."""

    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    contacts = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), many=True, required=False
    )
    direction = serializers.ChoiceField(choices=Direction.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    occurred_at = serializers.DateTimeField(required=False)
    subject = serializers.CharField(required=False, allow_blank=True, max_length=300)
    body = serializers.CharField(required=False, allow_blank=True)
    phase = serializers.ChoiceField(choices=Phase.choices, required=False, allow_blank=True)
    concerns = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        help_text="Numbers of the records it concerns (FB-…, CMP-…, ACT-…).",
    )
    documents = serializers.PrimaryKeyRelatedField(
        queryset=DocumentVersion.objects.all(),
        many=True,
        required=False,
        help_text="Ids of approved document versions provided with it (outbound only).",
    )

    def entry(self, actor: Any) -> services.Entry:
        data = self.validated_data
        try:
            concerns = services.resolve_references(" ".join(data.get("concerns") or []))
        except DjangoValidationError as exc:
            raise as_api_error(exc) from exc
        return services.Entry(
            customer=data["customer"],
            channel=data["channel"],
            direction=data["direction"],
            subject=data.get("subject", ""),
            body=data.get("body", ""),
            occurred_at=data.get("occurred_at"),
            contacts=list(data.get("contacts") or []),
            staff=actor,
            phase=data.get("phase", ""),
            concerns=concerns,
            versions=list(data.get("documents") or []),
        )


FileRequest = inline_serializer(
    "CommunicationFileRequest",
    fields={
        "customer": serializers.IntegerField(),
        "note": serializers.CharField(required=False, allow_blank=True),
    },
)
DismissRequest = inline_serializer(
    "CommunicationDismissRequest", fields={"reason": serializers.CharField()}
)


class CommunicationViewSet(ReadOnlyTrackedViewSet):
    """The communication log. POST logs one (like the quick log form); mail arrives by
    itself. Waiting mail is filed under a customer or dismissed with its steps."""

    queryset = Communication.objects.select_related("customer").prefetch_related(
        "contacts", "links"
    )
    serializer_class = CommunicationSerializer
    filterset_class = filters.CommunicationFilterSet

    @extend_schema(request=LogSerializer, responses={201: CommunicationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = LogSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            communication = services.log_communication(
                incoming.entry(request.user), actor=request.user
            )
        except (DjangoValidationError, PermissionDenied) as exc:
            raise as_api_error(exc) from exc
        return Response(CommunicationSerializer(communication).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FileRequest, responses=CommunicationSerializer)
    @action(detail=True, methods=["post"], url_path="file")
    @with_verb("change")
    def file_under(self, request: Request, pk: Any = None) -> Response:
        communication = self.get_object()
        raw = request.data.get("customer") if isinstance(request.data, dict) else None
        customer = Customer.objects.filter(pk=int(str(raw))).first() if str(raw).isdigit() else None
        if customer is None:
            raise serializers.ValidationError({"customer": ["Give the id of the customer."]})
        try:
            services.file_communication(
                communication,
                actor=request.user,
                customer=customer,
                note=str(request.data.get("note", "")),
            )
        except (DjangoValidationError, PermissionDenied) as exc:
            raise as_api_error(exc) from exc
        return Response(self.get_serializer(communication).data)

    @extend_schema(request=DismissRequest, responses=CommunicationSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def dismiss(self, request: Request, pk: Any = None) -> Response:
        communication = self.get_object()
        reason = request.data.get("reason", "") if isinstance(request.data, dict) else ""
        try:
            services.dismiss(communication, actor=request.user, reason=str(reason))
        except (DjangoValidationError, PermissionDenied) as exc:
            raise as_api_error(exc) from exc
        return Response(self.get_serializer(communication).data)


class ThreadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Thread
        fields = ["id", "subject", "customer", "started_at", "last_at"]
        read_only_fields = fields


class ThreadViewSet(ReadOnlyTrackedViewSet):
    queryset = Thread.objects.all()
    serializer_class = ThreadSerializer
    filterset_class = filters.ThreadFilterSet


class MailboxSerializer(serializers.ModelSerializer):
    class Meta:
        model = Mailbox
        fields = [
            "id",
            "name",
            "address",
            "host",
            "port",
            "use_ssl",
            "username",
            "password_env",
            "folder",
            "done_folder",
            "ca_file",
            "feedback_source",
            "feedback_kind",
            "phase",
            "active",
            "last_fetched_at",
        ]
        read_only_fields = ["last_fetched_at"]


class MailboxViewSet(TrackedViewSet):
    """Shared mailboxes. There is no password field: `password_env` names the variable."""

    queryset = Mailbox.objects.all()
    serializer_class = MailboxSerializer
    filterset_class = filters.MailboxFilterSet


class MailRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = MailRun
        fields = [
            "id",
            "kind",
            "mailbox",
            "file",
            "status",
            "started_at",
            "finished_at",
            "seen",
            "created",
            "duplicates",
            "triaged",
            "failed",
            "message",
        ]
        read_only_fields = fields


class MailRunViewSet(ReadOnlyTrackedViewSet):
    queryset = MailRun.objects.all()
    serializer_class = MailRunSerializer
    filterset_class = filters.MailRunFilterSet


class LifecycleStageSerializer(serializers.ModelSerializer):
    class Meta:
        model = LifecycleStage
        fields = [
            "id",
            "phase",
            "position",
            "primary_channel",
            "other_channels",
            "owner_role",
            "record_type",
            "response_target",
            "procedure",
            "notes",
        ]


class LifecycleStageViewSet(TrackedViewSet):
    queryset = LifecycleStage.objects.all()
    serializer_class = LifecycleStageSerializer
    filterset_class = filters.LifecycleStageFilterSet


def register(router: Any) -> None:
    router.register("communications", CommunicationViewSet)
    router.register("communication-threads", ThreadViewSet)
    router.register("mailboxes", MailboxViewSet)
    router.register("mail-runs", MailRunViewSet)
    router.register("lifecycle-stages", LifecycleStageViewSet)
