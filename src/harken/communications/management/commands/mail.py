"""`harken mail fetch` and `harken mail import FILE`: shared-inbox mail into the log."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from harken.communications import imap, services
from harken.communications.models import Mailbox, MailRun
from harken.core.management.base import HarkenCommand


def accept_as_after_verb(parser: CommandParser) -> None:
    """`harken mail fetch --as USER` as well as `harken mail --as USER fetch`."""
    parser.add_argument("--as", dest="as_user", metavar="USER", default=argparse.SUPPRESS)


class Command(HarkenCommand):
    help = "Fetch the shared mailboxes over IMAP, or import an .eml file or mbox archive."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        sub = parser.add_subparsers(dest="verb", required=True)
        fetch = sub.add_parser("fetch", help="Read every active mailbox (or one) over IMAP.")
        fetch.add_argument("--mailbox", help="Only this mailbox (its name).")
        fetch.add_argument("--limit", type=int, help="At most this many messages per mailbox.")
        load = sub.add_parser("import", help="Import an .eml file or an mbox archive.")
        load.add_argument("file", type=Path)
        load.add_argument("--mailbox", help="File the mail as if it came through this mailbox.")
        for verb in (fetch, load):
            accept_as_after_verb(verb)

    def mailbox(self, name: str | None) -> Mailbox | None:
        if not name:
            return None
        found = Mailbox.objects.filter(name__iexact=name).first()
        if found is None:
            names = ", ".join(Mailbox.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No mailbox is named {name!r} (mailboxes: {names}).")
        return found

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "import":
            self.import_file(options["file"], self.mailbox(options.get("mailbox")))
        else:
            self.fetch(self.mailbox(options.get("mailbox")), options.get("limit"))

    def import_file(self, path: Path, mailbox: Mailbox | None) -> None:
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        from rich.progress import Progress, TextColumn, TimeElapsedColumn

        columns = (
            TextColumn("{task.description} {task.completed:,} messages"),
            TimeElapsedColumn(),
        )
        with (
            Progress(*columns, disable=not self.stdout.isatty(), transient=True) as progress,
            path.open("rb") as handle,
        ):
            task = progress.add_task(f"Importing {path.name}", total=None)
            run = services.import_mail_file(
                handle,
                name=path.name,
                mailbox=mailbox,
                progress=lambda n: progress.update(task, completed=n),
            )
        self.report(run)

    def fetch(self, mailbox: Mailbox | None, limit: int | None) -> None:
        if mailbox is None:
            imap.ensure_shared_inbox()
            mailboxes = imap.active_mailboxes()
            if not mailboxes:
                raise CommandError(
                    "No mailbox is configured: add one under Communication → Mailboxes, "
                    "or set HARKEN_IMAP_HOST, HARKEN_IMAP_USER and HARKEN_IMAP_PASSWORD."
                )
        else:
            mailboxes = [mailbox]
        runs, failures = imap.fetch_all(mailboxes, limit=limit)
        for run in runs:
            self.report(run)
        for failure in failures:
            self.stderr.write(f"FAILED: {failure}")
        if failures:
            raise CommandError(f"{len(failures)} of {len(mailboxes)} mailboxes could not be read.")

    def report(self, run: MailRun) -> None:
        where = f"{run.mailbox}: " if run.mailbox else ""
        for line in run.message.splitlines():
            self.stdout.write(f"{where}{line}")
