"""Survey actions: building and opening surveys, choosing and inviting contacts, sending
and reminding, answering through a link, opting out, and turning answers into feedback.

Pages, the API, the `survey` command, the tick and the demo call these; none of them
saves an invitation or a response directly. Each function says what it causes.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from harken.core import audit
from harken.core.audit import Actor
from harken.core.choices import ActorType
from harken.core.rows import RowReader, Statement, Trip, rows_per_statement
from harken.core.workflow import apply_transition
from harken.customers.choices import CustomerStatus
from harken.customers.models import Contact
from harken.feedback import services as feedback
from harken.feedback.choices import ItemKind
from harken.feedback.models import FeedbackItem, PerceptionSource

from . import answers as checking
from . import config, grouping, tokens
from . import texts as wording
from .choices import (
    ANSWERABLE_STATES,
    DELIVERED_STATES,
    KIND_SCALES,
    OPTION_KINDS,
    SCALED_KINDS,
    SINGLE_KINDS,
    InvitationStatus,
    OptOutVia,
    QuestionKind,
    ResponseStatus,
    SurveyKind,
    SurveyStatus,
    Trigger,
)
from .models import Invitation, OptOut, Question, Survey, SurveyResponse

logger = logging.getLogger(__name__)

# Below this response rate a survey's results ask for a documented non-response note.
LOW_RESPONSE_RATE = 0.2
MAX_CSV_BYTES = 5 * 1024 * 1024


def require(actor: Any, verb: str, model: type[models.Model]) -> None:
    """Refuse `actor` (a user; None for the system) who may not `verb` records of `model`."""
    if actor is None:
        return
    meta = model._meta
    if not actor.has_perm(f"{meta.app_label}.{verb}_{meta.model_name}"):
        raise PermissionDenied(f"Your role may not {verb} {meta.verbose_name_plural}.")


def respondent(survey: Survey) -> Actor:
    """The actor of what a respondent does through a survey link."""
    return Actor(type=ActorType.TOKEN, label=f"survey:{survey.number}")


def as_respondent(survey: Survey) -> Any:
    """An audit context for respondent changes, keeping the request's id."""
    return audit.audit_context(
        actor=respondent(survey), request_id=audit.current_context().request_id
    )


# --------------------------------------------------------------------------------------
# Building a survey
# --------------------------------------------------------------------------------------


def clean_languages(languages: Iterable[str], default: str) -> list[str]:
    seen: list[str] = []
    for code in [default, *languages]:
        code = (code or "").strip().lower()
        if code and code not in seen:
            seen.append(code)
    return seen


def create_survey(
    *,
    actor: Any,
    title: str,
    source: PerceptionSource,
    kind: str = SurveyKind.NPS,
    trigger: str = Trigger.CAMPAIGN,
    languages: Sequence[str] = ("en",),
    default_language: str = "en",
    reminder_after_days: int = 5,
    valid_days: int = 30,
    open_link: bool = False,
    with_why: bool = True,
    repeat_months: int = 0,
    invite_after_days: int = 3,
) -> Survey:
    """A draft survey with the default texts of its languages, its score question (for
    NPS, CSAT and CES) and a 'why' question. Causes: `survey.created`, `question.created`.
    """
    require(actor, "add", Survey)
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Give the survey a title."
    if kind not in SurveyKind.values:
        errors["kind"] = "Choose NPS, CSAT, CES or custom."
    if trigger not in Trigger.values:
        errors["trigger"] = "Choose what triggers the survey."
    if not source.active:
        errors["source"] = f"The source {source} is retired."
    if valid_days < 1:
        errors["valid_days"] = "Links must be valid for at least a day."
    errors.update(schedule_errors(trigger, repeat_months, invite_after_days))
    langs = clean_languages(languages, default_language)
    if errors:
        raise ValidationError(errors)
    company = settings.COMPANY_NAME
    with transaction.atomic():
        survey = Survey.objects.create(
            title=title.strip(),
            kind=kind,
            trigger=trigger,
            source=source,
            languages=langs,
            default_language=langs[0],
            texts={
                lang: wording.survey_defaults(lang, kind, title.strip(), company) for lang in langs
            },
            reminder_after_days=reminder_after_days,
            valid_days=valid_days,
            open_link=open_link,
            repeat_months=repeat_months,
            invite_after_days=invite_after_days,
        )
        if kind in KIND_SCALES:
            Question.objects.create(
                survey=survey,
                position=1,
                kind=QuestionKind.SCORE,
                scale=KIND_SCALES[kind],
                required=True,
                texts={lang: wording.score_defaults(lang, kind, company) for lang in langs},
            )
        if with_why:
            Question.objects.create(
                survey=survey,
                position=2,
                kind=QuestionKind.WHY,
                texts={lang: wording.why_defaults(lang) for lang in langs},
            )
    return survey


def schedule_errors(trigger: str, repeat_months: int, invite_after_days: int) -> dict[str, str]:
    """What is wrong with a survey's schedule (rounds, after-delivery delay), by field."""
    errors = {}
    if not 0 <= repeat_months <= 24:
        errors["repeat_months"] = "A new round every 1 to 24 months, or 0 for none."
    elif repeat_months and trigger != Trigger.RELATIONSHIP:
        errors["repeat_months"] = "Only periodic relationship surveys are repeated in rounds."
    if not 0 <= invite_after_days <= 90:
        errors["invite_after_days"] = "Invite 0 to 90 days after the delivery."
    return errors


def require_draft(survey: Survey) -> None:
    if survey.status != SurveyStatus.DRAFT:
        raise ValidationError(
            {"survey": "Questions are fixed once the survey is open: answers refer to them."}
        )


def check_question(
    survey: Survey,
    *,
    kind: str,
    scale: str,
    options: Sequence[str],
    texts: Mapping[str, Any],
    exclude: int | None = None,
) -> None:
    errors: dict[str, str] = {}
    if kind not in QuestionKind.values:
        errors["kind"] = "Choose the kind of question."
    elif kind in SINGLE_KINDS:
        others = survey.questions.filter(kind=kind)
        if exclude:
            others = others.exclude(pk=exclude)
        if others.exists():
            errors["kind"] = f"The survey has a {QuestionKind(kind).label.lower()} already."
    if kind in SCALED_KINDS and scale not in checking.SCALE_BOUNDS:
        errors["scale"] = "Choose the scale of the answer."
    if (
        kind == QuestionKind.SCORE
        and survey.kind in KIND_SCALES
        and scale != KIND_SCALES[survey.kind]
    ):
        errors["scale"] = (
            f"An {survey.get_kind_display()} survey scores on its own scale ({KIND_SCALES[survey.kind]})."
        )
    if kind in OPTION_KINDS:
        if len(options) < 2:
            errors["options"] = "Give at least two options."
        elif len(set(options)) != len(options):
            errors["options"] = "Each option needs its own code."
    default = (texts.get(survey.default_language) or {}) if texts else {}
    if not str(default.get("label", "")).strip():
        errors["label"] = f"Word the question in the default language ({survey.default_language})."
    if errors:
        raise ValidationError(errors)


def add_question(
    survey: Survey,
    *,
    actor: Any,
    kind: str,
    texts: Mapping[str, Any],
    scale: str = "",
    required: bool = False,
    options: Sequence[str] = (),
) -> Question:
    """Add a question at the end of a draft survey. Causes: `question.created`."""
    require(actor, "change", Survey)
    require_draft(survey)
    if kind not in SCALED_KINDS:
        scale = ""
    check_question(survey, kind=kind, scale=scale, options=options, texts=texts)
    last = survey.questions.aggregate(last=Max("position"))["last"] or 0
    return Question.objects.create(
        survey=survey,
        position=last + 1,
        kind=kind,
        scale=scale,
        required=required,
        options=list(options) if kind in OPTION_KINDS else [],
        texts=dict(texts),
    )


def update_question(question: Question, *, actor: Any, **values: Any) -> Question:
    """Change a draft survey's question. Causes: `question.updated` with the diff."""
    require(actor, "change", Survey)
    require_draft(question.survey)
    for name, value in values.items():
        setattr(question, name, value)
    if question.kind not in SCALED_KINDS:
        question.scale = ""
    if question.kind not in OPTION_KINDS:
        question.options = []
    check_question(
        question.survey,
        kind=question.kind,
        scale=question.scale,
        options=question.options,
        texts=question.texts,
        exclude=question.pk,
    )
    question.save()
    return question


def delete_question(question: Question, *, actor: Any) -> None:
    require(actor, "change", Survey)
    require_draft(question.survey)
    question.delete()


def move_question(question: Question, *, actor: Any, up: bool) -> None:
    """Swap a question with its neighbour. Causes: two `question.updated` events."""
    require(actor, "change", Survey)
    require_draft(question.survey)
    siblings = list(question.survey.questions.order_by("position", "pk"))
    index = siblings.index(question)
    other_index = index - 1 if up else index + 1
    if not 0 <= other_index < len(siblings):
        return
    with transaction.atomic():
        for position, q in enumerate(siblings, start=1):
            q.position = position
        siblings[index].position, siblings[other_index].position = (
            siblings[other_index].position,
            siblings[index].position,
        )
        for q in siblings:
            q.save(update_fields=["position"])


def update_texts(survey: Survey, *, actor: Any, language: str, values: Mapping[str, str]) -> Survey:
    """Set the survey's texts in one language (adding the language if it is new)."""
    require(actor, "change", Survey)
    language = language.strip().lower()
    if not language or len(language) > 8:
        raise ValidationError({"language": "Give a language code such as en or de."})
    if survey.status != SurveyStatus.DRAFT and language not in survey.languages:
        raise ValidationError({"language": "Languages are added while the survey is a draft."})
    texts = dict(survey.texts)
    current = dict(texts.get(language) or {})
    for key in wording.SURVEY_TEXT_KEYS:
        if key in values:
            current[key] = str(values[key]).strip()
    texts[language] = current
    survey.texts = texts
    fields = ["texts"]
    if language not in survey.languages:
        survey.languages = [*survey.languages, language]
        fields.append("languages")
    survey.save(update_fields=fields)
    return survey


def open_blockers(survey: Survey) -> list[str]:
    """What stops a draft survey from opening."""
    reasons = []
    questions = list(survey.questions.all())
    if not questions:
        reasons.append("Add at least one question.")
    if survey.kind in KIND_SCALES and not any(q.kind == QuestionKind.SCORE for q in questions):
        reasons.append(f"An {survey.get_kind_display()} survey needs its score question.")
    if not survey.source.active:
        reasons.append(f"Its source {survey.source} is retired.")
    for lang in survey.languages or [survey.default_language]:
        own = survey.texts.get(lang) or {}
        missing = [
            key
            for key in ("title", "invitation_subject", "invitation_body")
            if not str(own.get(key, "")).strip()
        ]
        if missing:
            reasons.append(f"Texts in {lang} lack: {', '.join(missing)}.")
        body = str(own.get("invitation_body", ""))
        if body and "$link" not in body:
            reasons.append(f"The invitation in {lang} does not contain $link.")
        unworded = [
            str(q.position) for q in questions if not (q.texts.get(lang) or {}).get("label")
        ]
        if unworded:
            reasons.append(f"Questions {', '.join(unworded)} are not worded in {lang}.")
    return reasons


def open_survey(survey: Survey, *, actor: Any) -> Survey:
    """Draft → open: links may be sent and answered. Causes: `survey.open`."""
    return apply_transition(  # type: ignore[return-value]
        survey, "open", actor=actor, values={"opened_at": survey.opened_at or timezone.now()}
    )


def close_survey(survey: Survey, *, actor: Any) -> Survey:
    """Open → closed: links stop working, queued invitations stay unsent. Causes: `survey.close`."""
    return apply_transition(  # type: ignore[return-value]
        survey, "close", actor=actor, values={"closed_at": timezone.now()}
    )


# --------------------------------------------------------------------------------------
# Choosing contacts
# --------------------------------------------------------------------------------------


@dataclass
class Audience:
    """Which contacts a survey goes to: filters over customers, or a list of addresses."""

    segments: list[str] = field(default_factory=list)
    regions: list[int] = field(default_factory=list)
    product_lines: list[int] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    primary_only: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "segments": self.segments,
            "regions": self.regions,
            "product_lines": self.product_lines,
            "emails": len(self.emails),
            "primary_only": self.primary_only,
        }


def contacts_for(audience: Audience) -> QuerySet[Contact]:
    """The active contacts with an address of active customers that the audience names."""
    contacts = (
        Contact.objects.filter(active=True, customer__status=CustomerStatus.ACTIVE)
        .exclude(email="")
        .select_related("customer")
    )
    if audience.segments:
        contacts = contacts.filter(customer__segment__in=audience.segments)
    if audience.regions:
        contacts = contacts.filter(customer__region_id__in=audience.regions)
    if audience.product_lines:
        contacts = contacts.filter(customer__product_lines__in=audience.product_lines).distinct()
    if audience.primary_only:
        contacts = contacts.filter(is_primary=True)
    if audience.emails:
        lowered = sorted({e.lower() for e in audience.emails})
        contacts = contacts.filter(email__in=_case_variants(lowered) + lowered)
    return contacts.order_by("customer__name", "name", "pk")


def _case_variants(emails: list[str]) -> list[str]:
    # Addresses are stored as typed; comparing lower-cased needs a function index on
    # some databases, so the few spellings people use are matched directly.
    return [e.capitalize() for e in emails] + [e.upper() for e in emails]


@dataclass
class CsvList:
    emails: list[str]
    errors: list[str]


def read_contact_csv(data: bytes) -> CsvList:
    """E-mail addresses from a CSV file: the column named e-mail/email, else the first.

    Bad lines are reported by number; the good ones are kept.
    """
    if len(data) > MAX_CSV_BYTES:
        return CsvList([], [f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB."])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        rows = list(reader)
    except csv.Error as exc:
        return CsvList([], [f"Line {reader.line_num}: the file cannot be read as CSV ({exc})."])
    if not rows:
        return CsvList([], ["The file is empty."])
    header = [h.strip().lower().replace("-", "").replace("_", "") for h in rows[0]]
    column = next((i for i, h in enumerate(header) if h in {"email", "emailaddress", "mail"}), None)
    start = 1
    if column is None:
        column = 0
        start = 0 if "@" in (rows[0][0] if rows[0] else "") else 1
    emails: list[str] = []
    errors: list[str] = []
    for number, row in enumerate(rows[start:], start=start + 1):
        value = row[column].strip() if len(row) > column else ""
        if not value:
            continue
        try:
            validate_email(value)
        except ValidationError:
            errors.append(f"Line {number}: {value!r} is not an e-mail address.")
            continue
        emails.append(value.lower())
    return CsvList(emails, errors)


# --------------------------------------------------------------------------------------
# Inviting
# --------------------------------------------------------------------------------------


@dataclass
class Skipped:
    contact: Contact | None
    email: str
    reason: str


@dataclass
class InvitePlan:
    """Who would be invited and who would not, and why."""

    survey: Survey
    invite: list[Contact] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    created: list[Invitation] = field(default_factory=list)

    def skipped_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.skipped:
            key = s.reason.split(":")[0]
            counts[key] = counts.get(key, 0) + 1
        return counts


def opted_out_emails(emails: Iterable[str]) -> set[str]:
    wanted = sorted({e.lower() for e in emails if e})
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found.update(
            OptOut.objects.filter(email__in=wanted[start : start + 500]).values_list(
                "email", flat=True
            )
        )
    return found


def plan_invitations(
    survey: Survey,
    contacts: Iterable[Contact],
    *,
    respect_throttle: bool = True,
    now: dt.datetime | None = None,
    missing_emails: Sequence[str] = (),
) -> InvitePlan:
    """Decide, without changing anything, whom an invitation would go to.

    Refused: contacts without an address, those invited to this survey already, those who
    opted out, and (unless `respect_throttle` is off) those invited to any survey within
    the throttle period.
    """
    now = now or timezone.now()
    plan = InvitePlan(survey)
    candidates = list(contacts)
    ids = [c.pk for c in candidates]
    already = set(
        Invitation.objects.filter(survey=survey, contact_id__in=ids).values_list(
            "contact_id", flat=True
        )
    )
    out = opted_out_emails(c.email for c in candidates)
    days = config.throttle_days()
    recent: dict[int, tuple[dt.datetime, str]] = {}
    if respect_throttle and days:
        since = now - dt.timedelta(days=days)
        rows = (
            Invitation.objects.filter(contact_id__in=ids)
            .exclude(survey=survey)
            .filter(
                Q(sent_at__gte=since) | Q(status=InvitationStatus.QUEUED, created_at__gte=since)
            )
            .values_list("contact_id", "sent_at", "created_at", "survey__number")
        )
        for contact_id, sent_at, created_at, number in rows:
            when = sent_at or created_at
            if contact_id not in recent or when > recent[contact_id][0]:
                recent[contact_id] = (when, number)
    seen: set[int] = set()
    for contact in candidates:
        if contact.pk in seen:
            continue
        seen.add(contact.pk)
        if not contact.email:
            plan.skipped.append(Skipped(contact, "", "no e-mail address"))
        elif contact.pk in already:
            plan.skipped.append(Skipped(contact, contact.email, "already invited to this survey"))
        elif contact.email.lower() in out:
            plan.skipped.append(Skipped(contact, contact.email, "opted out of surveys"))
        elif contact.pk in recent:
            when, number = recent[contact.pk]
            plan.skipped.append(
                Skipped(
                    contact,
                    contact.email,
                    f"invited within {days} days: {number} on {timezone.localtime(when):%Y-%m-%d}",
                )
            )
        else:
            plan.invite.append(contact)
    for email in missing_emails:
        plan.skipped.append(Skipped(None, email, "no active contact has this address"))
    return plan


def invite(
    survey: Survey,
    contacts: Iterable[Contact],
    *,
    actor: Any,
    dry_run: bool = False,
    respect_throttle: bool = True,
    trigger_item: FeedbackItem | None = None,
    trigger_ref: str = "",
    audience: Audience | None = None,
    missing_emails: Sequence[str] = (),
) -> InvitePlan:
    """Queue an invitation for each contact the plan allows (nothing when `dry_run`).

    Causes: one `invitation.created` per invitation (queued; `send_due` sends them); the
    survey remembers the audience of its last campaign. A contact invited concurrently
    by someone else is skipped, never invited twice (a unique constraint backs it).
    """
    require(actor, "add", Invitation)
    if survey.status != SurveyStatus.OPEN:
        raise ValidationError(
            {"survey": f"{survey.number} is {survey.get_status_display().lower()}: open it first."}
        )
    plan = plan_invitations(
        survey, contacts, respect_throttle=respect_throttle, missing_emails=missing_emails
    )
    if dry_run:
        return plan
    now = timezone.now()
    for contact in plan.invite:
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    survey=survey,
                    contact=contact,
                    customer_id=contact.customer_id,
                    email=contact.email,
                    language=survey.language_for(contact.language),
                    next_attempt_at=now,
                    trigger_item=trigger_item,
                    trigger_ref=trigger_ref[:100],
                )
        except IntegrityError:
            plan.skipped.append(Skipped(contact, contact.email, "already invited to this survey"))
            continue
        plan.created.append(invitation)
    if audience is not None and plan.created:
        survey.audience = audience.as_dict()
        survey.save(update_fields=["audience"])
    return plan


# --------------------------------------------------------------------------------------
# Sending and reminding
# --------------------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    bounced: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"{self.sent} sent, {self.bounced} bounced, {self.failed} to retry"
        if self.skipped:
            text += f", {self.skipped} not sent (opted out)"
        return text


def backoff(attempts: int) -> dt.timedelta:
    minutes = config.retry_minutes() * (2 ** max(0, attempts - 1))
    return dt.timedelta(minutes=min(minutes, 24 * 60))


def due_invitations(now: dt.datetime, survey: Survey | None = None) -> QuerySet[Invitation]:
    due = Invitation.objects.filter(
        status=InvitationStatus.QUEUED, survey__status=SurveyStatus.OPEN
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    if survey is not None:
        due = due.filter(survey=survey)
    return due.order_by("next_attempt_at", "pk")


def send_due(
    *, now: dt.datetime | None = None, survey: Survey | None = None, limit: int | None = None
) -> SendReport:
    """Send queued invitations whose time has come, over one connection per batch.

    An invitation is claimed before its mail goes out (its next attempt moved ahead), so
    two senders never send the same one. A refused recipient bounces it; any other
    failure (the server down, a timeout) leaves it queued with the error and a later
    attempt time (doubling, at most a day): `harken tick` tries again. Nothing is lost.
    """
    from django.core.mail import get_connection

    from . import mail

    now = now or timezone.now()
    report = SendReport()
    limit = limit or config.send_batch()
    ids = list(due_invitations(now, survey).values_list("pk", flat=True)[:limit])
    if not ids:
        return report
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:  # the server is down: every due invitation waits
        for invitation in Invitation.objects.filter(pk__in=ids).select_related("survey"):
            _failed(invitation, f"cannot connect to the mail server: {exc}", now)
            report.failed += 1
        report.errors.append(str(exc))
        return report
    try:
        for pk in ids:
            outcome = send_one(pk, connection=connection, now=now, mail=mail)
            setattr(report, outcome, getattr(report, outcome) + 1)
    finally:
        try:
            connection.close()
        except Exception:  # noqa: S110 - a failed QUIT changes nothing that was sent
            pass
    return report


def _claim(pk: int, now: dt.datetime) -> bool:
    """Take an invitation for sending: moves its next attempt ahead unless another sender did."""
    claimed = Invitation.objects.filter(pk=pk, status=InvitationStatus.QUEUED).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    return bool(claimed.update(next_attempt_at=now + dt.timedelta(minutes=15)))


def _failed(invitation: Invitation, error: str, now: dt.datetime) -> None:
    invitation.attempts += 1
    invitation.last_error = error[:2000]
    invitation.next_attempt_at = now + backoff(invitation.attempts)
    invitation.save(
        update_fields=["attempts", "last_error", "next_attempt_at"],
        audit_action="invitation.send_failed",
    )


def send_one(pk: int, *, connection: Any, now: dt.datetime, mail: Any) -> str:
    """Send one queued invitation; returns "sent", "bounced", "failed" or "skipped"."""
    import smtplib

    if not _claim(pk, now):
        return "skipped"
    invitation = Invitation.objects.select_related("survey", "contact", "customer").get(pk=pk)
    if invitation.email.lower() in opted_out_emails([invitation.email]):
        invitation.status = InvitationStatus.OPTED_OUT
        invitation.opted_out_at = now
        invitation.save(
            update_fields=["status", "opted_out_at"], audit_action="invitation.opted_out"
        )
        return "skipped"
    token = tokens.new_token()
    expires = now + dt.timedelta(days=invitation.survey.valid_days)
    message = mail.invitation_message(invitation, token, expires=expires, connection=connection)
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        invitation.status = InvitationStatus.BOUNCED
        invitation.bounced_at = now
        invitation.attempts += 1
        invitation.last_error = _refusal(exc)[:2000]
        invitation.save(
            update_fields=["status", "bounced_at", "attempts", "last_error"],
            audit_action="invitation.bounced",
        )
        return "bounced"
    except Exception as exc:  # a transient failure: try again later
        _failed(invitation, f"{type(exc).__name__}: {exc}", now)
        return "failed"
    invitation.status = InvitationStatus.SENT
    invitation.token_hash = tokens.token_hash(token)
    invitation.sent_at = now
    invitation.expires_at = expires
    invitation.attempts += 1
    invitation.last_error = ""
    invitation.next_attempt_at = None
    invitation.message_id = message.extra_headers.get("Message-ID", "")[:255]
    invitation.save(
        update_fields=[
            "status",
            "token_hash",
            "sent_at",
            "expires_at",
            "attempts",
            "last_error",
            "next_attempt_at",
            "message_id",
        ],
        audit_action="invitation.sent",
    )
    return "sent"


def _refusal(exc: Any) -> str:
    refused = getattr(exc, "recipients", {}) or {}
    parts = []
    for address, (code, text) in refused.items():
        reason = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        parts.append(f"{address}: {code} {reason}")
    return "refused by the mail server: " + "; ".join(parts)


def send_reminders(*, now: dt.datetime | None = None) -> SendReport:
    """One reminder to each invitee who has not answered after the survey's reminder days.

    The reminder carries its own token, so the first mail's link keeps working too.
    Causes: `invitation.reminded` for each. A failed reminder is tried at the next run.
    """
    from django.core.mail import get_connection

    from . import mail

    now = now or timezone.now()
    report = SendReport()
    surveys = Survey.objects.filter(status=SurveyStatus.OPEN, reminder_after_days__gt=0)
    connection = None
    try:
        for survey in surveys:
            due = list(
                Invitation.objects.filter(
                    survey=survey,
                    status__in=list(ANSWERABLE_STATES),
                    reminded_at__isnull=True,
                    sent_at__lte=now - dt.timedelta(days=survey.reminder_after_days),
                    expires_at__gt=now,
                )
                .select_related("survey", "contact", "customer")
                .order_by("pk")[: config.send_batch()]
            )
            if not due:
                continue
            out = opted_out_emails(i.email for i in due)
            if connection is None:
                connection = get_connection(fail_silently=False)
                connection.open()
            for invitation in due:
                if invitation.email.lower() in out:
                    report.skipped += 1
                    continue
                claimed = Invitation.objects.filter(pk=invitation.pk, reminded_at__isnull=True)
                if not claimed.update(reminded_at=now):
                    continue
                token = tokens.new_token()
                message = mail.invitation_message(
                    invitation,
                    token,
                    expires=invitation.expires_at,
                    connection=connection,
                    reminder=True,
                )
                try:
                    message.send()
                except Exception as exc:
                    Invitation.objects.filter(pk=invitation.pk).update(reminded_at=None)
                    report.failed += 1
                    report.errors.append(f"{invitation.email}: {exc}")
                    continue
                invitation.reminded_at = now
                invitation.reminder_token_hash = tokens.token_hash(token)
                invitation.save(
                    update_fields=["reminded_at", "reminder_token_hash"],
                    audit_action="invitation.reminded",
                )
                report.sent += 1
    except Exception as exc:  # the server is down: the reminders wait for the next run
        report.errors.append(str(exc))
        report.failed += 1
    finally:
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: S110 - a failed QUIT changes nothing that was sent
                pass
    return report


def mark_bounced(invitation: Invitation, *, actor: Any, reason: str) -> Invitation:
    """Record a bounce reported later (a delivery-status notification). Causes:
    `invitation.bounced`; the invitation leaves the response-rate denominator."""
    require(actor, "change", Invitation)
    if invitation.status not in {InvitationStatus.SENT, InvitationStatus.OPENED}:
        raise ValidationError({"status": "Only a sent, unanswered invitation can bounce."})
    if not reason.strip():
        raise ValidationError({"reason": "Say what the bounce said."})
    invitation.status = InvitationStatus.BOUNCED
    invitation.bounced_at = timezone.now()
    invitation.last_error = reason.strip()[:2000]
    invitation.save(
        update_fields=["status", "bounced_at", "last_error"], audit_action="invitation.bounced"
    )
    return invitation


# --------------------------------------------------------------------------------------
# Answering through a link
# --------------------------------------------------------------------------------------


class Outcome:
    """What became of a visit or a submission."""

    OK = "ok"
    SAVED = "saved"
    SUBMITTED = "submitted"
    INVALID = "invalid"
    ANSWERED = "answered"
    EXPIRED = "expired"
    CLOSED = "closed"
    UNKNOWN = "unknown"
    LIMITED = "limited"


@dataclass
class Visit:
    outcome: str
    invitation: Invitation | None = None
    survey: Survey | None = None
    response: SurveyResponse | None = None
    checked: checking.Checked | None = None
    language: str = "en"


# What answering needs of an invitation and its survey: the hot path reads only these
# (a survey's texts are large JSON, and every loaded tracked row keeps a copy of its values).
INVITATION_COLUMNS = (
    "id",
    "survey_id",
    "contact_id",
    "customer_id",
    "email",
    "language",
    "status",
    "token_hash",
    "reminder_token_hash",
    "expires_at",
    "opened_at",
    "responded_at",
)
SURVEY_COLUMNS = ("id", "number", "status", "opened_at", "default_language", "title")


@dataclass(frozen=True)
class _LockQuery:
    sql: str
    invitations: RowReader
    surveys: RowReader
    contacts: RowReader
    responses: RowReader


@lru_cache(maxsize=8)
def _lock_query(using: str) -> _LockQuery:
    """The group's lookup of invitations by their links' hashes, with their surveys,
    contacts and any answers saved earlier, locking the invitations (in id order, so
    groups of two servers never deadlock). Written out: compiled by the ORM it cost more
    than everything else a group does. `{match}` stands for the hashes' condition."""
    connection = connections[using]
    readers = _LockQuery(
        "",
        RowReader(Invitation, INVITATION_COLUMNS, using),
        RowReader(Survey, SURVEY_COLUMNS, using),
        RowReader(Contact, ("id", "name"), using),
        RowReader(SurveyResponse, [f.attname for f in SurveyResponse._meta.concrete_fields], using),
    )
    quote = connection.ops.quote_name
    columns = [
        *readers.invitations.columns("i"),
        *readers.surveys.columns("s"),
        *readers.contacts.columns("c"),
        *readers.responses.columns("r"),
    ]
    sql = (
        f"SELECT {', '.join(columns)} "  # noqa: S608 - names only
        f"FROM {quote(Invitation._meta.db_table)} i "
        f"JOIN {quote(Survey._meta.db_table)} s ON s.id = i.survey_id "
        f"LEFT JOIN {quote(Contact._meta.db_table)} c ON c.id = i.contact_id "
        f"LEFT JOIN {quote(SurveyResponse._meta.db_table)} r ON r.invitation_id = i.id "
        "WHERE {match} ORDER BY i.id"
    )
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF i"
    return _LockQuery(
        sql, readers.invitations, readers.surveys, readers.contacts, readers.responses
    )


def lock_invitations(trip: Trip, digests: Sequence[str]) -> Callable[[], list[Invitation]]:
    """Queue on `trip` the lookup of the invitations whose first or reminder link has one
    of these hashes, locked until the transaction ends; once the trip has run, the
    returned function gives them, each with its survey, its contact and the answers
    saved earlier through it (`partial`, None if there are none)."""
    query = _lock_query(trip.using)
    first, first_args = trip.any_of("i.token_hash", digests)
    second, second_args = trip.any_of("i.reminder_token_hash", digests)
    statement = trip.add(
        query.sql.format(match=f"{first} OR {second}"), [*first_args, *second_args]
    )

    def found() -> list[Invitation]:
        invitations: list[Invitation] = []
        seen: dict[int, Survey] = {}
        ends = list(
            accumulate(
                len(reader.names)
                for reader in (query.invitations, query.surveys, query.contacts, query.responses)
            )
        )
        for row in statement.rows:
            invitation = query.invitations.read(row[: ends[0]])
            survey = seen.get(row[ends[0]])
            if survey is None:
                survey = seen[row[ends[0]]] = query.surveys.read(row[ends[0] : ends[1]])
            invitation.survey = survey
            if row[ends[1]] is not None:
                invitation.contact = query.contacts.read(row[ends[1] : ends[2]])
            partial = None
            if row[ends[2]] is not None:
                partial = query.responses.read(row[ends[2] :])
                partial.survey = survey
                if invitation.contact_id is not None:
                    partial.contact = invitation.contact
            invitation.partial = partial
            invitations.append(invitation)
        return invitations

    return found


def find_invitation(token: str) -> Invitation | None:
    """The invitation whose first or reminder link carries `token`."""
    if not tokens.well_formed(token):
        return None
    digest = tokens.token_hash(token)
    found = Invitation.objects.select_related("survey").filter(
        Q(token_hash=digest) | Q(reminder_token_hash=digest)
    )
    invitation = found.order_by().first()
    if invitation is None:
        return None
    if not (
        tokens.matches(token, invitation.token_hash)
        or tokens.matches(token, invitation.reminder_token_hash)
    ):
        return None
    return invitation


@dataclass(frozen=True)
class Form:
    """The questions of an open survey as the checker needs them (cached per process)."""

    specs: tuple[checking.QuestionSpec, ...]
    score_id: int | None
    why_id: int | None
    scale: str


@lru_cache(maxsize=256)
def _form(survey_id: int, opened_at: dt.datetime | None, status: str) -> Form:
    questions = list(Question.objects.filter(survey_id=survey_id).order_by("position", "pk"))
    specs = tuple(
        checking.QuestionSpec(
            id=q.pk, kind=q.kind, required=q.required, scale=q.scale, options=tuple(q.options)
        )
        for q in questions
    )
    score = next((q for q in questions if q.kind == QuestionKind.SCORE), None)
    why = next((q for q in questions if q.kind == QuestionKind.WHY), None)
    return Form(
        specs, score.pk if score else None, why.pk if why else None, score.scale if score else ""
    )


def form_of(survey: Survey) -> Form:
    """The survey's questions. Questions are fixed once a survey opens, so an open survey's
    form is cached by (survey, opening time); a draft's is read each time (previews)."""
    if survey.status == SurveyStatus.DRAFT:
        return _form.__wrapped__(survey.pk, survey.opened_at, survey.status)
    return _form(survey.pk, survey.opened_at, SurveyStatus.OPEN)


def state_of(invitation: Invitation, now: dt.datetime) -> str:
    survey = invitation.survey
    if invitation.status == InvitationStatus.RESPONDED:
        return Outcome.ANSWERED
    if survey.status != SurveyStatus.OPEN:
        return Outcome.CLOSED
    if invitation.expires_at is not None and invitation.expires_at <= now:
        return Outcome.EXPIRED
    if invitation.status in {InvitationStatus.QUEUED, InvitationStatus.BOUNCED}:
        # A link that was never sent cannot be known; treat it as unknown.
        return Outcome.UNKNOWN
    return Outcome.OK


def visit(token: str, *, now: dt.datetime | None = None) -> Visit:
    """Open the survey behind a link: the first visit marks the invitation opened.

    Causes: `invitation.opened` on the first visit (actor: the survey's respondent).
    Never consumes the link.
    """
    now = now or timezone.now()
    invitation = find_invitation(token)
    if invitation is None:
        return Visit(Outcome.UNKNOWN)
    survey = invitation.survey
    state = state_of(invitation, now)
    response = SurveyResponse.objects.filter(invitation=invitation).first()
    result = Visit(state, invitation, survey, response, language=invitation.language)
    if state == Outcome.OK and invitation.status == InvitationStatus.SENT:
        with as_respondent(survey):
            opened = Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.SENT)
            with transaction.atomic():
                if opened.select_for_update().exists():
                    invitation.status = InvitationStatus.OPENED
                    invitation.opened_at = now
                    invitation.save(
                        update_fields=["status", "opened_at"], audit_action="invitation.opened"
                    )
    return result


def answers_from(survey: Survey, score: float | None, comment: str = "") -> dict[str, Any]:
    """Stored answers of the score and why questions (imports and the demo)."""
    form = form_of(survey)
    values: dict[str, Any] = {}
    if form.score_id and score is not None:
        values[str(form.score_id)] = int(score)
    if form.why_id and comment:
        values[str(form.why_id)] = comment
    return values


def _score_and_comment(form: Form, values: Mapping[str, Any]) -> tuple[float | None, str]:
    score = values.get(str(form.score_id)) if form.score_id else None
    comment = values.get(str(form.why_id), "") if form.why_id else ""
    return (float(score) if score is not None else None), str(comment or "")


@dataclass(frozen=True)
class Submission:
    """Answers given through a link, waiting for their group (grouping.py)."""

    token: str
    digest: str
    data: Mapping[str, Any]
    final: bool
    request_id: str
    now: dt.datetime | None = None


def submit(
    token: str,
    data: Mapping[str, Any],
    *,
    final: bool,
    now: dt.datetime | None = None,
) -> Visit:
    """Save (final=False) or submit (final=True) the answers given through a link.

    Submitting uses the link up: a second submission changes nothing and says so. A
    final submission with errors keeps its valid answers as a partial save. The link is
    looked up, its answers checked and recorded in a group with concurrent submissions
    (`record_submissions`). Causes: `surveyresponse.saved` (partial) or
    `surveyresponse.submitted`, one event that also records the invitation's move to
    opened or responded; once committed, the answer is queued to become a feedback item.
    """
    if not tokens.well_formed(token):
        return Visit(Outcome.UNKNOWN)
    job = SUBMISSIONS.run(
        Submission(
            token=token,
            digest=tokens.token_hash(token),
            data=data,
            final=final,
            request_id=audit.current_context().request_id,
            now=now,
        )
    )
    if job.error is not None:
        raise job.error
    visit: Visit = job.result
    if visit.outcome == Outcome.SAVED and final:
        visit.outcome = Outcome.INVALID
    return visit


def _response_values(
    entry: Submission, checked: checking.Checked, form: Form, now: dt.datetime
) -> tuple[bool, dict[str, Any]]:
    """Whether the submission completes the response, and the response's new values."""
    complete = entry.final and checked.ok
    score, comment = _score_and_comment(form, checked.values)
    return complete, {
        "answers": checked.values,
        "score": score,
        "comment": comment,
        "status": ResponseStatus.SUBMITTED if complete else ResponseStatus.PARTIAL,
        "submitted_at": now if complete else None,
        "updated_at": now,
    }


def record_submissions(jobs: Sequence[Any]) -> None:
    """Look up, check and record a group of submissions in one transaction (see
    grouping.py).

    The group's invitations are found by their links' hashes and locked in one query,
    and each submission is checked (answered, expired, closed, its answers) under the
    lock, in arrival order, so a link submitted twice at the same moment is recorded
    once. The rows are written with plain bulk inserts and updates, and the group's
    audit events (one per submission, naming the response and the invitation's change)
    are appended together: this is the busiest path of the site, and per-row saves
    would multiply its round trips. On PostgreSQL the group takes three round trips
    before its commit (core/rows.py `Trip`): the lookup with the new responses' keys
    (reserved so that the events can name them); the writes, then the audit chain
    taken and its head read; the events. The chain is held only for the last of them.
    """
    group_now = timezone.now()
    submitted: list[SurveyResponse] = []
    using = router.db_for_write(SurveyResponse)
    with transaction.atomic(using=using):
        trip = Trip(using)
        digests = sorted({job.payload.digest for job in jobs})
        found = lock_invitations(trip, digests)
        keys = trip.reserve_keys(SurveyResponse, len(jobs))
        trip.run()
        invitations: dict[str, Invitation] = {}
        # The answers saved earlier through the opened links.
        responses: dict[int, SurveyResponse] = {}
        for inv in found():
            for digest in (inv.token_hash, inv.reminder_token_hash):
                if digest:
                    invitations[digest] = inv
            if inv.partial is not None and inv.status == InvitationStatus.OPENED:  # type: ignore[attr-defined]
                responses[inv.pk] = inv.partial  # type: ignore[attr-defined]
        new: list[SurveyResponse] = []
        changed: list[SurveyResponse] = []
        # Each invitation's last move in the group: (status, responded or not, when).
        moves: dict[int, tuple[str, bool, dt.datetime]] = {}
        events: list[tuple[str, SurveyResponse, dict[str, Any], Survey, str]] = []
        for job in jobs:
            entry: Submission = job.payload
            now = entry.now or group_now
            invitation = invitations.get(entry.digest)
            if invitation is None or not (
                tokens.matches(entry.token, invitation.token_hash)
                or tokens.matches(entry.token, invitation.reminder_token_hash)
            ):
                job.result = Visit(Outcome.UNKNOWN)
                continue
            survey = invitation.survey
            state = state_of(invitation, now)
            if state != Outcome.OK:
                job.result = Visit(state, invitation, survey, language=invitation.language)
                continue
            form = form_of(survey)
            checked = checking.check(form.specs, entry.data, final=entry.final)
            complete, values = _response_values(entry, checked, form, now)
            existing = responses.get(invitation.pk)
            before = {
                "status": existing.status if existing else None,
                "answers": existing.answers if existing else None,
                "score": existing.score if existing else None,
                "comment": existing.comment if existing else None,
            }
            if existing is None:
                response = SurveyResponse(
                    survey=survey,
                    invitation=invitation,
                    contact=invitation.contact,
                    customer_id=invitation.customer_id,
                    language=invitation.language,
                    created_at=now,
                    **values,
                )
                if keys is not None:
                    response.pk = keys.rows[len(new)][0]
                new.append(response)
                responses[invitation.pk] = response
            else:
                response = existing
                for name, value in values.items():
                    setattr(response, name, value)
                response.contact = invitation.contact
                response.survey = survey
                if response.pk is not None and response not in changed:
                    changed.append(response)
            old_status = invitation.status
            new_status = InvitationStatus.RESPONDED if complete else InvitationStatus.OPENED
            moves[invitation.pk] = (new_status, complete, now)
            invitation.status = new_status
            if complete:
                invitation.responded_at = now
            changes: dict[str, Any] = {
                name: [before[name], values[name]]
                for name in ("status", "answers", "score", "comment")
                if before[name] != values[name]
            }
            changes["submitted_at"] = [None, values["submitted_at"]]
            changes["invitation"] = invitation.pk
            if old_status != new_status:
                changes["invitation_status"] = [old_status, new_status]
            if existing is None:
                changes.update(
                    survey=survey.pk,
                    contact=invitation.contact_id,
                    customer=invitation.customer_id,
                    language=invitation.language,
                )
            action = "surveyresponse.submitted" if complete else "surveyresponse.saved"
            events.append((action, response, changes, survey, entry.request_id))
            outcome = Outcome.SUBMITTED if complete else Outcome.SAVED
            job.result = Visit(
                outcome, invitation, survey, response, checked, language=invitation.language
            )
            if complete:
                submitted.append(response)
        trip.insert(new)
        for response in changed:
            _queue_response_update(trip, response)
        by_move: dict[tuple[str, bool, dt.datetime], list[int]] = {}
        for pk, move in moves.items():
            by_move.setdefault(move, []).append(pk)
        for move, pks in by_move.items():
            _queue_invitation_moves(trip, pks, *move)
        # The chain last, after the rows, as every audited change takes it: it is held
        # until the commit, and every audited change of the site waits for it. A group
        # that recorded nothing (unknown or used links only) leaves it alone.
        head = audit.take_chain(trip) if events else None
        waiting = _recording_waits_in(trip) if submitted else None

        def made() -> list[Any]:
            return [
                audit.event(
                    action,
                    response,
                    changes=changes,
                    actor=respondent(survey),
                    request_id=request_id,
                )
                for action, response, changes, survey, request_id in events
            ]

        # The events name the new responses: built before the chain is taken when their
        # keys were reserved, else once the insert has returned them (SQLite).
        pending = made() if keys is not None else None
        trip.run()
        if head is not None:
            pending = made() if pending is None else pending
            audit.link(pending, head)
            trip.insert(pending)
            trip.run()
        if submitted:
            ids = [response.pk for response in submitted]
            if waiting is None:
                transaction.on_commit(lambda: queue_feedback(ids), using=using)
            elif not waiting.rows:
                _enqueue_recording(ids, using)


def _queue_response_update(trip: Trip, response: SurveyResponse) -> None:
    """Queue the storing of a partly answered response's new answers."""
    connection = trip.connection
    quote = connection.ops.quote_name
    meta = SurveyResponse._meta
    names = {"answers", "score", "comment", "status", "submitted_at", "updated_at"}
    fields = [f for f in meta.concrete_fields if f.name in names]
    trip.add(
        f"UPDATE {quote(meta.db_table)} SET "  # noqa: S608 - names only
        + ", ".join(f"{quote(f.column)} = %s" for f in fields)
        + " WHERE id = %s",
        [
            *(f.get_db_prep_save(getattr(response, f.attname), connection) for f in fields),
            response.pk,
        ],
    )


def _queue_invitation_moves(
    trip: Trip, pks: Sequence[int], status: str, complete: bool, now: dt.datetime
) -> None:
    """Queue the move of these invitations to `status` (opened when first answered,
    responded when complete)."""
    connection = trip.connection
    quote = connection.ops.quote_name
    stamp = Invitation._meta.get_field("updated_at").get_db_prep_save(now, connection)
    match, match_args = trip.any_of("id", pks)
    trip.add(
        f"UPDATE {quote(Invitation._meta.db_table)} SET status = %s, "  # noqa: S608 - names only
        "opened_at = COALESCE(opened_at, %s), responded_at = %s, updated_at = %s, "
        f"updated_by_id = NULL WHERE {match}",
        [status, stamp, stamp if complete else None, stamp, *match_args],
    )


SUBMISSIONS = grouping.GroupCommit(record_submissions)


def client_key(address: str) -> str:
    """A keyed hash of a client's address: countable, not reversible without the secret."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"open-link:{address}".encode(), hashlib.sha256).hexdigest()


def find_open_survey(key: str) -> Survey | None:
    if not key or len(key) > 32:
        return None
    return Survey.objects.filter(open_key=key, open_link=True).first()


def submit_open(
    survey: Survey, data: Mapping[str, Any], *, address: str, now: dt.datetime | None = None
) -> Visit:
    """An anonymous answer through a survey's open link, at most N per address and hour.

    Causes: `surveyresponse.submitted` (actor: the survey's respondent); queued to
    become a feedback item without a customer.
    """
    now = now or timezone.now()
    language = survey.default_language
    if survey.status != SurveyStatus.OPEN or not survey.open_link:
        return Visit(Outcome.CLOSED, survey=survey, language=language)
    form = form_of(survey)
    checked = checking.check(form.specs, data, final=True)
    if not checked.ok:
        return Visit(Outcome.INVALID, survey=survey, checked=checked, language=language)
    key = client_key(address)
    recent = SurveyResponse.objects.filter(
        survey=survey, client_key=key, created_at__gte=now - dt.timedelta(hours=1)
    ).count()
    if recent >= config.open_link_limit():
        return Visit(Outcome.LIMITED, survey=survey, language=language)
    score, comment = _score_and_comment(form, checked.values)
    with as_respondent(survey), transaction.atomic():
        response = SurveyResponse(
            survey=survey,
            language=language,
            status=ResponseStatus.SUBMITTED,
            answers=checked.values,
            score=score,
            comment=comment,
            submitted_at=now,
            client_key=key,
        )
        response.save(audit_action="surveyresponse.submitted")
        transaction.on_commit(lambda: queue_feedback([response.pk]))
    return Visit(
        Outcome.SUBMITTED, survey=survey, response=response, checked=checked, language=language
    )


# --------------------------------------------------------------------------------------
# Opting out
# --------------------------------------------------------------------------------------


def opt_out(
    email: str,
    *,
    via: str = OptOutVia.LINK,
    contact: Contact | None = None,
    invitation: Invitation | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> OptOut:
    """Record that an address wants no more survey invitations (idempotent).

    Causes: `optout.created` the first time; queued invitations to the address become
    `opted_out` and are never sent; so does the invitation the link came from, unless it
    was answered.
    """
    now = now or timezone.now()
    email = email.strip().lower()
    validate_email(email)
    with transaction.atomic():
        existing = OptOut.objects.filter(email=email).first()
        record = existing or OptOut.objects.create(
            email=email,
            contact=contact,
            invitation=invitation,
            via=via,
            opted_out_at=now,
            note=note[:300],
        )
        pending = Invitation.objects.filter(email__iexact=email, status=InvitationStatus.QUEUED)
        if invitation is not None and invitation.status in ANSWERABLE_STATES:
            pending = pending | Invitation.objects.filter(pk=invitation.pk)
        for inv in pending.select_for_update():
            inv.status = InvitationStatus.OPTED_OUT
            inv.opted_out_at = now
            inv.save(update_fields=["status", "opted_out_at"], audit_action="invitation.opted_out")
    return record


def opt_out_by_token(token: str, *, via: str) -> tuple[Invitation | None, OptOut | None]:
    """The unsubscribe link: works whatever became of the invitation (answered, expired)."""
    invitation = find_invitation(token)
    if invitation is None:
        return None, None
    with as_respondent(invitation.survey):
        record = opt_out(
            invitation.email, via=via, contact=invitation.contact, invitation=invitation
        )
    return invitation, record


def is_opted_out(email: str) -> bool:
    return OptOut.objects.filter(email=email.strip().lower()).exists()


def withdraw_opt_out(record: OptOut, *, actor: Any) -> None:
    """The person asked to receive surveys again. Causes: `optout.deleted`."""
    require(actor, "delete", OptOut)
    record.delete()


def record_opt_out(email: str, *, actor: Any, note: str = "") -> OptOut:
    """An opt-out told to a person (by phone, by letter). Causes: `optout.created`."""
    require(actor, "add", OptOut)
    try:
        validate_email(email.strip())
    except ValidationError as exc:
        raise ValidationError({"email": "Enter an e-mail address."}) from exc
    contact = Contact.objects.filter(email__iexact=email.strip()).first()
    return opt_out(email, via=OptOutVia.BY_HAND, contact=contact, note=note)


# --------------------------------------------------------------------------------------
# Answers become feedback
# --------------------------------------------------------------------------------------


def queue_feedback(response_ids: list[int]) -> None:
    """Hand submitted answers to the worker (or record them at once with the immediate
    backend); the tick records any the worker missed.

    Called once the answers are committed. A recording task still waiting in the queue
    will record them too (it records every pending answer when it starts, which is
    after this commit), so none is added then: under load the worker gets one task per
    round of its own rather than one per group of answers.
    """
    from .tasks import record_responses

    try:
        if _recording_waits(record_responses):
            return
        record_responses.enqueue(response_ids)
    except Exception:  # the queue is down: the tick's sweep records them later
        logger.exception("could not queue survey responses %s for feedback", response_ids)


def _recording_query(task: Any, connection: Any) -> tuple[str, list[Any]] | None:
    """The query whether a recording task waits in the database queue (None when the
    queue is not the database's)."""
    backend = task.get_backend()
    if not backend.__class__.__module__.startswith("django_tasks_db"):
        return None
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    table = connection.ops.quote_name(DBTaskResult._meta.db_table)
    return (
        f"SELECT 1 FROM {table} WHERE status = %s AND task_path = %s"  # noqa: S608 - our table
        " AND queue_name = %s AND backend_name = %s LIMIT 1",
        [TaskResultStatus.READY, task.module_path, task.queue_name, backend.alias],
    )


def _recording_waits(task: Any) -> bool:
    """Whether a recording task is queued in the database and not started yet."""
    from django_tasks_db.models import DBTaskResult

    connection = connections[router.db_for_read(DBTaskResult)]
    query = _recording_query(task, connection)
    if query is None:
        return False
    # Plain SQL: this runs after every group of answers.
    with connection.cursor() as cursor:
        cursor.execute(*query)
        return cursor.fetchone() is not None


def _recording_waits_in(trip: Trip) -> Statement | None:
    """Queue on `trip` the question whether a recording task waits in the database queue,
    holding that task (FOR SHARE) until the transaction ends: the worker takes tasks
    with FOR UPDATE SKIP LOCKED, so it cannot start it before the answers it is to
    record are committed (on SQLite the transaction's write lock keeps the worker from
    claiming it). None when the queue is elsewhere: then `queue_feedback` asks after
    the commit."""
    from django_tasks_db.models import DBTaskResult

    from .tasks import record_responses

    if router.db_for_write(DBTaskResult) != trip.using:
        return None
    query = _recording_query(record_responses, trip.connection)
    if query is None:
        return None
    sql, params = query
    if trip.connection.features.has_select_for_update:
        sql += " FOR SHARE"
    return trip.add(sql, params)


def _enqueue_recording(response_ids: list[int], using: str) -> None:
    """Queue a recording task in the answers' own transaction (no task was waiting)."""
    from .tasks import record_responses

    try:
        with transaction.atomic(using=using):
            record_responses.enqueue(response_ids)
    except Exception:  # the queue is down: the tick's sweep records them later
        logger.exception("could not queue survey responses %s for feedback", response_ids)


def labelled_answers(
    response: SurveyResponse, questions: Mapping[str, Question] | None = None
) -> dict[str, Any]:
    """The answers keyed by the question's wording in the survey's default language
    (`questions`, the survey's questions by id, when the caller has them)."""
    if questions is None:
        questions = {str(q.pk): q for q in response.survey.questions.all()}
    lang = response.survey.default_language
    labelled: dict[str, Any] = {}
    for key, value in response.answers.items():
        question = questions.get(key)
        if question is None:
            labelled[key] = value
            continue
        if question.kind in OPTION_KINDS:
            values = value if isinstance(value, list) else [value]
            shown: Any = [question.option_label(lang, v) for v in values]
            value = shown if question.kind == QuestionKind.MULTIPLE else shown[0]
        labelled[question.label(lang) or key] = value
    return labelled


def intake_for(
    response: SurveyResponse, questions: Mapping[str, Question] | None = None
) -> feedback.Intake:
    survey = response.survey
    invitation = response.invitation
    trigger = invitation.trigger_item if invitation else None
    scale = form_of(survey).scale or KIND_SCALES.get(survey.kind, "")
    raw: dict[str, Any] = {
        "survey": survey.number,
        "survey_title": survey.title,
        "response": response.pk,
        "language": response.language,
        "answers": labelled_answers(response, questions),
    }
    if invitation is not None:
        raw["invitation"] = invitation.pk
    if trigger is not None:
        raw["triggered_by"] = trigger.complaint_number or trigger.number
    if invitation is not None and invitation.trigger_ref:
        raw["trigger_ref"] = invitation.trigger_ref
    customer = response.customer
    return feedback.Intake(
        source=survey.source,
        kind=ItemKind.SURVEY_RESPONSE,
        received_at=response.submitted_at,
        title=f"{survey.title} ({survey.number})",
        text=response.comment,
        score=response.score,
        scale=scale if response.score is not None else "",
        customer=customer,
        contact=response.contact,
        region=customer.region if customer else None,
        external_id=f"{survey.number}/response/{response.pk}",
        tags=["survey", survey.number, survey.trigger],
        raw=raw,
    )


def pending_responses() -> QuerySet[SurveyResponse]:
    return SurveyResponse.objects.filter(
        status=ResponseStatus.SUBMITTED, feedback_item__isnull=True
    ).order_by("submitted_at", "pk")


def record_pending(ids: Sequence[int] | None = None, *, limit: int = 5000, chunk: int = 500) -> int:
    """Record submitted responses that have no feedback item yet (all, or those named),
    the oldest first, at most `limit`, a chunk per transaction. Returns how many were
    recorded."""
    pending = pending_responses()
    if ids is not None:
        pending = pending.filter(pk__in=list(ids))
    responses = list(pending[:limit])
    done = 0
    with audit.audit_context(
        actor=Actor.system("surveys:answers to feedback"),
        request_id=audit.current_context().request_id,
    ):
        for start in range(0, len(responses), chunk):
            part = responses[start : start + chunk]
            _load_relations(part)
            done += record_chunk(part)
    return done


def _load_relations(responses: Sequence[SurveyResponse]) -> None:
    """Attach what `intake_for` and the events read (survey and source, invitation and
    its trigger, customer and region, the contact's name), a query per relation.

    A join (select_related) would build the same survey, source and region again for
    every response of the chunk, and PostgreSQL would plan a join of seven tables each
    time; the recording worker runs this for every answer. Customers (with their
    region) and contacts are read with only the columns used.
    """
    from harken.customers.models import Customer

    def ids(attname: str) -> set[int]:
        return {value for r in responses if (value := getattr(r, attname)) is not None}

    surveys = Survey.objects.select_related("source").in_bulk(ids("survey_id"))
    invitations = (
        Invitation.objects.select_related("trigger_item")
        .only("trigger_item", "trigger_ref")
        .in_bulk(ids("invitation_id"))
    )
    customers = Customer.objects.select_related("region").only("region").in_bulk(ids("customer_id"))
    contacts = Contact.objects.only("name", "customer").in_bulk(ids("contact_id"))
    for response in responses:
        response.survey = surveys[response.survey_id]
        if response.invitation_id is not None:
            response.invitation = invitations[response.invitation_id]
        if response.customer_id is not None:
            response.customer = customers[response.customer_id]
        if response.contact_id is not None:
            response.contact = contacts[response.contact_id]


def _link_items(responses: Sequence[SurveyResponse], now: dt.datetime) -> None:
    """Store each response's feedback item: one UPDATE joined to a VALUES list of
    (response, item) pairs (bulk_update's single CASE over every row grows with the
    square of the chunk; an UPDATE per row is parsed and planned once per row)."""
    using = router.db_for_write(SurveyResponse)
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(SurveyResponse._meta.db_table)
    stamp = SurveyResponse._meta.get_field("updated_at").get_db_prep_save(now, connection)
    # Two parameters a row, and one for the time.
    size = rows_per_statement(connection, 2, fixed=1)
    with connection.cursor() as cursor:
        for start in range(0, len(responses), size):
            part = responses[start : start + size]
            # VALUES columns are column1, column2 on PostgreSQL and SQLite alike.
            cursor.execute(
                f"UPDATE {table} SET {quote('feedback_item_id')} = v.column2, "  # noqa: S608 - names only
                f"{quote('updated_at')} = %s "
                f"FROM (VALUES {', '.join(['(%s, %s)'] * len(part))}) AS v "
                f"WHERE {table}.{quote('id')} = v.column1",
                [stamp, *(value for r in part for value in (r.pk, r.feedback_item_id))],
            )


def record_chunk(responses: Sequence[SurveyResponse]) -> int:
    """Turn submitted responses into feedback items of their surveys' sources, together.

    Each goes through feedback's intake checks and classification (`validate_intake`,
    `build_item`: category rules, sentiment from the score), keyed by the response so
    that recording again adds nothing. The items are inserted together and announced
    together (`items_added`: the rollups add their counts, without recounting the day);
    each item still gets its own `feedbackitem.created` event, and each response a
    `surveyresponse.recorded` event naming its item, appended to the chain together.
    """
    from harken.core.numbering import reserve_numbers
    from harken.feedback.signals import bulk_added

    rules = feedback.rule_set()
    built: list[tuple[SurveyResponse, FeedbackItem]] = []
    questions: dict[int, dict[str, Question]] = {}
    for response in responses:
        if response.survey_id not in questions:
            found = {str(q.pk): q for q in Question.objects.filter(survey_id=response.survey_id)}
            for question in found.values():
                question.survey = response.survey  # its wording reads the default language
            questions[response.survey_id] = found
        intake = intake_for(response, questions[response.survey_id])
        try:
            feedback.validate_intake(intake)
        except ValidationError:
            logger.exception("survey response %s cannot become feedback", response.pk)
            continue
        built.append((response, feedback.build_item(intake, rules)))
    if not built:
        return 0
    now = timezone.now()
    with transaction.atomic():
        # Another worker may be recording the same responses: each is taken once.
        still = set(
            SurveyResponse.objects.select_for_update(skip_locked=True)
            .filter(pk__in=[r.pk for r, _ in built], feedback_item__isnull=True)
            .values_list("pk", flat=True)
        )
        built = [(r, item) for r, item in built if r.pk in still]
        existing = {
            (source_id, key): pk
            for source_id, key, pk in FeedbackItem.objects.filter(
                # The source too, so the lookup reads the unique (source, key) index
                # rather than all of it.
                source_id__in={item.source_id for _, item in built},
                dedupe_key__in=[item.dedupe_key for _, item in built],
            ).values_list("source_id", "dedupe_key", "pk")
        }
        new = [(r, item) for r, item in built if (item.source_id, item.dedupe_key) not in existing]
        numbers = reserve_numbers(FeedbackItem.number_prefix, len(new))
        for (_, item), number in zip(new, numbers, strict=True):
            item.number = number
            item.created_at = item.updated_at = now
        FeedbackItem.objects.bulk_create([item for _, item in new])
        # The audited fields are the model's, the same for every item: listed once.
        fields = new[0][1].audit_fields() if new else []
        events = [
            audit.event(
                "feedbackitem.created",
                item,
                changes={
                    **{name: [None, value] for name, value in item.audit_values(fields).items()},
                    "survey_response": response.pk,
                },
            )
            for response, item in new
        ]
        for response, item in built:
            response.feedback_item_id = item.pk or existing[(item.source_id, item.dedupe_key)]
            response.updated_at = now
        _link_items([r for r, _ in built], now)
        events.extend(
            audit.event(
                "surveyresponse.recorded",
                response,
                changes={"feedback_item": [None, response.feedback_item_id]},
            )
            for response, _ in built
        )
        bulk_added(FeedbackItem, [item for _, item in new])
        # Last: the audit chain is held from here until the commit, and every audited
        # change of the site (each group of survey answers among them) waits for it.
        audit.append(events)
    return len(built)


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def status_counts(invitations: QuerySet[Invitation]) -> dict[str, int]:
    counts = dict.fromkeys(InvitationStatus.values, 0)
    for row in invitations.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def rate_figures(counts: Mapping[str, int]) -> dict[str, Any]:
    """Response-rate figures from invitation counts by status.

    Delivered: sent and not bounced (sent, opened, responded, opted out). Non-response:
    delivered but not answered. The rate is responded / delivered.
    """
    delivered = sum(counts.get(s, 0) for s in DELIVERED_STATES)
    responded = counts.get(InvitationStatus.RESPONDED, 0)
    return {
        "invited": sum(counts.values()),
        "queued": counts.get(InvitationStatus.QUEUED, 0),
        "delivered": delivered,
        "bounced": counts.get(InvitationStatus.BOUNCED, 0),
        "opened": counts.get(InvitationStatus.OPENED, 0),
        "responded": responded,
        "opted_out": counts.get(InvitationStatus.OPTED_OUT, 0),
        "non_response": delivered - responded,
        "response_rate": round(responded / delivered, 4) if delivered else None,
    }


def survey_figures(survey: Survey) -> dict[str, Any]:
    """Invitations by status, the response rate, and answers that came another way."""
    figures = rate_figures(status_counts(survey.invitations.all()))
    responses = survey.responses.order_by().values("status").annotate(n=Count("id"))
    by_status = {row["status"]: row["n"] for row in responses}
    figures["partial"] = by_status.get(ResponseStatus.PARTIAL, 0)
    figures["open_link"] = survey.responses.filter(
        invitation__isnull=True, status=ResponseStatus.SUBMITTED
    ).count()
    figures["answers"] = by_status.get(ResponseStatus.SUBMITTED, 0)
    rate = figures["response_rate"]
    figures["low_response"] = rate is not None and rate < LOW_RESPONSE_RATE
    figures["undocumented"] = figures["low_response"] and not survey.nonresponse_note.strip()
    return figures


def nps_with_margin(promoters: int, detractors: int, n: int) -> tuple[float, float]:
    """NPS and the half-width of its 95% (Wald) interval, the same method as the insights
    dashboard; each answer scores +1, 0 or −1."""
    p, d = promoters / n, detractors / n
    variance = p + d - (p - d) ** 2
    return 100 * (p - d), 1.96 * 100 * math.sqrt(max(variance, 0.0) / n)


def score_distribution(survey: Survey) -> dict[str, Any]:
    """Counts of each score on the survey's scale, and its headline figure."""
    form = form_of(survey)
    scale = form.scale
    bounds = checking.SCALE_BOUNDS.get(scale)
    if not bounds:
        return {"scale": "", "counts": [], "n": 0, "headline": None}
    rows = (
        survey.responses.filter(status=ResponseStatus.SUBMITTED, score__isnull=False)
        .order_by()
        .values("score")
        .annotate(n=Count("id"))
    )
    found = {int(row["score"]): row["n"] for row in rows}
    counts = [(value, found.get(value, 0)) for value in range(bounds[0], bounds[1] + 1)]
    n = sum(c for _, c in counts)
    headline: dict[str, Any] | None = None
    if n:
        if scale == "nps":
            promoters = sum(c for v, c in counts if v >= 9)
            detractors = sum(c for v, c in counts if v <= 6)
            value, margin = nps_with_margin(promoters, detractors, n)
            headline = {
                "label": "NPS",
                "value": round(value, 1),
                "detail": f"{promoters} promoters, {n - promoters - detractors} passives, "
                f"{detractors} detractors; ±{margin:.1f} at 95%",
            }
        elif scale in {"csat", "stars"}:
            satisfied = sum(c for v, c in counts if v >= 4)
            headline = {
                "label": "CSAT",
                "value": round(100 * satisfied / n, 1),
                "detail": f"{satisfied} of {n} answered 4 or 5",
            }
        else:
            mean = sum(v * c for v, c in counts) / n
            headline = {"label": "CES", "value": round(mean, 2), "detail": f"mean of {n} answers"}
    return {"scale": scale, "counts": counts, "n": n, "headline": headline}


def response_rates(start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Response rates of the surveys whose invitations went out from `start` to `end`.

    Days are the company's, both included. One dict per survey, ordered by number:
    `survey` (number), `title`, `kind`, `trigger`, `source` (name), `source_id`,
    `invited` (sent in the period, bounced included), `delivered`, `bounced`,
    `opened`, `responded`, `opted_out`, `non_response` (delivered, not answered),
    `response_rate` (responded / delivered, 0–1, or None when nothing was delivered),
    `low_response` (below 20%), and `nonresponse_note` (how the survey's owner
    documented the non-response; may be empty).
    """
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz)
    # Bounced invitations count as sent in the period when they bounced in it.
    invitations = Invitation.objects.filter(
        Q(sent_at__gte=since, sent_at__lt=until)
        | Q(sent_at__isnull=True, bounced_at__gte=since, bounced_at__lt=until)
    )
    rows = invitations.order_by().values("survey_id", "status").annotate(n=Count("id"))
    by_survey: dict[int, dict[str, int]] = {}
    for row in rows:
        by_survey.setdefault(row["survey_id"], {})[row["status"]] = row["n"]
    surveys = (
        Survey.objects.filter(pk__in=list(by_survey)).select_related("source").order_by("number")
    )
    result = []
    for survey in surveys:
        figures = rate_figures(by_survey[survey.pk])
        rate = figures["response_rate"]
        result.append(
            {
                "survey": survey.number,
                "title": survey.title,
                "kind": survey.kind,
                "trigger": survey.trigger,
                "source": survey.source.name,
                "source_id": survey.source_id,
                "invited": figures["invited"] - figures["queued"],
                "delivered": figures["delivered"],
                "bounced": figures["bounced"],
                "opened": figures["opened"],
                "responded": figures["responded"],
                "opted_out": figures["opted_out"],
                "non_response": figures["non_response"],
                "response_rate": rate,
                "low_response": rate is not None and rate < LOW_RESPONSE_RATE,
                "nonresponse_note": survey.nonresponse_note,
            }
        )
    return result
