"""`harken demo`: build the demo company (every app adds its records), deterministically."""

import time
from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from harken.core.demo import demo_loaded
from harken.core.management.base import HarkenCommand
from harken.core.registry import registry
from harken.core.ticks import refresh_statistics


class Command(HarkenCommand):
    help = "Load the demo company: customers, people per role, and each app's records."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed (same seed, same company)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if demo_loaded():
            self.stdout.write("The demo company is loaded already; nothing to do.")
            return
        started = time.monotonic()
        for _order, name, builder in registry.demo:
            part_started = time.monotonic()
            with transaction.atomic():
                summary = builder(seed=options["seed"], stdout=self.stdout)
            self.stdout.write(f"  {name}: {summary} ({time.monotonic() - part_started:.1f}s)")
        refresh_statistics()
        self.stdout.write(f"Demo company loaded in {time.monotonic() - started:.1f}s.")
