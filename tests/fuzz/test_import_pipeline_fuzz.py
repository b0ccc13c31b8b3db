"""Generated export files through the whole import: every good row lands with its values,
every bad row is reported with its line, its column and the reason, and nothing else."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import unicodedata
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.feedback.factories import PerceptionSourceFactory

from harken.feedback.importing import Options, create_batch, rejected_rows, run_import
from harken.feedback.models import FeedbackItem

pytestmark = pytest.mark.django_db

OPTIONS = Options(
    preset="generic",
    mapping={"external_id": "id", "received_at": "date", "text": "body", "score": "rating"},
    scale="nps",
    kind="survey_response",
    time_zone="UTC",
)
# Future dates are refused by design (a received date cannot be ahead of the import).
MOMENT = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime.now() - dt.timedelta(days=2)
)
BODY = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp", "Co", "Cn"]),
    min_size=1,
    max_size=40,
).filter(lambda text: text.strip() and text == text.strip())
GOOD = st.tuples(
    st.just("good"),
    MOMENT.map(lambda m: m.strftime("%Y-%m-%d %H:%M")),
    BODY,
    st.integers(min_value=0, max_value=10).map(str),
)
BAD_DATE = st.tuples(
    st.just("date"),
    st.sampled_from(["not a date", "2026-02-30", "31/31/2024"]),
    BODY,
    st.integers(min_value=0, max_value=10).map(str),
)
BAD_SCORE = st.tuples(
    st.just("rating"),
    MOMENT.map(lambda m: m.strftime("%Y-%m-%d")),
    BODY,
    st.sampled_from(["11", "-1", "7.5", "lots", "101"]),
)
ROWS = st.lists(st.one_of(GOOD, BAD_DATE, BAD_SCORE), min_size=1, max_size=12)


@given(ROWS, st.sampled_from(["csv", "json"]))
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_good_rows_land_and_bad_rows_are_reported(
    rows: list[tuple[str, str, str, str]], kind: str
) -> None:
    records = [
        {"id": f"R{n}", "date": date, "body": body, "rating": rating}
        for n, (_, date, body, rating) in enumerate(rows, start=1)
    ]
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["id", "date", "body", "rating"])
        writer.writeheader()
        writer.writerows(records)
        data, name = buffer.getvalue().encode(), "export.csv"
        lines = []
        line = 2
        for record in records:
            lines.append(line)
            line += 1 + record["body"].count("\n")
    else:
        data, name = json.dumps(records, indent=None).encode(), "export.json"
        lines = [1] * len(records)  # one line holds the whole array

    with transaction.atomic():  # each example on its own: rolled back at the end
        source = PerceptionSourceFactory(name="Generated export")
        batch = create_batch(source=source, upload=io.BytesIO(data), name=name, options=OPTIONS)
        batch = run_import(batch, parallel=False)

        good = {r["id"]: r for (what, *_), r in zip(rows, records, strict=True) if what == "good"}
        bad = [(line, what) for (what, *_), line in zip(rows, lines, strict=True) if what != "good"]
        assert batch.status == "completed", batch.message
        assert (batch.rows_read, batch.created_count, batch.rejected_count) == (
            len(rows),
            len(good),
            len(bad),
        ), (rejected_rows(batch), rows)
        stored = {item.external_id: item for item in FeedbackItem.objects.filter(source=source)}
        assert set(stored) == set(good)
        for key, record in good.items():
            item = stored[key]
            assert item.score == Decimal(record["rating"])
            assert item.text == unicodedata.normalize("NFC", record["body"])
            assert item.received_at == dt.datetime.fromisoformat(record["date"]).replace(
                tzinfo=dt.UTC
            )
        reported = rejected_rows(batch)
        assert [(int(line), column) for line, column, *_ in reported] == bad
        assert all(reason for _, _, reason, *_ in reported)
        # A second run of the same file lands nothing more and reports the same rows.
        again = run_import(
            create_batch(source=source, upload=io.BytesIO(data), name=name, options=OPTIONS),
            parallel=False,
        )
        assert (again.created_count, again.duplicate_count, again.rejected_count) == (
            0,
            len(good),
            len(bad),
        )
        transaction.set_rollback(True)
