"""E-mail that leaves for a customer and is logged as a communication at the same time.

The same steps as the communications app's revision notices: the message gets a
Message-ID that is also the communication's key (so the customer's reply joins its
thread), the sent message is kept as an evidence file, the communication is linked to
the records it concerns, and the mail is sent last, inside the transaction, so a mail
server that refuses it leaves nothing recorded as sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, make_msgid
from django.db import models, transaction
from django.utils import timezone

from harken.communications import services as communications
from harken.communications.choices import Channel, Direction
from harken.communications.models import Communication
from harken.core.files import store_bytes
from harken.customers.models import Contact, Customer


def mail_domain() -> str:
    sender = settings.DEFAULT_FROM_EMAIL
    return sender.rpartition("@")[2].strip(">") or "harken.invalid"


def file_stem(subject: str) -> str:
    return re.sub(r"[^\w\- ]+", "", subject)[:80].strip() or "message"


def send_logged_mail(
    *,
    customer: Customer,
    contact: Contact,
    subject: str,
    body: str,
    staff: Any,
    phase: str,
    concerns: Sequence[models.Model] = (),
) -> Communication:
    """Send one e-mail to `contact` and log it as an outbound communication.

    Causes `communication.created` (with the sent message as evidence) and one link per
    record in `concerns`. Raises ValidationError naming `to` when the mail server
    refuses the message; then nothing is recorded.
    """
    if not contact.email:
        raise ValidationError({"to": f"{contact.name} has no e-mail address."})
    message_id = make_msgid(domain=mail_domain())
    mail = EmailMessage(subject=subject, body=body, to=[contact.email])
    mail.extra_headers["Message-ID"] = message_id
    with transaction.atomic():
        key = communications.key_of(message_id)
        now = timezone.now()
        thread = communications.place_in_thread(
            key=key, subject=subject, customer=customer, at=now, parent_threads=set()
        )
        communication = Communication.objects.create(
            customer=customer,
            direction=Direction.OUTBOUND,
            channel=Channel.EMAIL,
            occurred_at=now,
            staff=staff,
            subject=subject[:300],
            body=body,
            phase=phase,
            thread=thread,
            from_address=settings.DEFAULT_FROM_EMAIL,
            to_addresses=contact.email,
            message_key=key,
            raw_message=store_bytes(
                mail.message().as_bytes(),
                name=f"{file_stem(subject)}.eml",
                content_type="message/rfc822",
                purpose="mail",
            ),
        )
        communication.contacts.set([contact])
        for record in concerns:
            communications.add_link(communication, record, actor=None)
        try:
            mail.send()
        except OSError as exc:  # smtplib's errors are OSErrors
            raise ValidationError(
                {"to": f"The mail server refused the message to {contact.email}: {exc}"}
            ) from exc
    return communication


def notify_people(users: Sequence[Any], *, subject: str, body: str) -> tuple[list[str], str]:
    """E-mail colleagues (an internal escalation). Returns (usernames told, error).

    A refusing mail server does not stop the escalation being recorded: the error is
    returned so the audit event says who was not reached.
    """
    recipients = [u for u in users if u.email]
    if not recipients:
        return [], ""
    try:
        EmailMessage(subject=subject[:200], body=body, to=[u.email for u in recipients]).send()
    except OSError as exc:
        return [], f"not sent: {exc}"
    return [u.get_username() for u in recipients], ""
