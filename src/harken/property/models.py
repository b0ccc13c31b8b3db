"""Customer property (ISO 9001 8.5.3): the register of items, their append-only chain of
custody, their files, incidents reported to the customer, and inventory checks.

An item's status, holder and location are never edited: they are the fold of its
custody events (`custody.py`), stored on the item by `services.record_custody` in the
same transaction as the event.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from harken.core.models import EvidenceFile, NumberedModel, TrackedModel
from harken.core.workflow import Transition
from harken.customers.models import Customer

from .choices import (
    CheckOutcome,
    Confidentiality,
    CustodyKind,
    EndAction,
    IncidentKind,
    IncidentStatus,
    PropertyKind,
    PropertyStatus,
    Severity,
)


class PropertyItem(NumberedModel):
    """Something a customer entrusted to us: a thing, a drawing, data, IP or an access."""

    number_prefix = "PRP"

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="property_items",
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=16,
        choices=PropertyKind.choices,
    )
    name = models.CharField(
        verbose_name=_("name"),
        max_length=200,
    )
    description = models.TextField(
        verbose_name=_("description"),
        blank=True,
    )
    identifiers = models.TextField(
        verbose_name=_("identifiers"),
        blank=True,
        help_text=_(
            "Serial numbers, asset tags, drawing numbers and revisions, file hashes for "
            "data — one per line."
        ),
    )
    quantity = models.PositiveIntegerField(
        verbose_name=_("quantity"),
        default=1,
    )
    unit = models.CharField(
        verbose_name=_("unit"),
        max_length=20,
        blank=True,
        help_text=_("pcs, kg, files, licences…"),
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("related order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="property_items",
        help_text=_("The order the property came with, when it is in Harken."),
    )
    order_reference = models.CharField(
        verbose_name=_("order reference"),
        max_length=100,
        blank=True,
        help_text=_("The customer's purchase order or contract reference."),
    )
    # Protection requirements: how we keep it safe and what we may do with it.
    storage_conditions = models.TextField(
        verbose_name=_("storage conditions"),
        blank=True,
        help_text=_("Dry, 15–25 °C, oiled; encrypted at rest…"),
    )
    access_restrictions = models.TextField(
        verbose_name=_("access restrictions"),
        blank=True,
        help_text=_("Who may see, handle or open it."),
    )
    handling_instructions = models.TextField(
        verbose_name=_("handling instructions"),
        blank=True,
    )
    confidentiality = models.CharField(
        verbose_name=_("confidentiality"),
        max_length=16,
        choices=Confidentiality.choices,
        default=Confidentiality.CONFIDENTIAL,
    )
    storage_location = models.CharField(
        verbose_name=_("home location"),
        max_length=200,
        blank=True,
        help_text=_("Where it is kept when not in use (rack, cabinet, file share)."),
    )
    permitted_use = models.TextField(
        verbose_name=_("permitted use"),
        blank=True,
        help_text=_("What we may use it for, and what not."),
    )
    end_action = models.CharField(
        verbose_name=_("at the end"),
        max_length=8,
        choices=EndAction.choices,
        blank=True,
        default=EndAction.UNDECIDED,
    )
    due_date = models.DateField(
        verbose_name=_("due back or for destruction"),
        null=True,
        blank=True,
    )
    retain_until = models.DateField(
        verbose_name=_("retain until"),
        null=True,
        blank=True,
        help_text=_("For data and credentials: the end of the agreed retention period."),
    )
    review_days = models.PositiveSmallIntegerField(
        verbose_name=_("check every (days)"),
        null=True,
        blank=True,
        help_text=_(
            "Flag the item when no custody event was recorded for this many days. "
            "Empty: the company default."
        ),
    )
    # Set by the receipt (services.record_custody); never typed in.
    received_at = models.DateTimeField(
        verbose_name=_("received at"),
        null=True,
        blank=True,
        editable=False,
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    condition_on_receipt = models.TextField(
        verbose_name=_("condition on receipt"),
        blank=True,
        editable=False,
    )
    # The fold of the custody events (custody.py); never typed in.
    status = models.CharField(
        verbose_name=_("status"),
        max_length=16,
        choices=PropertyStatus.choices,
        default=PropertyStatus.EXPECTED,
        editable=False,
    )
    holder = models.CharField(
        verbose_name=_("held by"),
        max_length=200,
        blank=True,
        editable=False,
    )
    holder_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("held by (person)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="held_property",
    )
    location = models.CharField(
        verbose_name=_("location"),
        max_length=200,
        blank=True,
        editable=False,
    )
    last_event_at = models.DateTimeField(
        verbose_name=_("last custody event"),
        null=True,
        blank=True,
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("property item")
        verbose_name_plural = _("property items")
        indexes = [
            models.Index(fields=["customer", "status"], name="propertyitem_customer_idx"),
            models.Index(fields=["status", "due_date"], name="propertyitem_due_idx"),
            models.Index(fields=["status", "last_event_at"], name="propertyitem_stale_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1),
                name="propertyitem_quantity_positive",
                violation_error_message=_("The quantity is at least 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()

    @property
    def holder_label(self) -> str:
        """Who holds it, in words: the person's name, or the holder typed in."""
        if self.holder_user_id is not None and self.holder_user is not None:
            person = self.holder_user.get_full_name() or self.holder_user.get_username()
            return f"{person} ({self.holder})" if self.holder else person
        return self.holder

    @property
    def is_credentials(self) -> bool:
        return self.kind == PropertyKind.CREDENTIALS

    def protection_missing(self) -> bool:
        return not (
            self.storage_conditions.strip()
            or self.access_restrictions.strip()
            or self.handling_instructions.strip()
        )


class CustodyEventQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes: the chain of custody only grows."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Custody events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Custody events are append-only.")


class CustodyEvent(TrackedModel):
    """One link of an item's chain of custody: a receipt, move, issue, use, access,
    sighting, return, destruction, revocation, loss or damage. Append-only: Harken never
    updates or deletes one, and on PostgreSQL a trigger refuses it too (migration 0002).
    """

    item = models.ForeignKey(
        PropertyItem,
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="custody_events",
    )
    sequence = models.PositiveIntegerField(
        verbose_name=_("sequence"),
        editable=False,
    )
    kind = models.CharField(
        verbose_name=_("event"),
        max_length=16,
        choices=CustodyKind.choices,
    )
    occurred_at = models.DateTimeField(
        verbose_name=_("when"),
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custody_events",
    )
    from_holder = models.CharField(
        verbose_name=_("from (holder)"),
        max_length=200,
        blank=True,
    )
    from_location = models.CharField(
        verbose_name=_("from (location)"),
        max_length=200,
        blank=True,
    )
    to_holder = models.CharField(
        verbose_name=_("to (holder)"),
        max_length=200,
        blank=True,
        help_text=_("A person, team or process (CNC cell 3, the test lab, a courier)."),
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to (person)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="received_custody",
    )
    to_location = models.CharField(
        verbose_name=_("to (location)"),
        max_length=200,
        blank=True,
    )
    purpose = models.TextField(
        verbose_name=_("purpose"),
        blank=True,
    )
    note = models.TextField(
        verbose_name=_("note"),
        blank=True,
    )
    acknowledgement = models.ForeignKey(
        "communications.Communication",
        verbose_name=_("customer acknowledgement"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="property_custody_events",
        help_text=_("The logged communication in which the customer confirmed it."),
    )
    status_after = models.CharField(
        verbose_name=_("status after"),
        max_length=16,
        choices=PropertyStatus.choices,
    )
    incident = models.ForeignKey(
        "PropertyIncident",
        verbose_name=_("incident"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custody_events",
    )
    inventory_check = models.ForeignKey(
        "InventoryCheck",
        verbose_name=_("inventory check"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custody_events",
    )

    objects = CustodyEventQuerySet.as_manager()

    class Meta:
        ordering = ["item", "sequence"]
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "sequence"],
                name="custodyevent_unique_sequence",
                violation_error_message=_("Another event was recorded at the same moment."),
            ),
        ]
        indexes = [
            models.Index(fields=["occurred_at"], name="custodyevent_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item.number} #{self.sequence} {self.get_kind_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("Custody events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("Custody events are append-only.")

    def get_absolute_url(self) -> str:
        return reverse("property:custodyevent", args=[self.pk])

    @property
    def to_label(self) -> str:
        if self.to_user_id is not None and self.to_user is not None:
            person = self.to_user.get_full_name() or self.to_user.get_username()
            return f"{person} ({self.to_holder})" if self.to_holder else person
        return self.to_holder


class ItemFile(TrackedModel):
    """A file kept with an item: photos of its condition, a delivery note, a
    destruction certificate, the customer's acknowledgement. Never replaced."""

    item = models.ForeignKey(
        PropertyItem,
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="files",
    )
    event = models.ForeignKey(
        CustodyEvent,
        verbose_name=_("custody event"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="files",
    )
    file = models.ForeignKey(
        EvidenceFile,
        verbose_name=_("file"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    caption = models.CharField(
        verbose_name=_("what it shows"),
        max_length=200,
        blank=True,
    )

    class Meta:
        ordering = ["item", "pk"]
        verbose_name = _("item file")
        verbose_name_plural = _("item files")

    def __str__(self) -> str:
        return self.caption or self.file.name

    def get_absolute_url(self) -> str:
        return reverse("property:itemfile", args=[self.pk])

    @property
    def is_image(self) -> bool:
        return self.file.content_type.startswith("image/")


class PropertyIncident(NumberedModel):
    """Customer property lost, damaged, accessed without authority or found unsuitable.

    ISO 9001 8.5.3 asks that the customer is told: an incident cannot be closed without
    the logged communication that told them (the guard, and a database constraint).
    """

    number_prefix = "PIN"

    item = models.ForeignKey(
        PropertyItem,
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=24,
        choices=IncidentKind.choices,
    )
    severity = models.CharField(
        verbose_name=_("severity"),
        max_length=8,
        choices=Severity.choices,
        default=Severity.MEDIUM,
    )
    what_happened = models.TextField(
        verbose_name=_("what happened"),
    )
    occurred_at = models.DateTimeField(
        verbose_name=_("when it happened"),
        null=True,
        blank=True,
        help_text=_("Empty when it is not known."),
    )
    discovered_at = models.DateTimeField(
        verbose_name=_("when it was found"),
    )
    impact = models.TextField(
        verbose_name=_("impact"),
        help_text=_("On the customer, their product or their information."),
    )
    immediate_action = models.TextField(
        verbose_name=_("immediate action"),
        blank=True,
    )
    notify_by = models.DateTimeField(
        verbose_name=_("tell the customer by"),
        editable=False,
    )
    notify_rule = models.CharField(
        verbose_name=_("deadline rule"),
        max_length=200,
        blank=True,
        editable=False,
    )
    notification = models.ForeignKey(
        "communications.Communication",
        verbose_name=_("customer notification"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="property_incidents",
    )
    action = models.ForeignKey(
        "actions.Action",
        verbose_name=_("corrective action"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="property_incidents",
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=8,
        choices=IncidentStatus.choices,
        default=IncidentStatus.OPEN,
        editable=False,
    )
    resolution = models.TextField(
        verbose_name=_("resolution"),
        blank=True,
    )
    closed_at = models.DateTimeField(
        verbose_name=_("closed at"),
        null=True,
        blank=True,
        editable=False,
    )

    transition_fields = ("resolution",)
    transitions = (
        Transition(
            name="close",
            label="Close",
            sources=frozenset({IncidentStatus.OPEN}),
            target=IncidentStatus.CLOSED,
            verb="close",
            guard=lambda incident: incident.close_blockers(),
            fields=("resolution",),
            style="success",
        ),
        Transition(
            name="reopen",
            label="Reopen",
            sources=frozenset({IncidentStatus.CLOSED}),
            target=IncidentStatus.OPEN,
            verb="close",
            style="outline-warning",
        ),
    )

    class Meta:
        ordering = ["-discovered_at", "-id"]
        verbose_name = _("property incident")
        verbose_name_plural = _("property incidents")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=IncidentStatus.CLOSED) | Q(notification__isnull=False),
                name="propertyincident_closed_needs_notification",
                violation_error_message=_(
                    "An incident is closed only once the customer's notification is recorded."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "notify_by"], name="propertyincident_notify_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}: {self.item.name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The closing time moves with the status, in the same save and audit event.
        update_fields = kwargs.get("update_fields")
        if self.status == IncidentStatus.CLOSED and self.closed_at is None:
            self.closed_at = timezone.now()
        elif self.status != IncidentStatus.CLOSED:
            self.closed_at = None
        if update_fields is not None and "status" in update_fields:
            kwargs["update_fields"] = {*update_fields, "closed_at"}
        super().save(*args, **kwargs)

    def close_blockers(self) -> list[str]:
        reasons = []
        if self.notification_id is None:
            reasons.append(
                "Record the customer notification first: the customer must be told when "
                "their property is lost, damaged or found unsuitable (ISO 9001 8.5.3)."
            )
        if not self.resolution.strip():
            reasons.append("Say how the incident was resolved.")
        return reasons


class InventoryCheck(TrackedModel):
    """A periodic check of the property we hold: what was seen, what was missing."""

    performed_at = models.DateTimeField(
        verbose_name=_("when"),
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="property_checks",
    )
    location = models.CharField(
        verbose_name=_("location checked"),
        max_length=200,
        blank=True,
        help_text=_("Empty: everything we hold."),
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="property_checks",
        help_text=_("Empty: every customer."),
    )
    notes = models.TextField(
        verbose_name=_("notes"),
        blank=True,
    )
    seen_count = models.PositiveIntegerField(
        verbose_name=_("seen"),
        default=0,
    )
    missing_count = models.PositiveIntegerField(
        verbose_name=_("missing"),
        default=0,
    )

    class Meta:
        ordering = ["-performed_at", "-id"]
        verbose_name = _("inventory check")
        verbose_name_plural = _("inventory checks")

    def __str__(self) -> str:
        where = self.location or "all locations"
        return f"Inventory check {self.performed_at:%Y-%m-%d}, {where}"


class InventoryCheckLine(TrackedModel):
    """One item of a check: seen (a custody event) or missing (an incident)."""

    check_run = models.ForeignKey(
        InventoryCheck,
        verbose_name=_("check"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    item = models.ForeignKey(
        PropertyItem,
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="check_lines",
    )
    outcome = models.CharField(
        verbose_name=_("outcome"),
        max_length=8,
        choices=CheckOutcome.choices,
    )
    incident = models.ForeignKey(
        PropertyIncident,
        verbose_name=_("incident"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="check_lines",
    )

    class Meta:
        ordering = ["check_run", "item__number"]
        verbose_name = _("inventory check line")
        verbose_name_plural = _("inventory check lines")
        constraints = [
            models.UniqueConstraint(
                fields=["check_run", "item"],
                name="inventorycheckline_unique_item",
                violation_error_message=_("The item is in this check already."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.number}: {self.get_outcome_display()}"
