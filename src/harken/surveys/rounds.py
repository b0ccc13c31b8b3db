"""Surveys that run themselves: relationship rounds and after-delivery invitations.

A relationship survey with `repeat_months` set is asked again every so many months: when
a round has been open that long, `harken tick` opens the next round (a copy of it, with
its questions, texts and audience), closes the old one and invites the audience again.
Each round is a survey of its own, so "never twice per survey" and the response rate
hold per round, and the rounds of a series can be compared.

An after-delivery survey invites the contact of every order completed while it is open,
`invite_after_days` after the completion. Opt-outs, the throttle per contact and "never
twice per survey" apply as for any invitation.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from harken.core.audit import Actor, audit_context

from . import services
from .choices import SurveyStatus, Trigger
from .models import Invitation, Question, Survey

# An after-delivery invitation missed by more than this (no tick ran) is not sent late.
AFTER_DELIVERY_GRACE = dt.timedelta(days=7)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same local day and time `months` later (the month's last day when it is short)."""
    local = timezone.localtime(moment)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    for day in range(local.day, 27, -1):
        try:
            return local.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return local.replace(year=year, month=month, day=min(local.day, 28))


def next_round_at(survey: Survey) -> dt.datetime | None:
    """When the next round of a repeating relationship survey is due (None: never)."""
    if (
        survey.trigger != Trigger.RELATIONSHIP
        or not survey.repeat_months
        or survey.opened_at is None
    ):
        return None
    return add_months(survey.opened_at, survey.repeat_months)


def audience_of(survey: Survey) -> services.Audience | None:
    """The audience a new round goes to: the filters the last round was sent with.
    None when there is none to repeat (never sent, or sent to a CSV list of addresses,
    which is not kept)."""
    saved = survey.audience or {}
    if not saved or saved.get("emails"):
        return None
    return services.Audience(
        segments=list(saved.get("segments") or []),
        regions=[int(r) for r in saved.get("regions") or []],
        product_lines=[int(p) for p in saved.get("product_lines") or []],
        primary_only=bool(saved.get("primary_only")),
    )


_QUARTER_RE = re.compile(r"\b(19|20)\d\d Q[1-4]\b")
_ROUND_RE = re.compile(r"\s*\(round \d+\)$")


def round_title(title: str, number: int, opens: dt.datetime) -> str:
    """The next round's title: a "2026 Q3" in it moves to the quarter the round opens in;
    otherwise the title says which round it is."""
    local = timezone.localtime(opens)
    if _QUARTER_RE.search(title):
        return _QUARTER_RE.sub(f"{local.year} Q{(local.month - 1) // 3 + 1}", title, count=1)
    return f"{_ROUND_RE.sub('', title)} (round {number})"


def copy_round(survey: Survey, opens: dt.datetime) -> Survey:
    """A draft copy of `survey` as its next round: settings, texts, questions, audience."""
    number = survey.round + 1
    texts = copy.deepcopy(survey.texts)
    for values in texts.values():
        if isinstance(values, dict) and values.get("title"):
            values["title"] = round_title(str(values["title"]), number, opens)
    new = Survey.objects.create(
        title=round_title(survey.title, number, opens),
        kind=survey.kind,
        trigger=survey.trigger,
        source=survey.source,
        languages=list(survey.languages),
        default_language=survey.default_language,
        texts=texts,
        reminder_after_days=survey.reminder_after_days,
        valid_days=survey.valid_days,
        open_link=False,
        nonresponse_note=survey.nonresponse_note,
        repeat_months=survey.repeat_months,
        invite_after_days=survey.invite_after_days,
        audience=copy.deepcopy(survey.audience),
        previous_round=survey,
        round=number,
    )
    for question in survey.questions.order_by("position", "pk"):
        Question.objects.create(
            survey=new,
            position=question.position,
            kind=question.kind,
            scale=question.scale,
            required=question.required,
            options=copy.deepcopy(question.options),
            texts=copy.deepcopy(question.texts),
        )
    return new


@dataclass
class RoundReport:
    started: list[str] = field(default_factory=list)
    invited: int = 0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"{len(self.started)} relationship rounds started, {self.invited} contacts invited"
        return text + "".join(f"; {note}" for note in self.notes)


def due_rounds(now: dt.datetime) -> list[Survey]:
    """The latest round of each repeating series whose next round is due. A round closed
    early does not end its series; setting its repeat to 0 does."""
    candidates = Survey.objects.filter(
        status__in=(SurveyStatus.OPEN, SurveyStatus.CLOSED),
        trigger=Trigger.RELATIONSHIP,
        repeat_months__gt=0,
        next_round__isnull=True,
    ).select_related("source")
    return [s for s in candidates if (due := next_round_at(s)) is not None and due <= now]


def start_round(survey: Survey, *, now: dt.datetime, actor: Any = None) -> tuple[Survey, int, str]:
    """Open the next round of `survey`, close `survey` if open, and invite its audience.

    Returns the new round, how many were invited, and a note when something was left
    undone (no audience to repeat). Causes: `survey.created`, `question.created`,
    `survey.open` (new round), `survey.close` (old round), `invitation.created` each.
    """
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        started = Survey.objects.filter(previous_round=locked).first()
        if started is not None:  # another tick was first
            return started, 0, ""
        if locked.status == SurveyStatus.OPEN:
            services.close_survey(locked, actor=actor)
        new = copy_round(locked, now)
        new.opened_at = now
        services.open_survey(new, actor=actor)
        audience = audience_of(locked)
        if audience is None:
            return (
                new,
                0,
                (
                    f"{new.number} opened but nobody invited: {locked.number} had no audience "
                    "of filters to repeat — invite from its page"
                ),
            )
        plan = services.invite(new, services.contacts_for(audience), actor=actor, audience=audience)
    return new, len(plan.created), ""


def start_due_rounds(now: dt.datetime) -> RoundReport:
    report = RoundReport()
    with audit_context(actor=Actor.system("tick:relationship rounds")):
        for survey in due_rounds(now):
            new, invited, note = start_round(survey, now=now)
            report.started.append(new.number)
            report.invited += invited
            if note:
                report.notes.append(note)
    return report


# --------------------------------------------------------------------------------------
# After delivery
# --------------------------------------------------------------------------------------


def orders_to_survey(survey: Survey, now: dt.datetime) -> QuerySet[Any]:
    """Completed orders whose contact is due an invitation to `survey` now."""
    order_model = apps.get_model("orders", "Order")
    delay = dt.timedelta(days=survey.invite_after_days)
    earliest = now - delay - AFTER_DELIVERY_GRACE
    if survey.opened_at is not None:
        earliest = max(earliest, survey.opened_at)
    return (
        order_model.objects.filter(
            status="completed",
            completed_at__gte=earliest,
            completed_at__lte=now - delay,
            contact__isnull=False,
        )
        .exclude(contact__email="")
        .exclude(
            contact_id__in=Invitation.objects.filter(survey=survey).values("contact_id"),
        )
        .select_related("contact", "contact__customer")
        .order_by("completed_at", "pk")
    )


@dataclass
class DeliveryReport:
    invited: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return (
            f"{self.invited} after-delivery invitations queued, "
            f"{self.skipped} contacts skipped (opted out, throttled or invited already)"
        )


def invite_after_delivery(now: dt.datetime) -> DeliveryReport:
    report = DeliveryReport()
    if not apps.is_installed("harken.orders"):
        return report
    surveys = Survey.objects.filter(status=SurveyStatus.OPEN, trigger=Trigger.AFTER_DELIVERY)
    with audit_context(actor=Actor.system("tick:after-delivery surveys")):
        for survey in surveys:
            for order in orders_to_survey(survey, now):
                plan = services.invite(
                    survey, [order.contact], actor=None, trigger_ref=order.number
                )
                report.invited += len(plan.created)
                report.skipped += len(plan.skipped)
    return report
