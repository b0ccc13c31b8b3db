"""Core's periodic duties, run by `harken tick`."""

from __future__ import annotations

import datetime as dt

from .audit import verify_chain


def verify_audit_chain(now: dt.datetime) -> str:
    """Recompute the audit chain; a broken chain is reported, and `tick` exits non-zero."""
    result = verify_chain()
    if not result.ok:
        raise RuntimeError(f"audit chain broken at event {result.broken_seq}: {result.reason}")
    return f"{result.count} events verified"


def refresh_statistics(now: dt.datetime | None = None) -> str:
    """Give the database's query planner fresh statistics about the tables.

    SQLite keeps none until asked (ANALYZE); without them it guesses, and picks a poor
    index for some of Harken's reads (the overdue complaints, for one) once tables hold
    hundreds of thousands of rows. `analysis_limit` samples each index, so a run takes
    well under a second however large the database. PostgreSQL's autovacuum keeps its
    own statistics up to date.
    """
    from django.db import connection

    if connection.vendor != "sqlite":
        return "left to PostgreSQL's autovacuum"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit = 1000")
        cursor.execute("ANALYZE")
    return "query planner statistics refreshed"
