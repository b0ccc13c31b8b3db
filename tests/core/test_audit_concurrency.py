"""Two writers at once never fork the chain (PostgreSQL, real connections in threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from harken.core.audit import verify_chain
from harken.core.models import AuditEvent
from harken.core.numbering import next_number
from harken.customers.models import Customer, Region

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 6
EACH = 15


def run_in_threads(work) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)

    def runner(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_parallel_writers_keep_one_linear_chain():
    region = Region.objects.create(code="PAR", name="Parallel")

    def work(index: int) -> None:
        for n in range(EACH):
            Customer.objects.create(name=f"W{index}-{n}", region_id=region.pk)

    assert run_in_threads(work) == []
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert AuditEvent.objects.filter(action="customer.created").count() == WRITERS * EACH
    result = verify_chain()
    assert result.ok, result.reason


def test_parallel_numbering_never_repeats():
    taken: list[str] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        for _ in range(EACH):
            number = next_number("TST", year=2031)
            with lock:
                taken.append(number)

    assert run_in_threads(work) == []
    assert len(taken) == len(set(taken)) == WRITERS * EACH
    assert sorted(taken)[-1] == f"TST-2031-{WRITERS * EACH:04d}"
