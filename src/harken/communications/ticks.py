"""Communications' periodic duty: fetch the shared mailboxes."""

from __future__ import annotations

import datetime as dt

from . import imap


def fetch_mail(now: dt.datetime) -> str:
    """Fetch every active mailbox; a mailbox that cannot be read fails the duty (and so
    `harken tick` exits non-zero) after the others were fetched."""
    imap.ensure_shared_inbox()
    mailboxes = imap.active_mailboxes()
    if not mailboxes:
        return "no mailbox to fetch"
    runs, failures = imap.fetch_all(mailboxes)
    summary = "; ".join(f"{run.mailbox}: {imap.describe(run)}" for run in runs)
    if failures:
        raise RuntimeError("; ".join([*failures, summary]))
    return summary
