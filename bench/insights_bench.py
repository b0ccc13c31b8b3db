"""Dashboard, explore and review-pack timings over a large feedback table.

    python bench/insights_bench.py --items 1000000 [--postgres URL] [--runs 20]

Builds a fresh database (SQLite under a temporary directory, or the PostgreSQL
database given, which it empties) with 300 customers, 8 product lines and N feedback
items over 24 months, rebuilds the rollups, then prints the median server time of:
the dashboard's data (every number and chart), the explore page's query (one metric
split by product line by month), and a quarter's review pack as HTML and as PDF. In
the same run it loads the same rows into DuckDB and times the same aggregates there.

Targets (insights and reviews issues): dashboard < 300 ms on SQLite and < 100 ms on
PostgreSQL; explore < 200 ms; pack HTML < 2 s and PDF < 6 s on SQLite.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path


def median_ms(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm caches and imports
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", help="Run on this PostgreSQL URL (the database is emptied).")
    parser.add_argument("--no-pdf", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="harken-insights-bench-"))
    os.environ.update(
        {
            "HARKEN_DEBUG": "1",
            "HARKEN_DATA_DIR": str(work),
            "HARKEN_TIME_ZONE": "Europe/Berlin",
            "DJANGO_SETTINGS_MODULE": "harken.settings",
        }
    )
    if args.postgres:
        os.environ["HARKEN_DATABASE_URL"] = args.postgres
    else:
        os.environ.pop("HARKEN_DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from harken.core.audit import Actor, audit_context
    from harken.feedback.models import Category, FeedbackItem, PerceptionSource
    from harken.insights import metrics
    from harken.insights.choices import Dimension, Grain, Metric
    from harken.insights.models import Exposure
    from harken.insights.rollups import rebuild_all
    from harken.insights.views import dashboard_data

    if args.postgres:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    engine = "PostgreSQL" if args.postgres else "SQLite"
    rng = random.Random(11)

    with audit_context(actor=Actor.system("bench")):
        call_command("demo", "--seed", "3", stdout=open(os.devnull, "w"))
    from harken.customers.models import Customer, ProductLine

    customers = list(Customer.objects.values_list("pk", "region_id"))
    lines = list(ProductLine.objects.values_list("pk", flat=True))
    categories = list(Category.objects.values_list("pk", flat=True))
    sources = list(PerceptionSource.objects.values_list("pk", "default_kind", "default_scale"))
    today = timezone.localdate()
    start = today - dt.timedelta(days=730)

    # Items straight into the table (the import pipeline has its own benchmark).
    fields = [f for f in FeedbackItem._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    defaults = {f.attname: f.get_default() for f in fields}
    started = time.perf_counter()
    kinds = ["complaint", "survey_response", "compliment", "suggestion", "return_claim"]
    batch = []
    now = timezone.now()

    def flush(rows: list) -> None:
        placeholders = ", ".join(["%s"] * len(columns))
        sql = f'INSERT INTO "{FeedbackItem._meta.db_table}" ({", ".join(columns)}) VALUES ({placeholders})'
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    import json

    for n in range(args.items):
        customer, region = rng.choice(customers)
        # As in real data, a source mostly brings one kind of feedback.
        source, default_kind, _ = rng.choice(sources)
        kind = (
            default_kind
            if default_kind and rng.random() < 0.9
            else rng.choices(kinds, weights=(4, 4, 1, 1, 1))[0]
        )
        received = timezone.make_aware(
            dt.datetime.combine(
                start + dt.timedelta(days=rng.randrange(730)),
                dt.time(rng.randrange(24), rng.randrange(60)),
            )
        )
        score = scale = None
        if kind == "survey_response":
            scale, score = "nps", float(rng.choice((0, 3, 5, 6, 7, 8, 8, 9, 9, 10, 10, 10)))
        values = dict(defaults)
        values.update(
            number=f"BEN-{n:08d}",
            complaint_number=f"BCP-{n:08d}" if kind == "complaint" else None,
            source_id=source,
            kind=kind,
            received_at=received,
            customer_id=customer,
            region_id=region,
            product_line_id=rng.choice(lines),
            category_id=rng.choice(categories) if kind in {"complaint", "return_claim"} else None,
            score=score,
            scale=scale or "",
            sentiment_score=rng.uniform(-1, 1),
            sentiment_label=rng.choice(("negative", "neutral", "positive")),
            sentiment_source="lexicon",
            classification_confirmed=rng.random() < 0.7,
            dedupe_key=f"x:bench-{n}",
            created_at=now,
            updated_at=now,
            text="synthetic feedback for the benchmark",
        )
        row = []
        for f in fields:
            value = values.get(f.attname)
            if f.get_internal_type() == "JSONField":
                value = json.dumps(value)
            elif (
                value is not None
                and f.get_internal_type() == "DateTimeField"
                and connection.vendor == "sqlite"
            ):
                value = value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
            row.append(value)
        batch.append(row)
        if len(batch) == 10_000:
            flush(batch)
            batch = []
    if batch:
        flush(batch)
    total = FeedbackItem.objects.count()
    print(f"{engine}: {total:,} feedback items in place ({time.perf_counter() - started:.0f}s)")
    started = time.perf_counter()
    rows = rebuild_all()
    print(f"{engine}: rollups rebuilt: {rows:,} rows in {time.perf_counter() - started:.1f}s")

    scope = metrics.Scope(
        *(lambda s, e: (s, e))(
            (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1) - dt.timedelta(days=62),
            today.replace(day=1) - dt.timedelta(days=1),
        )
    )
    dashboard = median_ms(lambda: dashboard_data(scope, today), args.runs)
    explore_scope = metrics.Scope(start, today)
    explore = median_ms(
        lambda: metrics.series(
            explore_scope, Metric.COMPLAINTS, Grain.MONTH, by=Dimension.PRODUCT_LINE
        ),
        args.runs,
    )
    print(
        f"{engine}: dashboard data {dashboard:.0f} ms (median of {args.runs}); explore (complaints by product line by month, 2 years) {explore:.0f} ms"
    )

    from django.contrib.auth import get_user_model

    from harken.reviews import services as reviews

    quality = get_user_model().objects.get(username="quality")
    quarter_start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    q_end = quarter_start - dt.timedelta(days=1)
    q_start = dt.date(q_end.year, (q_end.month - 1) // 3 * 3 + 1, 1)
    started = time.perf_counter()
    pack = reviews.draft_pack(actor=quality, period_start=q_start, period_end=q_end)
    reviews.render_html(pack)
    html_s = time.perf_counter() - started
    line = f"{engine}: review pack for {q_start}–{q_end}: content + HTML {html_s:.2f}s"
    if not args.no_pdf:
        started = time.perf_counter()
        reviews.render_pdf(pack)
        line += f", PDF {time.perf_counter() - started:.2f}s more"
    print(line)

    # The same aggregates in DuckDB, from the same rows.
    try:
        import duckdb
    except ImportError:
        print("duckdb is not installed: no comparison", file=sys.stderr)
        return
    export = work / "items.csv"
    started = time.perf_counter()
    with export.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "received_at",
                "kind",
                "product_line_id",
                "region_id",
                "category_id",
                "source_id",
                "scale",
                "score",
                "sentiment_label",
                "classification_confirmed",
            ]
        )
        for row in FeedbackItem.objects.values_list(
            "received_at",
            "kind",
            "product_line_id",
            "region_id",
            "category_id",
            "source_id",
            "scale",
            "score",
            "sentiment_label",
            "classification_confirmed",
        ).iterator(chunk_size=20_000):
            # Naive UTC text: DuckDB reads it as TIMESTAMP (no time-zone package needed).
            writer.writerow(
                [row[0].astimezone(dt.UTC).replace(tzinfo=None).isoformat(" "), *row[1:]]
            )
    duck = duckdb.connect()
    duck.execute(f"CREATE TABLE items AS SELECT * FROM read_csv_auto('{export}')")
    lo, hi = scope.date_from.isoformat(), scope.date_to.isoformat()

    def duck_dashboard() -> None:
        where = (
            f"received_at >= TIMESTAMP '{lo}' AND received_at < TIMESTAMP '{hi}' + INTERVAL 1 DAY"
        )
        duck.execute(f"SELECT kind, count(*) FROM items WHERE {where} GROUP BY kind").fetchall()
        duck.execute(
            f"SELECT score, count(*) FROM items WHERE {where} AND scale='nps' GROUP BY score"
        ).fetchall()
        duck.execute(
            f"SELECT category_id, count(*) FROM items WHERE {where} AND kind='complaint' GROUP BY category_id"
        ).fetchall()
        duck.execute(
            f"SELECT sentiment_label, count(*), sum(CASE WHEN classification_confirmed THEN 1 ELSE 0 END) FROM items WHERE {where} GROUP BY sentiment_label"
        ).fetchall()
        duck.execute(
            "SELECT date_trunc('month', received_at), kind, count(*) FROM items GROUP BY 1, 2"
        ).fetchall()
        duck.execute(
            "SELECT date_trunc('month', received_at), product_line_id, count(*) FROM items WHERE kind='complaint' GROUP BY 1, 2"
        ).fetchall()
        duck.execute(
            "SELECT date_trunc('month', received_at), score, count(*) FROM items WHERE scale='nps' GROUP BY 1, 2"
        ).fetchall()
        duck.execute(
            "SELECT category_id, product_line_id, count(*) FROM items WHERE kind='complaint' GROUP BY 1, 2"
        ).fetchall()

    duck_ms = median_ms(duck_dashboard, args.runs)
    print(
        f"DuckDB (same aggregates from the raw rows, loaded in {time.perf_counter() - started:.0f}s): "
        f"{duck_ms:.0f} ms; Harken/DuckDB = {dashboard / duck_ms:.1f}x"
    )
    _ = Exposure
    print(f"work files in {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
