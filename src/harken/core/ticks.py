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
