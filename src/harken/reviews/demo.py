"""Demo reviews: a year of monthly customer satisfaction reviews with packs issued,
minutes approved and decisions linked to the demo's themes and actions, and the
quarterly management review input."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from harken.actions.models import Disposition

from . import services
from .choices import Cadence, DecisionKind, PackKind
from .models import MeetingDecision, ReviewMeeting, ReviewSeries

MONTHS = 12
# PDFs for the most recent packs only: enough to show them, and `make run` stays quick.
PDF_MONTHS = 2


def build_reviews(*, seed: int, stdout: Any = None) -> str:
    User = get_user_model()
    quality = User.objects.get(username="quality")
    team = list(User.objects.filter(username__in=["analyst", "owner", "sales"]))
    monthly = ReviewSeries.objects.create(
        name="Monthly customer satisfaction review", cadence=Cadence.MONTHLY, owner=quality
    )
    quarterly = ReviewSeries.objects.create(
        name="Quarterly management review input",
        kind=PackKind.MANAGEMENT,
        cadence=Cadence.QUARTERLY,
        owner=quality,
        grace_days=30,
    )
    today = timezone.localdate()
    first = today.replace(day=1)
    dispositions = list(Disposition.objects.select_related("theme"))
    meetings = 0
    for back in range(MONTHS, 0, -1):
        start = services.add_months(first, -back)
        end = services.add_months(start, 1) - dt.timedelta(days=1)
        held = end + dt.timedelta(days=8)
        if held >= today:
            continue  # the last month's review is still due: the dashboard says so
        pack = services.draft_pack(
            actor=quality, period_start=start, period_end=end, series=monthly
        )
        services.issue(pack, actor=quality, with_pdf=back <= PDF_MONTHS + 1)
        meeting = ReviewMeeting.objects.create(
            series=monthly,
            held_on=held,
            period_start=start,
            period_end=end,
            pack=pack,
            chair=quality,
            minutes=(
                f"Reviewed {pack.number}. Volumes and headline figures as in the pack; "
                "open actions reviewed one by one with their owners."
            ),
            follow_ups="Owners update their actions before the next review.",
        )
        meeting.attendees.add(quality, *team)
        for disposition in dispositions:
            if (
                disposition.decided_on == held
                or start <= disposition.decided_on - dt.timedelta(days=8) <= end
            ):
                MeetingDecision.objects.create(
                    meeting=meeting,
                    kind=DecisionKind.DISPOSITION,
                    text=(
                        f"{disposition.theme.title}: {disposition.get_decision_display().lower()}."
                    ),
                    disposition=disposition,
                )
                for action in disposition.theme.actions.all():
                    MeetingDecision.objects.create(
                        meeting=meeting,
                        kind=DecisionKind.ACTION_OPENED,
                        text=f"Open {action.number}: {action.title}.",
                        action=action,
                    )
        meeting.status = "held"
        meeting.save(update_fields=["status"], audit_action="reviewmeeting.hold")
        services.approve_minutes(meeting, actor=quality)
        meetings += 1
    quarter_start = dt.date(first.year, (first.month - 1) // 3 * 3 + 1, 1)
    q_start = services.add_months(quarter_start, -3)
    management = services.draft_pack(
        actor=quality,
        period_start=q_start,
        period_end=quarter_start - dt.timedelta(days=1),
        series=quarterly,
    )
    management.resources_assessment = (
        "One application engineer covers technical queries for every product line; "
        "the reopened improvement action asks for a second."
    )
    management.opportunities = (
        "A customer portal with live order status (asked for by key accounts)."
    )
    management.save(update_fields=["resources_assessment", "opportunities"])
    services.refresh(management)
    services.issue(management, actor=quality)
    held = quarter_start + dt.timedelta(days=12)
    if held < today:
        meeting = ReviewMeeting.objects.create(
            series=quarterly,
            held_on=held,
            period_start=management.period_start,
            period_end=management.period_end,
            pack=management,
            chair=quality,
            minutes="Management reviewed the customer satisfaction input; resources discussed.",
            status="held",
        )
        meeting.attendees.add(quality, *team)
        services.approve_minutes(meeting, actor=quality)
    return (
        f"2 review series, {meetings} monthly reviews with packs and approved minutes, "
        f"1 management review input"
    )
