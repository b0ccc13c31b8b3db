"""`harken exposure import FILE [--dry-run]`: load monthly exposure figures from a CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from harken.core.management.base import HarkenCommand
from harken.insights.forms import (
    MAX_IMPORT_BYTES,
    ImportFileError,
    import_exposure,
    record_import,
)


class Command(HarkenCommand):
    help = "Import exposure figures (orders shipped, deliveries…) from a CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        sub = parser.add_subparsers(dest="verb", required=True)
        load = sub.add_parser(
            "import",
            help="Upsert figures from a CSV: month (YYYY-MM), kind, product_line, region, value.",
        )
        load.add_argument("file", type=Path)
        load.add_argument("--dry-run", action="store_true", help="Check and count; store nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise CommandError(f"{path} is larger than {MAX_IMPORT_BYTES // 2**20} MB.")
        data = path.read_bytes()
        try:
            result = import_exposure(data, dry_run=options["dry_run"])
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        if not options["dry_run"]:
            record_import(data, path.name, result)
        for line, reason in result.rejected:
            self.stdout.write(f"line {line}: {reason}")
        self.stdout.write(("Dry run: " if options["dry_run"] else "") + result.summary())
