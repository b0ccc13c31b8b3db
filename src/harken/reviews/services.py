"""Reviews: packs drafted, issued (frozen and hashed), revised and verified; meetings
held, their decisions linked to what they made, their minutes approved by the chair;
series due or overdue."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from harken.actions import services as action_services
from harken.actions.models import Action, Theme
from harken.core import audit
from harken.core.audit import canonical_bytes
from harken.core.files import store_file, verify_file
from harken.core.workflow import apply_transition

from . import pack as pack_content
from .choices import CADENCE_MONTHS, Cadence, DecisionKind, MeetingStatus, PackKind, PackStatus
from .models import MeetingDecision, ReviewMeeting, ReviewPack, ReviewSeries


def require(actor: Any, perm: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied("Your role does not allow this.")


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


# --------------------------------------------------------------------------------------
# Packs
# --------------------------------------------------------------------------------------


def draft_pack(
    *,
    actor: Any,
    period_start: dt.date,
    period_end: dt.date,
    series: ReviewSeries | None = None,
    kind: str | None = None,
    scope: dict[str, Any] | None = None,
    anonymise: bool = True,
) -> ReviewPack:
    """Create a draft pack and fill it from the data."""
    require(actor, "reviews.add_reviewpack")
    if period_start > period_end:
        raise ValidationError({"period_end": "The period ends before it starts."})
    if period_end >= timezone.localdate():
        raise ValidationError({"period_end": "Review a period that has ended."})
    pack = ReviewPack.objects.create(
        series=series,
        kind=kind or (series.kind if series else PackKind.REVIEW),
        period_start=period_start,
        period_end=period_end,
        scope=scope if scope is not None else (series.scope if series else {}),
        anonymise=anonymise,
    )
    return refresh(pack)


def refresh(pack: ReviewPack, *, with_charts: bool = True) -> ReviewPack:
    """Rebuild a draft's content from the current data."""
    if pack.is_frozen:
        raise ValidationError(
            {"status": f"{pack.number} is issued; draft a revision to change it."}
        )
    pack.content = pack_content.build_content(
        period_start=pack.period_start,
        period_end=pack.period_end,
        scope=pack.scope,
        anonymise=pack.anonymise,
        kind=pack.kind,
        commentary=pack.commentary,
        resources_assessment=pack.resources_assessment,
        opportunities=pack.opportunities,
        with_charts=with_charts,
    )
    pack.save(update_fields=["content"])
    return pack


def render_html(pack: ReviewPack, content: dict[str, Any] | None = None) -> str:
    from .exporters import render_html as render

    return render(pack, content if content is not None else pack.content)


def render_pdf(pack: ReviewPack, content: dict[str, Any] | None = None) -> bytes:
    from .exporters import render_pdf as render

    return render(pack, content if content is not None else pack.content)


def issue(pack: ReviewPack, *, actor: Any, with_pdf: bool = True) -> ReviewPack:
    """Freeze the pack: its content as it stands now, the HTML and PDF as evidence files,
    and the SHA-256 of the content. A revision replaces the pack it cites.

    Causes: `reviewpack.issued` (with the hashes); `reviewpack.replaced` on the pack a
    revision replaces.
    """
    require(actor, "reviews.issue_reviewpack")
    if pack.status != PackStatus.DRAFT:
        raise ValidationError({"status": f"{pack.number} is issued already."})
    if not pack.content:
        raise ValidationError({"content": "The pack has no content; refresh it first."})
    with transaction.atomic():
        # Stamp the pack first: the documents carry who issued it, when, and its hash.
        pack.content_sha256 = content_hash(pack.content)
        pack.issued_at = timezone.now()
        pack.issued_by = actor
        html = render_html(pack).encode()
        pack.html_file = store_file(
            io.BytesIO(html),
            name=f"{pack.number}.html",
            content_type="text/html",
            purpose="review pack",
        )
        if with_pdf:
            pdf = render_pdf(pack)
            pack.pdf_file = store_file(
                io.BytesIO(pdf),
                name=f"{pack.number}.pdf",
                content_type="application/pdf",
                purpose="review pack",
            )
        pack.status = PackStatus.ISSUED
        pack.save(audit_action="reviewpack.issued")
        if pack.replaces_id:
            old = ReviewPack.objects.get(pk=pack.replaces_id)
            old.status = PackStatus.REPLACED
            old.save(update_fields=["status"], audit_action="reviewpack.replaced")
    return pack


def revise(pack: ReviewPack, *, actor: Any) -> ReviewPack:
    """A new draft revision of an issued pack; it replaces the old one once issued."""
    require(actor, "reviews.add_reviewpack")
    if pack.status != PackStatus.ISSUED:
        raise ValidationError({"status": "Only an issued pack can be revised."})
    if ReviewPack.objects.filter(replaces=pack).exists():
        raise ValidationError({"status": f"{pack.number} has a revision already."})
    revision = ReviewPack.objects.create(
        series=pack.series,
        kind=pack.kind,
        period_start=pack.period_start,
        period_end=pack.period_end,
        scope=pack.scope,
        anonymise=pack.anonymise,
        commentary=pack.commentary,
        resources_assessment=pack.resources_assessment,
        opportunities=pack.opportunities,
        revision=pack.revision + 1,
        replaces=pack,
    )
    return refresh(revision)


@dataclass
class Verification:
    ok: bool
    problems: list[str]


def verify(pack: ReviewPack) -> Verification:
    """Recompute the content hash and the files' hashes of an issued pack."""
    problems = []
    if not pack.is_frozen:
        return Verification(False, ["The pack is a draft: nothing is frozen yet."])
    if content_hash(pack.content) != pack.content_sha256:
        problems.append("The stored content no longer matches its SHA-256.")
    for label, evidence in (("HTML", pack.html_file), ("PDF", pack.pdf_file)):
        if evidence is None:
            continue
        try:
            if not verify_file(evidence):
                problems.append(f"The {label} file no longer matches its SHA-256.")
        except OSError:
            problems.append(f"The {label} file is missing from storage.")
    return Verification(not problems, problems)


# --------------------------------------------------------------------------------------
# Series
# --------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def last_period(series: ReviewSeries, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last full period of the series' cadence before today (calendar-aligned)."""
    months = CADENCE_MONTHS[Cadence(series.cadence)]
    first = today.replace(day=1)
    aligned = dt.date(first.year, (first.month - 1) // months * months + 1, 1)
    start = add_months(aligned, -months)
    return start, aligned - dt.timedelta(days=1)


@dataclass
class SeriesState:
    series: ReviewSeries
    period: tuple[dt.date, dt.date]
    due_on: dt.date
    reviewed: bool
    overdue: bool
    due_soon: bool


def series_state(series: ReviewSeries, today: dt.date | None = None) -> SeriesState:
    today = today or timezone.localdate()
    start, end = last_period(series, today)
    due_on = end + dt.timedelta(days=series.grace_days)
    reviewed = series.meetings.filter(
        period_end__gte=end, status__in=[MeetingStatus.HELD, MeetingStatus.APPROVED]
    ).exists()
    return SeriesState(
        series,
        (start, end),
        due_on,
        reviewed,
        overdue=not reviewed and today > due_on,
        due_soon=not reviewed and today <= due_on,
    )


# --------------------------------------------------------------------------------------
# Meetings
# --------------------------------------------------------------------------------------


def record_decision(
    meeting: ReviewMeeting,
    *,
    actor: Any,
    kind: str,
    text: str,
    theme: Theme | None = None,
    decision: str = "",
    rationale: str = "",
    action_fields: dict[str, Any] | None = None,
    action: Action | None = None,
    objective: Any = None,
) -> MeetingDecision:
    """Record a decision and make what it decides: a disposition of a theme or a new
    action (with the meeting as its origin), linked from the decision."""
    require(actor, "reviews.change_reviewmeeting")
    if meeting.status == MeetingStatus.APPROVED:
        raise ValidationError(
            {"status": "The minutes are approved; decisions can no longer be added."}
        )
    if not text.strip():
        raise ValidationError({"text": "Write the decision down."})
    with transaction.atomic():
        linked: dict[str, Any] = {}
        if kind == DecisionKind.DISPOSITION:
            if theme is None:
                raise ValidationError({"theme": "Choose the theme the decision is about."})
            linked["disposition"] = action_services.dispose(
                theme,
                actor=actor,
                decision=decision,
                rationale=rationale or text,
                decided_on=meeting.held_on,
                decided_in=str(meeting),
            )
        elif kind == DecisionKind.ACTION_OPENED:
            fields = dict(action_fields or {})
            fields.setdefault("origin", f"Review meeting {meeting.number}")
            linked["action"] = action_services.open_action(actor=actor, **fields)
        elif kind == DecisionKind.ACTION_CLOSED:
            if action is None:
                raise ValidationError({"action": "Choose the action."})
            action_services.close_action(action, actor=actor)
            linked["action"] = action
        elif kind == DecisionKind.TARGET_CHANGED:
            if objective is None:
                raise ValidationError({"objective": "Choose the quality objective."})
            linked["objective"] = objective
        elif kind != DecisionKind.OTHER:
            raise ValidationError({"kind": "Choose a kind of decision."})
        return MeetingDecision.objects.create(
            meeting=meeting, kind=kind, text=text.strip(), **linked
        )


def approve_minutes(meeting: ReviewMeeting, *, actor: Any) -> ReviewMeeting:
    """Only the chair approves the minutes (and must hold the approve verb)."""
    if actor.pk != meeting.chair_id:
        raise PermissionDenied("Only the chair approves the minutes.")
    meeting.approved_at = timezone.now()
    apply_transition(meeting, "approve", actor=actor, values={"approved_at": meeting.approved_at})
    return meeting


def record_export(pack: ReviewPack, fmt: str) -> None:
    audit.record("reviewpack.exported", pack, changes={"format": fmt})
