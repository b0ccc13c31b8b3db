"""Customer property services: the register, the append-only chain of custody, incidents
and the customer's notification, inventory checks, due dates, the tick, readiness and the
evidence pack."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.communications.factories import CommunicationFactory
from tests.factories import ContactFactory, CustomerFactory, UserFactory
from tests.property.factories import (
    CustodyEventFactory,
    InventoryCheckFactory,
    PropertyIncidentFactory,
    PropertyItemFactory,
    a_file,
    received_item,
)

from harken.actions.choices import ActionKind, ActionStatus
from harken.communications.choices import Channel, Direction, Phase
from harken.communications.models import Communication
from harken.communications.services import communications_about
from harken.core.calendar import add_working_days
from harken.core.models import AuditEvent
from harken.core.workflow import TransitionError, apply_transition
from harken.property import custody, readiness, services
from harken.property.choices import (
    CheckOutcome,
    CustodyKind,
    EndAction,
    IncidentKind,
    IncidentStatus,
    PropertyKind,
    PropertyStatus,
)
from harken.property.evidence import property_evidence
from harken.property.models import CustodyEvent, ItemFile, PropertyIncident, PropertyItem
from harken.property.ticks import property_duties

pytestmark = pytest.mark.django_db


def hours_ago(hours: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)


def credentials(**kwargs) -> PropertyItem:
    return PropertyItemFactory(
        kind=PropertyKind.CREDENTIALS,
        name="Customer VPN account",
        identifiers="svc-harken",
        storage_location="Company password vault",
        **kwargs,
    )


# --------------------------------------------------------------------------------------
# The register
# --------------------------------------------------------------------------------------


def test_registering_an_item_numbers_it_and_leaves_it_expected(quality_manager):
    customer = CustomerFactory()
    item = services.register_item(
        actor=quality_manager,
        customer=customer,
        kind=PropertyKind.DRAWING,
        name="  Drawing set 7741 rev C ",
        storage_conditions="Document share only.",
    )
    assert item.number.startswith(f"PRP-{timezone.now().year}-")
    assert item.name == "Drawing set 7741 rev C"
    assert item.status == PropertyStatus.EXPECTED
    assert (item.holder, item.location, item.last_event_at) == ("", "", None)
    assert (
        AuditEvent.objects.filter(action="propertyitem.created", object_id=str(item.pk)).count()
        == 1
    )


def test_registering_names_each_missing_field(quality_manager):
    with pytest.raises(ValidationError) as caught:
        services.register_item(
            actor=quality_manager,
            customer=None,
            kind="spaceship",
            name=" ",
            quantity=0,
            due_date=timezone.localdate(),
        )
    assert set(caught.value.message_dict) == {"customer", "kind", "name", "quantity", "end_action"}


def test_people_without_the_role_cannot_register(owner):
    with pytest.raises(PermissionDenied):
        services.register_item(actor=owner, customer=CustomerFactory(), kind="tooling", name="X")


def test_staff_record_property_like_any_other_input(staff):
    item = services.register_item(
        actor=staff, customer=CustomerFactory(), kind=PropertyKind.PHYSICAL, name="Castings"
    )
    event = services.record_custody(
        item, actor=staff, kind=CustodyKind.RECEIVED, to_location="Bay B", condition="40 counted"
    )
    assert event.performed_by == staff


def test_a_received_item_keeps_its_customer(quality_manager):
    item = received_item()
    with pytest.raises(ValidationError) as caught:
        services.update_item(item, actor=quality_manager, customer=CustomerFactory())
    assert "customer" in caught.value.message_dict


def test_an_item_links_to_its_customers_order_and_no_other(quality_manager):
    from tests.orders.factories import OrderFactory

    order = OrderFactory()
    item = services.register_item(
        actor=quality_manager, customer=order.customer, order=order, kind="tooling", name="Mould"
    )
    assert list(order.property_items.all()) == [item]
    with pytest.raises(ValidationError) as caught:
        services.update_item(item, actor=quality_manager, order=OrderFactory())
    assert caught.value.message_dict["order"][0].endswith("is another customer's order.")


def test_custody_fields_are_not_set_through_the_register(quality_manager):
    item = PropertyItemFactory()
    with pytest.raises(TypeError):
        services.update_item(item, actor=quality_manager, status=PropertyStatus.RETURNED)


# --------------------------------------------------------------------------------------
# Secrets on credentials items
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("identifiers", "svc-harken / password=Winter2026!"),
        ("description", "-----BEGIN RSA PRIVATE KEY-----"),
        ("access_restrictions", "API key AKIAIOSFODNN7EXAMPLE"),
        ("storage_conditions", "Connect with mysql://svc:Pa55word@db.customer.example/app"),
        ("permitted_use", "Use token ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"),
    ],
)
def test_a_credentials_item_refuses_a_secret_looking_value(quality_manager, field, value):
    with pytest.raises(ValidationError) as caught:
        services.register_item(
            actor=quality_manager,
            customer=CustomerFactory(),
            kind=PropertyKind.CREDENTIALS,
            name="Customer VPN account",
            **{field: value},
        )
    message = caught.value.message_dict[field][0]
    assert message.startswith("This looks like a secret: ")
    assert "never the secret itself" in message
    assert not PropertyItem.objects.exists()


def test_the_same_text_is_fine_on_an_item_that_is_not_credentials(quality_manager):
    item = services.register_item(
        actor=quality_manager,
        customer=CustomerFactory(),
        kind=PropertyKind.DATA,
        name="Failure records",
        identifiers="SHA-256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    )
    assert item.pk


def test_turning_an_item_into_credentials_checks_what_it_already_says(quality_manager):
    item = PropertyItemFactory(kind=PropertyKind.DATA, identifiers="token = 1f2e3d4c")
    with pytest.raises(ValidationError) as caught:
        services.update_item(item, actor=quality_manager, kind=PropertyKind.CREDENTIALS)
    assert "identifiers" in caught.value.message_dict


def test_custody_events_of_credentials_refuse_secrets_too(quality_manager):
    item = credentials()
    with pytest.raises(ValidationError) as caught:
        services.record_custody(
            item,
            actor=quality_manager,
            kind=CustodyKind.RECEIVED,
            to_location="Vault",
            condition="Works. pwd: Xk9!mQ2#",
        )
    assert "condition" in caught.value.message_dict
    assert not CustodyEvent.objects.exists()


# --------------------------------------------------------------------------------------
# The chain of custody
# --------------------------------------------------------------------------------------


def test_a_receipt_records_when_by_whom_where_and_in_what_condition(quality_manager):
    item = PropertyItemFactory()
    at = hours_ago(3)
    event = services.record_custody(
        item,
        actor=quality_manager,
        kind=CustodyKind.RECEIVED,
        occurred_at=at,
        to_location="Goods-in bay B",
        condition="Case dented on one corner.",
        files=[a_file("receipt.png", b"\x89PNG fake")],
        caption="The dented corner",
    )
    item.refresh_from_db()
    assert (event.sequence, event.status_after, event.from_location) == (1, "received", "")
    assert item.status == PropertyStatus.RECEIVED
    assert (item.received_at, item.received_by, item.location) == (
        at,
        quality_manager,
        "Goods-in bay B",
    )
    assert item.condition_on_receipt == "Case dented on one corner."
    photo = ItemFile.objects.get()
    assert (photo.event, photo.caption, photo.file.name) == (
        event,
        "The dented corner",
        "receipt.png",
    )
    assert (
        AuditEvent.objects.filter(action="propertyitem.received", object_id=str(item.pk)).count()
        == 1
    )
    assert AuditEvent.objects.filter(action="custodyevent.created").count() == 1


def test_a_receipt_needs_its_location_and_condition(quality_manager):
    with pytest.raises(ValidationError) as caught:
        services.record_custody(
            PropertyItemFactory(), actor=quality_manager, kind=CustodyKind.RECEIVED
        )
    assert set(caught.value.message_dict) == {"to_location", "condition"}


def test_a_move_records_where_it_came_from(quality_manager):
    item = received_item()
    event = services.record_custody(
        item,
        actor=quality_manager,
        kind=CustodyKind.ISSUED,
        to_holder="CNC cell 3",
        purpose="Batch 12",
    )
    assert (event.from_holder, event.from_location, event.to_holder) == (
        "",
        "Tool store, rack T1",
        "CNC cell 3",
    )
    moved = services.record_custody(
        item, actor=quality_manager, kind=CustodyKind.MOVED, to_location="Rack T2"
    )
    assert (moved.from_holder, moved.from_location, moved.sequence) == (
        "CNC cell 3",
        "Tool store, rack T1",
        3,
    )
    assert (item.status, item.holder, item.location) == (PropertyStatus.STORED, "", "Rack T2")


def test_an_issue_says_to_whom_and_what_for(quality_manager):
    with pytest.raises(ValidationError) as caught:
        services.record_custody(received_item(), actor=quality_manager, kind=CustodyKind.ISSUED)
    assert set(caught.value.message_dict) == {"to_holder", "purpose"}


def test_an_event_that_cannot_follow_the_state_is_refused(quality_manager):
    with pytest.raises(ValidationError) as caught:
        services.record_custody(
            PropertyItemFactory(), actor=quality_manager, kind=CustodyKind.MOVED, to_location="X"
        )
    assert caught.value.message_dict["kind"] == ["Moved cannot follow expected."]


def test_events_are_recorded_in_the_order_they_happened(quality_manager):
    item = received_item(at=hours_ago(2))
    with pytest.raises(ValidationError) as caught:
        services.record_custody(
            item,
            actor=quality_manager,
            kind=CustodyKind.MOVED,
            to_location="Rack",
            occurred_at=hours_ago(5),
        )
    assert "record events in the order they happened" in caught.value.message_dict["occurred_at"][0]
    with pytest.raises(ValidationError) as caught:
        services.record_custody(
            item,
            actor=quality_manager,
            kind=CustodyKind.MOVED,
            to_location="Rack",
            occurred_at=timezone.now() + dt.timedelta(hours=1),
        )
    assert caught.value.message_dict["occurred_at"] == ["The time is in the future."]


def test_losses_and_damage_are_recorded_as_incidents_not_as_custody_events(quality_manager):
    with pytest.raises(ValidationError) as caught:
        services.record_custody(received_item(), actor=quality_manager, kind=CustodyKind.LOST)
    assert caught.value.message_dict["kind"][0].startswith("Record an incident instead")


@pytest.mark.parametrize("kind", [CustodyKind.RETURNED, CustodyKind.DESTROYED])
def test_returns_and_destruction_need_their_confirmation(quality_manager, kind):
    item = received_item()
    with pytest.raises(ValidationError) as caught:
        services.record_custody(item, actor=quality_manager, kind=kind)
    assert "needs its confirmation" in caught.value.message_dict["acknowledgement"][0]
    event = services.record_custody(
        item, actor=quality_manager, kind=kind, files=[a_file("certificate.txt")]
    )
    assert item.status == event.status_after
    assert event.files.get().caption in {"Confirmation of the return", "Certificate of destruction"}


def test_a_return_acknowledged_in_a_communication_links_it_to_the_item(quality_manager):
    item = received_item()
    acknowledgement = CommunicationFactory(customer=item.customer, subject="Tool received back")
    event = services.record_custody(
        item, actor=quality_manager, kind=CustodyKind.RETURNED, acknowledgement=acknowledgement
    )
    assert (item.status, item.holder, item.location) == (
        PropertyStatus.RETURNED,
        item.customer.name,
        "",
    )
    assert event.acknowledgement == acknowledgement
    assert list(communications_about(item)) == [acknowledgement]


def test_another_customers_communication_is_no_acknowledgement(quality_manager):
    item = received_item()
    with pytest.raises(ValidationError) as caught:
        services.record_custody(
            item,
            actor=quality_manager,
            kind=CustodyKind.RETURNED,
            acknowledgement=CommunicationFactory(),
        )
    assert "is with another customer" in caught.value.message_dict["acknowledgement"][0]


def test_credentials_are_revoked_with_a_confirmation(quality_manager):
    item = credentials()
    CustodyEventFactory(item=item, to_location="Vault")
    services.record_custody(
        item,
        actor=quality_manager,
        kind=CustodyKind.ISSUED,
        to_user=quality_manager,
        purpose="Holder",
    )
    assert item.holder_user == quality_manager
    services.record_custody(
        item, actor=quality_manager, kind=CustodyKind.REVOKED, files=[a_file("revoked.txt")]
    )
    assert (item.status, item.holder, item.holder_user) == (PropertyStatus.DESTROYED, "", None)


def test_custody_events_are_append_only():
    event = CustodyEventFactory()
    event.purpose = "Rewritten history"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        CustodyEvent.objects.filter(pk=event.pk).update(purpose="Rewritten history")
    with pytest.raises(PermissionError):
        CustodyEvent.objects.all().delete()
    event.refresh_from_db()
    assert event.purpose == ""


def test_an_item_with_custody_events_cannot_be_deleted():
    from django.db.models import ProtectedError

    event = CustodyEventFactory()
    with pytest.raises(ProtectedError):
        event.item.delete()


@pytest.mark.postgres
def test_on_postgresql_the_database_refuses_to_change_a_custody_event():
    event = CustodyEventFactory()
    for sql in (
        "UPDATE property_custodyevent SET purpose = 'x' WHERE id = %s",
        "DELETE FROM property_custodyevent WHERE id = %s",
    ):
        with pytest.raises(Exception, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])
    assert CustodyEvent.objects.filter(pk=event.pk).exists()


# Any sequence the custody form allows, recorded through the service against the database.
FORM_STEPS = st.lists(
    st.tuples(
        st.sampled_from([k for k in CustodyKind.values if k not in {"lost", "damaged"}]),
        st.sampled_from(["", "Cell 2", "Lab"]),
        st.sampled_from(["", "Rack T1", "Rack T3"]),
        st.booleans(),
    ),
    max_size=10,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=FORM_STEPS)
def test_the_derived_holder_and_location_are_right_after_any_sequence_of_events(
    quality_manager, steps
):
    with transaction.atomic():
        item = PropertyItemFactory(kind=PropertyKind.CREDENTIALS, identifiers="badge 17")
        start = timezone.now() - dt.timedelta(days=30)
        expected = custody.Custody()
        for index, (kind, holder, location, to_person) in enumerate(steps):
            to_user = quality_manager if to_person else None
            values = {
                "kind": kind,
                "to_holder": holder,
                "to_user": to_user,
                "to_location": location,
                "occurred_at": start + dt.timedelta(hours=index),
                "purpose": "Step",
                "condition": "Fine",
                "files": [a_file()],
            }
            move = custody.Move(kind, holder, to_user.pk if to_user else None, location)
            try:
                after = custody.apply(expected, move, item_kind=item.kind)
            except custody.CustodyError:
                with pytest.raises(ValidationError):
                    services.record_custody(item, actor=quality_manager, **values)
                continue
            if kind == CustodyKind.RECEIVED and not location:
                with pytest.raises(ValidationError):
                    services.record_custody(item, actor=quality_manager, **values)
                continue
            if kind == CustodyKind.RETURNED and not holder:
                after = custody.Custody(after.status, item.customer.name, None, after.location)
            services.record_custody(item, actor=quality_manager, **values)
            expected = after
        stored = PropertyItem.objects.get(pk=item.pk)
        assert services.stored_custody(stored) == expected
        assert services.derived_custody(stored) == expected
        transaction.set_rollback(True)


def test_next_kinds_offer_the_likely_event_first():
    item = PropertyItemFactory()
    assert services.next_kinds(item) == [CustodyKind.RECEIVED]
    received = received_item()
    assert services.next_kinds(received)[:3] == [
        CustodyKind.MOVED,
        CustodyKind.ISSUED,
        CustodyKind.RETURNED,
    ]
    data = received_item(kind=PropertyKind.DATA, end_action=EndAction.DESTROY)
    assert services.next_kinds(data)[0] == CustodyKind.ACCESSED
    assert CustodyKind.DESTROYED in services.next_kinds(data)[:4]


# --------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------


def test_an_incident_gets_a_number_a_deadline_and_marks_the_item_damaged(quality_manager):
    item = received_item()
    found = timezone.make_aware(dt.datetime(2026, 3, 6, 9, 0))  # a Friday
    incident = services.record_incident(
        item,
        actor=quality_manager,
        kind=IncidentKind.DAMAGE,
        what_happened="Dropped from the rack.",
        impact="Pin bent.",
        discovered_at=found,
    )
    assert incident.number.startswith("PIN-")
    assert incident.notify_by == add_working_days(found, 1)
    assert timezone.localtime(incident.notify_by).weekday() == 0  # told by Monday
    assert incident.notify_rule == "1 working day from discovery"
    item.refresh_from_db()
    assert item.status == PropertyStatus.LOST_DAMAGED
    assert item.location == "Tool store, rack T1"
    event = item.custody_events.last()
    assert (event.kind, event.incident) == (CustodyKind.DAMAGED, incident)


def test_the_notification_deadline_follows_the_setting(quality_manager, monkeypatch):
    monkeypatch.setenv("HARKEN_PROPERTY_NOTIFY_DAYS", "3")
    found = timezone.make_aware(dt.datetime(2026, 3, 6, 9, 0))
    incident = PropertyIncidentFactory(discovered_at=found)
    assert incident.notify_by == add_working_days(found, 3)
    assert incident.notify_rule == "3 working days from discovery"


def test_a_loss_leaves_nobody_holding_the_item():
    incident = PropertyIncidentFactory(kind=IncidentKind.LOSS)
    item = incident.item
    item.refresh_from_db()
    assert (item.status, item.holder, item.location) == (PropertyStatus.LOST_DAMAGED, "", "")


def test_unauthorised_access_is_an_access_in_the_chain():
    item = received_item(kind=PropertyKind.DATA)
    incident = PropertyIncidentFactory(item=item, kind=IncidentKind.UNAUTHORISED_ACCESS)
    event = item.custody_events.last()
    assert event.kind == CustodyKind.ACCESSED
    assert event.purpose.startswith(f"{incident.number} (unauthorised access): ")
    item.refresh_from_db()
    assert item.status == PropertyStatus.RECEIVED


def test_an_item_not_received_has_no_incident_yet(quality_manager):
    with pytest.raises(ValidationError) as caught:
        services.record_incident(
            PropertyItemFactory(), actor=quality_manager, kind="loss", what_happened="x", impact="y"
        )
    assert "has not been received yet" in caught.value.message_dict["kind"][0]


def test_an_incident_cannot_close_without_a_customer_notification(quality_manager):
    incident = PropertyIncidentFactory()
    with pytest.raises(TransitionError) as caught:
        services.close_incident(
            incident, actor=quality_manager, resolution="Repaired and returned."
        )
    assert caught.value.messages[0].startswith("Record the customer notification first")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN
    # Nor behind the workflow's back: the database refuses it.
    PropertyIncident.objects.filter(pk=incident.pk).update(resolution="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        PropertyIncident.objects.filter(pk=incident.pk).update(status=IncidentStatus.CLOSED)


def test_telling_the_customer_logs_an_outbound_communication_about_the_incident(quality_manager):
    incident = PropertyIncidentFactory()
    contact = ContactFactory(customer=incident.item.customer)
    communication = services.notify_customer(
        incident,
        actor=quality_manager,
        channel=Channel.PHONE,
        subject="Your fixture was damaged",
        body="We told them what happened and that we repair it at our cost.",
        contacts=[contact],
    )
    assert (communication.direction, communication.phase) == (Direction.OUTBOUND, Phase.PROPERTY)
    assert communication.customer == incident.item.customer
    assert list(communication.contacts.all()) == [contact]
    assert {link.label for link in communication.links.all()} == {
        f"Property incident {incident.number}",
        f"Property item {incident.item.number}",
    }
    incident.refresh_from_db()
    assert incident.notification == communication
    assert AuditEvent.objects.filter(action="propertyincident.notified").count() == 1
    services.close_incident(incident, actor=quality_manager, resolution="Repaired at our cost.")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED
    assert incident.closed_at is not None
    event = AuditEvent.objects.get(action="propertyincident.close")
    assert event.changes["status"] == ["open", "closed"]
    assert "closed_at" in event.changes


def test_the_notification_is_recorded_once(quality_manager):
    incident = PropertyIncidentFactory()
    services.notify_customer(
        incident, actor=quality_manager, channel="email", subject="s", body="b"
    )
    with pytest.raises(ValidationError) as caught:
        services.notify_customer(
            incident, actor=quality_manager, channel="email", subject="s", body="b"
        )
    assert "recorded already" in caught.value.message_dict["notification"][0]


def test_a_communication_in_the_log_can_be_the_notification(quality_manager):
    incident = PropertyIncidentFactory()
    customer = incident.item.customer
    inbound = CommunicationFactory(customer=customer, direction=Direction.INBOUND)
    other = CommunicationFactory(direction=Direction.OUTBOUND)
    early = CommunicationFactory(
        customer=customer,
        direction=Direction.OUTBOUND,
        occurred_at=incident.discovered_at - dt.timedelta(days=2),
    )
    for communication, reason in (
        (inbound, "came from the customer"),
        (other, "another customer"),
        (early, "earlier"),
    ):
        with pytest.raises(ValidationError) as caught:
            services.link_notification(incident, communication, actor=quality_manager)
        assert reason in caught.value.message_dict["communication"][0]
    sent = CommunicationFactory(
        customer=customer, direction=Direction.OUTBOUND, occurred_at=timezone.now()
    )
    services.link_notification(incident, sent, actor=quality_manager)
    assert incident.notification == sent
    assert incident in [link.target for link in sent.links.all()]


def test_an_incident_opens_its_corrective_action(quality_manager, owner):
    incident = PropertyIncidentFactory()
    due = timezone.localdate() + dt.timedelta(days=30)
    action = services.open_corrective_action(
        incident, actor=quality_manager, owner=owner, due_date=due
    )
    assert (action.kind, action.status, action.owner, action.due_date) == (
        ActionKind.CORRECTIVE,
        ActionStatus.OPEN,
        owner,
        due,
    )
    assert action.origin == f"Property incident {incident.number}"
    assert action.problem_statement.startswith(f"{incident.number}: damage of ")
    assert "Impact: The locating pin is bent" in action.problem_statement
    assert incident.action == action
    with pytest.raises(ValidationError):
        services.open_corrective_action(incident, actor=quality_manager, owner=owner, due_date=due)


def test_customer_facing_staff_cannot_open_a_corrective_action(staff, owner):
    incident = PropertyIncidentFactory()
    with pytest.raises(PermissionDenied):
        services.open_corrective_action(
            incident, actor=staff, owner=owner, due_date=timezone.localdate()
        )


def test_closing_is_for_the_quality_manager(quality_manager, analyst, staff):
    incident = PropertyIncidentFactory()
    services.notify_customer(incident, actor=staff, channel="email", subject="s", body="b")
    for person in (analyst, staff):
        with pytest.raises(PermissionDenied):
            services.close_incident(incident, actor=person, resolution="Done.")
    services.close_incident(incident, actor=quality_manager, resolution="Done.")
    apply_transition(incident, "reopen", actor=quality_manager)
    incident.refresh_from_db()
    assert (incident.status, incident.closed_at) == (IncidentStatus.OPEN, None)


def test_a_closed_incident_is_not_edited(quality_manager):
    incident = PropertyIncidentFactory()
    services.notify_customer(
        incident, actor=quality_manager, channel="email", subject="s", body="b"
    )
    services.close_incident(incident, actor=quality_manager, resolution="Done.")
    with pytest.raises(ValidationError):
        services.update_incident(incident, actor=quality_manager, impact="Worse than we thought.")


# --------------------------------------------------------------------------------------
# Inventory checks
# --------------------------------------------------------------------------------------


def test_a_check_records_what_was_seen_and_turns_what_was_missing_into_incidents(quality_manager):
    seen, missing = received_item(at=hours_ago(48)), received_item(at=hours_ago(48))
    check = services.record_inventory_check(
        actor=quality_manager, seen=[seen], missing=[missing], location="Tool store, rack T1"
    )
    assert (check.seen_count, check.missing_count) == (1, 1)
    assert seen.custody_events.last().kind == CustodyKind.CHECKED
    line = check.lines.get(outcome=CheckOutcome.MISSING)
    assert line.incident.kind == IncidentKind.LOSS
    assert line.incident.what_happened == f"Not found in the {check}."
    missing.refresh_from_db()
    assert missing.status == PropertyStatus.LOST_DAMAGED
    again = services.record_inventory_check(actor=quality_manager, seen=[], missing=[missing])
    assert again.lines.get().incident == line.incident  # not reported twice
    found = services.record_inventory_check(
        actor=quality_manager, seen=[missing], missing=[], location="Yard"
    )
    missing.refresh_from_db()
    assert (missing.status, missing.location) == (PropertyStatus.STORED, "Yard")
    assert found.lines.get().outcome == CheckOutcome.SEEN


def test_a_check_refuses_contradictions(quality_manager):
    item = received_item()
    with pytest.raises(ValidationError) as caught:
        services.record_inventory_check(actor=quality_manager, seen=[item], missing=[item])
    assert "Seen and missing at once" in caught.value.message_dict["missing"][0]
    with pytest.raises(ValidationError) as caught:
        services.record_inventory_check(
            actor=quality_manager, seen=[PropertyItemFactory()], missing=[]
        )
    assert "Not held by us" in caught.value.message_dict["seen"][0]


def test_items_to_check_are_those_held_at_the_location():
    here = received_item()
    received_item(storage_location="Elsewhere")  # received into rack T1 too
    PropertyItemFactory()  # expected: not here yet
    assert here in services.items_to_check(location="tool store, rack t1")
    assert services.items_to_check(location="Tool store, rack T1").count() == 2


# --------------------------------------------------------------------------------------
# Due dates, the tick, readiness and the evidence pack
# --------------------------------------------------------------------------------------


def test_overdue_returns_are_raised_once_by_tick():
    today = timezone.localdate()
    late = received_item(due_date=today - dt.timedelta(days=2))
    received_item(due_date=today + dt.timedelta(days=2))
    returned = received_item(due_date=today - dt.timedelta(days=2))
    services.record_custody(returned, actor=None, kind=CustodyKind.RETURNED, files=[a_file()])

    summary = property_duties(timezone.now())
    assert summary.startswith("1 item newly overdue for return or destruction")
    flags = AuditEvent.objects.filter(action="propertyitem.overdue")
    assert [(f.object_id, f.changes) for f in flags] == [
        (
            str(late.pk),
            {"due_date": (today - dt.timedelta(days=2)).isoformat(), "end_action": "return"},
        )
    ]
    assert flags.get().actor_label == "property"
    assert property_duties(timezone.now()).startswith("0 items newly overdue")
    assert AuditEvent.objects.filter(action="propertyitem.overdue").count() == 1
    # A new due date that passes again is a new fact.
    late.due_date = today - dt.timedelta(days=1)
    late.save()
    property_duties(timezone.now())
    assert AuditEvent.objects.filter(action="propertyitem.overdue").count() == 2


def test_items_without_custody_events_for_their_period_are_due_for_a_check(monkeypatch):
    monkeypatch.setenv("HARKEN_PROPERTY_REVIEW_DAYS", "30")
    now = timezone.now()
    stale = received_item(at=now - dt.timedelta(days=31))
    own_period = received_item(at=now - dt.timedelta(days=31), review_days=60)
    fresh = received_item(at=now - dt.timedelta(days=5))
    assert list(services.check_due(now)) == [stale]
    assert {own_period, fresh}.isdisjoint(services.check_due(now))
    property_duties(now)
    property_duties(now)
    assert AuditEvent.objects.filter(action="propertyitem.check_due").count() == 1
    services.record_custody(stale, actor=None, kind=CustodyKind.CHECKED)
    assert not services.check_due(timezone.now()).exists()


def test_data_past_its_retention_is_raised():
    today = timezone.localdate()
    old = received_item(kind=PropertyKind.DATA, retain_until=today - dt.timedelta(days=1))
    received_item(kind=PropertyKind.DATA, retain_until=today + dt.timedelta(days=1))
    assert list(services.past_retention(today)) == [old]
    assert "1 item newly past retention" in property_duties(timezone.now())
    assert "0 items newly past retention" in property_duties(timezone.now())


def test_incidents_whose_customer_was_not_told_in_time_are_raised():
    late = PropertyIncidentFactory(discovered_at=timezone.now() - dt.timedelta(days=10))
    PropertyIncidentFactory()  # within its deadline
    assert list(services.notifications_overdue(timezone.now())) == [late]
    assert property_duties(timezone.now()).endswith("1 incident notification newly late")
    assert property_duties(timezone.now()).endswith("0 incident notifications newly late")


def test_readiness_asks_for_receipts_and_protection():
    received_item()
    count, message, records = readiness.receipts_and_protection(timezone.now())
    assert (count, records) == (0, [])
    bare = PropertyItemFactory(
        storage_conditions="", handling_instructions="", access_restrictions=""
    )
    # Marked received without a receipt event: only a data repair could do that.
    PropertyItem.objects.filter(pk=bare.pk).update(status=PropertyStatus.STORED)
    count, message, records = readiness.receipts_and_protection(timezone.now())
    assert count == 1
    assert (
        message
        == "1 property items fall short: 1 received without a receipt record; 1 without protection requirements."
    )
    assert records == [(str(bare), bare.get_absolute_url())]


def test_readiness_asks_that_every_incident_is_notified():
    late = PropertyIncidentFactory(discovered_at=timezone.now() - dt.timedelta(days=10))
    PropertyIncidentFactory()
    count, message, records = readiness.incidents_notified(timezone.now())
    assert count == 1
    assert message.endswith("past their deadline. 1 more are within their deadline.")
    assert records == [(str(late), late.get_absolute_url())]


def test_the_readiness_check_and_the_evidence_pack_include_property():
    from harken.assurance import readiness as assurance_readiness
    from harken.assurance.evidence import build_zip

    findings, _ = assurance_readiness.run(store=False)
    codes = {f.code for f in findings}
    assert {"property_receipts", "property_notified"} <= codes
    item = received_item()
    today = timezone.localdate()
    data, _proof, parts = build_zip(today - dt.timedelta(days=7), today)
    assert any(p.clause == "8.2.1 d" for p in parts)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        assert "registers/property_custody_events.csv" in names
        items_csv = archive.read("registers/property_items.csv").decode("utf-8-sig")
    assert item.number in items_csv


def test_the_evidence_part_holds_the_register_and_the_custody_log():
    item = received_item()
    services.record_custody(item, actor=None, kind=CustodyKind.MOVED, to_location="=HYPERLINK(1)")
    PropertyIncidentFactory(item=item)
    today = timezone.localdate()
    [part] = property_evidence(today - dt.timedelta(days=1), today)
    assert part.clause == "8.2.1 d"
    assert set(part.files) == {
        f"registers/property_{name}.{ext}"
        for name in ("items", "custody_events", "incidents", "inventory_checks")
        for ext in ("csv", "xlsx")
    }
    log = part.files["registers/property_custody_events.csv"].decode("utf-8-sig")
    assert log.count(item.number) == 3  # received, moved, damaged
    assert "'=HYPERLINK(1)" in log  # a formula is neutralised
    assert Communication.objects.count() == 0


def test_a_stranger_gets_a_clear_refusal():
    outsider = UserFactory(username="nobody")
    with pytest.raises(PermissionDenied):
        services.record_custody(received_item(), actor=outsider, kind=CustodyKind.CHECKED)


def test_checks_by_default_use_the_fixture():
    check = InventoryCheckFactory()
    assert check.lines.get().outcome == CheckOutcome.SEEN
