"""Reading a shared mailbox over IMAP (TLS always), idempotently.

Each unprocessed message is fetched without marking it read, ingested (a new
communication, or recognised by its Message-ID), and only then marked: flagged
`$HarkenFiled` and read, and moved to the done folder when the mailbox has one. A
crash between ingesting and marking therefore costs nothing: the next fetch finds the
message again and recognises it.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from harken.core import audit

from . import services
from .choices import RunKind
from .config import imap_defaults, secret
from .models import Mailbox, MailRun

FILED = "$HarkenFiled"
TIMEOUT = 60


class MailboxError(Exception):
    """The mailbox cannot be read (connection, login, folder); the message says which."""


@dataclass(frozen=True)
class Connection:
    host: str
    port: int
    ssl: bool
    user: str
    password: str
    folder: str
    done_folder: str
    ca_file: str


def connection_for(mailbox: Mailbox) -> Connection:
    """The mailbox's settings, its empty fields filled from HARKEN_IMAP_*."""
    defaults = imap_defaults()
    host = mailbox.host or defaults.host
    if not host:
        raise MailboxError(f"{mailbox}: no IMAP host (set it, or HARKEN_IMAP_HOST).")
    user = mailbox.username or defaults.user
    password = secret(mailbox.password_env)
    if not user or not password:
        raise MailboxError(
            f"{mailbox}: no user name or no password (the password is read from "
            f"${mailbox.password_env})."
        )
    return Connection(
        host=host,
        port=mailbox.port or defaults.port,
        ssl=mailbox.use_ssl,
        user=user,
        password=password,
        folder=mailbox.folder or defaults.folder,
        done_folder=mailbox.done_folder or defaults.done_folder,
        ca_file=mailbox.ca_file or defaults.ca_file,
    )


def quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def connect(settings: Connection) -> imaplib.IMAP4:
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    client: imaplib.IMAP4 | None = None
    try:
        if settings.ssl:
            client = imaplib.IMAP4_SSL(
                settings.host, settings.port, ssl_context=context, timeout=TIMEOUT
            )
        else:
            client = imaplib.IMAP4(settings.host, settings.port, timeout=TIMEOUT)
            client.starttls(ssl_context=context)
        client.login(settings.user, settings.password)
    except (OSError, imaplib.IMAP4.error) as exc:
        if client is not None:
            try:
                client.shutdown()
            except OSError:
                pass
        raise MailboxError(f"{settings.host}:{settings.port}: {exc}") from exc
    assert client is not None  # noqa: S101 - set in the block above
    return client


def capabilities(client: imaplib.IMAP4) -> set[str]:
    """The server's capabilities after login (they may grow with it)."""
    typ, data = client.capability()
    if typ != "OK" or not data or not data[0]:
        return set(client.capabilities)
    return {c.upper() for c in data[0].decode(errors="replace").split()}


def keywords_allowed(client: imaplib.IMAP4) -> bool:
    _typ, data = client.response("PERMANENTFLAGS")
    flags = b" ".join(d for d in data if isinstance(d, bytes))
    return b"\\*" in flags


def fetch_mailbox(
    mailbox: Mailbox,
    *,
    limit: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> MailRun:
    """Fetch the mailbox's unprocessed messages; returns the run with its counts.

    A mailbox that cannot be reached gives a failed run (and MailboxError); a message
    that cannot be filed is counted, kept in triage and never stops the run.
    """
    settings = connection_for(mailbox)
    run = services.start_run(RunKind.IMAP, mailbox=mailbox)
    try:
        client = connect(settings)
    except MailboxError as exc:
        services.finish_run(run, error=str(exc))
        raise
    try:
        typ, _data = client.select(quoted(settings.folder))
        if typ != "OK":
            raise MailboxError(f"{mailbox}: the folder {settings.folder!r} cannot be opened.")
        flagging = keywords_allowed(client)
        criterion = ("UNKEYWORD", FILED) if flagging else ("UNSEEN",)
        typ, data = client.uid("SEARCH", *criterion, "UNDELETED")
        uids = [u.decode() for u in data[0].split()] if typ == "OK" and data and data[0] else []
        if limit is not None:
            uids = uids[:limit]
        can_move = "MOVE" in capabilities(client)
        if settings.done_folder:
            client.create(quoted(settings.done_folder))  # "already exists" is fine
        moved_by_copy = False
        for index, uid in enumerate(uids, start=1):
            raw, received_at = fetch_one(client, uid)
            if raw is None:
                run.seen += 1
                run.failed += 1
                run.message = (
                    f"{run.message}\nUID {uid.decode()}: the server sent no message.".strip()
                )
                continue
            services.ingest_into_run(run, raw, received_at=received_at)
            moved_by_copy |= mark_done(client, uid, settings.done_folder, flagging, can_move)
            if progress is not None:
                progress(index, len(uids))
        if moved_by_copy:
            client.expunge()
    except (OSError, imaplib.IMAP4.error, MailboxError) as exc:
        services.finish_run(run, error=f"{mailbox}: the fetch stopped: {exc}")
        raise MailboxError(str(exc)) from exc
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    mailbox.last_fetched_at = timezone.now()
    mailbox.save(update_fields=["last_fetched_at"])
    run = services.finish_run(run)
    audit.record(
        "mailbox.fetched",
        mailbox,
        changes={
            "run": run.pk,
            "seen": run.seen,
            "created": run.created,
            "duplicates": run.duplicates,
            "failed": run.failed,
        },
    )
    return run


def fetch_one(client: imaplib.IMAP4, uid: str) -> tuple[bytes | None, dt.datetime | None]:
    """The raw bytes of one message (without setting \\Seen) and when the server got it."""
    typ, data = client.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
    if typ != "OK":
        return None, None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1], internal_date(item[0])
    return None, None


def internal_date(response: bytes) -> dt.datetime | None:
    parsed = imaplib.Internaldate2tuple(response)
    if parsed is None:
        return None
    return dt.datetime.fromtimestamp(time.mktime(parsed), tz=dt.UTC)


def mark_done(
    client: imaplib.IMAP4, uid: str, done_folder: str, flagging: bool, can_move: bool
) -> bool:
    """Mark (and move) a processed message. True when it needs an EXPUNGE to leave."""
    flags = f"({FILED} \\Seen)" if flagging else "(\\Seen)"
    client.uid("STORE", uid, "+FLAGS.SILENT", flags)
    if not done_folder:
        return False
    if can_move:
        client.uid("MOVE", uid, quoted(done_folder))
        return False
    typ, _data = client.uid("COPY", uid, quoted(done_folder))
    if typ == "OK":
        client.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
        return True
    return False


def fetch_all(
    mailboxes: list[Mailbox] | None = None, *, limit: int | None = None
) -> tuple[list[MailRun], list[str]]:
    """Fetch every active mailbox; failures are collected, not raised, so one bad mailbox
    does not keep the others' mail out."""
    runs, failures = [], []
    for mailbox in mailboxes if mailboxes is not None else active_mailboxes():
        try:
            runs.append(fetch_mailbox(mailbox, limit=limit))
        except MailboxError as exc:
            failures.append(str(exc))
    return runs, failures


def active_mailboxes() -> list[Mailbox]:
    return list(Mailbox.objects.filter(active=True).select_related("feedback_source"))


def ensure_shared_inbox() -> Mailbox | None:
    """With no mailbox configured but HARKEN_IMAP_HOST set, the shared inbox it describes."""
    defaults = imap_defaults()
    if Mailbox.objects.exists() or not defaults.host:
        return None
    return Mailbox.objects.create(name="Shared inbox", use_ssl=defaults.ssl)


def describe(run: MailRun) -> str:
    return re.sub(r"\s+", " ", run.message.splitlines()[0] if run.message else "")
