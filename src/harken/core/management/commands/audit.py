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
        export = sub.add_parser("export", help="Write the evidence pack of a period (a ZIP).")
        export.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD")
        export.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD")
        export.add_argument("--out", required=True, help="The ZIP to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "export":
            self.export(options)
            return
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

    def export(self, options: dict[str, Any]) -> None:
        import datetime as dt

        from django.core.management.base import CommandError

        from harken.core.registry import registry

        try:
            start = dt.date.fromisoformat(options["date_from"])
            end = dt.date.fromisoformat(options["date_to"])
        except ValueError as exc:
            raise CommandError("--from and --to take dates as YYYY-MM-DD.") from exc
        if start > end:
            raise CommandError("--from is after --to.")
        if not registry.audit_export:
            raise CommandError(
                "No app provides the evidence pack (the assurance app is not installed)."
            )
        record = registry.audit_export[0](start, end, options["out"])
        self.stdout.write(
            f"{record.number}: evidence pack written to {options['out']} "
            f"(SHA-256 {record.file.sha256}; chain head {record.chain_head_seq} {record.chain_head_hash})"
        )
