"""`harken retention`: list the records past their retention period, or dispose of them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from harken.core.management.base import HarkenCommand
from harken.core.models import RetentionRule
from harken.core.retention import active_rules, due, get_type, record_label, run_rule


class Command(HarkenCommand):
    help = "List (--dry-run, the default) or dispose of (--apply) records past retention."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="List only (the default).")
        mode.add_argument("--apply", action="store_true", help="Dispose of what is due.")
        parser.add_argument("--rule", type=int, action="append", help="Only the rule with this id.")
        parser.add_argument("--limit", type=int, help="At most this many records per rule.")
        parser.add_argument(
            "--show", type=int, default=20, help="Records listed per rule in a dry run."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be 1 or more.")
        rules = list(active_rules())
        if options["rule"]:
            wanted = set(options["rule"])
            rules = [rule for rule in rules if rule.pk in wanted]
            known = set(RetentionRule.objects.filter(pk__in=wanted).values_list("pk", flat=True))
            if wanted - known:
                raise CommandError(f"--rule {min(wanted - known)}: no such retention rule.")
        if not rules:
            self.stdout.write("No active retention rules.")
            return
        from rich.progress import Progress

        total_disposed = total_kept = total_due = 0
        for rule in rules:
            self.stdout.write(f"Rule {rule.pk}: {rule} (basis: {rule.basis})")
            if not options["apply"]:
                queryset = due(rule)
                record_type = get_type(rule.record_type)
                date_field = record_type.date_field if record_type else "pk"
                for record in queryset[: options["show"]]:
                    self.stdout.write(
                        f"  {record_label(record)}  {getattr(record, date_field):%Y-%m-%d}"
                    )
                run = run_rule(rule, apply=False)
                total_due += run.due
                self.stdout.write(f"  {run.summary}")
                continue
            with Progress(transient=True, disable=not self.stdout.isatty()) as bar:
                task = bar.add_task(str(rule), total=None)

                def progress(done: int, total: int, task: Any = task, bar: Any = bar) -> None:
                    bar.update(task, completed=done, total=total)

                run = run_rule(rule, apply=True, limit=options["limit"], progress=progress)
            for _label, reason in run.kept:
                self.stdout.write(f"  {reason}")
            total_disposed += len(run.disposed)
            total_kept += len(run.kept)
            self.stdout.write(f"  {run.summary}")
        if options["apply"]:
            self.stdout.write(
                f"retention done: {total_disposed} disposed of, {total_kept} kept; "
                "each disposal is in the audit trail"
            )
        else:
            self.stdout.write(f"dry run: {total_due} records due; nothing was changed")
