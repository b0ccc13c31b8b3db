"""Orders' periodic duties, run by `harken tick`: late first answers to enquiries and
escalations whose customer was not told in time, each flagged (and escalated) once."""

from __future__ import annotations

import datetime as dt

from .services import flag_breached_escalations, flag_overdue_enquiries


def first_responses(now: dt.datetime) -> str:
    flagged = flag_overdue_enquiries(now)
    return f"{flagged} enquiries newly past their first-response target flagged and escalated"


def escalation_deadlines(now: dt.datetime) -> str:
    flagged = flag_breached_escalations(now)
    return f"{flagged} escalations newly past their customer-notice deadline flagged and escalated"
