"""Telling a person that their sign-in changed (ASVS 2.2.3, 2.5.5).

A new password, a second factor set up or removed, and new recovery codes each send a
short e-mail to the person's own address once the change is committed, so that someone
who did not make it finds out. The audit trail records the change either way; a person
without an address gets no mail.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from harken.core import audit

MESSAGES = {
    "password": (
        "Your Harken password was changed",
        "The password of your Harken account {username} was changed on {when}{where}.",
    ),
    "factor_on": (
        "A second factor was set up for your Harken account",
        "An authenticator app was set up as the second factor of your Harken account "
        "{username} on {when}{where}, with new recovery codes.",
    ),
    "factor_off": (
        "The second factor of your Harken account was removed",
        "The second factor of your Harken account {username} was removed on {when}{where}.",
    ),
    "codes": (
        "New recovery codes for your Harken account",
        "New recovery codes were made for your Harken account {username} on {when}{where}; "
        "the old ones no longer work.",
    ),
}
FOOTER = (
    "\n\nIf this was you, there is nothing to do. If it was not, tell your administrator "
    "at once: they can sign you out everywhere and reset your account.\n\n{company}"
)


def tell(user: Any, what: str) -> None:
    """Queue the mail about `what` (a MESSAGES key) to `user`, sent after the commit."""
    address = getattr(user, "email", "") or ""
    if not address:
        return
    subject, body = MESSAGES[what]
    request = audit.current_context().request
    if request is not None:  # once per request, however often the record is saved
        told = request.__dict__.setdefault("_harken_told", set())
        if (user.pk, what) in told:
            return
        told.add((user.pk, what))
    where = ""
    if request is not None:
        from .throttle import client_address

        where = f", from the address {client_address(request)}"
    text = body.format(
        username=user.get_username(),
        when=timezone.localtime().strftime("%Y-%m-%d %H:%M %Z"),
        where=where,
    ) + FOOTER.format(company=settings.COMPANY_NAME)

    def send() -> None:
        send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=True)

    transaction.on_commit(send)
