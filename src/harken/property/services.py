"""Customer property actions: registering items, the chain of custody, incidents and the
customer's notification, corrective actions, inventory checks, and what is due.

Pages, the API, the demo and `harken tick` call these; none of them saves an item, a
custody event or an incident directly. Each function checks who may act, validates
(errors name the field), saves in one transaction and leaves its audit events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from harken.actions import services as actions
from harken.actions.choices import ActionKind, Priority
from harken.actions.models import Action
from harken.communications import services as communications
from harken.communications.choices import CommunicationStatus, Direction, Phase
from harken.communications.models import Communication
from harken.core.files import FileRefused, store_file
from harken.core.workflow import apply_transition

from . import config, custody
from .choices import (
    CONFIRMED_KINDS,
    HELD_STATES,
    INCIDENT_CUSTODY,
    CheckOutcome,
    CustodyKind,
    EndAction,
    IncidentKind,
    IncidentStatus,
    PropertyKind,
    PropertyStatus,
    Severity,
)
from .models import (
    CustodyEvent,
    InventoryCheck,
    InventoryCheckLine,
    ItemFile,
    PropertyIncident,
    PropertyItem,
)
from .secret_check import secret_reason

# Free-text fields of an item; on a credentials item each is checked for secrets.
ITEM_TEXT_FIELDS = (
    "name",
    "description",
    "identifiers",
    "unit",
    "order_reference",
    "storage_conditions",
    "access_restrictions",
    "handling_instructions",
    "storage_location",
    "permitted_use",
)
# What a person may set on an item; status, holder and location come from custody.
ITEM_FIELDS = (
    "customer",
    "order",
    "kind",
    "quantity",
    "confidentiality",
    "end_action",
    "due_date",
    "retain_until",
    "review_days",
    *ITEM_TEXT_FIELDS,
)
INCIDENT_TEXT_FIELDS = ("what_happened", "impact", "immediate_action", "resolution")
INCIDENT_FIELDS = ("severity", "occurred_at", *INCIDENT_TEXT_FIELDS[:3])
# A clock a little fast on a phone is not an event "in the future".
CLOCK_SKEW = dt.timedelta(minutes=5)


def require(actor: Any, perm: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied("Your role does not allow this.")


def _person(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def secret_errors(kind: str, values: Mapping[str, Any]) -> dict[str, str]:
    """For a credentials item, an error for each field whose text looks like a secret."""
    if kind != PropertyKind.CREDENTIALS:
        return {}
    errors = {}
    for name, value in values.items():
        reason = secret_reason(value) if isinstance(value, str) else None
        if reason:
            errors[name] = (
                f"This looks like a secret: {reason}. Harken records that a credential "
                "exists, who holds it and when it is revoked — never the secret itself."
            )
    return errors


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


# --------------------------------------------------------------------------------------
# The register
# --------------------------------------------------------------------------------------


def validate_item(item: PropertyItem) -> None:
    """Raise ValidationError naming each bad field of an (unsaved) item."""
    errors: dict[str, str] = {}
    if item.customer_id is None:
        errors["customer"] = "Choose the customer the property belongs to."
    if item.kind not in PropertyKind.values:
        errors["kind"] = "Choose the kind of property."
    if not (item.name or "").strip():
        errors["name"] = "Name the item."
    if item.quantity is None or item.quantity < 1:
        errors["quantity"] = "The quantity is at least 1."
    if item.review_days is not None and item.review_days < 1:
        errors["review_days"] = "Check at least every day, or leave it empty for the default."
    if item.end_action not in EndAction.values:
        errors["end_action"] = "Choose return, destroy or not decided yet."
    order = item.order if item.order_id is not None else None
    if order is not None and order.customer_id != item.customer_id:
        errors["order"] = f"{order} is another customer's order."
    if item.due_date and not item.end_action:
        errors["end_action"] = "Say whether it is returned or destroyed by the due date."
    errors.update(secret_errors(item.kind, {f: getattr(item, f) for f in ITEM_TEXT_FIELDS}))
    if errors:
        raise ValidationError(errors)


def _assign(item: PropertyItem, values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(ITEM_FIELDS)
    if unknown:
        raise TypeError(f"Not a field a person sets: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(item, name, value)


def register_item(*, actor: Any, **values: Any) -> PropertyItem:
    """Put an item on the register, expected until its receipt is recorded.

    Causes `propertyitem.created` and a PRP number.
    """
    require(actor, "property.add_propertyitem")
    item = PropertyItem()
    _assign(item, values)
    validate_item(item)
    item.save()
    return item


def update_item(item: PropertyItem, *, actor: Any, **values: Any) -> PropertyItem:
    """Correct what the register says about an item (not its custody).

    Causes `propertyitem.updated` with the changed fields.
    """
    require(actor, "property.change_propertyitem")
    if (
        "customer" in values
        and values["customer"] is not None
        and values["customer"].pk != item.customer_id
        and item.custody_events.exists()
    ):
        raise ValidationError(
            {"customer": "The item was received from its customer; it cannot change hands here."}
        )
    _assign(item, values)
    validate_item(item)
    item.save()
    return item


# --------------------------------------------------------------------------------------
# The chain of custody
# --------------------------------------------------------------------------------------


def _store(upload: Any, *, kind: str) -> Any:
    return store_file(
        upload,
        name=getattr(upload, "name", "") or "file",
        content_type=getattr(upload, "content_type", "") or "",
        purpose=f"property {kind}",
        max_size=config.max_file_bytes(),
        uploaded=True,
    )


def record_custody(
    item: PropertyItem,
    *,
    actor: Any,
    kind: str,
    occurred_at: dt.datetime | None = None,
    performed_by: Any = None,
    to_user: Any = None,
    to_holder: str = "",
    to_location: str = "",
    purpose: str = "",
    note: str = "",
    condition: str = "",
    acknowledgement: Communication | None = None,
    files: Sequence[Any] = (),
    caption: str = "",
    incident: PropertyIncident | None = None,
    inventory_check: InventoryCheck | None = None,
) -> CustodyEvent:
    """Append one event to the item's chain of custody and derive where it stands.

    Checks that the event may follow the item's state (custody.ALLOWED), that it is not
    earlier than the last one, that a receipt says where the item is and in what
    condition, that a return, destruction or revocation carries its confirmation (the
    customer's acknowledgement as a logged communication, or a file), and, for
    credentials, that no text looks like a secret. Causes, in one transaction: the
    custody event (`custodyevent.created`); its files stored as evidence; the item's
    status, holder and location (`propertyitem.<kind>`); a link from the acknowledging
    communication to the item. Losses and damage come only with an incident.
    """
    require(actor, "property.add_custodyevent")
    now = timezone.now()
    occurred_at = occurred_at or now
    to_holder, to_location = to_holder.strip(), to_location.strip()
    purpose, note, condition = purpose.strip(), note.strip(), condition.strip()
    files = [f for f in files if f]
    with transaction.atomic():
        locked = PropertyItem.objects.select_for_update().select_related("customer").get(pk=item.pk)
        errors: dict[str, str] = {}
        if kind not in CustodyKind.values:
            errors["kind"] = "Choose what happened."
        elif kind in {CustodyKind.LOST, CustodyKind.DAMAGED} and incident is None:
            errors["kind"] = (
                "Record an incident instead: the customer is told when their property is "
                "lost, damaged or found unsuitable."
            )
        elif kind not in custody.allowed(locked.status, locked.kind):
            errors["kind"] = (
                f"{CustodyKind(kind).label} cannot follow "
                f"{PropertyStatus(locked.status).label.lower()}."
            )
        if occurred_at > now + CLOCK_SKEW:
            errors["occurred_at"] = "The time is in the future."
        elif locked.last_event_at and occurred_at < locked.last_event_at:
            errors["occurred_at"] = (
                f"The last custody event was at {_local(locked.last_event_at)}; record "
                "events in the order they happened."
            )
        if kind == CustodyKind.RECEIVED:
            if not to_location:
                errors["to_location"] = "Say where the item is kept on receipt."
            if not condition:
                errors["condition"] = "Describe its condition on receipt."
        elif kind == CustodyKind.MOVED and not to_location:
            errors["to_location"] = "Say where the item goes."
        elif kind == CustodyKind.ISSUED:
            if not (to_holder or to_user is not None):
                errors["to_holder"] = "Say which person or process it is issued to."
            if not purpose:
                errors["purpose"] = "Say what it is issued for."
        elif kind in {CustodyKind.USED, CustodyKind.ACCESSED} and not purpose:
            errors["purpose"] = "Say what it was used or accessed for."
        if kind == CustodyKind.RETURNED and not to_holder:
            to_holder = locked.customer.name
        if kind in CONFIRMED_KINDS and not files and acknowledgement is None:
            what = {
                CustodyKind.RETURNED: "A return",
                CustodyKind.DESTROYED: "A destruction",
                CustodyKind.REVOKED: "A revocation",
            }[CustodyKind(kind)]
            errors["acknowledgement"] = (
                f"{what} needs its confirmation: the customer's acknowledgement (a logged "
                "communication) or a file — a signed note or a certificate."
            )
        if acknowledgement is not None and acknowledgement.customer_id != locked.customer_id:
            errors["acknowledgement"] = f"{acknowledgement.number} is with another customer."
        errors.update(
            secret_errors(
                locked.kind,
                {
                    "to_holder": to_holder,
                    "to_location": to_location,
                    "purpose": purpose,
                    "note": note,
                    "condition": condition,
                    "caption": caption,
                },
            )
        )
        if errors:
            raise ValidationError(errors)
        before = custody.Custody(
            locked.status, locked.holder, locked.holder_user_id, locked.location
        )
        move = custody.Move(
            kind, to_holder, to_user.pk if to_user is not None else None, to_location
        )
        try:
            after = custody.apply(before, move, item_kind=locked.kind)
        except custody.CustodyError as exc:
            raise ValidationError({"kind": str(exc)}) from exc
        sequence = (locked.custody_events.aggregate(last=Max("sequence"))["last"] or 0) + 1
        event = CustodyEvent.objects.create(
            item=locked,
            sequence=sequence,
            kind=kind,
            occurred_at=occurred_at,
            performed_by=performed_by if performed_by is not None else _person(actor),
            from_holder=locked.holder_label[:200],
            from_location=locked.location,
            to_holder=to_holder[:200],
            to_user=to_user,
            to_location=to_location[:200],
            purpose=purpose,
            note=note,
            acknowledgement=acknowledgement,
            status_after=after.status,
            incident=incident,
            inventory_check=inventory_check,
        )
        for upload in files:
            try:
                evidence = _store(upload, kind=kind)
            except FileRefused as exc:
                raise ValidationError({"files": str(exc)}) from exc
            ItemFile.objects.create(
                item=locked,
                event=event,
                file=evidence,
                caption=caption[:200] or event_caption(kind),
            )
        fields = ["status", "holder", "holder_user", "location", "last_event_at"]
        locked.status, locked.holder, locked.location = after.status, after.holder, after.location
        locked.holder_user_id = after.holder_user_id
        locked.last_event_at = max(occurred_at, locked.last_event_at or occurred_at)
        if kind == CustodyKind.RECEIVED:
            locked.received_at = occurred_at
            locked.received_by = event.performed_by
            locked.condition_on_receipt = condition
            fields += ["received_at", "received_by", "condition_on_receipt"]
        locked.save(update_fields=fields, audit_action=f"propertyitem.{kind}")
        if acknowledgement is not None:
            communications.add_link(acknowledgement, locked, actor=None)
    _refresh(item, locked)
    return event


def event_caption(kind: str) -> str:
    return {
        CustodyKind.RECEIVED: "Condition on receipt",
        CustodyKind.RETURNED: "Confirmation of the return",
        CustodyKind.DESTROYED: "Certificate of destruction",
        CustodyKind.REVOKED: "Confirmation of the revocation",
    }.get(CustodyKind(kind), str(CustodyKind(kind).label))


def _refresh(item: PropertyItem, saved: PropertyItem) -> None:
    """Give the caller's instance what was saved (and what the audit diff compares with)."""
    for field in item._meta.concrete_fields:
        setattr(item, field.attname, getattr(saved, field.attname))
    item._audit_loaded = saved._audit_loaded
    for cached in ("holder_user", "received_by"):
        item._state.fields_cache.pop(cached, None)


def derived_custody(item: PropertyItem) -> custody.Custody:
    """The item's custody recomputed from its whole chain (it must equal the stored one)."""
    moves = [
        custody.Move(e.kind, e.to_holder, e.to_user_id, e.to_location)
        for e in item.custody_events.order_by("sequence")
    ]
    return custody.derive(moves, item_kind=item.kind)


def stored_custody(item: PropertyItem) -> custody.Custody:
    return custody.Custody(item.status, item.holder, item.holder_user_id, item.location)


def next_kinds(item: PropertyItem) -> list[str]:
    """What may be recorded next, the likeliest first (the scan page offers these)."""
    kinds = [k for k in custody.allowed(item.status, item.kind) if k in CustodyKind.values]
    kinds = [k for k in kinds if k not in {CustodyKind.LOST, CustodyKind.DAMAGED}]
    likely = {
        PropertyStatus.EXPECTED: [CustodyKind.RECEIVED],
        PropertyStatus.RECEIVED: [CustodyKind.MOVED, CustodyKind.ISSUED],
        PropertyStatus.STORED: [CustodyKind.ISSUED, CustodyKind.MOVED],
        PropertyStatus.IN_USE: [CustodyKind.MOVED, CustodyKind.USED],
        PropertyStatus.LOST_DAMAGED: [CustodyKind.RETURNED, CustodyKind.MOVED],
        PropertyStatus.RETURNED: [CustodyKind.RECEIVED],
    }.get(PropertyStatus(item.status), [])
    if item.kind in {PropertyKind.DATA, PropertyKind.CREDENTIALS} and CustodyKind.ACCESSED in kinds:
        likely = [CustodyKind.ACCESSED, *likely]
    ending = CustodyKind.DESTROYED if item.end_action == EndAction.DESTROY else CustodyKind.RETURNED
    if item.kind == PropertyKind.CREDENTIALS and ending == CustodyKind.DESTROYED:
        ending = CustodyKind.REVOKED
    first = [k for k in likely if k in kinds]
    if ending in kinds and ending not in first:
        first.append(ending)
    return first + [k for k in kinds if k not in first]


# --------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------


def record_incident(
    item: PropertyItem,
    *,
    actor: Any,
    kind: str,
    what_happened: str,
    impact: str,
    discovered_at: dt.datetime | None = None,
    occurred_at: dt.datetime | None = None,
    severity: str = Severity.MEDIUM,
    immediate_action: str = "",
    inventory_check: InventoryCheck | None = None,
) -> PropertyIncident:
    """Record that an item was lost, damaged, accessed without authority or found
    unsuitable, with the deadline for telling the customer (config.notification_deadline).

    Causes: `propertyincident.created` with a PIN number; a custody event on the item
    (reported lost, reported damaged or unsuitable, or the access) while the item is
    held, which makes a lost or damaged item *lost or damaged*.
    """
    require(actor, "property.add_propertyincident")
    now = timezone.now()
    discovered_at = discovered_at or now
    what_happened, impact = what_happened.strip(), impact.strip()
    immediate_action = immediate_action.strip()
    current = PropertyItem.objects.get(pk=item.pk)
    errors: dict[str, str] = {}
    if kind not in IncidentKind.values:
        errors["kind"] = "Choose loss, damage, unauthorised access or unsuitable for use."
    if severity not in Severity.values:
        errors["severity"] = "Choose low, medium, high or critical."
    if not what_happened:
        errors["what_happened"] = "Say what happened."
    if not impact:
        errors["impact"] = "Say what it means for the customer."
    if discovered_at > now + CLOCK_SKEW:
        errors["discovered_at"] = "The time is in the future."
    if occurred_at and occurred_at > discovered_at:
        errors["occurred_at"] = "It cannot have happened after it was found."
    if current.status == PropertyStatus.EXPECTED:
        errors["kind"] = (
            "The item has not been received yet: record its receipt (with its condition) first."
        )
    errors.update(
        secret_errors(
            current.kind,
            {
                "what_happened": what_happened,
                "impact": impact,
                "immediate_action": immediate_action,
            },
        )
    )
    if errors:
        raise ValidationError(errors)
    deadline, rule = config.notification_deadline(
        kind=kind, severity=severity, discovered_at=discovered_at
    )
    with transaction.atomic():
        incident = PropertyIncident.objects.create(
            item=current,
            kind=kind,
            severity=severity,
            what_happened=what_happened,
            impact=impact,
            immediate_action=immediate_action,
            occurred_at=occurred_at,
            discovered_at=discovered_at,
            notify_by=deadline,
            notify_rule=rule,
        )
        custody_kind = INCIDENT_CUSTODY[IncidentKind(kind)]
        if custody_kind in custody.allowed(current.status, current.kind):
            record_custody(
                item,
                actor=None,
                kind=custody_kind,
                occurred_at=max(discovered_at, current.last_event_at or discovered_at),
                performed_by=_person(actor),
                purpose=f"{incident.number} ({incident.get_kind_display().lower()}): "
                f"{what_happened}"[:1000],
                incident=incident,
                inventory_check=inventory_check,
            )
    return incident


def update_incident(incident: PropertyIncident, *, actor: Any, **values: Any) -> PropertyIncident:
    """Correct or complete what an open incident says. Causes `propertyincident.updated`."""
    require(actor, "property.change_propertyincident")
    unknown = set(values) - set(INCIDENT_FIELDS)
    if unknown:
        raise TypeError(f"Not a field a person sets: {', '.join(sorted(unknown))}")
    if incident.status == IncidentStatus.CLOSED:
        raise ValidationError({"status": "The incident is closed; reopen it to change it."})
    for name, value in values.items():
        setattr(incident, name, value.strip() if isinstance(value, str) else value)
    errors: dict[str, str] = {}
    if not incident.what_happened:
        errors["what_happened"] = "Say what happened."
    if not incident.impact:
        errors["impact"] = "Say what it means for the customer."
    if incident.severity not in Severity.values:
        errors["severity"] = "Choose low, medium, high or critical."
    if incident.occurred_at and incident.occurred_at > incident.discovered_at:
        errors["occurred_at"] = "It cannot have happened after it was found."
    errors.update(
        secret_errors(
            incident.item.kind, {f: getattr(incident, f) for f in INCIDENT_TEXT_FIELDS[:3]}
        )
    )
    if errors:
        raise ValidationError(errors)
    incident.save()
    return incident


def _check_notification(incident: PropertyIncident, communication: Communication) -> None:
    errors: dict[str, str] = {}
    if incident.notification_id is not None:
        errors["notification"] = (
            f"The customer's notification is recorded already ({incident.notification})."
        )
    if communication.customer_id != incident.item.customer_id:
        errors["communication"] = f"{communication.number} is with another customer."
    elif communication.direction != Direction.OUTBOUND:
        errors["communication"] = f"{communication.number} came from the customer; we tell them."
    elif communication.status != CommunicationStatus.FILED:
        errors["communication"] = f"{communication.number} is not filed in the log."
    elif communication.occurred_at < incident.discovered_at - CLOCK_SKEW:
        errors["communication"] = f"{communication.number} is earlier than the incident's finding."
    if errors:
        raise ValidationError(errors)


def notify_customer(
    incident: PropertyIncident,
    *,
    actor: Any,
    channel: str,
    subject: str,
    body: str,
    contacts: Sequence[Any] = (),
    occurred_at: dt.datetime | None = None,
    files: Sequence[Any] = (),
) -> Communication:
    """Record that the customer was told, as an outbound communication in the log.

    Causes: a communication (phase: customer property) concerning the incident and the
    item (`communication.created`, its links and attachments); `propertyincident.notified`.
    """
    require(actor, "property.change_propertyincident")
    if incident.notification_id is not None:
        raise ValidationError(
            {
                "notification": f"The customer's notification is recorded already ({incident.notification})."
            }
        )
    occurred_at = occurred_at or timezone.now()
    if occurred_at < incident.discovered_at - CLOCK_SKEW:
        raise ValidationError(
            {"occurred_at": "The customer was told before the incident was found?"}
        )
    errors = secret_errors(incident.item.kind, {"subject": subject, "body": body})
    if errors:
        raise ValidationError(errors)
    entry = communications.Entry(
        customer=incident.item.customer,
        channel=channel,
        direction=Direction.OUTBOUND,
        subject=subject,
        body=body,
        occurred_at=occurred_at,
        contacts=list(contacts),
        staff=_person(actor),
        phase=Phase.PROPERTY,
        concerns=[incident, incident.item],
        files=list(files),
    )
    with transaction.atomic():
        communication = communications.log_communication(entry, actor=actor)
        incident.notification = communication
        incident.save(update_fields=["notification"], audit_action="propertyincident.notified")
    return communication


def link_notification(
    incident: PropertyIncident, communication: Communication, *, actor: Any
) -> PropertyIncident:
    """Record an outbound communication already in the log (an e-mail sent from the shared
    mailbox) as the customer's notification. Causes `propertyincident.notified` and links
    the communication to the incident and the item."""
    require(actor, "property.change_propertyincident")
    _check_notification(incident, communication)
    with transaction.atomic():
        communications.add_link(communication, incident, actor=None)
        communications.add_link(communication, incident.item, actor=None)
        incident.notification = communication
        incident.save(update_fields=["notification"], audit_action="propertyincident.notified")
    return incident


def incident_problem(incident: PropertyIncident) -> str:
    item = incident.item
    when = timezone.localtime(incident.discovered_at)
    return (
        f"{incident.number}: {incident.get_kind_display().lower()} of {item.customer}'s "
        f"{item.get_kind_display().lower()} {item.number} {item.name}, found {when:%d %B %Y}. "
        f"{incident.what_happened}\n\nImpact: {incident.impact}"
    )


def open_corrective_action(
    incident: PropertyIncident,
    *,
    actor: Any,
    owner: Any,
    due_date: dt.date,
    title: str = "",
    priority: str = Priority.HIGH,
) -> Action:
    """Open a corrective action for the incident (actions.services.open_action) and link it.

    Causes `action.created` and `propertyincident.action_linked`.
    """
    require(actor, "property.change_propertyincident")
    if incident.action_id is not None:
        raise ValidationError({"action": f"{incident.action} is linked already."})
    item = incident.item
    with transaction.atomic():
        action = actions.open_action(
            actor=actor,
            kind=ActionKind.CORRECTIVE,
            title=(
                title.strip()
                or f"{incident.get_kind_display()} of customer property {item.number} {item.name}"
            )[:200],
            problem_statement=incident_problem(incident),
            owner=owner,
            due_date=due_date,
            priority=priority,
            origin=f"Property incident {incident.number}",
        )
        incident.action = action
        incident.save(update_fields=["action"], audit_action="propertyincident.action_linked")
    return action


def link_action(incident: PropertyIncident, action: Action, *, actor: Any) -> PropertyIncident:
    """Link an existing corrective action. Causes `propertyincident.action_linked`."""
    require(actor, "property.change_propertyincident")
    if incident.action_id is not None and incident.action_id != action.pk:
        raise ValidationError({"action": f"{incident.action} is linked already."})
    incident.action = action
    incident.save(update_fields=["action"], audit_action="propertyincident.action_linked")
    return incident


def close_incident(incident: PropertyIncident, *, actor: Any, resolution: str) -> PropertyIncident:
    """Close the incident (guarded: the customer's notification must be recorded).

    Causes `propertyincident.close` with the resolution and the closing time.
    """
    apply_transition(incident, "close", actor=actor, values={"resolution": resolution.strip()})
    return incident


# --------------------------------------------------------------------------------------
# Inventory checks
# --------------------------------------------------------------------------------------


def record_inventory_check(
    *,
    actor: Any,
    seen: Iterable[PropertyItem],
    missing: Iterable[PropertyItem],
    performed_at: dt.datetime | None = None,
    location: str = "",
    customer: Any = None,
    notes: str = "",
) -> InventoryCheck:
    """Record a periodic check: each item seen gets a custody event (a lost one is found
    again at the checked location), each item missing gets a loss incident.

    Causes `inventorycheck.created`, its lines, the custody events and the incidents.
    """
    require(actor, "property.add_inventorycheck")
    # Fresh from the database: the custody checks below compare with the latest event.
    seen = list(PropertyItem.objects.filter(pk__in=[i.pk for i in seen]).order_by("number"))
    missing = list(PropertyItem.objects.filter(pk__in=[i.pk for i in missing]).order_by("number"))
    performed_at = performed_at or timezone.now()
    errors: dict[str, str] = {}
    if not seen and not missing:
        errors["seen"] = "Tick the items seen and the items missing."
    both = {i.pk for i in seen} & {i.pk for i in missing}
    if both:
        numbers = sorted(i.number for i in seen if i.pk in both)
        errors["missing"] = f"Seen and missing at once: {', '.join(numbers)}."
    not_held = sorted(i.number for i in [*seen, *missing] if i.status not in HELD_STATES)
    if not_held:
        errors["seen"] = f"Not held by us: {', '.join(not_held)}."
    if performed_at > timezone.now() + CLOCK_SKEW:
        errors["performed_at"] = "The time is in the future."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        check = InventoryCheck.objects.create(
            performed_at=performed_at,
            performed_by=_person(actor),
            location=location.strip(),
            customer=customer,
            notes=notes.strip(),
            seen_count=len(seen),
            missing_count=len(missing),
        )
        for item in seen:
            at = max(performed_at, item.last_event_at or performed_at)
            lost = item.status == PropertyStatus.LOST_DAMAGED and not item.location
            record_custody(
                item,
                actor=None,
                kind=CustodyKind.MOVED if lost else CustodyKind.CHECKED,
                occurred_at=at,
                performed_by=_person(actor),
                to_location=(check.location or item.storage_location or "Found in a check")
                if lost
                else "",
                purpose=f"{check}: {'found again' if lost else 'seen'}",
                inventory_check=check,
            )
            InventoryCheckLine.objects.create(check_run=check, item=item, outcome=CheckOutcome.SEEN)
        for item in missing:
            incident = open_loss(item) or record_incident(
                item,
                actor=actor,
                kind=IncidentKind.LOSS,
                what_happened=f"Not found in the {check}.",
                impact="To be assessed: the item could not be found at its location.",
                discovered_at=performed_at,
                inventory_check=check,
            )
            InventoryCheckLine.objects.create(
                check_run=check, item=item, outcome=CheckOutcome.MISSING, incident=incident
            )
    return check


def open_loss(item: PropertyItem) -> PropertyIncident | None:
    """An open loss incident of the item: a second check does not report it twice."""
    return (
        item.incidents.filter(kind=IncidentKind.LOSS, status=IncidentStatus.OPEN)
        .order_by("-discovered_at")
        .first()
    )


def items_to_check(*, location: str = "", customer: Any = None) -> QuerySet:
    """The items an inventory check of `location` (and `customer`) should find."""
    items = PropertyItem.objects.filter(status__in=HELD_STATES).select_related("customer")
    if location:
        items = items.filter(Q(location__iexact=location) | Q(storage_location__iexact=location))
    if customer is not None:
        items = items.filter(customer=customer)
    return items.order_by("location", "number")


# --------------------------------------------------------------------------------------
# Due dates and reviews
# --------------------------------------------------------------------------------------


def overdue_end(today: dt.date) -> QuerySet:
    """Held items past their date for return or destruction."""
    return PropertyItem.objects.filter(status__in=HELD_STATES, due_date__lt=today)


def past_retention(today: dt.date) -> QuerySet:
    """Held data and credentials past the end of their retention period."""
    return PropertyItem.objects.filter(status__in=HELD_STATES, retain_until__lt=today)


def check_due(now: dt.datetime) -> QuerySet:
    """Items we hold (and know where) with no custody event for their review period."""
    default = config.review_days()
    query = Q(review_days__isnull=True, last_event_at__lt=now - dt.timedelta(days=default))
    periods = (
        PropertyItem.objects.filter(review_days__isnull=False)
        .order_by()
        .values_list("review_days", flat=True)
        .distinct()
    )
    for days in periods:
        if days is not None:
            query |= Q(review_days=days, last_event_at__lt=now - dt.timedelta(days=days))
    held = HELD_STATES - {PropertyStatus.LOST_DAMAGED}
    return PropertyItem.objects.filter(query, status__in=held)


def notifications_overdue(now: dt.datetime) -> QuerySet:
    """Incidents whose customer was not told by the deadline."""
    return PropertyIncident.objects.filter(notification__isnull=True, notify_by__lt=now)
