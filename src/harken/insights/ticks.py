"""Insights' periodic duty: look for new signals."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from harken.core.audit import Actor, audit_context

from .detection import detect


def look_for_signals(now: dt.datetime) -> str:
    with audit_context(actor=Actor.system("signal detection")):
        created = detect(timezone.localdate(now))
    return f"{len(created)} new signals" + (
        ": " + "; ".join(s.title for s in created[:5]) if created else ""
    )
