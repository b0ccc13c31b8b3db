"""Demo communications: a year of calls, meetings and letters logged by hand, and two
mailboxes' archives (mbox) imported through the same path as real mail.

The story: the sales inbox holds enquiry threads with our replies (and a few messages
nobody could match, which wait in triage, one of them HTML with a script in it); the
complaints inbox turns each new thread into a complaint, acknowledged and resolved
except the latest; calls about complaints are linked to them; meetings hand over the
current spec sheets, recorded as distributions.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from harken.customers.models import Customer
from harken.documents.choices import VersionStatus
from harken.documents.models import DocumentVersion
from harken.feedback import services as feedback
from harken.feedback.models import FeedbackItem, PerceptionSource

from . import services
from .choices import Channel, Direction, Phase
from .models import Communication, Mailbox

OUR_DOMAIN = "harken.example"

ENQUIRIES = (
    (
        "Lead time for DN50 ball valves",
        "Could you confirm the current lead time for 40 pcs of DN50?",
    ),
    (
        "Request for quotation: machined housings",
        "Please quote 200 housings to drawing 7741 rev C.",
    ),
    ("Calibration of our pressure gauges", "We need 35 gauges calibrated before our audit in May."),
    ("Change to order quantities", "Can we raise the call-off for March from 500 to 650 pieces?"),
    ("Material certificates", "Please send the 3.1 certificates for the last delivery."),
    ("Packaging for export", "Our Singapore plant needs seaworthy packaging from now on."),
    ("Drawing revision D", "Attached is revision D; please confirm it affects open orders."),
)
REPLIES = (
    "Thank you — we confirm {weeks} weeks from order; the spec sheet is attached.",
    "Our quotation follows by Friday; we have one question about the tolerance on face B.",
    "Confirmed. The change is booked and the order confirmation will follow today.",
    "The certificates are attached. Let us know if anything is missing.",
)
COMPLAINTS = (
    ("Scratched flange faces", "Six of the flanges delivered on Monday have deep scratches."),
    (
        "Late delivery again",
        "The delivery promised for the 12th arrived on the 19th; our line waited.",
    ),
    ("Wrong thread on adaptors", "The adaptors have BSPP threads instead of NPT as ordered."),
    ("Calibration certificate missing", "Gauges came back without the calibration certificates."),
    ("Leaking valve", "One of the ball valves leaks at the stem after two weeks in service."),
)
CALLS = (
    ("Delivery date check", Phase.DELIVERY, "Asked when the order ships; confirmed the date."),
    ("Price increase question", Phase.QUOTE_ORDER, "Asked about the new price list."),
    ("Technical question on seals", Phase.PRE_SALE, "Explained seal options for hot water."),
    ("Follow-up on complaint", Phase.FEEDBACK, "Told the customer what we found and the fix."),
    ("Quarterly business review", Phase.FEEDBACK, "Reviewed delivery performance and plans."),
    ("New project enquiry", Phase.ENQUIRY, "A new pump line needs 12 valve sizes next year."),
    ("Tooling stored for the customer", Phase.PROPERTY, "Agreed storage of their moulds."),
)


def message(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    at: dt.datetime,
    message_id: str,
    reply_to: str = "",
    references: str = "",
    html: str | None = None,
) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Date"] = format_datetime(at)
    mail["Message-ID"] = message_id
    if reply_to:
        mail["In-Reply-To"] = reply_to
        mail["References"] = references or reply_to
    mail.set_content(body)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    return bytes(mail)


def archive(messages: list[bytes]) -> bytes:
    """An mbox archive (mboxrd: body lines starting with "From " are quoted)."""
    chunks = []
    for raw in messages:
        lines = raw.replace(b"\r\n", b"\n").split(b"\n")
        quoted = [b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in lines]
        chunks.append(
            b"From archive@harken.example Thu Jan  1 00:00:00 2026\n" + b"\n".join(quoted)
        )
    return b"\n\n".join(chunks) + b"\n"


def build_communications(*, seed: int, stdout: Any = None) -> str:
    rng = random.Random(seed + 25)  # noqa: S311 - demo data: reproducible, not secret
    User = get_user_model()
    staff = list(User.objects.filter(groups__name="customer_facing").order_by("username"))
    quality = User.objects.get(username="quality")
    now = timezone.now()
    customers = list(
        Customer.objects.filter(status="active").prefetch_related("contacts").order_by("number")
    )
    complaints_source = PerceptionSource.objects.filter(name="Complaints inbox").first()
    sales = Mailbox.objects.create(
        name="Sales inbox", address=f"orders@{OUR_DOMAIN}", phase=Phase.ENQUIRY
    )
    complaints = Mailbox.objects.create(
        name="Complaints inbox",
        address=f"complaints@{OUR_DOMAIN}",
        feedback_source=complaints_source,
        feedback_kind="complaint",
        phase=Phase.FEEDBACK,
    )

    def when(days_ago: float) -> dt.datetime:
        return now - dt.timedelta(days=days_ago, minutes=rng.randint(0, 600))

    # The sales inbox: enquiry threads with our replies, over the year.
    sales_mail: list[bytes] = []
    for _ in range(70):
        customer = rng.choice(customers)
        contacts = [c for c in customer.contacts.all() if c.email]
        if not contacts:
            continue
        contact = rng.choice(contacts)
        person = rng.choice(staff)
        subject, body = rng.choice(ENQUIRIES)
        start = when(rng.uniform(2, 360))
        first = make_msgid(domain=contact.email.rpartition("@")[2])
        sales_mail.append(
            message(
                sender=f"{contact.name} <{contact.email}>",
                to=sales.address,
                subject=subject,
                body=f"Hello,\n\n{body}\n\nBest regards,\n{contact.name}",
                at=start,
                message_id=first,
            )
        )
        if rng.random() < 0.85:
            reply = make_msgid(domain=OUR_DOMAIN)
            sales_mail.append(
                message(
                    sender=f"{person.get_full_name()} <{person.email}>",
                    to=contact.email,
                    subject=f"Re: {subject}",
                    body=rng.choice(REPLIES).format(weeks=rng.randint(3, 9)) + f"\n\n> {body}",
                    at=start + dt.timedelta(hours=rng.uniform(1, 40)),
                    message_id=reply,
                    reply_to=first,
                )
            )
            if rng.random() < 0.4:
                sales_mail.append(
                    message(
                        sender=contact.email,
                        to=person.email,
                        subject=f"RE: {subject}",
                        body="Thanks, that works for us.",
                        at=start + dt.timedelta(hours=rng.uniform(41, 90)),
                        message_id=make_msgid(domain=contact.email.rpartition("@")[2]),
                        reply_to=reply,
                        references=f"{first} {reply}",
                    )
                )
    # What waits in triage: an unknown sender, and HTML with a script in it.
    sales_mail.append(
        message(
            sender="procurement.newco@gmail.example",
            to=sales.address,
            subject="Supplier registration",
            body="We are a new company and would like to register you as a supplier.",
            at=when(3),
            message_id=make_msgid(domain="gmail.example"),
        )
    )
    sales_mail.append(
        message(
            sender="offers@marketing.example",
            to=sales.address,
            subject="Your exclusive offer",
            body="",
            html='<p>Click <a href="javascript:alert(1)">here</a>'
            "<script>document.location='https://evil.example'</script></p>",
            at=when(1),
            message_id=make_msgid(domain="marketing.example"),
        )
    )
    sales_run = services.import_mail_file(
        io.BytesIO(archive(sales_mail)), name="sales-inbox-archive.mbox", mailbox=sales
    )

    # The complaints inbox: each new thread becomes a complaint.
    complaint_mail = []
    for _ in range(18):
        customer = rng.choice(customers)
        contacts = [c for c in customer.contacts.all() if c.email]
        if not contacts:
            continue
        contact = rng.choice(contacts)
        subject, body = rng.choice(COMPLAINTS)
        complaint_mail.append(
            message(
                sender=f"{contact.name} <{contact.email}>",
                to=complaints.address,
                subject=subject,
                body=body,
                at=when(rng.uniform(1, 350)),
                message_id=make_msgid(domain=contact.email.rpartition("@")[2]),
            )
        )
    complaints_run = services.import_mail_file(
        io.BytesIO(archive(complaint_mail)), name="complaints-archive.mbox", mailbox=complaints
    )
    handled = 0
    from_mail = FeedbackItem.objects.filter(
        external_provider=f"mail:{complaints.name}", acknowledged_at__isnull=True
    )
    for item in from_mail.order_by("received_at"):
        if item.received_at > now - dt.timedelta(days=4):
            continue  # the latest ones are still open
        feedback.acknowledge(item, actor=quality, at=item.received_at + dt.timedelta(hours=20))
        feedback.resolve(
            item,
            actor=quality,
            resolution="Replacement parts sent; cause found at final inspection.",
            at=item.received_at + dt.timedelta(days=rng.randint(4, 15)),
        )
        handled += 1

    # Calls, meetings and letters logged by hand, some handing over current documents.
    logged = 0
    for _ in range(420):
        customer = rng.choice(customers)
        contacts = list(customer.contacts.all())
        subject, phase, notes = rng.choice(CALLS)
        at = when(rng.uniform(0.2, 365))
        channel = rng.choices(
            [Channel.PHONE, Channel.MEETING, Channel.LETTER, Channel.CHAT, Channel.TICKET],
            weights=(0.6, 0.2, 0.05, 0.1, 0.05),
        )[0]
        direction = rng.choice([Direction.INBOUND, Direction.OUTBOUND])
        versions: list[DocumentVersion] = []
        if channel == Channel.MEETING and direction == Direction.OUTBOUND:
            available = DocumentVersion.objects.filter(
                status=VersionStatus.APPROVED,
                is_current=True,
                approved_at__lte=at,
                document__kind__in=["spec_sheet", "service_description"],
            )
            choices = list(available.order_by("pk"))
            versions = [rng.choice(choices)] if choices else []
        concerns = []
        if phase == Phase.FEEDBACK:
            concerns = list(
                FeedbackItem.objects.filter(customer=customer, received_at__lte=at).order_by(
                    "-received_at"
                )[:1]
            )
        services.log_communication(
            services.Entry(
                customer=customer,
                channel=channel,
                direction=direction,
                subject=subject,
                body=notes,
                occurred_at=at,
                contacts=rng.sample(contacts, k=min(len(contacts), 1)),
                staff=rng.choice(staff),
                phase=phase,
                concerns=concerns,
                versions=versions,
            ),
            actor=rng.choice(staff),
        )
        logged += 1
    return (
        f"{Communication.objects.count()} communications: {logged} logged by hand; "
        f"mail {sales_run.created + complaints_run.created} imported from 2 mbox archives "
        f"({sales_run.triaged + complaints_run.triaged} in triage), {handled} complaints handled"
    )
