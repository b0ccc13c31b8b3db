"""Plain SQL for the busiest write paths: rows of one model inserted in one statement,
statements sent together, rows read back as model instances.

`QuerySet.bulk_create` prepares a good deal per call (on PostgreSQL it builds an
UNNEST with a cast per column, each cast computed by making new field objects), which
costs more than the insert itself when the rows are few and the calls many: a group of
survey answers, the events of a group appended to the audit trail. `Trip.insert` does
what bulk_create does for plain rows (each field's `pre_save` and database value, the
new primary keys set on the objects) in one INSERT … RETURNING, and leaves anything
else to bulk_create: databases that cannot return the new keys, multi-table models,
keys other than auto-incremented integers, columns the database computes. Values must
be plain values, not expressions.

A `Trip` carries several statements to the database at once. On PostgreSQL they travel
in one round trip (psycopg's pipeline mode), their parameters bound by the server, and
each statement is prepared once per connection (`HARKEN_DB_PREPARE`): a statement that
runs for every survey answer is parsed and planned once instead of every time. Its
statements are therefore written with few distinct texts whatever the number of rows (an
array compared with `= ANY`; an INSERT has one text per number of rows, and psycopg
dumps scalars faster than the arrays `unnest` would take). Elsewhere (SQLite)
the statements run one after another on the ordinary cursor. Either way they run in the
order given, inside the caller's transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connections, models

# psycopg prepares nothing while a connection's threshold is None (Django's default, for
# the sake of transaction-mode poolers); a Trip asks for preparation explicitly, so it
# lifts the threshold out of reach of every other statement.
_NEVER_BY_COUNT = 2**31 - 1


@dataclass(eq=False)
class Statement:
    """One statement of a trip; `rows` holds what it returned once the trip has run."""

    sql: str
    params: Sequence[Any]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    then: Callable[[list[tuple[Any, ...]]], None] | None = None


def rows_per_statement(connection: Any, per_row: int, fixed: int = 0) -> int:
    """How many rows of `per_row` parameters one statement may carry besides `fixed`
    others, within the database's limit on parameters (SQLite's is the lowest)."""
    return max(1, ((connection.features.max_query_params or 65535) - fixed) // per_row)


def _plain_insert(model: type[models.Model], connection: Any) -> bool:
    """Whether `model`'s rows can be written by `Trip.insert` (else bulk_create)."""
    meta = model._meta
    pk = meta.pk
    return not (
        meta.parents
        or not isinstance(pk, models.AutoField)
        or any(
            f.generated or getattr(f, "db_returning", False)
            for f in meta.concrete_fields
            if f is not pk
        )
        or not connection.features.can_return_rows_from_bulk_insert
    )


class Trip:
    """Statements sent to the database together (see the module's note)."""

    def __init__(self, using: str) -> None:
        self.using = using
        self.connection = connections[using]
        self.postgresql = self.connection.vendor == "postgresql"
        self.statements: list[Statement] = []

    def add(
        self,
        sql: str,
        params: Sequence[Any] = (),
        then: Callable[[list[tuple[Any, ...]]], None] | None = None,
    ) -> Statement:
        """Queue a statement (`then` receives its rows once the trip has run)."""
        statement = Statement(sql, params, then=then)
        self.statements.append(statement)
        return statement

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A condition `column` is one of `values`, and its parameters: one array on
        PostgreSQL (the same text for any number of values), a list elsewhere."""
        if self.postgresql:
            return f"{column} = ANY(%s)", [list(values)]
        if not values:
            return "1 = 0", []
        return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)

    def reserve_keys(self, model: type[models.Model], count: int) -> Statement | None:
        """Queue the reservation of `count` primary keys of `model` from its sequence
        (PostgreSQL), so that rows can be named before they are inserted; None where keys
        are only known once the rows are in."""
        if not self.postgresql or count == 0:
            return None
        quote = self.connection.ops.quote_name
        meta = model._meta
        return self.add(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [quote(meta.db_table), meta.pk.column, count],
        )

    def insert(self, objs: Sequence[models.Model]) -> None:
        """Queue the INSERT of `objs` (unsaved, of one concrete model); the new keys are
        set on them once the trip has run (rows given keys beforehand keep theirs)."""
        if not objs:
            return
        model = type(objs[0])
        connection = self.connection
        if not _plain_insert(model, connection):
            # bulk_create runs at once: what was queued before it runs first, in order.
            self.run()
            model._default_manager.using(self.using).bulk_create(objs)
            return
        meta = model._meta
        pk = meta.pk
        quote = connection.ops.quote_name
        keyed = all(obj.pk is not None for obj in objs)
        fields = [f for f in meta.concrete_fields if keyed or f is not pk]
        head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        tail = "" if keyed else f" RETURNING {quote(pk.column)}"
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        size = max(1, connection.ops.bulk_batch_size(fields, objs))
        for start in range(0, len(objs), size):
            batch = objs[start : start + size]
            params: list[Any] = []
            for obj in batch:
                for f in fields:
                    params.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
            self.add(
                f"{head}VALUES {', '.join([row] * len(batch))}{tail}",
                params,
                self._saved(batch, keyed),
            )

    def _saved(
        self, objs: Sequence[models.Model], keyed: bool
    ) -> Callable[[list[tuple[Any, ...]]], None]:
        """What to do with the rows an INSERT returned: the new keys, in the order given
        (PostgreSQL and SQLite return a multi-row INSERT's rows in that order, which
        bulk_create counts on as well); then the objects count as saved."""
        using = self.using

        def saved(rows: list[tuple[Any, ...]]) -> None:
            if not keyed:
                for obj, (key,) in zip(objs, rows, strict=True):
                    obj.pk = key
            for obj in objs:
                obj._state.adding = False
                obj._state.db = using

        return saved

    def run(self) -> None:
        """Send the queued statements and read what they return."""
        statements, self.statements = self.statements, []
        if not statements:
            return
        if self.postgresql:
            self._run_pipelined(statements)
        else:
            with self.connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement.sql, statement.params)
                    statement.rows = cursor.fetchall() if cursor.description else []
        for statement in statements:
            if statement.then is not None:
                statement.then(statement.rows)

    def _run_pipelined(self, statements: list[Statement]) -> None:
        import psycopg

        connection = self.connection
        connection.ensure_connection()
        connection.validate_no_broken_transaction()
        raw = connection.connection
        prepare = bool(getattr(settings, "DB_PREPARE", True))
        if prepare and raw.prepare_threshold is None:
            raw.prepare_threshold = _NEVER_BY_COUNT
        started = time.monotonic()
        with connection.wrap_database_errors:
            cursors = []
            with raw.pipeline():
                for statement in statements:
                    cursor = psycopg.Cursor(raw)  # parameters bound by the server
                    cursor.execute(statement.sql, statement.params, prepare=prepare)
                    cursors.append(cursor)
            for statement, cursor in zip(statements, cursors, strict=True):
                statement.rows = cursor.fetchall() if cursor.description else []
                cursor.close()
        if connection.queries_logged:
            # As Django's debug cursor does, so that DEBUG pages and query-counting tests
            # see these statements too (each with the whole trip's time).
            spent = f"{time.monotonic() - started:.3f}"
            for statement in statements:
                connection.queries_log.append(
                    {"sql": f"{statement.sql} -- {list(statement.params)!r}", "time": spent}
                )


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
