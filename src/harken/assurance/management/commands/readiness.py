"""`harken readiness`: ask the auditor's questions of the data; exit 1 when any fails."""

from typing import Any

from django.core.management.base import CommandParser

from harken.assurance.readiness import run
from harken.core.management.base import HarkenCommand

SYMBOLS = {"pass": "PASS", "warn": "WARN", "fail": "FAIL"}


class Command(HarkenCommand):
    help = "Run the readiness check (stored, so it is trended) and print each answer."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--details", action="store_true", help="List the records behind each finding."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        findings, stored = run()
        for finding in findings:
            self.stdout.write(
                f"{SYMBOLS[finding.outcome]}  {finding.question}\n      {finding.message}"
            )
            if options["details"]:
                for label, url in finding.records:
                    self.stdout.write(f"        - {label} {url}")
        assert stored is not None  # noqa: S101 - run() stores by default
        self.stdout.write(f"{stored.passed} pass, {stored.warned} warn, {stored.failed} fail")
        if stored.failed:
            raise SystemExit(1)
