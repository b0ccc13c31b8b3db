"""The invitation and reminder e-mails: text and HTML, with a one-click unsubscribe."""

from __future__ import annotations

import datetime as dt
import re
import string
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, make_msgid
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from . import config
from . import texts as wording
from .models import Invitation

URL = re.compile(r"(https?://[^\s<>\"]+)")


def mail_domain() -> str:
    sender = settings.DEFAULT_FROM_EMAIL
    return sender.rpartition("@")[2].strip(">") or "harken.invalid"


def links(token: str) -> tuple[str, str]:
    """The answering link and the unsubscribe link of one token."""
    base = config.public_url()
    return (
        base + reverse("surveys:respond", args=[token]),
        base + reverse("surveys:unsubscribe", args=[token]),
    )


def html_of(text: str) -> str:
    """Paragraphs of escaped text with its addresses as links."""
    paragraphs = []
    for block in text.split("\n\n"):
        escaped = escape(block).replace("\n", "<br>")
        paragraphs.append(URL.sub(r'<a href="\1">\1</a>', escaped))
    return "".join(f"<p>{p}</p>" for p in paragraphs if p)


def invitation_message(
    invitation: Invitation,
    token: str,
    *,
    expires: dt.datetime | None,
    connection: Any = None,
    reminder: bool = False,
) -> EmailMultiAlternatives:
    """The e-mail carrying `token`, in the invitation's language."""
    survey = invitation.survey
    lang = invitation.language
    link, unsubscribe = links(token)
    values = {
        "contact": invitation.contact.name,
        "customer": invitation.customer.name,
        "company": settings.COMPANY_NAME,
        "survey": survey.text(lang, "title") or survey.title,
        "link": link,
        "expires": f"{timezone.localtime(expires):%Y-%m-%d}" if expires else "",
        "unsubscribe": unsubscribe,
    }
    prefix = "reminder" if reminder else "invitation"
    subject_template = survey.text(lang, f"{prefix}_subject") or survey.text(
        lang, "invitation_subject"
    )
    body_template = survey.text(lang, f"{prefix}_body") or survey.text(lang, "invitation_body")
    subject = string.Template(subject_template).safe_substitute(values).replace("\n", " ")
    body = string.Template(body_template).safe_substitute(values)
    if "$unsubscribe" not in body_template:
        body += f"\n\n{unsubscribe}"
    html = render_to_string(
        "surveys/mail/invitation.html",
        {
            "body": html_of(body),
            "link": link,
            "lang": lang,
            "subject": subject,
            "start": wording.ui(lang, "start"),
        },
    )
    message = EmailMultiAlternatives(
        subject=subject[:250],
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
        connection=connection,
        headers={
            "Message-ID": make_msgid(domain=mail_domain()),
            # RFC 8058: mail clients show an unsubscribe button that POSTs here.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message
