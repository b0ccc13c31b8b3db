"""`harken pack --period 2026-Q3 [--scope NAME] --format pdf|html --out FILE [--issue]`."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from harken.core.management.base import HarkenCommand
from harken.reviews import services
from harken.reviews.choices import PackKind
from harken.reviews.models import ReviewSeries


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """2026-Q3, 2026-07, 2026-H1, 2026, or 2026-07-01..2026-09-30."""
    if ".." in text:
        first, _, last = text.partition("..")
        return dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
        year, quarter = int(m[1]), int(m[2])
        start = dt.date(year, 3 * quarter - 2, 1)
        return start, services.add_months(start, 3) - dt.timedelta(days=1)
    if m := re.fullmatch(r"(\d{4})-H([12])", text):
        start = dt.date(int(m[1]), 1 if m[2] == "1" else 7, 1)
        return start, services.add_months(start, 6) - dt.timedelta(days=1)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        start = dt.date(int(m[1]), int(m[2]), 1)
        return start, services.add_months(start, 1) - dt.timedelta(days=1)
    if re.fullmatch(r"\d{4}", text):
        return dt.date(int(text), 1, 1), dt.date(int(text), 12, 31)
    raise ValueError(text)


class Command(HarkenCommand):
    help = "Produce a Customer Satisfaction Review Pack (or management review input) for a period."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--period", required=True, help="2026-Q3, 2026-07, 2026-H1, 2026 or FROM..TO"
        )
        parser.add_argument("--scope", help="A review series' name: its scope and kind.")
        parser.add_argument(
            "--management", action="store_true", help="The management review input."
        )
        parser.add_argument("--format", choices=["pdf", "html"], default="pdf")
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument(
            "--issue", action="store_true", help="Also issue (freeze and hash) the pack."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            start, end = parse_period(options["period"])
        except ValueError as exc:
            raise CommandError(
                f"--period {options['period']!r}: use 2026-Q3, 2026-07, 2026-H1, 2026 or FROM..TO."
            ) from exc
        series = None
        if options["scope"]:
            series = ReviewSeries.objects.filter(name__iexact=options["scope"]).first()
            if series is None:
                names = ", ".join(ReviewSeries.objects.values_list("name", flat=True)) or "none"
                raise CommandError(
                    f"No review series is named {options['scope']!r} (series: {names})."
                )
        actor = None
        if options.get("as_user"):
            actor = get_user_model().objects.get(username=options["as_user"])
        if options["issue"] and actor is None:
            raise CommandError("Issuing needs a person: add --as USERNAME (a quality manager).")
        kind = PackKind.MANAGEMENT if options["management"] else None
        try:
            pack = services.draft_pack(
                actor=actor, period_start=start, period_end=end, series=series, kind=kind
            )
            if options["issue"]:
                services.issue(pack, actor=actor, with_pdf=options["format"] == "pdf")
        except Exception as exc:
            from django.core.exceptions import PermissionDenied, ValidationError

            if isinstance(exc, ValidationError | PermissionDenied):
                raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
            raise
        data = (
            services.render_pdf(pack)
            if options["format"] == "pdf"
            else services.render_html(pack).encode()
        )
        options["out"].write_bytes(data)
        services.record_export(pack, options["format"])
        state = "issued" if options["issue"] else "draft"
        self.stdout.write(
            f"{pack.number} ({state}) written to {options['out']} ({len(data):,} bytes)"
        )
