"""`harken import FILE --source NAME`: import a feedback export, with a summary of rejects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from harken.core.management.base import HarkenCommand
from harken.feedback.importers import MAPPABLE_FIELDS, PRESETS, SCALES
from harken.feedback.importing import (
    ImportError_,
    Options,
    create_batch,
    rejected_rows,
    run_import,
    score_sentiment,
)
from harken.feedback.models import PerceptionSource
from harken.feedback.signals import batch_changed

SHOWN_REJECTS = 50


class Command(HarkenCommand):
    help = "Import feedback from a CSV, XLSX, JSON or JSON Lines file into a source."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", required=True, help="The perception source's name.")
        parser.add_argument("--preset", choices=list(PRESETS), help="Default: detect.")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help=f"Map a column to a field ({', '.join(MAPPABLE_FIELDS)}).",
        )
        parser.add_argument("--scale", choices=list(SCALES), help="The scale of a mapped score.")
        parser.add_argument("--kind", help="The kind of item when the file does not say.")
        parser.add_argument("--date-order", choices=["mdy", "dmy"])
        parser.add_argument("--time-zone", help="Time zone of dates without one.")
        parser.add_argument("--delimiter")
        parser.add_argument("--encoding")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count; store nothing."
        )
        parser.add_argument(
            "--no-sentiment", action="store_true", help="Leave lexicon sentiment for later."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        source = PerceptionSource.objects.filter(name__iexact=options["source"]).first()
        if source is None:
            names = ", ".join(PerceptionSource.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No source is named {options['source']!r} (sources: {names}).")
        mapping = {}
        for pair in options["map"]:
            field, sep, column = pair.partition("=")
            if not sep or field not in MAPPABLE_FIELDS:
                raise CommandError(
                    f"--map {pair!r}: use FIELD=COLUMN with a field of {MAPPABLE_FIELDS}."
                )
            mapping[field] = column
        choices = Options(
            preset=options["preset"] or "",
            mapping=mapping,
            scale=options["scale"] or "",
            kind=options["kind"] or "",
            date_order=options["date_order"] or "",
            time_zone=options["time_zone"] or "",
            delimiter=options["delimiter"] or "",
            encoding=options["encoding"] or "",
        )
        try:
            with path.open("rb") as handle:
                batch = create_batch(
                    source=source,
                    upload=handle,
                    name=path.name,
                    options=choices,
                    dry_run=options["dry_run"],
                )
        except ImportError_ as exc:
            raise CommandError(str(exc)) from exc

        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, disable=not self.stdout.isatty(), transient=True) as progress:
            task = progress.add_task(f"Importing {path.name}", total=None)
            batch = run_import(batch, progress=lambda n: progress.update(task, completed=n))
            if batch.created_count and not batch.dry_run and not options["no_sentiment"]:
                scored = progress.add_task("Scoring sentiment", total=batch.created_count)
                score_sentiment(batch, progress=lambda n: progress.update(scored, completed=n))
            if batch.created_count and not batch.dry_run:
                batch_changed(batch)
        for line, column, reason in rejected_rows(batch, limit=SHOWN_REJECTS):
            self.stdout.write(
                f"  rejected line {line}" + (f", column {column}" if column else "") + f": {reason}"
            )
        if batch.rejected_count > SHOWN_REJECTS:
            self.stdout.write(
                f"  … and {batch.rejected_count - SHOWN_REJECTS:,} more in the batch's rejects file"
            )
        self.stdout.write(f"{batch.number}: {batch.message} File SHA-256 {batch.file.sha256}.")
        if batch.status == "failed":
            raise CommandError(f"{batch.number} failed: {batch.message}")
