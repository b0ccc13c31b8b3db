"""Record numbers: `PREFIX-YYYY-NNNN`, unique, handed out once and never reused.

The counter row is incremented with an UPDATE, which on PostgreSQL holds a row lock
until the creating transaction ends, so two concurrent creates queue for the next
value; on SQLite the IMMEDIATE transaction mode serialises writers. A number taken by
a transaction that rolls back is never seen by anyone, so no committed record can
share it; gaps are tolerated.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import NumberSequence


def format_number(prefix: str, year: int, value: int) -> str:
    return f"{prefix}-{year}-{value:04d}"


def next_number(prefix: str, *, year: int | None = None) -> str:
    """Take the next number for `prefix` in `year` (the company's current year by default)."""
    if not prefix:
        raise ValueError("A numbered model must declare number_prefix.")
    return reserve_numbers(prefix, 1, year=year)[0]


def reserve_numbers(prefix: str, count: int, *, year: int | None = None) -> list[str]:
    """Take `count` consecutive numbers at once (bulk imports), in the caller's transaction."""
    if count <= 0:
        return []
    if year is None:
        year = timezone.localdate().year
    with transaction.atomic():
        sequences = NumberSequence.objects.filter(prefix=prefix, year=year)
        if not sequences.update(last_value=F("last_value") + count):
            try:
                with transaction.atomic():
                    NumberSequence.objects.create(prefix=prefix, year=year, last_value=count)
            except IntegrityError:
                sequences.update(last_value=F("last_value") + count)
        last = sequences.values_list("last_value", flat=True).get()
    return [format_number(prefix, year, value) for value in range(last - count + 1, last + 1)]
