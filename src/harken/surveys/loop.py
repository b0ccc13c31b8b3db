"""Closing the loop: when a complaint is resolved, tell the customer the outcome and, after
a while, ask whether their view changed.

Feedback does not know surveys (dependencies point down), so the loop is driven from
here: the tick finds complaints resolved since their source's rule applies and opens a
`LoopCase` for each; the case sends the outcome message made from the rule's approved
notice template (logged in the communication log, linked to the complaint) and, on
its day, invites the contact to the follow-up survey. Each step is retried by the
next tick until it is done or there is a reason it cannot be (named on the case).
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage, make_msgid
from django.db import IntegrityError, transaction
from django.utils import timezone

from harken.communications import services as communications
from harken.communications.choices import Channel, Direction, Phase
from harken.core import audit
from harken.core.models import AuditEvent
from harken.customers.models import Contact
from harken.documents import services as documents
from harken.documents.choices import DocumentKind, VersionStatus
from harken.documents.models import Document, DocumentVersion
from harken.feedback.choices import ItemKind
from harken.feedback.models import FeedbackItem, PerceptionSource

from . import services
from . import texts as wording
from .choices import FollowUpStatus, OutcomeStatus, SurveyStatus
from .mail import mail_domain
from .models import LoopCase, LoopRule, Survey

MAX_OUTCOME_ATTEMPTS = 10


def save_rule(
    *,
    actor: Any,
    source: PerceptionSource,
    rule: LoopRule | None = None,
    active: bool = True,
    send_outcome: bool = True,
    outcome_template: Document | None = None,
    follow_up_survey: Survey | None = None,
    follow_up_delay_days: int = 14,
) -> LoopRule:
    """Create or change the loop rule of a source. Causes: `looprule.created`/`.updated`."""
    services.require(actor, "change" if rule else "add", LoopRule)
    errors: dict[str, str] = {}
    if send_outcome and outcome_template is None:
        errors["outcome_template"] = "Choose the notice template of the outcome message."
    if outcome_template is not None and outcome_template.kind != DocumentKind.NOTICE_TEMPLATE:
        errors["outcome_template"] = "Choose a customer-facing notice template."
    if not send_outcome and follow_up_survey is None:
        errors["follow_up_survey"] = "A rule sends the outcome, a follow-up survey, or both."
    if follow_up_survey is not None and follow_up_survey.status == SurveyStatus.CLOSED:
        errors["follow_up_survey"] = f"{follow_up_survey.number} is closed."
    if errors:
        raise ValidationError(errors)
    values = {
        "active": active,
        "send_outcome": send_outcome,
        "outcome_template": outcome_template,
        "follow_up_survey": follow_up_survey,
        "follow_up_delay_days": follow_up_delay_days,
    }
    if rule is None:
        return LoopRule.objects.create(source=source, applies_from=timezone.now(), **values)
    for name, value in values.items():
        setattr(rule, name, value)
    rule.save()
    return rule


def create_outcome_template(*, actor: Any) -> Document:
    """A draft notice template for outcome messages, for the quality manager to edit,
    review and approve like any controlled document. Causes: `document.created`,
    `documentversion.created`."""
    services.require(actor, "add", Document)
    with transaction.atomic():
        document = Document.objects.create(
            title="Complaint outcome message",
            kind=DocumentKind.NOTICE_TEMPLATE,
            clauses="8.2.1, 9.1.2",
            purpose=(
                "The message telling a customer how their complaint was resolved. "
                "Placeholders: $contact, $customer, $complaint, $received, $resolution, "
                "$sender, $company."
            ),
        )
        documents.create_version(
            document,
            actor=actor,
            label="1.0",
            body=wording.OUTCOME_TEMPLATE,
            change_summary="First issue, from Harken's template.",
        )
    return document


def approved_template(rule: LoopRule) -> DocumentVersion | None:
    if rule.outcome_template is None:
        return None
    version = documents.current_version(rule.outcome_template)
    return version if version is not None and version.status == VersionStatus.APPROVED else None


def resolution_of(complaint: FeedbackItem) -> str:
    """What the person who resolved the complaint wrote (feedback keeps it in the trail)."""
    event = (
        AuditEvent.objects.filter(
            action="feedbackitem.resolution",
            object_type="feedback.feedbackitem",
            object_id=str(complaint.pk),
        )
        .order_by("-seq")
        .first()
    )
    return str((event.changes or {}).get("resolution", "")) if event else ""


def contact_for(complaint: FeedbackItem) -> Contact | None:
    """Whom to tell: the complaint's contact, else the customer's primary contact."""
    if complaint.contact is not None and complaint.contact.email:
        return complaint.contact
    if complaint.customer_id is None:
        return None
    return (
        Contact.objects.filter(customer_id=complaint.customer_id, active=True)
        .exclude(email="")
        .order_by("-is_primary", "pk")
        .first()
    )


def open_case(complaint: FeedbackItem, rule: LoopRule) -> LoopCase | None:
    """Start the loop of one resolved complaint. Causes: `loopcase.created`."""
    assert complaint.resolved_at is not None  # noqa: S101 - callers pass resolved complaints
    follow_up = rule.follow_up_survey_id is not None
    try:
        with transaction.atomic():
            return LoopCase.objects.create(
                complaint=complaint,
                rule=rule,
                contact=contact_for(complaint),
                resolved_at=complaint.resolved_at,
                outcome_status=(
                    OutcomeStatus.PENDING if rule.send_outcome else OutcomeStatus.NOT_PLANNED
                ),
                follow_up_status=(
                    FollowUpStatus.WAITING if follow_up else FollowUpStatus.NOT_PLANNED
                ),
                follow_up_due_at=(
                    complaint.resolved_at + dt.timedelta(days=rule.follow_up_delay_days)
                    if follow_up
                    else None
                ),
            )
    except IntegrityError:  # another run opened it a moment ago
        return None


def newly_resolved(rule: LoopRule) -> Any:
    return FeedbackItem.objects.filter(
        source_id=rule.source_id,
        kind=ItemKind.COMPLAINT,
        resolved_at__isnull=False,
        resolved_at__gte=rule.applies_from,
        loop_case__isnull=True,
    ).select_related("contact", "customer")


def render_outcome(case: LoopCase, version: DocumentVersion) -> tuple[str, str]:
    complaint = case.complaint
    contact = case.contact
    number = complaint.complaint_number or complaint.number
    values = {
        "contact": contact.name if contact else "",
        "customer": complaint.customer.name if complaint.customer else "",
        "complaint": f"{number} {complaint.title}".strip(),
        "received": f"{timezone.localtime(complaint.received_at):%Y-%m-%d}",
        "resolution": resolution_of(complaint) or "(see our earlier messages)",
        "sender": settings.COMPANY_NAME,
        "company": settings.COMPANY_NAME,
    }
    body = string.Template(version.body).safe_substitute(values)
    subject = f"{settings.COMPANY_NAME}: the outcome of your complaint {number}"
    return subject, body


def send_outcome(case: LoopCase, *, now: dt.datetime | None = None) -> str:
    """Send the outcome message of a case, and log it as an outbound e-mail communication
    about the complaint (the message itself kept as its attachment).

    Nothing is sent without an approved template; the case then waits with the reason.
    A failed send leaves nothing logged and the case pending for the next tick. Causes:
    `communication.created`, `loopcase.outcome_sent` (or `.outcome_failed`/`.outcome_skipped`).
    """
    now = now or timezone.now()
    if case.outcome_status != OutcomeStatus.PENDING:
        return case.outcome_status
    version = approved_template(case.rule)
    if version is None:
        return _note(case, "No approved version of the outcome template yet: approve it.")
    contact = case.contact
    complaint = case.complaint
    if contact is None or not contact.email or complaint.customer is None:
        case.outcome_status = OutcomeStatus.SKIPPED
        case.note = "No contact with an e-mail address to tell."
        case.save(update_fields=["outcome_status", "note"], audit_action="loopcase.outcome_skipped")
        return case.outcome_status
    subject, body = render_outcome(case, version)
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[contact.email],
        headers={"Message-ID": make_msgid(domain=mail_domain())},
    )
    try:
        with transaction.atomic():
            eml = ContentFile(message.message().as_bytes(), name=f"outcome-{complaint.pk}.eml")
            eml.content_type = "message/rfc822"  # type: ignore[attr-defined]
            communication = communications.log_communication(
                communications.Entry(
                    customer=complaint.customer,
                    channel=Channel.EMAIL,
                    direction=Direction.OUTBOUND,
                    subject=subject,
                    body=body,
                    occurred_at=now,
                    contacts=[contact],
                    phase=Phase.FEEDBACK,
                    concerns=[complaint],
                    files=[eml],
                ),
                actor=None,
            )
            message.send()
            case.outcome_status = OutcomeStatus.SENT
            case.outcome_sent_at = now
            case.communication = communication
            case.outcome_attempts += 1
            case.note = ""
            case.save(
                update_fields=[
                    "outcome_status",
                    "outcome_sent_at",
                    "communication",
                    "outcome_attempts",
                    "note",
                ],
                audit_action="loopcase.outcome_sent",
            )
    except Exception as exc:
        case.refresh_from_db()
        case.outcome_attempts += 1
        case.note = f"Sending failed ({type(exc).__name__}: {exc}); tried again at the next tick."
        if case.outcome_attempts >= MAX_OUTCOME_ATTEMPTS:
            case.outcome_status = OutcomeStatus.SKIPPED
            case.note = f"Gave up after {case.outcome_attempts} attempts: {exc}"
        case.save(
            update_fields=["outcome_attempts", "note", "outcome_status"],
            audit_action="loopcase.outcome_failed",
        )
    return case.outcome_status


def _note(case: LoopCase, text: str) -> str:
    if case.note != text:
        case.note = text
        case.save(update_fields=["note"])
    return case.outcome_status


def send_follow_up(case: LoopCase, *, now: dt.datetime | None = None) -> str:
    """On its day, invite the case's contact to the rule's follow-up survey.

    Opt-outs are honoured; the throttle is not applied (the question is about this
    complaint, not one more survey of the relationship). The invitation names the
    complaint as its trigger; `send_due` sends it. Causes: `invitation.created`,
    `loopcase.follow_up_invited` (or `.follow_up_skipped`).
    """
    now = now or timezone.now()
    if case.follow_up_status != FollowUpStatus.WAITING:
        return case.follow_up_status
    if case.follow_up_due_at and case.follow_up_due_at > now:
        return case.follow_up_status
    survey = case.rule.follow_up_survey
    if survey is None:
        return _skip_follow_up(case, "The rule no longer names a follow-up survey.")
    if survey.status != SurveyStatus.OPEN:
        if case.note != f"{survey.number} is not open.":
            case.note = f"{survey.number} is not open."
            case.save(update_fields=["note"])
        return case.follow_up_status
    contact = case.contact
    if contact is None or not contact.email:
        return _skip_follow_up(case, "No contact with an e-mail address to ask.")
    if services.is_opted_out(contact.email):
        return _skip_follow_up(case, f"{contact.email} opted out of surveys.")
    plan = services.invite(
        survey,
        [contact],
        actor=None,
        respect_throttle=False,
        trigger_item=case.complaint,
        trigger_ref=case.complaint.complaint_number or case.complaint.number,
    )
    invitation = plan.created[0] if plan.created else None
    if invitation is None:
        invitation = survey.invitations.filter(contact=contact).first()
        if invitation is None or hasattr(invitation, "loop_case"):
            reason = plan.skipped[0].reason if plan.skipped else "not invited"
            return _skip_follow_up(case, f"Not invited: {reason}.")
    case.invitation = invitation
    case.follow_up_status = FollowUpStatus.INVITED
    case.note = ""
    case.save(
        update_fields=["invitation", "follow_up_status", "note"],
        audit_action="loopcase.follow_up_invited",
    )
    return case.follow_up_status


def _skip_follow_up(case: LoopCase, reason: str) -> str:
    case.follow_up_status = FollowUpStatus.SKIPPED
    case.note = reason
    case.save(update_fields=["follow_up_status", "note"], audit_action="loopcase.follow_up_skipped")
    return case.follow_up_status


@dataclass
class LoopReport:
    opened: int = 0
    informed: int = 0
    invited: int = 0
    waiting: int = 0

    def __str__(self) -> str:
        return (
            f"{self.opened} resolved complaints entered the loop, {self.informed} customers "
            f"told the outcome, {self.invited} follow-up surveys queued, {self.waiting} waiting"
        )


def run_loop(now: dt.datetime) -> LoopReport:
    """The tick's duty: open cases for newly resolved complaints, then move every case on."""
    report = LoopReport()
    with audit.audit_context(actor=audit.Actor.system("tick:closing the loop")):
        for rule in LoopRule.objects.filter(active=True).select_related("source"):
            for complaint in newly_resolved(rule).iterator(chunk_size=200):
                if open_case(complaint, rule) is not None:
                    report.opened += 1
        pending = LoopCase.objects.filter(
            outcome_status=OutcomeStatus.PENDING, rule__active=True
        ).select_related("rule__outcome_template", "complaint__customer", "contact")
        for case in pending:
            if send_outcome(case, now=now) == OutcomeStatus.SENT:
                report.informed += 1
            else:
                report.waiting += 1
        due = LoopCase.objects.filter(
            follow_up_status=FollowUpStatus.WAITING,
            follow_up_due_at__lte=now,
            rule__active=True,
        ).select_related("rule__follow_up_survey", "complaint", "contact")
        for case in due:
            if send_follow_up(case, now=now) == FollowUpStatus.INVITED:
                report.invited += 1
            else:
                report.waiting += 1
    return report
