"""Surveys' periodic duties (`harken tick`): the loop, scheduled rounds and after-delivery
invitations, sending, reminders, the feedback sweep."""

from __future__ import annotations

import datetime as dt

from harken.core.audit import Actor, audit_context

from . import loop, rounds, services


def closing_the_loop(now: dt.datetime) -> str:
    """Resolved complaints: outcome messages, then follow-up invitations on their day."""
    return str(loop.run_loop(now))


def relationship_rounds(now: dt.datetime) -> str:
    """Relationship surveys whose next round is due: opened and sent to the same audience."""
    return str(rounds.start_due_rounds(now))


def after_delivery(now: dt.datetime) -> str:
    """Contacts of completed orders, invited to the open after-delivery survey on their day."""
    return str(rounds.invite_after_delivery(now))


def send_invitations(now: dt.datetime) -> str:
    """Queued invitations (new ones and those whose sending failed before)."""
    with audit_context(actor=Actor.system("tick:survey invitations")):
        report = services.SendReport()
        while True:
            batch = services.send_due(now=now)
            for name in ("sent", "bounced", "failed", "skipped"):
                setattr(report, name, getattr(report, name) + getattr(batch, name))
            if batch.errors or (batch.sent + batch.bounced + batch.failed + batch.skipped) == 0:
                report.errors += batch.errors
                break
    return str(report) + (f" ({report.errors[0]})" if report.errors else "")


def send_reminders(now: dt.datetime) -> str:
    with audit_context(actor=Actor.system("tick:survey reminders")):
        report = services.send_reminders(now=now)
    return f"{report.sent} reminders sent, {report.failed} to retry"


def record_answers(now: dt.datetime) -> str:
    """Submitted answers the worker has not turned into feedback yet (it was down)."""
    done = services.record_pending()
    return f"{done} survey answers recorded as feedback"
