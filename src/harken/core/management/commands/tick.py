"""`harken tick`: the periodic duties every app registers, run once (from cron)."""

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from harken.core.management.base import HarkenCommand
from harken.core.registry import registry


class Command(HarkenCommand):
    help = "Run the periodic duties once: due dates, reminders, escalations, chain check."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--only", action="append", help="Run only the named duty.")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        failures = 0
        for name, duty in registry.tick:
            if options["only"] and name not in options["only"]:
                continue
            try:
                summary = duty(now)
            except Exception as exc:  # a failing duty must not stop the others
                failures += 1
                self.stderr.write(f"{name}: FAILED: {exc}")
            else:
                self.stdout.write(f"{name}: {summary}")
        self.stdout.write(f"tick done: {len(registry.tick) - failures} ok, {failures} failed")
        if failures:
            raise SystemExit(1)
