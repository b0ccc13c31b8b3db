"""Demo exposure (orders shipped, deliveries, on time in full, active customers), quality
objectives, rollups and the signals the demo data holds."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from harken.customers.models import Customer, ProductLine
from harken.feedback.models import Category

from .choices import Comparator, ExposureKind, Frequency, Metric
from .models import Exposure, QualityObjective
from .rollups import rebuild_all

MONTHS = 24


def build_insights(*, seed: int, stdout: Any = None) -> str:
    rng = random.Random(seed + 11)  # noqa: S311 - demo data: reproducible, not secret
    today = timezone.localdate()
    first = today.replace(day=1)
    months = []
    for back in range(MONTHS - 1, -1, -1):
        year, month = first.year, first.month - back
        while month <= 0:
            month += 12
            year -= 1
        months.append(dt.date(year, month, 1))
    lines = list(ProductLine.objects.all())
    rows = []
    for start in months:
        share = 1.0 if start < first else today.day / 31
        for line in lines:
            base = {
                "VAL": 900,
                "HYD": 1100,
                "MAC": 700,
                "MLD": 600,
                "SHM": 500,
                "PCB": 800,
                "CAL": 300,
                "FLD": 200,
            }.get(line.code, 400)
            orders = round(base * share * rng.uniform(0.9, 1.1))
            deliveries = round(orders * 1.3)
            otif_rate = rng.uniform(0.9, 0.97)
            rows += [
                Exposure(
                    month=start, kind=ExposureKind.ORDERS_SHIPPED, product_line=line, value=orders
                ),
                Exposure(
                    month=start, kind=ExposureKind.DELIVERIES, product_line=line, value=deliveries
                ),
                Exposure(
                    month=start,
                    kind=ExposureKind.DELIVERIES_OTIF,
                    product_line=line,
                    value=round(deliveries * otif_rate),
                ),
            ]
        totals: dict[str, float] = {}
        for exposure in rows[-3 * len(lines) :]:
            totals[exposure.kind] = totals.get(exposure.kind, 0) + exposure.value
        for kind, total in totals.items():
            rows.append(Exposure(month=start, kind=kind, value=total))
        rows.append(
            Exposure(
                month=start,
                kind=ExposureKind.ACTIVE_CUSTOMERS,
                value=Customer.objects.filter(status="active").count(),
            )
        )
    for exposure in rows:
        exposure.save()
    quality = get_user_model().objects.filter(username="quality").first()
    objectives = [
        QualityObjective(
            name="NPS at least 40 for key accounts",
            metric=Metric.NPS,
            comparator=Comparator.AT_LEAST,
            target=40,
            scope={"segments": ["key_account"]},
            owner=quality,
            frequency=Frequency.QUARTERLY,
        ),
        QualityObjective(
            name="Delivery complaints at most 5 per 1,000 orders on every product line",
            metric=Metric.COMPLAINT_RATE,
            comparator=Comparator.AT_MOST,
            target=5,
            scope={
                "categories": list(
                    Category.objects.filter(code="delivery").values_list("pk", flat=True)
                )
            },
            per_product_line=True,
            owner=quality,
        ),
        QualityObjective(
            name="CSAT at least 85 %",
            metric=Metric.CSAT,
            comparator=Comparator.AT_LEAST,
            target=85,
            owner=quality,
        ),
    ]
    for objective in objectives:
        if objective.owner_id:
            objective.save()
    rebuilt = rebuild_all()
    from .detection import detect

    signals = detect(today)
    return (
        f"{len(rows)} exposure figures, {len(objectives)} objectives, {rebuilt} rollup rows, "
        f"{len(signals)} signals"
    )
