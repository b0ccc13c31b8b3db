"""`harken rollups --rebuild`: recount the feedback rollups from the items."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from harken.insights.rollups import rebuild_all


class Command(BaseCommand):
    help = "Rebuild the feedback rollups that dashboards read, from the feedback items."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        rows = rebuild_all()
        self.stdout.write(f"{rows:,} rollup rows rebuilt in {time.monotonic() - started:.1f}s")
