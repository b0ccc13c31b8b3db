"""Factories for the communication models, and builders of raw e-mail for the tests."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

import factory
from django.utils import timezone
from tests.factories import CustomerFactory

from harken.communications.choices import Channel, CommunicationStatus, Direction
from harken.communications.models import Communication, Mailbox


class MailboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mailbox
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Mailbox {n}")
    address = factory.Sequence(lambda n: f"inbox{n}@harken-company.example")


class CommunicationFactory(factory.django.DjangoModelFactory):
    """A logged phone call, filed under its customer."""

    class Meta:
        model = Communication

    customer = factory.SubFactory(CustomerFactory)
    direction = Direction.INBOUND
    channel = Channel.PHONE
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=2))
    subject = factory.Sequence(lambda n: f"Call {n}")
    body = "Asked about the delivery date."
    status = CommunicationStatus.FILED


def mail(
    *,
    subject: str = "Question about our order",
    sender: str = "buyer@customer.example",
    to: str = "sales@harken-company.example",
    body: str = "Hello, when will the parts ship?",
    message_id: str | None = "<msg-1@customer.example>",
    in_reply_to: str | None = None,
    references: str | None = None,
    html: str | None = None,
    date: dt.datetime | None = None,
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> bytes:
    """One RFC 5322 message as bytes, as a mail client would send it."""
    message = EmailMessage()
    message["Subject"] = subject
    if sender:
        message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(date or timezone.now() - dt.timedelta(minutes=5))
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for name, data, content_type in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)


def mbox(*messages: bytes) -> bytes:
    """An mbox archive of the messages (mboxrd quoting of body lines starting with From)."""
    out = []
    for raw in messages:
        lines = raw.replace(b"\r\n", b"\n").split(b"\n")
        quoted = [b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in lines]
        out.append(b"From sender@example Mon Jan  5 10:00:00 2026\n" + b"\n".join(quoted) + b"\n")
    return b"\n".join(out)
