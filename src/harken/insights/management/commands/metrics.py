"""`harken metrics --from … --to … [--by month] [--product-line X] --json`: figures for scripts."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from harken.customers.models import ProductLine
from harken.insights import metrics
from harken.insights.api import metric_payload
from harken.insights.choices import Dimension, Grain, Metric

HEADLINE = (
    Metric.ITEMS,
    Metric.COMPLAINTS,
    Metric.COMPLAINT_RATE,
    Metric.NPS,
    Metric.CSAT,
    Metric.CES,
)


class Command(BaseCommand):
    help = "Print satisfaction metrics for a period (the same figures as the dashboard)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="date_from", help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="date_to", help="Last day, YYYY-MM-DD.")
        parser.add_argument("--by", choices=Grain.values, default=Grain.MONTH, help="The grain.")
        parser.add_argument("--split", choices=Dimension.values, help="Split by a dimension.")
        parser.add_argument("--metric", action="append", choices=Metric.values)
        parser.add_argument("--product-line", action="append", default=[], help="Code or name.")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        params: dict[str, Any] = {}
        if options["date_from"]:
            params["from"] = options["date_from"]
        if options["date_to"]:
            params["to"] = options["date_to"]
        lines = []
        for name in options["product_line"]:
            line = (
                ProductLine.objects.filter(code__iexact=name).first()
                or ProductLine.objects.filter(name__iexact=name).first()
            )
            if line is None:
                raise CommandError(f"No product line has the code or name {name!r}.")
            lines.append(str(line.pk))
        if lines:
            params["product_line"] = lines
        try:
            scope = metrics.scope_from_params(params)
        except metrics.ScopeError as exc:
            raise CommandError(str(exc)) from exc
        chosen = options["metric"] or list(HEADLINE)
        payloads = [metric_payload(scope, m, options["by"], options["split"]) for m in chosen]
        if options["json"]:
            self.stdout.write(json.dumps(payloads, indent=2, default=str))
            return
        self.stdout.write(f"{scope.date_from} to {scope.date_to}")
        for payload in payloads:
            total = payload["total"]
            shown = "—" if total["value"] is None else f"{total['value']:.1f}"
            interval = ""
            if total["lower"] is not None:
                interval = f" [{total['lower']:.1f}, {total['upper']:.1f}]"
            change = payload["change"]
            verdict = ""
            if change["p_value"] is not None:
                verdict = f"; change {change['difference']:+.1f}, p = {change['p_value']:.3g}"
                verdict += " (significant)" if change["significant"] else ""
            self.stdout.write(
                f"  {payload['metric']:<16} {shown}{interval} n={total['n']}{verdict}"
            )
