"""Keyset pagination for list pages: the cost of a page does not grow with its depth.

The cursor is the sort value and primary key of the last row shown; the next page is
"rows after that pair" in the same order, which an index on (field, id) answers
directly where OFFSET would scan every skipped row. NULLs sort last in both
directions so the same rule holds on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Model, Q, QuerySet

from .audit import jsonable

COUNT_CAP = 10_000


@dataclass
class KeysetPage:
    """One page of rows with the cursor to the next one."""

    rows: list[Any]
    next_cursor: str | None
    has_previous: bool
    count: int
    count_capped: bool

    @property
    def count_label(self) -> str:
        return f"{COUNT_CAP:,}+" if self.count_capped else f"{self.count:,}"


class BadCursor(ValueError):
    """A cursor that was not made by us (or by this ordering)."""


def encode_cursor(value: Any, pk: Any) -> str:
    raw = json.dumps([jsonable(value), jsonable(pk)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise BadCursor("The page link is not valid; start again from the first page.") from exc
    return value, pk


def order_expressions(field: str, descending: bool) -> list[Any]:
    if descending:
        return [F(field).desc(nulls_last=True), F("pk").desc()]
    return [F(field).asc(nulls_last=True), F("pk").asc()]


def after(field: str, descending: bool, value: Any, pk: Any) -> Q:
    """Rows that come after (value, pk) in the order of `order_expressions`."""
    beyond = "lt" if descending else "gt"
    if value is None:
        return Q(**{f"{field}__isnull": True, f"pk__{beyond}": pk})
    return (
        Q(**{f"{field}__{beyond}": value})
        | Q(**{field: value, f"pk__{beyond}": pk})
        | Q(**{f"{field}__isnull": True})
    )


def keyset_page(queryset: QuerySet, *, order: str, cursor: str | None, per_page: int) -> KeysetPage:
    descending = order.startswith("-")
    field = order.lstrip("-")
    ordered = queryset.order_by(*order_expressions(field, descending))
    page_qs = ordered
    if cursor:
        value, pk = decode_cursor(cursor)
        page_qs = ordered.filter(after(field, descending, value, pk))
    rows = list(page_qs[: per_page + 1])
    more = len(rows) > per_page
    rows = rows[:per_page]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        value = last
        for part in field.split("__"):
            value = getattr(value, part, None) if value is not None else None
        if isinstance(value, Model):
            value = value.pk
        next_cursor = encode_cursor(value, last.pk)
    count = queryset.order_by()[: COUNT_CAP + 1].count()
    return KeysetPage(rows, next_cursor, bool(cursor), min(count, COUNT_CAP), count > COUNT_CAP)
