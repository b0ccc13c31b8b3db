"""`harken backup --out FILE`: one archive with the database snapshot, every stored file
and a manifest of hashes (core/backup.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from harken.core.backup import BackupError, create_backup
from harken.core.management.base import HarkenCommand


class Command(HarkenCommand):
    help = "Write a consistent backup (database, stored files, manifest) to one archive."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--out", required=True, help="The archive to write (.tar or .tar.gz).")
        parser.add_argument(
            "--gzip",
            action="store_true",
            default=None,
            help="Compress the archive (the default when the name ends in .gz or .tgz).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from rich.progress import Progress

        with Progress(transient=True, disable=not self.stdout.isatty()) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage.capitalize(), total=total)
                bar.update(tasks[stage], completed=done, total=total)

            try:
                result = create_backup(options["out"], compress=options["gzip"], progress=progress)
            except BackupError as exc:
                raise CommandError(str(exc)) from exc
        manifest = result.manifest
        for path in result.missing_files:
            self.stderr.write(f"warning: stored file {path} is missing and was not backed up")
        self.stdout.write(
            f"Backup written to {result.path} ({result.size} bytes, SHA-256 {result.sha256}): "
            f"{manifest['database']['vendor']} database, {len(manifest['tables'])} tables, "
            f"{sum(manifest['tables'].values())} rows, {manifest['files']['count']} files, "
            f"{manifest['audit']['events']} audit events, head {manifest['audit']['head_hash']}"
        )
