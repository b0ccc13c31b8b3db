"""Demo surveys: a relationship NPS survey each quarter and the follow-up after complaints.

The feedback demo already holds two years of relationship NPS answers (the last month
of each quarter, about a third of the active customers). Here each quarter becomes the
survey those answers came from: one invitation to each active customer's first
contact, the answers linked to the invitations they answered, the others left as
non-response (a few opened the link and stopped, a few bounced, a few opted out). The
latest quarter's survey is open. Complaints resolved in the last six months went
through the loop: the outcome message from the approved template, and a short CSAT
survey two weeks later, answered by a little under half of them.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from harken.communications import services as communications
from harken.communications.choices import Channel, Direction, Phase
from harken.core import audit
from harken.core.choices import Role
from harken.customers.models import Customer
from harken.documents import services as documents
from harken.feedback.choices import ItemKind, Scale, SourceKind
from harken.feedback.models import FeedbackItem, PerceptionSource

from . import loop, services
from .choices import (
    FollowUpStatus,
    InvitationStatus,
    OptOutVia,
    OutcomeStatus,
    ResponseStatus,
    SurveyKind,
    Trigger,
)
from .models import Invitation, LoopCase, LoopRule, OptOut, Survey, SurveyResponse

FOLLOW_UP_COMMENTS = {
    "good": (
        "The replacement parts arrived quickly and the 8D report was thorough.",
        "Thank you for calling us back personally; the fix works.",
        "Resolved faster than we expected.",
        "Clear explanation of the root cause, we are satisfied.",
    ),
    "mixed": (
        "Fixed in the end, but it took three reminders from our side.",
        "The credit note is fine; we still wait for the corrective action report.",
    ),
    "bad": (
        "We had to chase every step. Not convinced it will not happen again.",
        "The replacement also had the same defect.",
    ),
}


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def survey_months(today: dt.date, count: int = 8) -> list[dt.date]:
    """The last month of each of the last `count` quarters that have begun it."""
    months: list[dt.date] = []
    year, month = today.year, today.month - (today.month - 1) % 3 + 2
    while len(months) < count:
        start = dt.date(year, month, 1)
        if start <= today:
            months.append(start)
        month -= 3
        if month < 1:
            month += 12
            year -= 1
    return sorted(months)


def aware(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def build_surveys(*, seed: int, stdout: Any = None) -> str:
    rng = random.Random(seed + 28)  # noqa: S311 - demo data: reproducible, not secret
    quality = get_user_model().objects.filter(username="quality").first()
    nps_source = PerceptionSource.objects.filter(name="Relationship NPS survey").first()
    complaints = PerceptionSource.objects.filter(kind=SourceKind.COMPLAINTS_INBOX).first()
    if nps_source is None or quality is None:
        return "skipped (the feedback demo did not run)"
    with audit.audit_context(actor=audit.Actor.for_user(quality)):
        quarterly = relationship_surveys(rng, nps_source, quality)
        followed = follow_ups(rng, complaints, quality) if complaints else 0
        anonymous = delivery_note_survey(rng, quality)
    return (
        f"{len(quarterly)} quarterly NPS surveys ({', '.join(quarterly[-2:])}…), "
        f"{followed} resolved complaints through the loop, {anonymous} open-link answers"
    )


def relationship_surveys(rng: random.Random, source: PerceptionSource, quality: Any) -> list[str]:
    today = timezone.localdate()
    customers = list(
        Customer.objects.filter(status="active").prefetch_related("contacts").order_by("pk")
    )
    first_contacts = [c.contacts.all()[0] for c in customers if c.contacts.all()]
    first_contacts = [c for c in first_contacts if c.email]
    made = []
    previous = None
    for month in survey_months(today):
        year, quarter = quarter_of(month)
        survey = services.create_survey(
            actor=quality,
            title=f"Relationship NPS {year} Q{quarter}",
            source=source,
            kind=SurveyKind.NPS,
            trigger=Trigger.RELATIONSHIP,
            reminder_after_days=7,
            valid_days=30,
            repeat_months=3,
        )
        services.open_survey(survey, actor=quality)
        opened = aware(month, 8)
        next_month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        closes = aware(next_month + dt.timedelta(days=14), 18)
        still_open = closes.date() > today
        if not still_open:
            services.close_survey(survey, actor=quality)
        Survey.objects.filter(pk=survey.pk).update(
            opened_at=opened,
            closed_at=None if still_open else closes,
            created_at=opened - dt.timedelta(days=3),
            audience={"segments": [], "regions": [], "product_lines": [], "primary_only": False},
            previous_round=previous,
            round=(previous.round + 1) if previous is not None else 1,
        )
        survey.refresh_from_db()
        previous = survey
        start, end = opened, aware(next_month, 0)
        answers = {
            item.contact_id: item
            for item in FeedbackItem.objects.filter(
                source=source, received_at__gte=start - dt.timedelta(days=1), received_at__lt=end
            ).exclude(contact__isnull=True)
        }
        invitations = []
        responses = []
        for contact in first_contacts:
            item = answers.get(contact.pk)
            sent = opened + dt.timedelta(hours=rng.randint(0, 6))
            invitation = Invitation(
                survey=survey,
                contact=contact,
                customer_id=contact.customer_id,
                email=contact.email,
                language="en",
                status=InvitationStatus.SENT,
                attempts=1,
                sent_at=sent,
                expires_at=sent + dt.timedelta(days=30),
                created_at=sent - dt.timedelta(minutes=5),
            )
            if item is not None and item.received_at > sent:
                invitation.status = InvitationStatus.RESPONDED
                invitation.opened_at = item.received_at - dt.timedelta(minutes=3)
                invitation.responded_at = item.received_at
                if (item.received_at - sent).days >= 7:
                    invitation.reminded_at = sent + dt.timedelta(days=7)
            else:
                roll = rng.random()
                if roll < 0.02:
                    invitation.status = InvitationStatus.BOUNCED
                    invitation.bounced_at = sent
                    invitation.last_error = (
                        f"refused by the mail server: {contact.email}: 550 5.1.1 User unknown"
                    )
                elif roll < 0.035:
                    invitation.status = InvitationStatus.OPTED_OUT
                    invitation.opted_out_at = sent + dt.timedelta(days=rng.randint(0, 10))
                else:
                    invitation.reminded_at = sent + dt.timedelta(days=7)
                    if roll < 0.2:
                        invitation.status = InvitationStatus.OPENED
                        invitation.opened_at = sent + dt.timedelta(days=rng.randint(0, 9))
                item = None
            invitations.append((invitation, item))
        with transaction.atomic():
            Invitation.objects.bulk_create([inv for inv, _ in invitations], batch_size=1000)
            for invitation, item in invitations:
                if item is None:
                    continue
                responses.append(
                    SurveyResponse(
                        survey=survey,
                        invitation=invitation,
                        contact_id=invitation.contact_id,
                        customer_id=invitation.customer_id,
                        language="en",
                        status=ResponseStatus.SUBMITTED,
                        answers=services.answers_from(survey, item.score, item.text),
                        score=item.score,
                        comment=item.text,
                        submitted_at=item.received_at,
                        feedback_item=item,
                        created_at=item.received_at - dt.timedelta(minutes=2),
                    )
                )
            SurveyResponse.objects.bulk_create(responses, batch_size=1000)
            for invitation, _ in invitations:
                if invitation.status == InvitationStatus.OPTED_OUT:
                    OptOut.objects.get_or_create(
                        email=invitation.email.lower(),
                        defaults={
                            "contact_id": invitation.contact_id,
                            "invitation": invitation,
                            "via": OptOutVia.LINK,
                            "opted_out_at": invitation.opted_out_at,
                        },
                    )
            counts = services.status_counts(survey.invitations.all())
            # Past waves are loaded whole; one event says what was loaded and why.
            audit.record(
                "survey.history_loaded",
                survey,
                changes={"invitations": counts, "responses": len(responses), "demo": True},
            )
            figures = services.rate_figures(counts)
            if figures["response_rate"] is not None and figures["response_rate"] < 0.33:
                survey.nonresponse_note = (
                    "Non-response is spread evenly over segments and regions (checked against "
                    "the invitation list); the answers are read as indicative and trends are "
                    "compared across quarters, not read as exact levels."
                )
                survey.save(update_fields=["nonresponse_note"])
        made.append(survey.number)
    return made


def follow_ups(rng: random.Random, complaints: PerceptionSource, quality: Any) -> int:
    """The loop for complaints resolved in the last six months."""
    now = timezone.now()
    source, _ = PerceptionSource.objects.get_or_create(
        name="Complaint follow-up survey",
        defaults={
            "kind": SourceKind.SURVEY,
            "structured": True,
            "owner_role": Role.QUALITY_MANAGER,
            "owner": quality,
            "collection_method": "Short CSAT e-mail survey two weeks after a complaint is resolved.",
            "fields_captured": "Satisfaction with the resolution (1–5), comment, complaint.",
            "storage_location": "Harken",
            "retention": "10 years",
            "default_kind": ItemKind.SURVEY_RESPONSE,
            "default_scale": Scale.CSAT,
        },
    )
    survey = services.create_survey(
        actor=quality,
        title="After your complaint",
        source=source,
        kind=SurveyKind.CSAT,
        trigger=Trigger.AFTER_RESOLUTION,
        reminder_after_days=5,
        valid_days=21,
    )
    services.update_texts(
        survey,
        actor=quality,
        language="en",
        values={
            "intro": "Two questions about how we handled your complaint.",
            "invitation_subject": "How did we handle your complaint?",
        },
    )
    services.open_survey(survey, actor=quality)
    six_months = now - dt.timedelta(days=183)
    Survey.objects.filter(pk=survey.pk).update(opened_at=six_months - dt.timedelta(days=1))
    template = loop.create_outcome_template(actor=quality)
    version = template.versions.get()
    documents.submit(version, actor=quality)
    documents.record_review(version, actor=quality, comment="Suitable; plain words.")
    documents.approve(version, actor=quality)
    rule = loop.save_rule(
        actor=quality,
        source=complaints,
        outcome_template=template,
        follow_up_survey=survey,
        follow_up_delay_days=14,
    )
    LoopRule.objects.filter(pk=rule.pk).update(applies_from=six_months)
    rule.refresh_from_db()
    resolved = list(
        FeedbackItem.objects.filter(
            source=complaints,
            kind=ItemKind.COMPLAINT,
            resolved_at__gte=six_months,
            resolved_at__lte=now,
            customer__isnull=False,
        )
        .select_related("customer", "contact")
        .order_by("resolved_at")
    )
    responses = []
    for complaint in resolved:
        resolved_at = complaint.resolved_at
        assert resolved_at is not None  # noqa: S101 - filtered on it
        contact = loop.contact_for(complaint)
        case = LoopCase.objects.create(
            complaint=complaint,
            rule=rule,
            contact=contact,
            resolved_at=resolved_at,
            follow_up_due_at=resolved_at + dt.timedelta(days=14),
        )
        if contact is None:
            case.outcome_status = OutcomeStatus.SKIPPED
            case.follow_up_status = FollowUpStatus.SKIPPED
            case.note = "No contact with an e-mail address to tell."
            case.save(update_fields=["outcome_status", "follow_up_status", "note"])
            continue
        informed = resolved_at + dt.timedelta(hours=rng.randint(1, 20))
        subject, body = loop.render_outcome(case, version)
        communication = communications.log_communication(
            communications.Entry(
                customer=complaint.customer,
                channel=Channel.EMAIL,
                direction=Direction.OUTBOUND,
                subject=subject,
                body=body,
                occurred_at=min(informed, now),
                contacts=[contact],
                phase=Phase.FEEDBACK,
                concerns=[complaint],
            ),
            actor=None,
        )
        case.outcome_status = OutcomeStatus.SENT
        case.outcome_sent_at = min(informed, now)
        case.communication = communication
        case.outcome_attempts = 1
        case.save(
            update_fields=[
                "outcome_status",
                "outcome_sent_at",
                "communication",
                "outcome_attempts",
            ],
            audit_action="loopcase.outcome_sent",
        )
        due = case.follow_up_due_at
        assert due is not None  # noqa: S101 - set above
        if due > now:
            continue
        if survey.invitations.filter(contact=contact).exists():
            # Never twice to the same survey: a second complaint of the same person waits.
            case.follow_up_status = FollowUpStatus.SKIPPED
            case.note = "Not invited: already invited to this survey."
            case.save(
                update_fields=["follow_up_status", "note"],
                audit_action="loopcase.follow_up_skipped",
            )
            continue
        invitation = Invitation.objects.create(
            survey=survey,
            contact=contact,
            customer_id=contact.customer_id,
            email=contact.email,
            status=InvitationStatus.SENT,
            attempts=1,
            sent_at=due,
            expires_at=due + dt.timedelta(days=21),
            trigger_item=complaint,
            trigger_ref=complaint.complaint_number or complaint.number,
            created_at=due,
        )
        case.invitation = invitation
        case.follow_up_status = FollowUpStatus.INVITED
        case.save(
            update_fields=["invitation", "follow_up_status"],
            audit_action="loopcase.follow_up_invited",
        )
        if rng.random() < 0.45:
            answered = due + dt.timedelta(hours=rng.randint(2, 120))
            if answered > now:
                continue
            roll = rng.random()
            mood = "good" if roll < 0.7 else "mixed" if roll < 0.9 else "bad"
            score = {"good": rng.choice([4, 5, 5]), "mixed": 3, "bad": rng.choice([1, 2])}[mood]
            comment = rng.choice(FOLLOW_UP_COMMENTS[mood]) if rng.random() < 0.7 else ""
            Invitation.objects.filter(pk=invitation.pk).update(
                status=InvitationStatus.RESPONDED, opened_at=answered, responded_at=answered
            )
            responses.append(
                SurveyResponse.objects.create(
                    survey=survey,
                    invitation=invitation,
                    contact=contact,
                    customer_id=contact.customer_id,
                    status=ResponseStatus.SUBMITTED,
                    answers=services.answers_from(survey, score, comment),
                    score=score,
                    comment=comment,
                    submitted_at=answered,
                    created_at=answered,
                )
            )
    services.record_pending([r.pk for r in responses])
    return len(resolved)


def delivery_note_survey(rng: random.Random, quality: Any) -> int:
    """A CSAT survey behind a QR code on delivery notes, answered anonymously."""
    source, _ = PerceptionSource.objects.get_or_create(
        name="Delivery note QR survey",
        defaults={
            "kind": SourceKind.SURVEY,
            "structured": True,
            "owner_role": Role.QUALITY_ANALYST,
            "collection_method": "QR code printed on every delivery note; anonymous.",
            "fields_captured": "Satisfaction with the delivery (1–5), comment.",
            "storage_location": "Harken",
            "retention": "3 years",
            "default_kind": ItemKind.SURVEY_RESPONSE,
            "default_scale": Scale.CSAT,
        },
    )
    survey = services.create_survey(
        actor=quality,
        title="How was this delivery?",
        source=source,
        kind=SurveyKind.CSAT,
        trigger=Trigger.AFTER_DELIVERY,
        open_link=True,
    )
    services.open_survey(survey, actor=quality)
    now = timezone.now()
    responses = []
    for _ in range(24):
        score = rng.choices([1, 2, 3, 4, 5], weights=(1, 1, 3, 8, 9))[0]
        at = now - dt.timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 10))
        comment = rng.choice(
            ("", "", "Driver was friendly.", "Pallet arrived damaged.", "On time.")
        )
        responses.append(
            SurveyResponse.objects.create(
                survey=survey,
                status=ResponseStatus.SUBMITTED,
                answers=services.answers_from(survey, score, comment),
                score=score,
                comment=comment,
                submitted_at=at,
                created_at=at,
                client_key=services.client_key(f"198.51.100.{rng.randint(1, 254)}"),
            )
        )
    services.record_pending([r.pk for r in responses])
    return len(responses)
