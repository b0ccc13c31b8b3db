"""Import throughput: a generic CSV of N rows into a fresh database, against a bare
`sqlite3.executemany` of the same rows, then lexicon sentiment for them.

    python bench/import_bench.py --rows 1000000 [--postgres URL] [--serial] [--no-sentiment]

Prints rows/s for the import (validation, de-duplication, rule-based category
suggestion, numbering, audit events), the ratio against the bare insert, the CPU time
and peak memory (maximum resident set size) of the importing process and of the process
reading the file for it, and the sentiment follow-up's time. With --postgres the same file is
imported on PostgreSQL too (that database is emptied) and the figures are printed side
by side; each engine runs in a fresh process. --serial keeps the whole import in one
process. Target (feedback intake issue): at least 40,000 rows/s and under 400 MB on
SQLite, within 5x of the bare insert; sentiment for the whole file within 3 minutes of
the import's start.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WORDS = (
    "the delivery was late again and the parts arrived cracked we are disappointed "
    "great service thank you the invoice was wrong please send a credit note "
    "the valve leaks under pressure our engineer was not responding to calls "
    "excellent quality as always lead time too long documentation missing certificate"
).split()
HEADER = [
    "id",
    "received",
    "subject",
    "body",
    "rating",
    "customer",
    "email",
    "product",
    "region",
    "channel",
]
INSERT_BARE = f"INSERT INTO bare VALUES ({', '.join('?' * len(HEADER))})"


def make_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            length = rng.randint(20, 400)
            body = []
            size = 0
            while size < length:
                word = rng.choice(WORDS)
                body.append(word)
                size += len(word) + 1
            month, day = rng.randint(1, 12), rng.randint(1, 28)
            hour, minute = rng.randint(0, 23), rng.randint(0, 59)
            writer.writerow(
                [
                    f"B{i}",
                    f"2025-{month:02d}-{day:02d} {hour:02d}:{minute:02d}",
                    " ".join(body[:5]),
                    " ".join(body)[:length],
                    rng.randint(1, 5),
                    f"Customer {rng.randint(1, 300)}",
                    f"person{rng.randint(1, 900)}@example.com",
                    rng.choice(["Industrial Valves", "Hydraulic Fittings", "PCB Assembly"]),
                    rng.choice(["UKI", "NAM", "APAC"]),
                    "email",
                ]
            )


def bare_sqlite(path: Path, db: Path) -> float:
    """Plain executemany of the same rows into a bare table, in one transaction."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(f"CREATE TABLE bare ({', '.join(c + ' TEXT' for c in HEADER)})")
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch = []
        for row in reader:
            batch.append(row)
            if len(batch) == 5000:
                con.executemany(INSERT_BARE, batch)
                batch = []
        if batch:
            con.executemany(INSERT_BARE, batch)
    con.commit()
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


def insert_floor(
    database: Path, work: Path, chunk_size: int, cache_kib: int
) -> tuple[float, float]:
    """Seconds (and CPU seconds) to executemany the imported rows, as stored, into an empty
    copy of the database, in the import's chunks and with its page cache: what the table
    and its indexes cost by themselves, with no Python work around them."""
    copy = work / "floor.sqlite3"
    source = sqlite3.connect(database)
    target = sqlite3.connect(copy, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        target.execute(f"PRAGMA {pragma}")
    target.execute(f"PRAGMA cache_size = -{cache_kib}")
    schema = source.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index'"
    ).fetchall()
    target.execute("BEGIN")
    target.execute("ATTACH DATABASE ? AS stored", [str(database)])
    for _, _, sql in schema:
        target.execute(sql)
    for kind, name, _ in schema:
        if kind == "table" and name != "feedback_feedbackitem":
            target.execute(f'INSERT INTO "{name}" SELECT * FROM stored."{name}"')
    target.execute("COMMIT")
    target.execute("DETACH DATABASE stored")
    columns = [row[1] for row in source.execute("PRAGMA table_info(feedback_feedbackitem)")][1:]
    names = ", ".join(f'"{c}"' for c in columns)
    rows = source.execute(f"SELECT {names} FROM feedback_feedbackitem ORDER BY id")
    insert = f"INSERT INTO feedback_feedbackitem ({names}) VALUES ({', '.join('?' * len(columns))})"
    elapsed = cpu = 0.0
    while chunk := rows.fetchmany(chunk_size):
        started, started_cpu = time.perf_counter(), time.process_time()
        target.execute("BEGIN IMMEDIATE")
        target.executemany(insert, chunk)
        target.execute("COMMIT")
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
    source.close()
    target.close()
    return elapsed, cpu


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_engine(args: argparse.Namespace) -> dict[str, Any]:
    """Import the file on one engine, in this (fresh) process; the figures as a dict."""
    os.environ.update(
        {
            "HARKEN_DEBUG": "1",
            "HARKEN_DATA_DIR": args.work,
            "DJANGO_SETTINGS_MODULE": "harken.settings",
        }
    )
    if args.engine == "postgres":
        os.environ["HARKEN_DATABASE_URL"] = args.postgres
    else:
        os.environ.pop("HARKEN_DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    from harken.feedback.importing import Options, create_batch, run_import, score_sentiment
    from harken.feedback.models import FeedbackItem, PerceptionSource

    if args.engine == "postgres":
        # Start from an empty database, migrated (and so seeded with the taxonomy's
        # rules) like the fresh SQLite one.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    source, _ = PerceptionSource.objects.get_or_create(
        name="Bench", defaults={"kind": "email", "default_kind": "complaint"}
    )
    options = Options(
        preset="generic",
        mapping={
            "external_id": "id",
            "received_at": "received",
            "title": "subject",
            "text": "body",
            "score": "rating",
            "customer_name": "customer",
            "contact_email": "email",
            "product_line": "product",
            "region": "region",
            "channel": "channel",
        },
        scale="csat",
    )
    data = Path(args.data)
    started = time.perf_counter()
    cpu, reader_cpu = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
    with data.open("rb") as handle:
        batch = create_batch(source=source, upload=handle, name=data.name, options=options)
    batch = run_import(batch, parallel=False if args.serial else None)
    elapsed = time.perf_counter() - started
    figures: dict[str, Any] = {
        "message": batch.message,
        "created": batch.created_count,
        "seconds": elapsed,
        "cpu_seconds": cpu_seconds(resource.RUSAGE_SELF) - cpu,
        "reader_cpu_seconds": cpu_seconds(resource.RUSAGE_CHILDREN) - reader_cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        # The reading process is the only child so far (the sentiment workers come later).
        "reader_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    if args.floor and args.engine == "sqlite":
        from django.db import connection

        from harken.feedback.importing import CHUNK_SIZE, SQLITE_CACHE_KIB

        figures["floor_seconds"], figures["floor_cpu_seconds"] = insert_floor(
            Path(connection.settings_dict["NAME"]), Path(args.work), CHUNK_SIZE, SQLITE_CACHE_KIB
        )
    if not args.no_sentiment:
        # Scores come from the rating here; score the text too, as a file without ratings
        # would. Forgetting the sentiment is the benchmark's own step: timed apart.
        r_started = time.perf_counter()
        FeedbackItem.objects.filter(import_batch=batch).update(sentiment_source="")
        figures["reset_seconds"] = time.perf_counter() - r_started
        s_started = time.perf_counter()
        figures["scored"] = score_sentiment(batch, workers=2)
        figures["sentiment_seconds"] = time.perf_counter() - s_started
    return figures


def floor_rate(figures: dict[str, Any]) -> str:
    seconds = figures.get("floor_seconds")
    return f"{figures['created'] / seconds:,.0f}" if seconds else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--postgres", help="Also run on this PostgreSQL database URL (emptied).")
    parser.add_argument("--no-sentiment", action="store_true")
    parser.add_argument("--serial", action="store_true", help="Import in one process.")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="Also time inserting the imported rows, as stored, into an empty copy (SQLite).",
    )
    # Used by the runs this script starts for each engine.
    parser.add_argument("--engine", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        print(json.dumps(run_engine(args)))
        return

    work = Path(tempfile.mkdtemp(prefix="harken-bench-"))
    data = work / "feedback.csv"
    started = time.perf_counter()
    make_csv(data, args.rows)
    size = data.stat().st_size / 1e6
    print(f"generated {args.rows:,} rows ({size:.0f} MB) in {time.perf_counter() - started:.1f}s")
    bare = bare_sqlite(data, work / "bare.sqlite3")
    print(f"bare sqlite3 executemany: {args.rows / bare:,.0f} rows/s ({bare:.1f}s)")

    engines = [("SQLite", "sqlite")] + ([("PostgreSQL", "postgres")] if args.postgres else [])
    results = []
    for label, engine in engines:
        command = [sys.executable, __file__, "--engine", engine, "--data", str(data)]
        command += ["--work", str(work / engine)]
        command += ["--postgres", args.postgres] if args.postgres else []
        command += ["--no-sentiment"] if args.no_sentiment else []
        command += ["--serial"] if args.serial else []
        command += ["--floor"] if args.floor else []
        (work / engine).mkdir()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"{label} run failed:\n{done.stderr}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        results.append((label, figures))
        print(f"{label} import: {figures['message']}")

    print()
    print(f"{'':<28}" + "".join(f"{label:>14}" for label, _ in results))
    lines = [
        ("import rows/s", lambda f: f"{f['created'] / f['seconds']:,.0f}"),
        ("import seconds", lambda f: f"{f['seconds']:.1f}"),
        ("x the bare sqlite3 insert", lambda f: f"{f['seconds'] / bare:.1f}"),
        ("CPU seconds, importer", lambda f: f"{f['cpu_seconds']:.1f}"),
        ("CPU seconds, reader", lambda f: f"{f['reader_cpu_seconds']:.1f}"),
        ("peak RSS, importer (MB)", lambda f: f"{f['peak_mb']:.0f}"),
        ("peak RSS, reader (MB)", lambda f: f"{f['reader_peak_mb']:.0f}"),
    ]
    if args.floor:
        lines += [
            ("table's own insert rows/s", floor_rate),
            (
                "  its CPU seconds",
                lambda f: f"{f['floor_cpu_seconds']:.1f}" if "floor_cpu_seconds" in f else "-",
            ),
        ]
    if not args.no_sentiment:
        lines += [
            ("(bench) reset seconds", lambda f: f"{f['reset_seconds']:.1f}"),
            ("sentiment seconds", lambda f: f"{f['sentiment_seconds']:.1f}"),
            (
                "import + sentiment seconds",
                lambda f: f"{f['seconds'] + f['sentiment_seconds']:.1f}",
            ),
        ]
    for name, show in lines:
        print(f"{name:<28}" + "".join(f"{show(figures):>14}" for _, figures in results))
    sys.stdout.flush()
    print(f"work files in {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
