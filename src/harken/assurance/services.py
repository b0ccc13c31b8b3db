"""Assurance actions: sample audits recorded, chain checks kept, traces resolved."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone

from harken.core.audit import verify_chain

from . import sampling
from .choices import SampleKind
from .models import ChainCheck, SampleAudit

MAX_SAMPLE = 200

# The records a trace can start from: query parameter -> model.
TRACEABLE = {
    "feedbackitem": ("feedback", "FeedbackItem"),
    "theme": ("actions", "Theme"),
    "action": ("actions", "Action"),
    "signal": ("insights", "Signal"),
    "reviewpack": ("reviews", "ReviewPack"),
    "reviewmeeting": ("reviews", "ReviewMeeting"),
    "disposition": ("actions", "Disposition"),
}


def traceable(param: str, value: str) -> models.Model | None:
    """The record named by `?feedbackitem=12` (or None)."""
    from django.apps import apps

    if param not in TRACEABLE or not value.isdigit():
        return None
    model = apps.get_model(*TRACEABLE[param])
    return model._default_manager.filter(pk=int(value)).first()


def sample_audit(
    *,
    actor: Any,
    kind: str,
    start: dt.date,
    end: dt.date,
    size: int,
    seed: int | None = None,
    notes: str = "",
) -> SampleAudit:
    """Draw a reproducible sample, check each record, keep the audit on record."""
    if actor is not None and not actor.has_perm("assurance.add_sampleaudit"):
        raise PermissionDenied("Your role does not allow recording a sample audit.")
    errors = {}
    if kind not in SampleKind.values:
        errors["kind"] = "Choose what to sample."
    if start > end:
        errors["period_end"] = "The period ends before it starts."
    if not 1 <= size <= MAX_SAMPLE:
        errors["size"] = f"Sample between 1 and {MAX_SAMPLE} records."
    if errors:
        raise ValidationError(errors)
    seed = seed if seed is not None else int(timezone.now().timestamp()) % 1_000_000
    total, records, checks = sampling.draw(kind, start, end, size, seed)
    rows = sampling.assess(records, checks)
    return SampleAudit.objects.create(
        kind=kind,
        period_start=start,
        period_end=end,
        size=size,
        seed=seed,
        population=total,
        findings=rows,
        complete=sum(1 for r in rows if r["complete"]),
        auditor=actor,
        notes=notes,
    )


def check_chain() -> ChainCheck:
    result = verify_chain()
    return ChainCheck.objects.create(
        checked_at=timezone.now(),
        ok=result.ok,
        count=result.count,
        broken_seq=result.broken_seq,
        reason=result.reason[:200],
        head_hash=result.head_hash,
    )


def latest_chain_check() -> ChainCheck | None:
    return ChainCheck.objects.order_by("-checked_at").first()


def chain_alert(request: Any) -> str | None:
    """For quality roles and auditors: the last daily check found the chain broken."""
    if not request.user.has_perm("core.view_auditevent"):
        return None
    last = latest_chain_check()
    if last is not None and not last.ok:
        return (
            f"The audit trail failed verification on {timezone.localtime(last.checked_at):%d %b %Y %H:%M}: "
            f"event {last.broken_seq}, {last.reason}. Records may have been altered outside Harken."
        )
    return None
