"""`harken restore FILE`: restore a backup into an empty instance and prove the result."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from harken.core.backup import BackupError, restore_backup
from harken.core.management.base import HarkenCommand


class Command(HarkenCommand):
    help = "Restore a backup archive into an empty database and storage, then verify it."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("archive", help="The archive `harken backup` wrote.")
        parser.add_argument(
            "--expect-sha256",
            default="",
            help="Refuse unless the archive has this SHA-256 (printed by `harken backup`).",
        )

    def actor(self, username: str | None) -> Any:
        # The target database is empty before the restore: there is nobody to look up.
        if username:
            raise CommandError("--as cannot be used with restore: the target has no users yet.")
        return super().actor(None)

    def handle(self, *args: Any, **options: Any) -> None:
        from rich.progress import Progress

        with Progress(transient=True, disable=not self.stdout.isatty()) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage.capitalize(), total=total)
                bar.update(tasks[stage], completed=done, total=total)

            try:
                result = restore_backup(
                    options["archive"], expect_sha256=options["expect_sha256"], progress=progress
                )
            except BackupError as exc:
                raise CommandError(f"Restore refused or failed: {exc}") from exc
        manifest = result.manifest
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} (Harken {manifest['harken_version']}): "
            f"{result.tables} tables, {result.rows} rows, "
            f"{result.files_restored} files restored ({result.files_present} already present)."
        )
        self.stdout.write(
            f"Audit chain OK: {result.audit_events} events verified; head hash "
            f"{result.audit_head_hash} matches the manifest."
        )
        for path in manifest.get("files", {}).get("missing", []):
            self.stderr.write(f"warning: {path} was missing when the backup was made")
        if result.pending_migrations:
            self.stdout.write(
                f"{len(result.pending_migrations)} migrations are newer than the backup: "
                "run `harken migrate` next."
            )
