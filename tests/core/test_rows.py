"""Plain-SQL rows for the busiest paths: inserted and read back as the ORM would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from tests.factories import RegionFactory
from tests.surveys.factories import sent_invitation

from harken.core.rows import RowReader, insert_rows
from harken.customers.models import Customer, Region
from harken.surveys.models import Invitation

pytestmark = pytest.mark.django_db


def stored(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


def test_inserted_rows_get_their_keys_and_the_values_the_orm_would_store():
    region = RegionFactory()
    made = [Customer(name=f"Rows {n}", number=f"CUS-R-{n}", region=region) for n in range(3)]
    insert_rows(made)
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
    insert_rows([])


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
