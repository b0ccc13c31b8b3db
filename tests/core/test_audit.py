"""The audit trail: one event per change with the right diff, and a chain that detects tampering."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from tests.factories import CustomerFactory, ProductLineFactory, RegionFactory, UserFactory

from harken.core import audit
from harken.core.audit import Actor, audit_context, verify_chain
from harken.core.models import AuditEvent
from harken.customers.models import Customer

pytestmark = pytest.mark.django_db


def events_for(obj) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type=obj._meta.label_lower, object_id=str(obj.pk)
        ).order_by("seq")
    )


def test_create_records_every_field_as_new():
    region = RegionFactory(code="EU", name="Europe")
    with audit_context(actor=Actor.system("test")):
        customer = Customer.objects.create(name="Acme GmbH", region=region, segment="strategic")
    (event,) = events_for(customer)
    assert event.action == "customer.created"
    assert event.actor_label == "test"
    assert event.changes["name"] == [None, "Acme GmbH"]
    assert event.changes["segment"] == [None, "strategic"]
    assert event.changes["region"] == [None, region.pk]
    assert event.changes["number"] == [None, customer.number]
    assert "updated_at" not in event.changes
    assert event.object_label == "Acme GmbH"


def test_update_records_only_changed_fields_with_before_and_after():
    customer = CustomerFactory(name="Before Ltd", notes="")
    customer = Customer.objects.get(pk=customer.pk)
    customer.name = "After Ltd"
    customer.notes = "Moved offices"
    customer.save()
    event = events_for(customer)[-1]
    assert event.action == "customer.updated"
    assert event.changes == {"name": ["Before Ltd", "After Ltd"], "notes": ["", "Moved offices"]}


def test_save_without_changes_writes_no_event():
    customer = CustomerFactory()
    count = AuditEvent.objects.count()
    Customer.objects.get(pk=customer.pk).save()
    assert AuditEvent.objects.count() == count


def test_second_save_diffs_against_the_first():
    customer = CustomerFactory(name="One")
    customer.name = "Two"
    customer.save()
    customer.name = "Three"
    customer.save()
    assert [e.changes.get("name") for e in events_for(customer)[1:]] == [
        ["One", "Two"],
        ["Two", "Three"],
    ]


def test_delete_records_the_last_values():
    customer = CustomerFactory(name="Gone Ltd")
    pk = customer.pk
    customer.delete()
    event = AuditEvent.objects.filter(object_id=str(pk), object_type="customers.customer").first()
    assert event.action == "customer.deleted"
    assert event.changes["name"] == ["Gone Ltd", None]


def test_cascaded_deletes_are_recorded():
    from tests.factories import ContactFactory

    contact = ContactFactory(name="Cascade Person")
    contact_pk = contact.pk
    contact.customer.delete()
    assert AuditEvent.objects.filter(
        action="contact.deleted", object_id=str(contact_pk), object_label__startswith="Cascade"
    ).exists()


def test_many_to_many_changes_are_recorded():
    customer = CustomerFactory()
    line = ProductLineFactory(name="Valves")
    customer.product_lines.add(line)
    event = events_for(customer)[-1]
    assert event.action == "customer.updated"
    assert event.changes == {"product_lines": {"added": ["Valves"]}}


def test_password_changes_are_masked():
    user = UserFactory(username="masked")
    user.set_password("a-new-secret-value")
    user.save()
    event = events_for(user)[-1]
    assert event.changes["password"][1] == audit.MASK
    assert "a-new-secret-value" not in str(event.changes)


def test_role_changes_are_recorded():
    user = UserFactory(username="promoted", roles=["auditor"])
    event = AuditEvent.objects.filter(action="user.roles_changed", object_id=str(user.pk)).get()
    assert event.changes == {"added": ["auditor"]}


def test_the_event_belongs_to_the_same_transaction_as_the_change():
    count = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        CustomerFactory()
        raise RuntimeError("roll back")
    assert AuditEvent.objects.count() == count


def test_untouched_chain_verifies():
    for index in range(5):
        CustomerFactory(name=f"Chain {index}")
    result = verify_chain()
    assert result.ok
    assert result.count == AuditEvent.objects.count()
    assert result.head_hash == AuditEvent.objects.order_by("-seq").first().hash


def test_events_link_to_their_predecessor():
    CustomerFactory()
    CustomerFactory()
    first, second = AuditEvent.objects.order_by("-seq")[:2][::-1]
    assert second.prev_hash == first.hash
    assert second.seq == first.seq + 1


def test_events_appended_together_link_in_order_and_verify():
    CustomerFactory()
    head = AuditEvent.objects.order_by("-seq").first()
    actor = Actor.system("batch")
    pending = [
        audit.event(
            "bench.item",
            object_type="x",
            object_id=str(n),
            changes={"n": n, "when": head.at},
            actor=actor,
            request_id=f"r{n}",
        )
        for n in range(5)
    ]
    with transaction.atomic():
        appended = audit.append(pending)
    audit.record("bench.after", object_type="x", object_id="after")
    events = list(AuditEvent.objects.filter(seq__gt=head.seq).order_by("seq"))
    assert [e.seq for e in events] == list(range(head.seq + 1, head.seq + 7))
    assert [e.pk for e in appended] == [e.pk for e in events[:5]]
    assert [(e.object_id, e.request_id, e.actor_label) for e in events[:5]] == [
        (str(n), f"r{n}", "batch") for n in range(5)
    ]
    assert events[0].changes == {"n": 0, "when": audit.jsonable(head.at)}
    previous = head.hash
    for event in events:
        assert event.prev_hash == previous
        previous = event.hash
    assert audit.append([]) == []
    assert verify_chain().ok


def test_a_failed_transaction_leaves_no_appended_event():
    CustomerFactory()
    count = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.append([audit.event("bench.lost", object_type="x") for _ in range(3)])
        raise RuntimeError("the change failed")
    assert AuditEvent.objects.count() == count
    audit.record("bench.kept", object_type="x")
    assert verify_chain().ok


def test_application_refuses_to_update_or_delete_events():
    CustomerFactory()
    event = AuditEvent.objects.first()
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="direct tampering test is for SQLite")
def test_tampering_with_a_stored_event_is_named_by_verify():
    for index in range(4):
        CustomerFactory(name=f"Tamper {index}")
    target = AuditEvent.objects.order_by("seq")[2]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET object_label = %s WHERE seq = %s",
            ["Forged", target.seq],
        )
    result = verify_chain()
    assert not result.ok
    assert result.broken_seq == target.seq
    assert "content" in result.reason


@pytest.mark.skipif(connection.vendor != "sqlite", reason="direct tampering test is for SQLite")
def test_a_removed_event_is_named_by_verify():
    for index in range(4):
        CustomerFactory(name=f"Remove {index}")
    target = AuditEvent.objects.order_by("seq")[1]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE seq = %s", [target.seq])
    result = verify_chain()
    assert result.broken_seq == target.seq
    assert "missing" in result.reason


@pytest.mark.postgres
def test_postgres_trigger_refuses_update_and_delete():
    from django.db.utils import DatabaseError

    CustomerFactory()
    for statement in (
        "UPDATE core_auditevent SET object_label = 'Forged'",
        "DELETE FROM core_auditevent",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    assert verify_chain().ok


def test_explicit_domain_event_carries_its_name_and_details():
    customer = CustomerFactory()
    with audit_context(actor=Actor.system("job")):
        event = audit.record("customer.reviewed", customer, changes={"outcome": "ok"})
    assert event.action == "customer.reviewed"
    assert event.changes == {"outcome": "ok"}
    assert event.actor_type == "system"
    assert verify_chain().ok


def test_request_user_is_the_actor(client, quality_manager):
    client.force_login(quality_manager)
    region = RegionFactory()
    response = client.post(
        "/customers/add/", {"name": "Via Web", "segment": "standard", "region": region.pk}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="customer.created").first()
    assert event.actor_label == quality_manager.username
    assert event.actor_id == quality_manager.pk
    assert event.actor_type == "user"
    assert len(event.request_id) == 32
