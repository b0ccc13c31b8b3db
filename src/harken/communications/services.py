"""Communication actions: logging, mail ingestion, threading, triage, links, notices.

Pages, the API, the `mail` command, the tick and the demo call these; none of them
saves a communication directly. Ingestion never raises for a bad message: whatever
arrives is kept (the raw original as evidence) and what is wrong with it is written on
the communication, which then waits in the triage list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import string
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, make_msgid
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from harken.core import audit
from harken.core.files import store_bytes, store_file
from harken.core.workflow import apply_transition
from harken.customers.models import Contact, Customer
from harken.documents import services as documents
from harken.documents.choices import DocumentKind, Occasion, VersionStatus
from harken.documents.models import Distribution, DocumentVersion
from harken.feedback import services as feedback
from harken.feedback.models import FeedbackItem

from . import links as linking
from . import parsing
from .choices import Channel, CommunicationStatus, Direction, Phase, RunKind, RunStatus
from .config import max_attachment_bytes, our_domains
from .models import Attachment, Communication, CommunicationLink, Mailbox, MailRun, Thread
from .sanitise import html_to_text, sanitise_html

MAX_BODY = 200_000


def require(actor: Any, verb: str) -> None:
    if actor is not None and not actor.has_perm(f"communications.{verb}_communication"):
        raise PermissionDenied(f"Your role may not {verb} communications.")


# --------------------------------------------------------------------------------------
# Logging by hand (calls, meetings, letters…) and through the API
# --------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One communication as a person records it."""

    customer: Customer | None
    channel: str
    direction: str
    subject: str = ""
    body: str = ""
    occurred_at: dt.datetime | None = None
    contacts: Sequence[Contact] = field(default_factory=list)
    staff: Any = None
    phase: str = ""
    concerns: Sequence[models.Model] = field(default_factory=list)
    versions: Sequence[DocumentVersion] = field(default_factory=list)
    files: list[Any] = field(default_factory=list)


def validate_entry(entry: Entry) -> None:
    """Raise ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    if entry.customer is None:
        errors["customer"] = "Choose the customer."
    if entry.channel not in Channel.values:
        errors["channel"] = "Choose the channel."
    if entry.direction not in Direction.values:
        errors["direction"] = "Choose inbound or outbound."
    if entry.phase and entry.phase not in Phase.values:
        errors["phase"] = "Choose a lifecycle phase."
    if not (entry.subject.strip() or entry.body.strip()):
        errors["subject"] = "Say what it was about: a subject or notes."
    if len(entry.body) > MAX_BODY:
        errors["body"] = f"The notes are {len(entry.body):,} characters; the limit is {MAX_BODY:,}."
    if entry.occurred_at and entry.occurred_at > timezone.now() + dt.timedelta(minutes=5):
        errors["occurred_at"] = "The time is in the future."
    if entry.customer is not None:
        others = [c.name for c in entry.contacts if c.customer_id != entry.customer.pk]
        if others:
            errors["contacts"] = f"Not contacts of {entry.customer}: {', '.join(others)}."
    if entry.versions and entry.direction != Direction.OUTBOUND:
        errors["documents"] = "Documents are provided with an outbound communication."
    refused = [v for v in entry.versions if v.status != VersionStatus.APPROVED]
    if refused:
        errors["documents"] = "Only approved versions may be provided to a customer: " + ", ".join(
            f"{v} is {v.get_status_display().lower()}" for v in refused
        )
    if errors:
        raise ValidationError(errors)


def log_communication(entry: Entry, *, actor: Any) -> Communication:
    """Record a communication logged by a person (or an API client).

    Causes, in one transaction: `communication.created`; its attachments stored as
    evidence files; links to the records it concerns; a distribution of each document
    version provided with it (refused, and nothing recorded, if one is not approved).
    """
    require(actor, "add")
    validate_entry(entry)
    assert entry.customer is not None  # noqa: S101 - checked by validate_entry
    with transaction.atomic():
        communication = Communication.objects.create(
            customer=entry.customer,
            direction=entry.direction,
            channel=entry.channel,
            occurred_at=entry.occurred_at or timezone.now(),
            staff=entry.staff if entry.staff is not None else _person(actor),
            subject=entry.subject.strip()[:300],
            body=entry.body.strip(),
            phase=entry.phase,
        )
        if entry.contacts:
            communication.contacts.set(entry.contacts)
        for upload in entry.files:
            evidence = store_file(
                upload,
                name=upload.name,
                content_type=getattr(upload, "content_type", "") or "",
                purpose="communication",
            )
            Attachment.objects.create(
                communication=communication,
                file=evidence,
                name=upload.name[:255],
                content_type=evidence.content_type,
                size=evidence.size,
            )
        for record in entry.concerns:
            add_link(communication, record, actor=None)
        provide_documents(communication, entry.versions, actor=actor)
    return communication


def _person(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def provide_documents(
    communication: Communication, versions: Iterable[DocumentVersion], *, actor: Any
) -> list[Distribution]:
    """Record each version as provided to the customer with this communication."""
    if communication.customer is None:
        return []
    contact = communication.contacts.order_by("pk").first()
    subject = communication.subject or communication.get_channel_display()
    return [
        documents.record_distribution(
            documents.Provision(
                version=version,
                customer=communication.customer,
                contact=contact,
                at=communication.occurred_at,
                occasion=Occasion.COMMUNICATION,
                reason=f"Provided with {communication.number}: {subject}"[:300],
                via=communication,
            ),
            actor=_person(actor),
        )
        for version in versions
    ]


def update_communication(communication: Communication, *, actor: Any, **values: Any) -> None:
    """Correct a logged (not an ingested) communication. Causes `communication.updated`."""
    require(actor, "change")
    if communication.is_mail:
        raise ValidationError({"body": "A received or sent e-mail is evidence: it is not edited."})
    contacts = values.pop("contacts", None)
    for name, value in values.items():
        setattr(communication, name, value)
    with transaction.atomic():
        communication.save()
        if contacts is not None:
            communication.contacts.set(contacts)


# --------------------------------------------------------------------------------------
# Links to the records a communication concerns
# --------------------------------------------------------------------------------------


def add_link(
    communication: Communication, record: models.Model, *, actor: Any
) -> CommunicationLink:
    """Link the communication to a record it concerns (idempotent). Causes
    `communicationlink.created`."""
    require(actor, "change")
    if not linking.is_linkable(record):
        raise ValidationError({"reference": f"A {record._meta.verbose_name} cannot be linked."})
    link, _created = CommunicationLink.objects.get_or_create(
        communication=communication,
        target_type=ContentType.objects.get_for_model(record),
        target_id=str(record.pk),
        defaults={"label": linking.label_of(record)[:255]},
    )
    return link


def resolve_references(text: str) -> list[models.Model]:
    """Records named by their numbers ("CMP-2026-0001, ACT-2026-0003"); errors name each miss."""
    found: list[models.Model] = []
    missing = []
    for reference in re.split(r"[,;\s]+", text or ""):
        if not reference:
            continue
        record = linking.resolve(reference)
        if record is None:
            missing.append(reference)
        elif record not in found:
            found.append(record)
    if missing:
        raise ValidationError({"concerns": f"No record has the number {', '.join(missing)}."})
    return found


def remove_link(link: CommunicationLink, *, actor: Any) -> None:
    require(actor, "change")
    link.delete()


def communications_about(record: models.Model) -> Any:
    """The communications that concern `record` (for other apps' pages)."""
    return Communication.objects.filter(
        links__target_type=ContentType.objects.get_for_model(record),
        links__target_id=str(record.pk),
    ).order_by("-occurred_at")


# --------------------------------------------------------------------------------------
# Triage
# --------------------------------------------------------------------------------------


def file_communication(
    communication: Communication,
    *,
    actor: Any,
    customer: Customer,
    contacts: list[Contact] | None = None,
    note: str = "",
) -> Communication:
    """File a communication from the triage list under its customer.

    Causes: `communication.file` (triage → filed, with the customer and note); the
    thread takes the customer when it has none; a feedback item made from the mail
    without a customer gets this one (`feedbackitem.customer_assigned`).
    """
    require(actor, "change")
    with transaction.atomic():
        apply_transition(
            communication,
            "file",
            actor=actor,
            values={"customer": customer, "triage_note": note.strip()},
        )
        if contacts is not None:
            communication.contacts.set([c for c in contacts if c.customer_id == customer.pk])
        thread = communication.thread
        if thread is not None and thread.customer_id is None:
            thread.customer = customer
            thread.save(update_fields=["customer"])
        for item in linked_feedback(communication).filter(customer__isnull=True):
            item.customer = customer
            item.region = customer.region
            item.save(
                update_fields=["customer", "region"], audit_action="feedbackitem.customer_assigned"
            )
    return communication


def dismiss(communication: Communication, *, actor: Any, reason: str) -> Communication:
    """Dismiss a message that is no customer communication (spam, a newsletter).

    Causes: `communication.dismiss` (triage → dismissed) with the reason; the message
    and its evidence stay.
    """
    require(actor, "change")
    apply_transition(communication, "dismiss", actor=actor, values={"triage_note": reason.strip()})
    return communication


def linked_feedback(communication: Communication) -> Any:
    ids = communication.links.filter(
        target_type=ContentType.objects.get_for_model(FeedbackItem)
    ).values_list("target_id", flat=True)
    return FeedbackItem.objects.filter(pk__in=[int(i) for i in ids if i.isdigit()])


# --------------------------------------------------------------------------------------
# Mail ingestion
# --------------------------------------------------------------------------------------


def message_key(message_id: str, raw: bytes) -> str:
    """The idempotency key: the Message-ID, or the raw message's SHA-256 without one."""
    if message_id:
        if len(message_id) <= 255:
            return message_id
        return "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def key_of(message_id: str) -> str:
    return message_key(message_id, b"") if message_id else ""


@dataclass
class Ingested:
    communication: Communication
    created: bool


def ingest_message(
    raw: bytes,
    *,
    mailbox: Mailbox | None = None,
    received_at: dt.datetime | None = None,
) -> Ingested:
    """Turn one raw e-mail into a communication, or find the one it already is.

    Idempotent by Message-ID. Causes, for a new message: the raw message and each
    attachment stored as evidence; `communication.created`, matched to a customer by
    the sender's (for outbound mail the recipients') address or domain, in the thread
    of the messages it answers; a feedback item when the mailbox's rule says so; the
    triage status with the reasons when the customer is unknown or the message is
    damaged.
    """
    parsed = parsing.parse_message(raw, max_attachment=max_attachment_bytes())
    key = message_key(parsed.message_id, raw)
    existing = Communication.objects.filter(message_key=key).first()
    if existing is not None:
        apply_mailbox_rule(existing, mailbox)
        return Ingested(existing, False)
    try:
        with transaction.atomic():
            communication = _create_from_mail(parsed, raw, key, mailbox, received_at)
    except IntegrityError:
        # Another fetch stored the same message a moment ago.
        existing = Communication.objects.filter(message_key=key).first()
        if existing is None:
            raise
        return Ingested(existing, False)
    return Ingested(communication, True)


def _create_from_mail(
    parsed: parsing.ParsedMessage,
    raw: bytes,
    key: str,
    mailbox: Mailbox | None,
    received_at: dt.datetime | None,
) -> Communication:
    problems = list(parsed.problems)
    now = timezone.now()
    occurred_at = parsed.date or received_at or now
    if occurred_at > now + dt.timedelta(days=1):
        problems.append(
            f"The message is dated {occurred_at:%Y-%m-%d %H:%M}, in the future: "
            "the time it was received is used."
        )
        occurred_at = received_at or now
    direction = direction_of(parsed, mailbox)
    counterparts = (
        [parsed.from_address] if direction == Direction.INBOUND else [*parsed.to, *parsed.cc]
    )
    counterparts = [a for a in counterparts if a]
    parents = Communication.objects.filter(
        message_key__in=[key_of(i) for i in parsed.parent_ids]
    ).select_related("thread")
    parent_threads = {p.thread for p in parents if p.thread is not None}
    match = match_customer(counterparts, parent_threads)
    if match.customer is None and match.reason:
        problems.append(match.reason)

    subject = parsed.subject.strip() or "(no subject)"
    html = sanitise_html(parsed.html)
    body = parsed.text.strip() or html_to_text(parsed.html)
    thread = place_in_thread(
        key=key,
        subject=subject,
        customer=match.customer,
        at=occurred_at,
        parent_threads=parent_threads,
    )
    phase = mailbox.phase if mailbox else ""
    if not phase and mailbox is not None and mailbox.feedback_source_id:
        phase = Phase.FEEDBACK
    stored_raw = store_bytes(
        raw,
        name=f"{_file_stem(subject)}.eml",
        content_type="message/rfc822",
        purpose="mail",
    )
    communication = Communication.objects.create(
        customer=match.customer,
        direction=direction,
        channel=Channel.EMAIL,
        occurred_at=occurred_at,
        staff=staff_for(parsed, direction),
        subject=subject[:300],
        body=body[:MAX_BODY],
        html_body=html[:MAX_BODY],
        phase=phase,
        status=CommunicationStatus.TRIAGE
        if problems or match.customer is None
        else CommunicationStatus.FILED,
        problems=problems,
        from_address=parsed.from_address[:320],
        to_addresses=", ".join(parsed.to),
        cc_addresses=", ".join(parsed.cc),
        message_key=key,
        in_reply_to=key_of(parsed.in_reply_to),
        references=" ".join(parsed.references),
        thread=thread,
        mailbox=mailbox,
        raw_message=stored_raw,
    )
    if match.contacts:
        communication.contacts.set(match.contacts)
    for part in parsed.attachments:
        evidence = None
        if part.data is not None:
            evidence = store_bytes(
                part.data, name=part.name, content_type=part.content_type, purpose="attachment"
            )
        Attachment.objects.create(
            communication=communication,
            file=evidence,
            name=part.name[:255],
            content_type=part.content_type[:150],
            size=part.size,
        )
    apply_mailbox_rule(communication, mailbox)
    return communication


def _file_stem(subject: str) -> str:
    stem = re.sub(r"[^\w\- ]+", "", subject)[:80].strip()
    return stem or "message"


def direction_of(parsed: parsing.ParsedMessage, mailbox: Mailbox | None) -> str:
    """Outbound when it was sent from one of our domains or by one of our people."""
    sender = parsed.from_address
    if not sender:
        return Direction.INBOUND
    domain = sender.rpartition("@")[2]
    ours = set(our_domains())
    if mailbox is not None and mailbox.address:
        ours.add(mailbox.address.lower().rpartition("@")[2])
    if domain in ours:
        return Direction.OUTBOUND
    if get_user_model().objects.filter(email__iexact=sender, is_active=True).exists():
        return Direction.OUTBOUND
    return Direction.INBOUND


def staff_for(parsed: parsing.ParsedMessage, direction: str) -> Any:
    """Our person in the conversation: the sender of outbound mail, else a recipient."""
    User = get_user_model()
    addresses = [parsed.from_address] if direction == Direction.OUTBOUND else parsed.to + parsed.cc
    addresses = [a for a in addresses if a]
    if not addresses:
        return None
    return (
        User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=addresses, is_active=True)
        .order_by("pk")
        .first()
    )


@dataclass
class Match:
    customer: Customer | None
    contacts: Sequence[Contact]
    reason: str = ""


def domain_suffixes(domain: str) -> list[str]:
    """`mail.acme.example` → [`mail.acme.example`, `acme.example`] (never the bare TLD)."""
    parts = domain.lower().split(".")
    return [".".join(parts[i:]) for i in range(len(parts) - 1)]


def match_customer(addresses: list[str], threads: set[Thread] | None = None) -> Match:
    """The customer of a message: by a contact's address, the thread, or the domain."""
    addresses = [a.lower() for a in addresses if a]
    if not addresses:
        return Match(None, [], "")
    contacts = list(
        Contact.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=addresses, customer__status__in=["active", "prospect"])
        .select_related("customer")
        .order_by("pk")
    ) or list(
        Contact.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=addresses)
        .select_related("customer")
        .order_by("pk")
    )
    customers = {c.customer for c in contacts}
    if len(customers) == 1:
        return Match(contacts[0].customer, contacts)
    thread_customers = {t.customer for t in threads or set() if t.customer_id}
    if len(customers) > 1:
        chosen = customers & thread_customers
        if len(chosen) == 1:
            customer = chosen.pop()
            return Match(customer, [c for c in contacts if c.customer == customer])
        names = ", ".join(sorted(c.name for c in customers))
        return Match(None, [], f"The address matches contacts of several customers: {names}.")
    if len(thread_customers) == 1:
        return Match(next(iter(thread_customers)), [])
    ours = set(our_domains())
    domains = []
    for address in addresses:
        for suffix in domain_suffixes(address.rpartition("@")[2]):
            if suffix not in ours and suffix not in domains:
                domains.append(suffix)
    by_domain = list(
        Customer.objects.annotate(domain_lower=Lower("email_domain"))
        .filter(domain_lower__in=domains)
        .exclude(email_domain="")
    )
    if len(by_domain) == 1:
        return Match(by_domain[0], [])
    shown = ", ".join(addresses)
    if len(by_domain) > 1:
        names = ", ".join(sorted(c.name for c in by_domain))
        return Match(None, [], f"The domain of {shown} belongs to several customers: {names}.")
    return Match(None, [], f"No customer matches {shown} or its domain.")


def place_in_thread(
    *,
    key: str,
    subject: str,
    customer: Customer | None,
    at: dt.datetime,
    parent_threads: set[Thread],
) -> Thread:
    """The thread for a message with Message-ID `key`: that of the messages it answers,
    or of replies to it that came before it, or a new one. Threads that turn out to be
    one are merged into the oldest (`thread.merged`)."""
    threads = set(parent_threads)
    if key:
        children = Communication.objects.filter(in_reply_to=key).exclude(thread=None)
        threads |= {c.thread for c in children.select_related("thread") if c.thread}
    if not threads:
        return Thread.objects.create(
            subject=parsing.thread_subject(subject)[:300],
            customer=customer,
            started_at=at,
            last_at=at,
        )
    ordered = sorted(threads, key=lambda t: (t.started_at, t.pk))
    keep, others = ordered[0], ordered[1:]
    for other in others:
        moved = Communication.objects.filter(thread=other).update(thread=keep)
        audit.record("thread.merged", keep, changes={"from_thread": other.pk, "messages": moved})
        keep.started_at = min(keep.started_at, other.started_at)
        keep.last_at = max(keep.last_at, other.last_at)
        other.delete()
    keep.started_at = min(keep.started_at, at)
    keep.last_at = max(keep.last_at, at)
    fields = ["started_at", "last_at"]
    if keep.customer_id is None and customer is not None:
        keep.customer = customer
        fields.append("customer")
    keep.save(update_fields=fields)
    return keep


def apply_mailbox_rule(communication: Communication, mailbox: Mailbox | None) -> None:
    """The mailbox's rule: inbound mail becomes feedback, one item per thread.

    The first inbound message of a thread makes the item; later messages of the thread
    are linked to the item it has. Causes, when the rule applies: `feedbackitem.created`
    (with a complaint number and deadlines for complaints) and the link between the
    two; a message the intake refuses goes to triage with the intake's reason.
    """
    if mailbox is None or mailbox.feedback_source_id is None:
        return
    if communication.direction != Direction.INBOUND or linked_feedback(communication).exists():
        return
    if communication.thread_id is not None:
        earlier = CommunicationLink.objects.filter(
            communication__thread_id=communication.thread_id,
            target_type=ContentType.objects.get_for_model(FeedbackItem),
        ).exclude(communication=communication)
        items = FeedbackItem.objects.filter(
            pk__in=[int(i) for i in earlier.values_list("target_id", flat=True) if i.isdigit()]
        )
        if items:
            for item in items:
                add_link(communication, item, actor=None)
            return
    source = mailbox.feedback_source
    assert source is not None  # noqa: S101 - checked above
    contact = communication.contacts.order_by("pk").first()
    intake = feedback.Intake(
        source=source,
        kind=mailbox.feedback_kind,
        received_at=communication.occurred_at,
        title=communication.subject[:300],
        text=communication.body[: feedback.MAX_TEXT],
        customer=communication.customer,
        contact=contact,
        external_id=communication.message_key[:200],
        external_provider=f"mail:{mailbox.name}"[:200],
    )
    try:
        with transaction.atomic():
            item, _created = feedback.record_feedback(intake)
            add_link(communication, item, actor=None)
    except ValidationError as exc:
        reason = "; ".join(exc.messages)
        communication.problems = [
            *communication.problems,
            f"No feedback item was made from it ({reason}).",
        ]
        communication.status = CommunicationStatus.TRIAGE
        communication.save(update_fields=["problems", "status"])


def store_unreadable(raw: bytes, *, mailbox: Mailbox | None, error: str) -> Communication:
    """Keep a message that ingestion failed on, in triage, with what went wrong."""
    key = message_key("", raw)
    existing = Communication.objects.filter(message_key=key).first()
    if existing is not None:
        return existing
    evidence = store_bytes(
        raw, name="unreadable.eml", content_type="message/rfc822", purpose="mail"
    )
    return Communication.objects.create(
        direction=Direction.INBOUND,
        channel=Channel.EMAIL,
        occurred_at=timezone.now(),
        subject="(message that could not be filed)",
        status=CommunicationStatus.TRIAGE,
        problems=[f"Harken could not file this message: {error}"],
        message_key=key,
        mailbox=mailbox,
        raw_message=evidence,
    )


# --------------------------------------------------------------------------------------
# Runs: files of messages (.eml, mbox) and, in imap.py, mailboxes
# --------------------------------------------------------------------------------------


def start_run(kind: str, *, mailbox: Mailbox | None = None, file: Any = None) -> MailRun:
    return MailRun.objects.create(kind=kind, mailbox=mailbox, file=file, started_at=timezone.now())


def ingest_into_run(
    run: MailRun, raw: bytes, *, received_at: dt.datetime | None = None
) -> Communication | None:
    """Ingest one message for a run and count it; a failure is counted and kept, never raised."""
    run.seen += 1
    try:
        result = ingest_message(raw, mailbox=run.mailbox, received_at=received_at)
    except Exception as exc:  # one bad message must not stop the run (the rest still land)
        run.failed += 1
        error = f"{type(exc).__name__}: {exc}"
        try:
            store_unreadable(raw, mailbox=run.mailbox, error=error)
        except Exception:  # even keeping it failed: the run's summary names it
            run.message = f"{run.message}\nMessage {run.seen}: {error}".strip()
        return None
    if result.created:
        run.created += 1
        if result.communication.status == CommunicationStatus.TRIAGE:
            run.triaged += 1
    else:
        run.duplicates += 1
    return result.communication


def finish_run(run: MailRun, *, error: str = "") -> MailRun:
    run.finished_at = timezone.now()
    run.status = RunStatus.FAILED if error else RunStatus.COMPLETED
    summary = (
        f"{run.seen} messages read: {run.created} new ({run.triaged} to triage), "
        f"{run.duplicates} already in the log, {run.failed} failed."
    )
    run.message = "\n".join(part for part in (summary, error, run.message) if part)
    run.save()
    return run


def import_mail_file(
    stream: IO[bytes],
    *,
    name: str,
    mailbox: Mailbox | None = None,
    progress: Callable[[int], Any] | None = None,
) -> MailRun:
    """Import an .eml file or an mbox archive; the file itself is kept as evidence.

    Messages land one by one (each in its own transaction): a bad one is counted,
    kept in triage with its reason, and the rest still land.
    """
    evidence = store_file(stream, name=name, content_type="application/mbox", purpose="mail import")
    run = start_run(RunKind.FILE, mailbox=mailbox, file=evidence)
    audit.record("mailrun.started", run, changes={"file": name, "sha256": evidence.sha256})
    try:
        for raw in messages_in(evidence):
            ingest_into_run(run, raw)
            if progress is not None:
                progress(run.seen)
    except Exception as exc:  # an unreadable archive: what landed stays, the run says why
        return finish_run(run, error=f"The file could not be read to the end: {exc}")
    return finish_run(run)


def messages_in(evidence: Any) -> Iterator[bytes]:
    """The raw messages of a stored .eml or mbox file."""
    with evidence.open() as handle:
        head = handle.read(64)
    if not parsing.is_mbox(head):
        with evidence.open() as handle:
            yield handle.read()
        return
    # The mailbox module reads from a path: copy the stored file to a temporary one.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "archive.mbox"
        with evidence.open() as source, path.open("wb") as target:
            while chunk := source.read(1024 * 1024):
                target.write(chunk)
        yield from parsing.iter_mbox(path)


# --------------------------------------------------------------------------------------
# Notices to the customers holding a superseded version
# --------------------------------------------------------------------------------------


def notice_template() -> DocumentVersion | None:
    """The current version of the customer-facing revision notice (a controlled document)."""
    versions = DocumentVersion.objects.filter(
        is_current=True, document__kind=DocumentKind.NOTICE_TEMPLATE
    ).select_related("document")
    return versions.filter(document__template_key="notice-revision").first() or versions.first()


@dataclass
class NoticePlan:
    old: DocumentVersion
    new: DocumentVersion | None
    template: DocumentVersion | None
    holders: list[Distribution]
    blockers: list[str]


def plan_notice(old: DocumentVersion) -> NoticePlan:
    """Who would be told about the revision of `old`, and what stops it if anything."""
    new = documents.current_version(old.document)
    template = notice_template()
    holders = list(documents.holders(old))
    blockers = []
    if old.status not in {VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN}:
        blockers.append(f"{old} is {old.get_status_display().lower()}: nothing to tell.")
    if new is None:
        blockers.append(f"{old.document.number} has no current version to send instead.")
    if template is None:
        blockers.append("No approved customer notice template: approve one first.")
    if not holders:
        blockers.append("No customer holds this version.")
    return NoticePlan(old, new, template, holders, blockers)


def render_notice(plan: NoticePlan, holder: Distribution, *, sender: Any) -> tuple[str, str]:
    assert plan.template is not None and plan.new is not None  # noqa: S101 - planned
    document = plan.old.document
    contact = holder.contact.name if holder.contact else holder.customer.name
    values = {
        "contact": contact,
        "customer": holder.customer.name,
        "document": f"{document.title} ({document.number})",
        "old_version": plan.old.label,
        "new_version": plan.new.label,
        "effective_from": plan.new.effective_from.isoformat() if plan.new.effective_from else "",
        "change_summary": plan.new.change_summary or "see the attached version.",
        "sender": (sender.get_full_name() or sender.get_username()) if sender else "",
        "company": settings.COMPANY_NAME,
    }
    body = string.Template(plan.template.body).safe_substitute(values)
    subject = f"Revised: {document.title}, version {plan.new.label}"
    return subject, body


def notice_recipient(holder: Distribution) -> Contact | None:
    if holder.contact is not None and holder.contact.email:
        return holder.contact
    return (
        holder.customer.contacts.exclude(email="")
        .filter(active=True)
        .order_by("-is_primary", "pk")
        .first()
    )


@dataclass
class NoticeResult:
    sent: list[Communication]
    skipped: list[str]


def send_revision_notices(old: DocumentVersion, *, actor: Any) -> NoticeResult:
    """Tell every customer who holds `old` that it was replaced, with the new version.

    For each holder, in its own transaction: an outbound e-mail communication with the
    notice text from the approved template, a distribution of the new version with it
    (occasion "notice"), and the e-mail sent with the new version attached; its
    Message-ID is the communication's, so the customer's reply joins its thread. A
    holder without an e-mail address is skipped and named.
    """
    require(actor, "add")
    plan = plan_notice(old)
    if plan.blockers:
        raise ValidationError({"version": plan.blockers})
    assert plan.new is not None  # noqa: S101 - no blockers
    result = NoticeResult([], [])
    for holder in plan.holders:
        contact = notice_recipient(holder)
        if contact is None:
            result.skipped.append(f"{holder.customer.name}: no contact with an e-mail address")
            continue
        subject, body = render_notice(plan, holder, sender=_person(actor))
        message_id = make_msgid(domain=_mail_domain())
        mail = EmailMessage(subject=subject, body=body, to=[contact.email])
        mail.extra_headers["Message-ID"] = message_id
        name, content, mime = attachment_of(plan.new)
        mail.attach(name, content, mime)
        with transaction.atomic():
            key = key_of(message_id)
            now = timezone.now()
            thread = place_in_thread(
                key=key, subject=subject, customer=holder.customer, at=now, parent_threads=set()
            )
            communication = Communication.objects.create(
                customer=holder.customer,
                direction=Direction.OUTBOUND,
                channel=Channel.EMAIL,
                occurred_at=now,
                staff=_person(actor),
                subject=subject,
                body=body,
                phase=Phase.PRE_SALE,
                thread=thread,
                from_address=settings.DEFAULT_FROM_EMAIL,
                to_addresses=contact.email,
                message_key=key,
                raw_message=store_bytes(
                    mail.message().as_bytes(),
                    name=f"{_file_stem(subject)}.eml",
                    content_type="message/rfc822",
                    purpose="mail",
                ),
            )
            communication.contacts.set([contact])
            provide_documents_notice(communication, plan.new, contact, old, actor)
            mail.send()
        result.sent.append(communication)
    audit.record(
        "documentversion.notice_sent",
        old,
        changes={"sent": len(result.sent), "skipped": result.skipped, "new": plan.new.label},
    )
    return result


def provide_documents_notice(
    communication: Communication,
    version: DocumentVersion,
    contact: Contact,
    old: DocumentVersion,
    actor: Any,
) -> Distribution:
    assert communication.customer is not None  # noqa: S101 - set on creation
    return documents.record_distribution(
        documents.Provision(
            version=version,
            customer=communication.customer,
            contact=contact,
            at=communication.occurred_at,
            occasion=Occasion.NOTICE,
            reason=f"Revision notice {communication.number}: replaces v{old.label}"[:300],
            via=communication,
        ),
        actor=_person(actor),
    )


def attachment_of(version: DocumentVersion) -> tuple[str, bytes, str]:
    document = version.document
    if version.file is not None:
        with version.file.open() as handle:
            return (
                version.file.name,
                handle.read(),
                version.file.content_type or "application/octet-stream",
            )
    name = f"{document.number} {document.title} v{version.label}.txt"
    return re.sub(r"[^\w\-. ]+", "", name), version.body.encode(), "text/plain"


def _mail_domain() -> str:
    sender = settings.DEFAULT_FROM_EMAIL
    return sender.rpartition("@")[2].strip(">") or "harken.invalid"
