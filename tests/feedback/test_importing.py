"""The import pipeline: good rows land, bad rows are reported, re-imports add nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from tests.factories import CustomerFactory, PerceptionSourceFactory, ProductLineFactory

from harken.core.files import verify_file
from harken.core.models import AuditEvent
from harken.feedback.importing import (
    ImportError_,
    Options,
    create_batch,
    preview,
    rejected_rows,
    run_import,
    score_sentiment,
)
from harken.feedback.models import FeedbackItem

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).parent / "samples"

GENERIC = Options(
    preset="generic",
    mapping={
        "external_id": "id",
        "received_at": "date",
        "title": "subject",
        "text": "body",
        "score": "rating",
        "product_line": "product",
    },
    scale="nps",
    kind="survey_response",
)
CSV = (
    "id,date,subject,body,rating,product\n"
    "A1,2026-03-01 10:00,Good,Great service thank you,9,VAL\n"
    "A2,2026-03-02 10:00,Late,The delivery was late,3,VAL\n"
    "A3,not a date,Bad date,x,5,VAL\n"
    "A4,2026-03-04 10:00,Too high,Out of range,11,VAL\n"
    "A5,2026-03-05 10:00,,,,VAL\n"
    "A6,2026-03-06 10:00,Fine,ok,7,\n"
)


@pytest.fixture
def source():
    return PerceptionSourceFactory(name="Survey export", structured=True)


def run(source, data: bytes, options: Options = GENERIC, name: str = "export.csv", **kwargs):
    batch = create_batch(
        source=source, upload=io.BytesIO(data), name=name, options=options, **kwargs
    )
    return run_import(batch)


def test_good_rows_land_and_bad_rows_are_reported_with_line_column_and_reason(source):
    ProductLineFactory(code="VAL", name="Industrial Valves")
    batch = run(source, CSV.encode())
    assert batch.status == "completed"
    assert (batch.rows_read, batch.created_count, batch.duplicate_count, batch.rejected_count) == (
        6,
        3,
        0,
        3,
    )
    assert batch.message == "6 rows read: 3 created, 0 duplicates, 3 rejected."
    rejects = rejected_rows(batch)
    assert [r[0] for r in rejects] == ["4", "5", "6"]
    assert rejects[0][1] == "date"
    assert "not a date" in rejects[0][2]
    assert rejects[1][1] == "rating"
    assert "outside" in rejects[1][2]
    assert "nothing to import" in rejects[2][2]
    items = {i.external_id: i for i in FeedbackItem.objects.all()}
    assert set(items) == {"A1", "A2", "A6"}
    assert items["A1"].score == 9
    assert items["A1"].product_line.code == "VAL"
    assert items["A1"].import_batch == batch
    assert items["A1"].raw["body"] == "Great service thank you"
    assert items["A2"].suggested_category.code == "delivery"
    assert items["A6"].product_line is None


def test_the_original_file_is_kept_with_its_hash(source):
    import hashlib

    batch = run(source, CSV.encode())
    assert batch.file.sha256 == hashlib.sha256(CSV.encode()).hexdigest()
    assert batch.file.size == len(CSV.encode())
    assert verify_file(batch.file)
    assert batch.rejects_file is not None and verify_file(batch.rejects_file)


def test_reimporting_the_same_file_adds_nothing(source):
    first = run(source, CSV.encode())
    second = run(source, CSV.encode())
    assert first.created_count == 3
    assert (second.created_count, second.duplicate_count) == (0, 3)
    assert FeedbackItem.objects.count() == 3


def test_each_chunk_and_the_batch_are_on_the_audit_trail(source):
    batch = run(source, CSV.encode())
    actions = list(
        AuditEvent.objects.filter(object_type="feedback.importbatch", object_id=str(batch.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "importbatch.created",
        "importbatch.started",
        "importbatch.rows_added",
        "importbatch.completed",
    ]
    added = AuditEvent.objects.get(action="importbatch.rows_added")
    numbers = sorted(FeedbackItem.objects.values_list("number", flat=True))
    assert added.changes["rows"] == 3
    assert (added.changes["first"], added.changes["last"]) == (numbers[0], numbers[-1])
    assert len(added.changes["digest"]) == 64


def test_dry_run_counts_and_stores_nothing(source):
    batch = run(source, CSV.encode(), dry_run=True)
    assert batch.created_count == 3
    assert batch.message.startswith("6 rows read: 3 would create")
    assert FeedbackItem.objects.count() == 0


def test_an_empty_file_is_refused_clearly(source):
    with pytest.raises(ImportError_, match="is empty"):
        create_batch(source=source, upload=io.BytesIO(b""), name="empty.csv", options=GENERIC)


def test_an_unreadable_file_fails_the_batch_with_the_reason(source):
    data = (SAMPLES / "not_a_workbook.xlsx").read_bytes()
    batch = run(source, data, Options(preset="generic"), name="report.xlsx")
    assert batch.status == "failed"
    assert batch.message
    assert FeedbackItem.objects.count() == 0


def test_a_huge_cell_rejects_only_its_row(source):
    big = "x" * (2 * 1024 * 1024)
    data = (
        f"id,date,subject,body,rating,product\nB1,2026-03-01,a,{big},5,\nB2,2026-03-02,b,fine,6,\n"
    )
    batch = run(source, data.encode())
    assert batch.created_count == 1
    assert batch.rejected_count == 1
    assert rejected_rows(batch)[0][0] == "2"


def test_a_missing_mapped_column_is_explained(source):
    options = Options(preset="generic", mapping={"text": "nope", "received_at": "date"})
    batch = run(source, b"date,body\n2026-01-01,hello\n", options)
    assert batch.created_count == 0
    assert rejected_rows(batch)[0][1:] == ["nope", "no such column in the file (chosen for text)"]


def test_customers_are_matched_by_reference_name_or_contact(source):
    customer = CustomerFactory(name="Brightpump GmbH", external_ref="CRM-5521")
    options = Options(preset="zendesk")
    batch = run(source, (SAMPLES / "zendesk.csv").read_bytes(), options)
    assert batch.created_count >= 2
    item = FeedbackItem.objects.get(external_id="10231")
    assert item.customer == customer
    assert item.scale == "csat2"
    assert item.score == 1
    assert item.title == "Pump PX-200 leaking after two weeks"


def test_preview_suggests_the_preset_and_maps_the_first_rows(source):
    from harken.core.files import store_bytes

    evidence = store_bytes((SAMPLES / "zendesk.csv").read_bytes(), name="z.csv")
    result = preview(evidence, Options())
    assert result.preset == "zendesk"
    assert result.preset_scores[0][0] == "zendesk"
    assert result.mapped[0]["external_id"] == "10231"
    assert "Satisfaction Score" in result.columns


def test_sentiment_follow_up_scores_free_text(source):
    options = Options(
        preset="generic", mapping={"text": "body", "received_at": "date"}, kind="complaint"
    )
    batch = run(
        source,
        b"date,body\n2026-01-01,Terrible service and broken parts\n"
        b"2026-01-02,Wonderful help thanks\n",
        options,
    )
    assert set(FeedbackItem.objects.values_list("sentiment_source", flat=True)) == {""}
    assert score_sentiment(batch, workers=1) == 2
    labels = dict(FeedbackItem.objects.values_list("text", "sentiment_label"))
    assert labels == {
        "Terrible service and broken parts": "negative",
        "Wonderful help thanks": "positive",
    }
    batch.refresh_from_db()
    assert batch.sentiment_done == 2


@pytest.mark.parametrize(
    ("sample", "preset"),
    [
        ("freshdesk.csv", "freshdesk"),
        ("surveymonkey.csv", "surveymonkey"),
        ("qualtrics.csv", "qualtrics"),
        ("typeform.csv", "typeform"),
        ("google_forms.csv", "google_forms"),
        ("jira_sm.csv", "jira_sm"),
        ("generic.jsonl", ""),
    ],
)
def test_every_preset_sample_imports_and_reimports_as_a_no_op(source, sample, preset):
    data = (SAMPLES / sample).read_bytes()
    options = Options(preset=preset)
    if not preset:
        options = Options(
            preset="generic",
            mapping={"received_at": "created", "text": "comment", "external_id": "id"},
        )
    first = run(source, data, options)
    assert first.status == "completed", first.message
    assert first.created_count + first.rejected_count + first.duplicate_count == first.rows_read
    second = run(source, data, options)
    assert second.created_count == 0
    assert FeedbackItem.objects.count() == first.created_count
