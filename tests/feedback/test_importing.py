"""The import pipeline: good rows land, bad rows are reported, re-imports add nothing."""

from __future__ import annotations

import datetime as dt
import io
import json
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    PerceptionSourceFactory,
    ProductLineFactory,
    RegionFactory,
)

from harken.core.files import verify_file
from harken.core.models import AuditEvent
from harken.feedback import importing
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
from harken.feedback.services import complaint_deadlines, dedupe_key_for

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


def run(
    source,
    data: bytes,
    options: Options = GENERIC,
    name: str = "export.csv",
    parallel: bool | None = None,
    **kwargs,
):
    batch = create_batch(
        source=source, upload=io.BytesIO(data), name=name, options=options, **kwargs
    )
    return run_import(batch, parallel=parallel)


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


# --- reading in a second process ---------------------------------------------------------

MIXED_OPTIONS = Options(
    preset="generic",
    mapping={
        "external_id": "id",
        "received_at": "date",
        "title": "subject",
        "text": "body",
        "score": "rating",
        "customer_name": "customer",
        "contact_email": "email",
        "region": "region",
        "kind": "kind",
        "category": "category",
    },
    scale="nps",
)
# Duplicates within and across chunks (of three), rows without an id, customers and
# contacts to match, and rows rejected by the preset and by the writer.
MIXED = (
    "id,date,subject,body,rating,customer,email,region,kind,category\n"
    "A1,2026-03-02 10:00,Late,The delivery was late,3,Brightpump GmbH,OPS@brightpump.example,,complaint,\n"
    "A2,2026-03-02 11:00,Thanks,Great service thank you,9,,,,compliment,\n"
    ",2026-03-03 09:00,No id,The invoice was wrong,5,Brightpump GmbH,,EMEA,enquiry,\n"
    "A1,2026-03-02 10:00,Late,The delivery was late,3,Brightpump GmbH,,,complaint,\n"
    "A4,not a date,Bad date,x,5,,,,enquiry,\n"
    "A5,2026-03-04 10:00,Too high,Out of range,11,,,,enquiry,\n"
    "A6,2099-01-01 10:00,Future,From the future,5,,,,enquiry,\n"
    ",2026-03-03 09:00,No id,The invoice was wrong,5,Brightpump GmbH,,EMEA,enquiry,\n"
    "A7,2026-03-07 10:00,Cracks,The valve arrived cracked,2,Other Co,,,complaint,billing\n"
    "A8,2026-03-08 10:00,,,,,,,enquiry,\n"
    "A9,2026-03-09 10:00,Lead time,Lead time too long,6,,,NOWHERE,suggestion,\n"
)
ITEM_FIELDS = [
    f.attname
    for f in FeedbackItem._meta.concrete_fields
    if f.attname not in {"id", "created_at", "updated_at", "import_batch_id"}
]


class _Undo(Exception):
    """Raised to roll an import back, so that the next one starts from the same state."""


def imported(source, data: bytes, options: Options, **kwargs: Any) -> dict[str, Any]:
    """What an import leaves behind (batch, rejects, items, audit events, progress
    reports), then rolled back."""
    dry_run = kwargs.pop("dry_run", False)
    progress: list[int] = []
    try:
        with transaction.atomic():
            batch = create_batch(
                source=source,
                upload=io.BytesIO(data),
                name="export.csv",
                options=options,
                dry_run=dry_run,
            )
            batch = run_import(batch, progress=progress.append, **kwargs)
            result = {
                "batch": (
                    batch.status,
                    batch.message,
                    batch.rows_read,
                    batch.created_count,
                    batch.duplicate_count,
                    batch.rejected_count,
                    batch.rows_digest,
                ),
                "rejects": rejected_rows(batch),
                "items": list(FeedbackItem.objects.order_by("number").values(*ITEM_FIELDS)),
                # The other events of the batch hold times of day.
                "events": [
                    (action, changes if action == "importbatch.rows_added" else None)
                    for action, changes in AuditEvent.objects.filter(
                        action__startswith="importbatch."
                    )
                    .order_by("seq")
                    .values_list("action", "changes")
                ],
                "progress": progress,
            }
            raise _Undo
    except _Undo:
        pass
    return result


@pytest.fixture
def mixed_file(source, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_SIZE", 3)
    customer = CustomerFactory(name="Brightpump GmbH", region=RegionFactory(code="DE"))
    ContactFactory(customer=customer, email="ops@brightpump.example")
    RegionFactory(code="EMEA")
    # The parallel path is only taken where the process may fork and the file is local.
    assert importing._can_fork()
    return MIXED.encode()


def test_reading_in_a_second_process_gives_the_same_import(source, mixed_file):
    serial = imported(source, mixed_file, MIXED_OPTIONS, parallel=False)
    assert serial["batch"][:6] == (
        "completed",
        "11 rows read: 5 created, 2 duplicates, 4 rejected.",
        11,
        5,
        2,
        4,
    )
    assert serial["rejects"] == [
        ["6", "date", "'not a date' is not a date Harken can read"],
        ["7", "rating", "11 is outside the NPS scale 0\u201310"],
        ["8", "received_at", "the date is in the future"],
        ["11", "", "nothing to import: no text, title or score"],
    ]
    assert [item["external_id"] for item in serial["items"]] == ["A1", "A2", "", "A7", "A9"]
    assert serial["progress"] == [3, 8, 11]
    assert [(action, changes and changes["rows"]) for action, changes in serial["events"]] == [
        ("importbatch.created", None),
        ("importbatch.started", None),
        ("importbatch.rows_added", 3),
        ("importbatch.rows_added", 2),
        ("importbatch.completed", None),
    ]
    assert imported(source, mixed_file, MIXED_OPTIONS, parallel=True) == serial


def test_the_second_process_keeps_customers_contacts_regions_and_deadlines(source, mixed_file):
    batch = run(source, mixed_file, MIXED_OPTIONS, parallel=True)
    assert batch.message == "11 rows read: 5 created, 2 duplicates, 4 rejected."
    items = {item.title: item for item in FeedbackItem.objects.all()}
    late, no_id = items["Late"], items["No id"]
    assert late.customer.name == "Brightpump GmbH"
    assert late.contact.email == "ops@brightpump.example"
    assert late.region.code == "DE"
    assert late.complaint_number.startswith("CMP-")
    assert late.acknowledge_due is not None and late.resolve_due is not None
    assert no_id.region.code == "EMEA"
    assert items["Cracks"].category.code == "billing"
    assert items["Cracks"].customer is None
    assert items["Lead time"].region is None
    # Without an id the key is the content's, with the matched customer, as for single intake.
    assert no_id.dedupe_key == dedupe_key_for(
        "",
        received_at=no_id.received_at,
        text=no_id.text,
        title=no_id.title,
        score=no_id.score,
        customer_ref=str(no_id.customer_id),
    )


def test_dry_runs_and_re_imports_through_the_second_process(source, mixed_file):
    dry = run(source, mixed_file, MIXED_OPTIONS, dry_run=True, parallel=True)
    # A dry run stores no chunk, so it cannot see a duplicate of an earlier chunk's row.
    assert dry.message == "11 rows read: 7 would create, 0 duplicates, 4 rejected."
    assert FeedbackItem.objects.count() == 0
    first = run(source, mixed_file, MIXED_OPTIONS, parallel=True)
    second = run(source, mixed_file, MIXED_OPTIONS, parallel=True)
    assert (first.created_count, second.created_count, second.duplicate_count) == (5, 0, 7)
    assert FeedbackItem.objects.count() == 5


def test_a_file_cut_short_fails_alike_after_the_chunks_before_it(source, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    records = [{"id": n, "created": "2026-01-05", "comment": f"note {n}"} for n in range(1, 6)]
    data = (json.dumps(records)[:-30]).encode()  # the last record is cut in the middle
    options = Options(
        preset="generic",
        mapping={"received_at": "created", "text": "comment", "external_id": "id"},
    )
    assert importing._can_fork()
    serial = imported(source, data, options, parallel=False)
    assert serial["batch"][:4] == (
        "failed",
        "line 1: the file ends in the middle of a JSON record; it may have been cut short.",
        0,
        4,
    )
    assert imported(source, data, options, parallel=True) == serial


def test_a_calendar_without_working_days_fails_alike(source, mixed_file, settings):
    settings.WORKING_DAYS = []
    serial = imported(source, mixed_file, MIXED_OPTIONS, parallel=False)
    assert serial["batch"][:2] == ("failed", "HARKEN_WORKING_DAYS names no working day.")
    assert imported(source, mixed_file, MIXED_OPTIONS, parallel=True) == serial


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(value=_json_values)
def test_the_importers_json_text_is_json_dumps_text(value):
    # The importer writes the JSON columns (original record, tags) itself: the same text
    # as the ORM would write.
    assert importing._dumps(value) == json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York"])
def test_the_importers_complaint_deadlines_are_those_of_the_intake(source, zone):
    # The importer remembers the deadline dates of each local day; every time of every day
    # around the daylight-saving changes, weekends and month ends gets the intake's targets.
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        shaper = importing.BulkWriter(source).shaper
        for start in ("2026-03-26", "2026-10-22", "2026-12-28"):
            first = dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC)
            for hour in range(0, 24 * 7, 5):
                for minute in (0, 59):
                    received = first + dt.timedelta(hours=hour, minutes=minute)
                    assert shaper.deadlines(received) == complaint_deadlines(source, received)
                    assert [d.utcoffset() for d in shaper.deadlines(received)] == [
                        d.utcoffset() for d in complaint_deadlines(source, received)
                    ]


def test_feedback_items_have_no_index_on_the_source_alone():
    # Look-ups by source use the unique (source, dedupe_key) key; a separate index would
    # only slow every import down.
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, FeedbackItem._meta.db_table)
    by_source = [
        c["columns"]
        for c in constraints.values()
        if c["columns"][:1] == ["source_id"] and not c["foreign_key"]
    ]
    assert by_source == [["source_id", "dedupe_key"]]


@pytest.mark.parametrize("parallel", [False, True])
def test_a_chunk_is_numbered_in_file_order_and_stored_in_date_order(source, monkeypatch, parallel):
    # Rows go into the table sorted by date (the date indexes then take them in order);
    # numbers follow the file, and rows of the same moment keep the file's order, which
    # is how lists break ties (newest first, then the higher id).
    monkeypatch.setattr(importing, "CHUNK_SIZE", 4)
    data = (
        "id,date,subject,body,rating,product\n"
        "B1,2026-03-05 10:00,One,x,5,\n"
        "B2,2026-03-01 09:00,Two,x,5,\n"
        "B3,2026-03-05 10:00,Three,x,5,\n"
        "B4,2026-03-01 08:59,Four,x,5,\n"
        "B5,2026-02-01 00:00,Five,x,5,\n"
        "B6,2026-02-01 00:00:00.5,Six,x,5,\n"
    )
    batch = run(source, data.encode(), parallel=parallel)
    assert batch.created_count == 6
    items = list(FeedbackItem.objects.filter(import_batch=batch).order_by("number"))
    assert [item.external_id for item in items] == ["B1", "B2", "B3", "B4", "B5", "B6"]
    by_id = sorted(items, key=lambda item: item.pk)
    assert [item.external_id for item in by_id] == ["B4", "B2", "B1", "B3", "B5", "B6"]
    listed = FeedbackItem.objects.filter(import_batch=batch)  # the model's ordering
    assert [item.external_id for item in listed] == ["B3", "B1", "B2", "B4", "B6", "B5"]
