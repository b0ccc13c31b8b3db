"""`harken audit verify`: recompute the hash chain and name the first broken link."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from harken.core.audit import verify_chain
from harken.core.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain (exit 1 naming the first broken event)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        sub.add_parser("verify", help="Recompute every event's hash and link.")
        show = sub.add_parser("show", help="Print the latest events.")
        show.add_argument("--limit", type=int, default=20)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "show":
            for event in AuditEvent.objects.order_by("-seq")[: options["limit"]]:
                self.stdout.write(
                    f"{event.seq:>8} {event.at:%Y-%m-%d %H:%M:%S} {event.actor_label:<20} "
                    f"{event.action:<28} {event.object_label}"
                )
            return
        from rich.progress import Progress

        total = AuditEvent.objects.count()
        with Progress(transient=True, disable=not self.stdout.isatty()) as progress:
            task = progress.add_task("Verifying", total=total)
            result = verify_chain(progress=lambda n: progress.update(task, completed=n))
        if result.ok:
            self.stdout.write(f"OK: {result.count} events verified; head hash {result.head_hash}")
            return
        self.stderr.write(
            f"BROKEN at event {result.broken_seq}: {result.reason} "
            f"({result.count} events before it verify)"
        )
        raise SystemExit(1)
