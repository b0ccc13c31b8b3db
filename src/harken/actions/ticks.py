"""Actions' periodic duties: proposals from the rules, due effectiveness checks,
overdue reminders, recurrence after closure."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from harken.core.audit import Actor, audit_context

from .rules import run_rules
from .services import compute_due_checks, detect_recurrence, notify_overdue


def action_duties(now: dt.datetime) -> str:
    today = timezone.localdate(now)
    with audit_context(actor=Actor.system("actions")):
        proposals = run_rules(today)
        checks = compute_due_checks(today)
        reminders, unsent = notify_overdue(today)
        recurrences = detect_recurrence(today)
    return (
        f"{len(proposals)} new proposals, {checks} checks computed, "
        f"{reminders} overdue reminders sent, {recurrences} recurrences signalled"
        + (f" ({unsent} reminders could not be sent; they will be retried)" if unsent else "")
    )
