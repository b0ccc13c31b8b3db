"""Dashboard, explore and review-pack timings over a large feedback table.

    python -u bench/insights_bench.py --items 1000000 [--postgres URL] [--runs 20]
    python -u bench/insights_bench.py --reuse DIR   # measure a database left by a run

Builds a fresh database (SQLite under a temporary directory, or the PostgreSQL
database given, which it empties) with the demo data, 300 customers and N feedback
items spread uniformly over 24 months (inserted with executemany, not the ORM),
rebuilds the rollups, then prints the median server time of: the dashboard's data
(every number and chart; the function and the JSON endpoint through Django's test
client), the explore page for complaints split by product line by month over two
years, and a quarter's review pack as HTML and as PDF (content included in both).
In the same run it loads the same rows into DuckDB and times the aggregates the
dashboard needs there, computed from the raw rows, and prints the ratio.

Targets (insights and reviews issues): dashboard < 300 ms on SQLite and < 100 ms on
PostgreSQL; explore < 200 ms; pack HTML < 2 s and PDF < 6 s on SQLite.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CUSTOMERS = 300


def median_ms(fn: Callable[[], object], runs: int) -> float:
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
    parser.add_argument("--pack-runs", type=int, default=3)
    parser.add_argument(
        "--reuse",
        metavar="DIR",
        help="Measure the SQLite database a previous run left in DIR (no new data).",
    )
    args = parser.parse_args()

    work = Path(args.reuse or tempfile.mkdtemp(prefix="harken-insights-bench-"))
    os.environ.update(
        {
            "HARKEN_DEBUG": "1",
            "HARKEN_DATA_DIR": str(work),
            "HARKEN_TIME_ZONE": "Europe/Berlin",
            "HARKEN_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "DJANGO_SETTINGS_MODULE": "harken.settings",
        }
    )
    if args.postgres:
        os.environ["HARKEN_DATABASE_URL"] = args.postgres
    else:
        os.environ.pop("HARKEN_DATABASE_URL", None)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from harken.core.audit import Actor, audit_context
    from harken.core.ticks import refresh_statistics
    from harken.feedback.models import Category, FeedbackItem, PerceptionSource
    from harken.insights import metrics
    from harken.insights.choices import Dimension, Grain, Metric
    from harken.insights.models import RollupCell
    from harken.insights.rollups import rebuild_all
    from harken.insights.views import dashboard_data, explore_table

    engine = "PostgreSQL" if args.postgres else "SQLite"
    rng = random.Random(11)
    today = timezone.localdate()
    start = today - dt.timedelta(days=730)
    if not args.reuse:
        if args.postgres:
            call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)

        with audit_context(actor=Actor.system("bench")):
            call_command("demo", "--seed", "3", stdout=open(os.devnull, "w"))
        from harken.customers.choices import Segment
        from harken.customers.models import Customer, ProductLine, Region

        regions = list(Region.objects.values_list("pk", flat=True))
        with audit_context(actor=Actor.system("bench")):
            for n in range(max(0, CUSTOMERS - Customer.objects.count())):
                Customer.objects.create(
                    name=f"Bench customer {n:03d}",
                    segment=rng.choice(Segment.values),
                    region_id=rng.choice(regions),
                )
        customers = list(Customer.objects.values_list("pk", "region_id"))
        lines = list(ProductLine.objects.values_list("pk", flat=True))
        categories = list(Category.objects.values_list("pk", flat=True))
        sources = list(PerceptionSource.objects.values_list("pk", "default_kind", "default_scale"))
        today = timezone.localdate()
        start = today - dt.timedelta(days=730)

        # Items straight into the table with executemany (the import pipeline has its own
        # benchmark): each column's value is generated directly, in the backend's format.
        fields = [f for f in FeedbackItem._meta.concrete_fields if not f.primary_key]
        columns = [f.column for f in fields]
        defaults = {f.attname: f.get_default() for f in fields}
        for f in fields:
            if f.get_internal_type() == "JSONField":
                defaults[f.attname] = json.dumps(defaults[f.attname])
        sqlite = connection.vendor == "sqlite"
        started = time.perf_counter()
        kinds = ["complaint", "survey_response", "compliment", "suggestion", "return_claim"]
        now = timezone.now()

        def stamp(moment: dt.datetime | None) -> Any:
            if moment is None or not sqlite:
                return moment
            return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")

        placeholders = ", ".join(["%s"] * len(columns))
        insert = (
            f'INSERT INTO "{FeedbackItem._meta.db_table}" ({", ".join(columns)}) '
            f"VALUES ({placeholders})"
        )
        # The zone's offsets over the two years, to make local times without zoneinfo per row.
        first_moment = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
        index = {name: i for i, name in enumerate(f.attname for f in fields)}
        template = [defaults[f.attname] for f in fields]
        batch: list[list[Any]] = []
        day_span = 730 * 24 * 60
        for n in range(args.items):
            customer, region = rng.choice(customers)
            # As in real data, a source mostly brings one kind of feedback.
            source, default_kind, _ = rng.choice(sources)
            kind = (
                default_kind
                if default_kind and rng.random() < 0.9
                else rng.choices(kinds, weights=(4, 4, 1, 1, 1))[0]
            )
            received = first_moment + dt.timedelta(minutes=rng.randrange(day_span))
            row = list(template)
            score: float | None = None
            scale = ""
            if kind == "survey_response":
                pick = rng.random()
                if pick < 0.6:
                    scale, score = "nps", float(rng.choice((0, 3, 5, 6, 7, 8, 8, 9, 9, 10, 10, 10)))
                elif pick < 0.85:
                    scale, score = "csat", float(rng.choice((1, 2, 3, 4, 4, 5, 5)))
                else:
                    scale, score = "ces", float(rng.choice((1, 2, 2, 3, 3, 4, 5, 6, 7)))
            acknowledged = resolved = ack_due = resolve_due = None
            if kind == "complaint":
                ack_due = received + dt.timedelta(hours=48)
                resolve_due = received + dt.timedelta(days=10)
                if rng.random() < 0.95:
                    acknowledged = received + dt.timedelta(minutes=int(rng.expovariate(1 / 1200)))
                    if rng.random() < 0.75:
                        resolved = acknowledged + dt.timedelta(
                            minutes=int(rng.expovariate(1 / 7200))
                        )
            values = {
                "number": f"BEN-{n:08d}",
                "complaint_number": f"BCP-{n:08d}" if kind == "complaint" else None,
                "source_id": source,
                "kind": kind,
                "received_at": stamp(received),
                "customer_id": customer,
                "region_id": region,
                "product_line_id": rng.choice(lines),
                "category_id": rng.choice(categories)
                if kind in {"complaint", "return_claim"}
                else None,
                "score": score,
                "scale": scale,
                "sentiment_score": rng.uniform(-1, 1),
                "sentiment_label": rng.choice(("negative", "neutral", "positive")),
                "sentiment_source": "lexicon",
                "classification_confirmed": rng.random() < 0.7,
                "impact": rng.choice(("minor", "major", "critical")) if kind == "complaint" else "",
                "acknowledged_at": stamp(acknowledged),
                "resolved_at": stamp(resolved),
                "acknowledge_due": stamp(ack_due),
                "resolve_due": stamp(resolve_due),
                "dedupe_key": f"x:bench-{n}",
                "created_at": stamp(now),
                "updated_at": stamp(now),
                "text": "synthetic feedback for the benchmark",
            }
            for name, value in values.items():
                row[index[name]] = value
            batch.append(row)
            if len(batch) == 20_000:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.executemany(insert, batch)
                batch = []
        if batch:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(insert, batch)
        total = FeedbackItem.objects.count()
        print(
            f"{engine}: {total:,} feedback items, {len(customers)} customers "
            f"({time.perf_counter() - started:.0f}s to generate and insert)"
        )
        started = time.perf_counter()
        rows = rebuild_all()
        cells = RollupCell.objects.count()
        print(
            f"{engine}: rollups rebuilt in {time.perf_counter() - started:.1f}s "
            f"({rows:,} base rows, {cells:,} level cells)"
        )
        # The planner statistics a running instance has: `harken tick` refreshes SQLite's,
        # PostgreSQL's autovacuum its own, and its visibility map too (it would, minutes
        # after a load this size), which lets the overdue count and the handling-time
        # percentiles read their indexes alone.
        if connection.vendor == "sqlite":
            refresh_statistics()
        else:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

    scope = metrics.default_scope(today)  # the dashboard's default: the last three full months
    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username="quality"))
    params = {
        "period": "custom",
        "date_from": scope.date_from.isoformat(),
        "date_to": scope.date_to.isoformat(),
    }

    def get(url: str, query: dict[str, str]) -> None:
        response = client.get(url, query)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")

    dashboard = median_ms(lambda: dashboard_data(scope, today), args.runs)
    dashboard_http = median_ms(lambda: get(reverse("insights:dashboard_data"), params), args.runs)
    explore_scope = metrics.Scope(start, today)
    explore = median_ms(
        lambda: explore_table(
            explore_scope, Metric.COMPLAINTS, Grain.MONTH, Dimension.PRODUCT_LINE
        ),
        args.runs,
    )
    explore_params = {
        "metric": Metric.COMPLAINTS,
        "grain": Grain.MONTH,
        "split": Dimension.PRODUCT_LINE,
        "period": "custom",
        "date_from": start.isoformat(),
        "date_to": today.isoformat(),
    }
    explore_http = median_ms(lambda: get(reverse("insights:explore"), explore_params), args.runs)
    print(
        f"{engine}: dashboard data {dashboard:.0f} ms, as the JSON endpoint {dashboard_http:.0f} ms "
        f"(medians of {args.runs}; scope {scope.date_from} to {scope.date_to})"
    )
    print(
        f"{engine}: explore, complaints by product line by month over two years: "
        f"{explore:.0f} ms, as the page {explore_http:.0f} ms"
    )

    from harken.reviews import services as reviews

    quality = get_user_model().objects.get(username="quality")
    quarter_start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    q_end = quarter_start - dt.timedelta(days=1)
    q_start = dt.date(q_end.year, (q_end.month - 1) // 3 * 3 + 1, 1)
    html_times, pdf_times = [], []
    for _ in range(max(1, args.pack_runs)):
        started = time.perf_counter()
        with audit_context(actor=Actor.system("bench")):
            pack = reviews.draft_pack(actor=quality, period_start=q_start, period_end=q_end)
        content_s = time.perf_counter() - started
        reviews.render_html(pack)
        html_times.append(time.perf_counter() - started)
        if not args.no_pdf:
            rendered = time.perf_counter()
            reviews.render_pdf(pack)
            pdf_times.append(content_s + time.perf_counter() - rendered)
    line = (
        f"{engine}: review pack for {q_start} to {q_end}: content + HTML "
        f"{statistics.median(html_times):.2f}s"
    )
    if pdf_times:
        line += f", content + PDF {statistics.median(pdf_times):.2f}s"
    print(line + f" (median of {len(html_times)})")

    duck_ms = duckdb_dashboard(work, scope, args.runs)
    if duck_ms is not None:
        print(
            f"DuckDB, the same dashboard aggregates from the raw rows: {duck_ms:.0f} ms; "
            f"Harken/DuckDB = {dashboard / duck_ms:.1f}x"
        )
    print(f"work files in {work}", file=sys.stderr)


def duckdb_dashboard(work: Path, scope: Any, runs: int) -> float | None:
    """Load the items into DuckDB (local time precomputed) and time the aggregates the
    dashboard needs, computed from the raw rows: both periods' totals and histograms,
    twelve months of trends, the 24-month control chart, the Pareto, the top issues,
    the handling-time percentiles, and complaints per product line per month."""
    try:
        import duckdb
    except ImportError:
        print("duckdb is not installed: no comparison", file=sys.stderr)
        return None
    from django.db import connection
    from django.utils import timezone

    from harken.insights.rollups import local_day_bounds

    tz = timezone.get_current_timezone()
    export = work / "items.csv"
    names = [
        "received_at",
        "kind",
        "product_line_id",
        "region_id",
        "category_id",
        "source_id",
        "scale",
        "score",
        "sentiment_label",
        "sentiment_score",
        "classification_confirmed",
        "impact",
        "acknowledged_at",
        "resolved_at",
        "acknowledge_due",
        "resolve_due",
    ]

    def text(value: Any) -> Any:
        if isinstance(value, str) and len(value) >= 19 and value[4] == "-":
            value = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
        return value

    with export.open("w", newline="") as handle, connection.cursor() as cursor:
        writer = csv.writer(handle)
        writer.writerow([*names, "local_at"])
        cursor.execute(f"SELECT {', '.join(names)} FROM feedback_feedbackitem")
        while chunk := cursor.fetchmany(50_000):
            for row in chunk:
                values = [text(v) for v in row]
                received = dt.datetime.fromisoformat(values[0]).replace(tzinfo=dt.UTC)
                local = received.astimezone(tz).replace(tzinfo=None).isoformat(" ")
                writer.writerow([*values, local])
    duck = duckdb.connect()
    duck.execute(f"CREATE TABLE items AS SELECT * FROM read_csv_auto('{export}')")

    def bounds(first: dt.date, last: dt.date) -> str:
        start, end = local_day_bounds(first, last)
        lo = start.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
        hi = end.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
        return f"received_at >= TIMESTAMP '{lo}' AND received_at < TIMESTAMP '{hi}'"

    length = (scope.date_to - scope.date_from).days + 1
    previous_to = scope.date_from - dt.timedelta(days=1)
    previous_from = previous_to - dt.timedelta(days=length - 1)
    now_where, before_where = (
        bounds(scope.date_from, scope.date_to),
        bounds(previous_from, previous_to),
    )
    trend_from = (scope.date_to.replace(day=1) - dt.timedelta(days=335)).replace(day=1)
    chart_from = (scope.date_to.replace(day=1) - dt.timedelta(days=700)).replace(day=1)
    measures = (
        "count(*), count(*) FILTER (kind = 'complaint'), "
        "count(*) FILTER (classification_confirmed), count(sentiment_score), "
        "sum(sentiment_score), count(*) FILTER (sentiment_label = 'negative'), "
        + ", ".join(
            f"count(*) FILTER (scale = '{scale}' AND score >= {v - 0.5} AND score < {v + 0.5})"
            for scale, values in (("nps", range(11)), ("csat", range(1, 6)), ("ces", range(1, 8)))
            for v in values
        )
    )
    hours = "epoch(acknowledged_at - received_at) / 3600.0"
    resolve_hours = "epoch(resolved_at - received_at) / 3600.0"
    queries = []
    for where in (now_where, before_where):
        queries += [
            f"SELECT {measures} FROM items WHERE {where}",
            f"SELECT count({hours}), count(*) FILTER (acknowledged_at <= acknowledge_due), "
            f"quantile_disc({hours}, [0.5, 0.9]), count({resolve_hours}), "
            f"count(*) FILTER (resolved_at <= resolve_due), "
            f"quantile_disc({resolve_hours}, [0.5, 0.9]) "
            f"FROM items WHERE kind = 'complaint' AND {where}",
        ]
    queries += [
        f"SELECT date_trunc('month', local_at) m, {measures} FROM items "
        f"WHERE {bounds(trend_from, scope.date_to)} GROUP BY m",
        "SELECT date_trunc('month', local_at) m, count(*) FROM items "
        f"WHERE kind = 'complaint' AND {bounds(chart_from, scope.date_to)} GROUP BY m",
        "SELECT category_id, count(*) FROM items "
        f"WHERE kind = 'complaint' AND {now_where} GROUP BY category_id",
        "SELECT product_line_id, category_id, "
        f"count(*) FILTER ({now_where}), count(*) FILTER ({before_where}) FROM items "
        f"WHERE kind = 'complaint' AND {bounds(previous_from, scope.date_to)} GROUP BY 1, 2",
        "SELECT date_trunc('month', local_at) m, product_line_id, count(*) FROM items "
        f"WHERE kind = 'complaint' AND {bounds(trend_from, scope.date_to)} GROUP BY 1, 2",
    ]

    def run() -> None:
        for sql in queries:
            duck.execute(sql).fetchall()

    return median_ms(run, runs)


if __name__ == "__main__":
    main()
