"""Assurance's periodic duties: verify the audit chain once a day and run the readiness
check (stored, so readiness is trended)."""

from __future__ import annotations

import datetime as dt

from harken.core.audit import Actor, audit_context

from .models import ReadinessRun
from .readiness import run
from .services import check_chain, latest_chain_check


def daily_assurance(now: dt.datetime) -> str:
    parts = []
    last = latest_chain_check()
    if last is None or now - last.checked_at >= dt.timedelta(hours=23):
        check = check_chain()
        parts.append(
            f"audit chain {'verifies' if check.ok else f'BROKEN at event {check.broken_seq}'} ({check.count} events)"
        )
        if not check.ok:
            raise RuntimeError(f"audit chain broken at event {check.broken_seq}: {check.reason}")
    last_run = ReadinessRun.objects.order_by("-ran_at").first()
    if last_run is None or now - last_run.ran_at >= dt.timedelta(hours=23):
        with audit_context(actor=Actor.system("readiness")):
            _, stored = run(now)
        parts.append(
            f"readiness: {stored.passed} pass, {stored.warned} warn, {stored.failed} fail"
            if stored
            else ""
        )
    return "; ".join(p for p in parts if p) or "done today already"
