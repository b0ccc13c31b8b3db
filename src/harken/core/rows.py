"""Inserting a few rows of one model in one statement, for the busiest write paths.

`QuerySet.bulk_create` prepares a good deal per call (on PostgreSQL it builds an
UNNEST with a cast per column, each cast computed by making new field objects), which
costs more than the insert itself when the rows are few and the calls many: a group of
survey answers, the events of a group appended to the audit trail. `insert_rows` does
what bulk_create does for plain rows (each field's `pre_save` and database value, the
new primary keys set on the objects) in one INSERT … RETURNING, and leaves anything
else to bulk_create: databases that cannot return the new keys, multi-table models,
keys other than auto-incremented integers, columns the database computes. Values must
be plain values, not expressions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router


def insert_rows(objs: Sequence[models.Model]) -> None:
    """INSERT `objs` (unsaved, of one concrete model) and set their primary keys."""
    if not objs:
        return
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f is not pk]
    if (
        meta.parents
        or not isinstance(pk, models.AutoField)
        or any(f.generated or getattr(f, "db_returning", False) for f in fields)
        or not connection.features.can_return_rows_from_bulk_insert
    ):
        model._default_manager.using(using).bulk_create(objs)
        return
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    size = max(1, connection.ops.bulk_batch_size(fields, objs))
    for start in range(0, len(objs), size):
        batch = objs[start : start + size]
        params: list[Any] = []
        for obj in batch:
            for f in fields:
                params.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
        with connection.cursor() as cursor:
            cursor.execute(
                f"{head}VALUES {', '.join([row] * len(batch))} RETURNING {quote(pk.column)}",
                params,
            )
            keys = [found[0] for found in cursor.fetchall()]
        # PostgreSQL and SQLite return the rows of a multi-row INSERT in the order given
        # (bulk_create counts on it as well).
        for obj, key in zip(batch, keys, strict=True):
            setattr(obj, pk.attname, key)
            obj._state.adding = False
            obj._state.db = using


class RowReader:
    """Turns rows of plain SQL into model instances as the ORM would: each column through
    its field's and the backend's converters (SQLite keeps datetimes as text), then
    `from_db`, so the fields not read stay deferred. For a query run so often that
    compiling it with the ORM costs more than running it."""

    def __init__(self, model: type[models.Model], names: Sequence[str], using: str) -> None:
        self.model = model
        # from_db takes the values in the model's field order, whatever the names' order.
        order = {f.attname: i for i, f in enumerate(model._meta.concrete_fields)}
        attnames = [model._meta.get_field(name).attname for name in names]  # type: ignore[union-attr]
        self.names = sorted(attnames, key=order.__getitem__)
        self.using = using
        connection = connections[using]
        self.connection = connection
        self.steps: list[tuple[Any, list[Any]]] = []
        for name in self.names:
            field = model._meta.get_field(name)
            column = field.get_col(model._meta.db_table)  # type: ignore[union-attr]
            found = [
                *connection.ops.get_db_converters(column),
                *column.get_db_converters(connection),
            ]
            self.steps.append((column, found))

    def columns(self, alias: str) -> list[str]:
        """`alias.column` of each field read, for the SELECT list (in `names` order)."""
        quote = self.connection.ops.quote_name
        return [f"{alias}.{quote(column.target.column)}" for column, _ in self.steps]

    def read(self, values: Sequence[Any]) -> Any:
        converted = []
        for value, (column, found) in zip(values, self.steps, strict=True):
            for convert in found:
                value = convert(value, column, self.connection)
            converted.append(value)
        return self.model.from_db(self.using, self.names, converted)
