"""Plain-SQL rows for the busiest paths: inserted and read back as the ORM would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from tests.factories import RegionFactory
from tests.surveys.factories import sent_invitation

from harken.core.rows import RowReader, Trip
from harken.customers.models import Customer, Region
from harken.surveys.models import Invitation

pytestmark = pytest.mark.django_db


def stored(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


def test_inserted_rows_get_their_keys_and_the_values_the_orm_would_store():
    region = RegionFactory()
    made = [Customer(name=f"Rows {n}", number=f"CUS-R-{n}", region=region) for n in range(3)]
    trip = Trip("default")
    trip.insert(made)
    trip.run()
    assert all(c.pk and not c._state.adding for c in made)
    assert [
        c.name for c in Customer.objects.filter(pk__in=[c.pk for c in made]).order_by("pk")
    ] == [
        "Rows 0",
        "Rows 1",
        "Rows 2",
    ]
    twin = Customer(name="Rows 0", number="CUS-R-twin", region=region)
    Customer.objects.bulk_create([twin])
    ours, theirs = stored(Customer, made[0].pk), stored(Customer, twin.pk)
    for name in ("id", "number", "created_at", "updated_at"):
        ours.pop(name), theirs.pop(name)
    assert ours == theirs
    # auto_now was applied as a save would.
    assert made[0].updated_at is not None
    trip.insert([])
    assert not trip.statements


def test_a_row_reader_builds_the_instance_the_orm_builds_deferring_the_rest():
    invitation, _ = sent_invitation()
    names = ("id", "status", "expires_at", "survey_id", "token_hash")
    reader = RowReader(Invitation, names, "default")
    table = connection.ops.quote_name(Invitation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(reader.columns('i'))} FROM {table} i WHERE i.id = %s",  # noqa: S608 - test SQL
            [invitation.pk],
        )
        read = reader.read(cursor.fetchone())
    orm = Invitation.objects.only(*names).get(pk=invitation.pk)
    assert read.get_deferred_fields() == orm.get_deferred_fields()
    for name in ("pk", "status", "expires_at", "survey_id", "token_hash"):
        assert getattr(read, name) == getattr(orm, name), name
    assert isinstance(read.expires_at, dt.datetime) and timezone.is_aware(read.expires_at)
    # A deferred field loads on access, as with .only().
    assert read.sent_at == invitation.sent_at


def test_region_rows_read_back_through_a_reader_in_any_name_order():
    region = RegionFactory(code="ZZ", name="Reader")
    reader = RowReader(Region, ("name", "id", "code"), "default")
    table = connection.ops.quote_name(Region._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(reader.columns('r'))} FROM {table} r WHERE r.id = %s",  # noqa: S608 - test SQL
            [region.pk],
        )
        read = reader.read(cursor.fetchone())
    assert (read.pk, read.code, read.name) == (region.pk, "ZZ", "Reader")


def test_a_trip_runs_its_statements_in_order_and_hands_each_its_rows():
    region = RegionFactory(code="TR", name="Trip")
    table = connection.ops.quote_name(Region._meta.db_table)
    trip = Trip("default")
    made = [Customer(name=f"Trip {n}", number=f"CUS-T-{n}", region=region) for n in range(3)]
    trip.insert(made)
    match, args = trip.any_of("number", ["CUS-T-0", "CUS-T-2", "CUS-T-none"])
    customers = connection.ops.quote_name(Customer._meta.db_table)
    # Queued after the insert, so it sees the new rows.
    found = trip.add(f"SELECT number FROM {customers} WHERE {match} ORDER BY number", args)  # noqa: S608 - test SQL
    seen: list = []
    trip.add(f"SELECT code FROM {table} WHERE id = %s", [region.pk], then=seen.extend)  # noqa: S608 - test SQL
    assert made[0].pk is None  # nothing is sent before run()
    trip.run()
    assert all(c.pk and not c._state.adding for c in made)
    assert found.rows == [("CUS-T-0",), ("CUS-T-2",)]
    assert seen == [("TR",)]
    trip.run()  # an empty trip sends nothing
    one, one_args = trip.any_of("id", [made[1].pk])
    assert trip.add(f"SELECT name FROM {customers} WHERE {one}", one_args)  # noqa: S608 - test SQL
    trip.run()


def test_keys_reserved_before_the_insert_are_the_keys_the_rows_get():
    region = RegionFactory()
    trip = Trip("default")
    keys = trip.reserve_keys(Customer, 2)
    if connection.vendor != "postgresql":
        assert keys is None  # SQLite: the keys come back from the insert
        return
    trip.run()
    assert keys is not None and len({key for (key,) in keys.rows}) == 2
    made = [Customer(name=f"Keyed {n}", number=f"CUS-K-{n}", region=region) for n in range(2)]
    for customer, (key,) in zip(made, keys.rows, strict=True):
        customer.pk = key
    trip.insert(made)
    trip.run()
    assert sorted(
        Customer.objects.filter(name__startswith="Keyed").values_list("pk", flat=True)
    ) == sorted(key for (key,) in keys.rows)
    assert not made[0]._state.adding
    # The sequence moved past them: an ordinary insert gets a new key.
    later = Customer.objects.create(name="Later", number="CUS-K-later", region=region)
    assert later.pk not in {key for (key,) in keys.rows}


def test_a_failing_statement_of_a_trip_raises_the_database_error_django_would():
    region = RegionFactory()
    Customer.objects.create(name="Taken", number="CUS-DUP", region=region)
    trip = Trip("default")
    trip.insert([Customer(name="Again", number="CUS-DUP", region=region)])
    with pytest.raises(IntegrityError), transaction.atomic():
        trip.run()
    assert Customer.objects.filter(number="CUS-DUP").count() == 1


@pytest.mark.postgres
@pytest.mark.parametrize("prepare", [True, False])
def test_on_postgresql_a_trip_prepares_its_statements_unless_told_not_to(settings, prepare):
    settings.DB_PREPARE = prepare
    region = RegionFactory(code="PR", name="Prepared")
    table = connection.ops.quote_name(Region._meta.db_table)
    marker = f"prepared-check-{prepare}"
    sql = f"SELECT name FROM {table} WHERE id = %s AND code <> '{marker}'"  # noqa: S608 - test SQL
    for _ in range(2):
        trip = Trip("default")
        named = trip.add(sql, [region.pk])
        trip.run()
        assert named.rows == [("Prepared",)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{marker}%"],
        )
        assert cursor.fetchone()[0] == (1 if prepare else 0)


def test_a_trip_keeps_its_order_when_an_insert_falls_back_to_bulk_create(monkeypatch):
    """A model the plain insert cannot write goes through bulk_create, which runs at once:
    what was queued before it runs first."""
    from harken.core import rows

    region = RegionFactory()
    trip = Trip("default")
    trip.insert([Customer(name="Queued", number="CUS-Q-1", region=region)])
    monkeypatch.setattr(rows, "_plain_insert", lambda model, connection: False)
    trip.insert([Customer(name="At once", number="CUS-Q-2", region=region)])
    assert list(
        Customer.objects.filter(number__startswith="CUS-Q-")
        .order_by("pk")
        .values_list("name", flat=True)
    ) == ["Queued", "At once"]


def test_an_empty_list_of_values_matches_nothing():
    region = RegionFactory()
    Customer.objects.create(name="Any", number="CUS-E-1", region=region)
    trip = Trip("default")
    match, args = trip.any_of("number", [])
    customers = connection.ops.quote_name(Customer._meta.db_table)
    found = trip.add(f"SELECT id FROM {customers} WHERE {match}", args)  # noqa: S608 - test SQL
    trip.run()
    assert found.rows == []


def test_statements_of_a_trip_are_in_the_query_log_when_queries_are_logged():
    from django.test.utils import CaptureQueriesContext

    region = RegionFactory(code="QL")
    table = connection.ops.quote_name(Region._meta.db_table)
    with CaptureQueriesContext(connection) as captured:
        trip = Trip("default")
        trip.add(f"SELECT code FROM {table} WHERE id = %s", [region.pk])  # noqa: S608 - test SQL
        trip.run()
    assert any("SELECT code FROM" in query["sql"] for query in captured.captured_queries)
