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


# A table's statistics are refreshed once its row count has moved this far from the count
# they were taken at.
STALE_SHARE = 0.1


def refresh_statistics(now: dt.datetime | None = None) -> str:
    """Give the database's query planner fresh statistics about the tables.

    SQLite keeps none until asked (ANALYZE); without them, or with sampled ones, it
    guesses, and picks a poor index for some of Harken's reads (the overdue complaints,
    for one) once tables hold hundreds of thousands of rows. A sample is not enough:
    read from the first thousand entries of an index, every kind of feedback looks
    rare. So each table whose row count has moved by more than a tenth since its
    statistics were taken (or that has none) is analysed in full, about a second per
    million items; the others are left alone, which keeps the tick cheap. PostgreSQL's
    autovacuum keeps its own statistics up to date.
    """
    from django.db import connection

    if connection.vendor != "sqlite":
        return "left to PostgreSQL's autovacuum"
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = [name for (name,) in cursor.fetchall() if not name.startswith("sqlite_")]
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        recorded: dict[str, int] = {}
        if cursor.fetchone():
            cursor.execute("SELECT tbl, stat FROM sqlite_stat1")
            for table, stat in cursor.fetchall():
                rows = int(str(stat).split()[0])
                recorded[table] = max(recorded.get(table, 0), rows)
        stale = []
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - sqlite_master's names
            rows = cursor.fetchone()[0]
            known = recorded.get(table)
            if rows and (known is None or abs(rows - known) > STALE_SHARE * known):
                stale.append(table)
        cursor.execute("PRAGMA analysis_limit = 0")
        for table in stale:
            cursor.execute(f'ANALYZE "{table}"')
    return f"query planner statistics refreshed for {len(stale)} of {len(tables)} tables"
