"""Customer property in the API: the register, the append-only custody log, incidents
(with the customer's notification and the corrective action), inventory checks, and
what is due. Every write goes through `services`, like the pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from harken.actions.choices import Priority
from harken.actions.models import Action
from harken.api.base import ReadOnlyTrackedViewSet, TrackedViewSet, TransitionMixin, with_verb
from harken.communications.choices import Channel
from harken.communications.models import Communication
from harken.customers.models import Contact

from . import services
from .choices import CustodyKind, IncidentKind, Severity
from .filters import (
    CustodyEventFilterSet,
    InventoryCheckFilterSet,
    PropertyIncidentFilterSet,
    PropertyItemFilterSet,
)
from .models import (
    CustodyEvent,
    InventoryCheck,
    InventoryCheckLine,
    ItemFile,
    PropertyIncident,
    PropertyItem,
)


def refused(exc: DjangoValidationError) -> serializers.ValidationError:
    """A service's refusal as the API's field errors."""
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(exc.message_dict)
    return serializers.ValidationError({"non_field_errors": exc.messages})


def run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except DjangoValidationError as exc:
        raise refused(exc) from exc
    except PermissionDenied as exc:
        raise ApiPermissionDenied(str(exc)) from exc


class NumberField(serializers.CharField):
    """A record referred to by its number (COM-…, ACT-…) or its id."""

    def __init__(self, *args: Any, model: Any, **kwargs: Any) -> None:
        self.model = model
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        text = str(super().to_internal_value(data)).strip()
        if not text:
            return None
        query = self.model.objects.filter(number__iexact=text)
        if text.isdigit():
            query = self.model.objects.filter(pk=int(text))
        found = query.first()
        if found is None:
            raise serializers.ValidationError(
                f"No {self.model._meta.verbose_name} matches {text!r}."
            )
        return found

    def to_representation(self, value: Any) -> Any:
        return getattr(value, "number", value)


class ItemFileSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="file.name", read_only=True)
    sha256 = serializers.CharField(source="file.sha256", read_only=True)
    size = serializers.IntegerField(source="file.size", read_only=True)
    content_type = serializers.CharField(source="file.content_type", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = ItemFile
        fields = ["id", "event", "caption", "name", "sha256", "size", "content_type", "url"]
        read_only_fields = fields


class PropertyItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = PropertyItem
        fields = [
            "id",
            "number",
            "customer",
            "kind",
            "name",
            "description",
            "identifiers",
            "quantity",
            "unit",
            "order",
            "order_reference",
            "confidentiality",
            "storage_conditions",
            "access_restrictions",
            "handling_instructions",
            "storage_location",
            "permitted_use",
            "end_action",
            "due_date",
            "retain_until",
            "review_days",
            "status",
            "holder",
            "holder_user",
            "location",
            "last_event_at",
            "received_at",
            "received_by",
            "condition_on_receipt",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "number",
            "status",
            "holder",
            "holder_user",
            "location",
            "last_event_at",
            "received_at",
            "received_by",
            "condition_on_receipt",
            "created_at",
            "updated_at",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs.get("kind", getattr(self.instance, "kind", ""))
        texts = {
            name: attrs.get(name, getattr(self.instance, name, "") if self.instance else "")
            for name in services.ITEM_TEXT_FIELDS
        }
        errors = services.secret_errors(kind, texts)
        if errors:
            raise serializers.ValidationError({k: [v] for k, v in errors.items()})
        return attrs

    def create(self, validated_data: dict[str, Any]) -> PropertyItem:
        return run(services.register_item, actor=self.context["request"].user, **validated_data)

    def update(self, instance: PropertyItem, validated_data: dict[str, Any]) -> PropertyItem:
        return run(
            services.update_item, instance, actor=self.context["request"].user, **validated_data
        )


class CustodyEventSerializer(serializers.ModelSerializer):
    """A custody event; POST appends one (multipart for files), nothing else changes them."""

    item = serializers.PrimaryKeyRelatedField(queryset=PropertyItem.objects.all())
    kind = serializers.ChoiceField(choices=CustodyKind.choices)
    acknowledgement = NumberField(
        model=Communication,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="The communication (COM-… or id) in which the customer confirmed it.",
    )
    performed_by = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )
    to_user = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )
    condition = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text="Receipt only."
    )
    upload = serializers.ListField(
        child=serializers.FileField(),
        write_only=True,
        required=False,
        help_text="Photos, a signed note, a certificate (multipart).",
    )
    caption = serializers.CharField(write_only=True, required=False, allow_blank=True)
    files = ItemFileSerializer(many=True, read_only=True)
    # A plain string in the schema: the values are a property item's `status`, whose
    # choice set is described once, there.
    status_after = serializers.CharField(read_only=True)

    class Meta:
        model = CustodyEvent
        fields = [
            "id",
            "item",
            "sequence",
            "kind",
            "occurred_at",
            "performed_by",
            "from_holder",
            "from_location",
            "to_holder",
            "to_user",
            "to_location",
            "purpose",
            "note",
            "acknowledgement",
            "condition",
            "upload",
            "caption",
            "files",
            "status_after",
            "incident",
            "inventory_check",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "sequence",
            "from_holder",
            "from_location",
            "status_after",
            "incident",
            "inventory_check",
            "created_at",
        ]
        extra_kwargs = {"occurred_at": {"required": False}}

    def create(self, validated_data: dict[str, Any]) -> CustodyEvent:
        data = dict(validated_data)
        item = data.pop("item")
        files = data.pop("upload", [])
        user = self.context["request"].user
        if data.get("performed_by") is None:
            data["performed_by"] = user
        return run(services.record_custody, item, actor=user, files=files, **data)


class PropertyIncidentSerializer(serializers.ModelSerializer):
    item = serializers.PrimaryKeyRelatedField(queryset=PropertyItem.objects.all())
    kind = serializers.ChoiceField(choices=IncidentKind.choices)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    discovered_at = serializers.DateTimeField(required=False)
    notification: serializers.SlugRelatedField[Communication] = serializers.SlugRelatedField(
        slug_field="number", read_only=True
    )
    action: serializers.SlugRelatedField[Action] = serializers.SlugRelatedField(
        slug_field="number", read_only=True
    )

    class Meta:
        model = PropertyIncident
        fields = [
            "id",
            "number",
            "item",
            "kind",
            "severity",
            "what_happened",
            "occurred_at",
            "discovered_at",
            "impact",
            "immediate_action",
            "notify_by",
            "notify_rule",
            "notification",
            "action",
            "status",
            "resolution",
            "closed_at",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "number",
            "notify_by",
            "notify_rule",
            "notification",
            "action",
            "status",
            "resolution",
            "closed_at",
            "created_at",
        ]

    def create(self, validated_data: dict[str, Any]) -> PropertyIncident:
        data = dict(validated_data)
        item = data.pop("item")
        return run(services.record_incident, item, actor=self.context["request"].user, **data)

    def update(
        self, instance: PropertyIncident, validated_data: dict[str, Any]
    ) -> PropertyIncident:
        data = {k: v for k, v in validated_data.items() if k in services.INCIDENT_FIELDS}
        if set(validated_data) - set(services.INCIDENT_FIELDS):
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        "Only severity, what happened, when, impact and the immediate action change here."
                    ]
                }
            )
        return run(services.update_incident, instance, actor=self.context["request"].user, **data)


class NotifySerializer(serializers.Serializer):
    """Either `communication` (one already in the log) or what was said."""

    communication = NumberField(
        model=Communication, required=False, allow_blank=True, allow_null=True
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, default=Channel.EMAIL
    )
    subject = serializers.CharField(required=False, allow_blank=True, max_length=300)
    body = serializers.CharField(required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField(required=False)
    contacts = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), many=True, required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("communication") is None and not (attrs.get("body") or "").strip():
            raise serializers.ValidationError(
                {"body": ["Write what the customer was told, or name the communication."]}
            )
        return attrs


class IncidentActionSerializer(serializers.Serializer):
    """Either `action` (link one that exists) or the owner and due date of a new one."""

    action = NumberField(model=Action, required=False, allow_blank=True, allow_null=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )
    due_date = serializers.DateField(required=False, allow_null=True)
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, default=Priority.HIGH
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("action") is None:
            errors = {}
            if attrs.get("owner") is None:
                errors["owner"] = ["Name the owner of the new action."]
            if attrs.get("due_date") is None:
                errors["due_date"] = ["Give the new action a due date."]
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class InventoryCheckLineSerializer(serializers.ModelSerializer):
    incident: serializers.SlugRelatedField[PropertyIncident] = serializers.SlugRelatedField(
        slug_field="number", read_only=True
    )

    class Meta:
        model = InventoryCheckLine
        fields = ["item", "outcome", "incident"]
        read_only_fields = fields


class InventoryCheckSerializer(serializers.ModelSerializer):
    seen = serializers.PrimaryKeyRelatedField(
        queryset=PropertyItem.objects.all(), many=True, write_only=True, required=False
    )
    missing = serializers.PrimaryKeyRelatedField(
        queryset=PropertyItem.objects.all(), many=True, write_only=True, required=False
    )
    lines = InventoryCheckLineSerializer(many=True, read_only=True)

    class Meta:
        model = InventoryCheck
        fields = [
            "id",
            "performed_at",
            "performed_by",
            "location",
            "customer",
            "notes",
            "seen",
            "missing",
            "seen_count",
            "missing_count",
            "lines",
            "created_at",
        ]
        read_only_fields = ["id", "performed_by", "seen_count", "missing_count", "created_at"]
        extra_kwargs = {"performed_at": {"required": False}}

    def create(self, validated_data: dict[str, Any]) -> InventoryCheck:
        data = dict(validated_data)
        return run(
            services.record_inventory_check,
            actor=self.context["request"].user,
            seen=data.pop("seen", []),
            missing=data.pop("missing", []),
            **data,
        )


def due_items(name: str) -> Any:
    return inline_serializer(
        name,
        many=True,
        fields={
            "id": serializers.IntegerField(),
            "number": serializers.CharField(),
            "name": serializers.CharField(),
            "customer": serializers.IntegerField(),
            "date": serializers.CharField(allow_null=True),
        },
    )


class PropertyItemViewSet(TrackedViewSet):
    """The register. Status, holder and location change only through custody events
    (`POST /api/custody-events/`); an item that has any cannot be deleted."""

    queryset = PropertyItem.objects.select_related("customer")
    serializer_class = PropertyItemSerializer
    filterset_class = PropertyItemFilterSet

    @extend_schema(responses=CustodyEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def custody(self, request: Request, pk: Any = None) -> Response:
        """The item's chain of custody, in order."""
        item = self.get_object()
        events = item.custody_events.prefetch_related("files__file").order_by("sequence")
        return Response(CustodyEventSerializer(events, many=True).data)

    @extend_schema(
        responses=inline_serializer(
            "PropertyDue",
            fields={
                "overdue": due_items("PropertyDueOverdue"),
                "check_due": due_items("PropertyDueCheck"),
                "past_retention": due_items("PropertyDueRetention"),
            },
        )
    )
    @action(detail=False, methods=["get"])
    def due(self, request: Request) -> Response:
        """Held items overdue for return or destruction, due for a check, past retention."""
        now = timezone.now()
        today = timezone.localdate(now)

        def rows(queryset: Any, field: str) -> list[dict[str, Any]]:
            return [
                {
                    "id": i.pk,
                    "number": i.number,
                    "name": i.name,
                    "customer": i.customer_id,
                    "date": (value.isoformat() if (value := getattr(i, field)) else None),
                }
                for i in queryset.order_by(field)[:500]
            ]

        return Response(
            {
                "overdue": rows(services.overdue_end(today), "due_date"),
                "check_due": rows(services.check_due(now), "last_event_at"),
                "past_retention": rows(services.past_retention(today), "retain_until"),
            }
        )

    def perform_destroy(self, instance: PropertyItem) -> None:
        if instance.custody_events.exists():
            raise serializers.ValidationError(
                {"non_field_errors": ["Its custody began: the item is evidence and stays."]}
            )
        instance.delete()


class CustodyEventViewSet(ReadOnlyTrackedViewSet):
    """The custody log. POST appends an event; events are never changed or deleted."""

    queryset = CustodyEvent.objects.select_related("item").prefetch_related("files__file")
    serializer_class = CustodyEventSerializer
    filterset_class = CustodyEventFilterSet

    @extend_schema(request=CustodyEventSerializer, responses={201: CustodyEventSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = serializer.save()
        return Response(self.get_serializer(event).data, status=status.HTTP_201_CREATED)


class PropertyIncidentViewSet(TransitionMixin, TrackedViewSet):
    """Incidents. Close with `POST …/{id}/transition/` {"transition": "close", "values":
    {"resolution": "…"}}: refused until the customer's notification is recorded."""

    queryset = PropertyIncident.objects.select_related("item", "notification", "action")
    serializer_class = PropertyIncidentSerializer
    filterset_class = PropertyIncidentFilterSet
    # Incidents are closed, never deleted; corrections are partial (PATCH).
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=NotifySerializer, responses=PropertyIncidentSerializer)
    @action(detail=True, methods=["post"])
    @with_verb("change")
    def notify(self, request: Request, pk: Any = None) -> Response:
        """Record the customer's notification: a communication in the log, or a new one."""
        incident = self.get_object()
        body = NotifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("communication") is not None:
            run(services.link_notification, incident, data["communication"], actor=request.user)
        else:
            run(
                services.notify_customer,
                incident,
                actor=request.user,
                channel=data.get("channel") or Channel.EMAIL,
                subject=data.get("subject") or "",
                body=data.get("body") or "",
                contacts=list(data.get("contacts") or []),
                occurred_at=data.get("occurred_at"),
            )
        return Response(self.get_serializer(incident).data)

    @extend_schema(request=IncidentActionSerializer, responses=PropertyIncidentSerializer)
    @action(detail=True, methods=["post"], url_path="corrective-action")
    @with_verb("change")
    def corrective_action(self, request: Request, pk: Any = None) -> Response:
        """Open a corrective action for the incident, or link an existing one."""
        incident = self.get_object()
        body = IncidentActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("action") is not None:
            run(services.link_action, incident, data["action"], actor=request.user)
        else:
            run(
                services.open_corrective_action,
                incident,
                actor=request.user,
                owner=data["owner"],
                due_date=data["due_date"],
                title=data.get("title") or "",
                priority=data.get("priority") or Priority.HIGH,
            )
        return Response(self.get_serializer(incident).data)


class InventoryCheckViewSet(ReadOnlyTrackedViewSet):
    """Inventory checks. POST records one: `seen` and `missing` are item ids."""

    queryset = InventoryCheck.objects.select_related("performed_by", "customer").prefetch_related(
        "lines__incident"
    )
    serializer_class = InventoryCheckSerializer
    filterset_class = InventoryCheckFilterSet

    @extend_schema(request=InventoryCheckSerializer, responses={201: InventoryCheckSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check = serializer.save()
        return Response(self.get_serializer(check).data, status=status.HTTP_201_CREATED)


def register(router: Any) -> None:
    """Registers this app's viewsets on the API router."""
    router.register("property-items", PropertyItemViewSet, basename="propertyitem")
    router.register("custody-events", CustodyEventViewSet, basename="custodyevent")
    router.register("property-incidents", PropertyIncidentViewSet, basename="propertyincident")
    router.register("inventory-checks", InventoryCheckViewSet, basename="inventorycheck")
