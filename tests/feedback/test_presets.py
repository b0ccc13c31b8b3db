"""Presets: each tool's real export layout mapped to Harken's canonical fields."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harken.feedback.importers import (
    CANONICAL_FIELDS,
    KINDS,
    PRESETS,
    CanonicalRecord,
    MapContext,
    Preset,
    Problem,
    Row,
    RowError,
    detect_preset,
    get_preset,
    kind_from_text,
    open_table,
    rank_presets,
)

SAMPLES = Path(__file__).parent / "samples"
CFPB = Path("/work/shared/data/ext/formats/cfpb_ccdb_v2-public.csv")
LONDON = ZoneInfo("Europe/London")
BERLIN = ZoneInfo("Europe/Berlin")


def import_file(
    source: Path | io.BytesIO, preset: str | None = None, **choices: Any
) -> tuple[Preset, list[CanonicalRecord | RowError]]:
    """Open a sample, pick (or detect) the preset and map every row, as the importer will."""
    choices.setdefault("default_tz", LONDON)
    with open_table(source) as table:
        chosen = get_preset(preset) if preset else detect_preset(table)
        context = MapContext.for_table(table, **choices)
        return chosen, [chosen.map_row(row, context) for row in table]


def by_line(results: list[CanonicalRecord | RowError]) -> dict[int, CanonicalRecord | RowError]:
    return {result.line: result for result in results}


def record(results: list[CanonicalRecord | RowError], line: int) -> CanonicalRecord:
    found = by_line(results)[line]
    assert isinstance(found, CanonicalRecord), found
    return found


def error(results: list[CanonicalRecord | RowError], line: int) -> RowError:
    found = by_line(results)[line]
    assert isinstance(found, RowError), found
    return found


# --- detection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("zendesk.csv", "zendesk"),
        ("freshdesk.csv", "freshdesk"),
        ("surveymonkey.csv", "surveymonkey"),
        ("qualtrics.csv", "qualtrics"),
        ("qualtrics_legacy.csv", "qualtrics"),
        ("typeform.csv", "typeform"),
        ("google_forms.csv", "google_forms"),
        ("jira_sm.csv", "jira_sm"),
        ("touchpoints.csv", "touchpoints"),
        ("generic.csv", "generic"),
        ("generic.json", "generic"),
    ],
)
def test_detect_preset(name: str, key: str) -> None:
    with open_table(SAMPLES / name) as table:
        preset = detect_preset(table)
        assert preset.key == key
        assert preset.header_rows_for(table.columns) == table.header_rows
        ranked = rank_presets(table)
    assert ranked[0][0].key == key or key == "generic"


def test_presets_are_complete() -> None:
    assert list(PRESETS) == [
        "zendesk",
        "freshdesk",
        "surveymonkey",
        "qualtrics",
        "typeform",
        "google_forms",
        "jira_sm",
        "touchpoints",
        "generic",
    ]
    assert {preset.header_rows for preset in PRESETS.values()} == {1, 2, 3}
    names = [f.name for f in dataclasses.fields(CanonicalRecord) if f.name not in ("line", "raw")]
    assert tuple(names) == CANONICAL_FIELDS
    for preset in PRESETS.values():
        assert preset.default_kind in KINDS
    with pytest.raises(KeyError, match="no preset 'delighted'"):
        get_preset("delighted")


def test_cfpb_complaints_fall_back_to_the_generic_preset() -> None:
    if not CFPB.exists():
        pytest.skip("the shared CFPB sample is not available")
    with open_table(CFPB) as table:
        assert detect_preset(table).key == "generic"


# --- Zendesk ----------------------------------------------------------------------------------


def test_zendesk_export() -> None:
    preset, results = import_file(SAMPLES / "zendesk.csv")
    assert preset.key == "zendesk"
    assert [result.line for result in results] == [2, 3, 4, 5, 6]

    first = record(results, 2)
    assert first.canonical() == {
        "external_id": "10231",
        "received_at": datetime(2024, 5, 11, 15, 26, tzinfo=LONDON),
        "kind": "complaint",
        "title": "Pump PX-200 leaking after two weeks",
        "text": "",
        "score": Decimal(1),
        "scale": "csat2",
        "customer_name": "Brightpump GmbH",
        "customer_ref": "",
        "contact_name": "Maria Keller",
        "contact_email": "maria.keller@brightpump.example",
        "product_line": "px_200",
        "region": "",
        "category": "",
        "status": "solved",
        "acknowledged_at": datetime(2024, 5, 11, 16, 0, tzinfo=LONDON),  # + 34 minutes
        "resolved_at": datetime(2024, 5, 13, 16, 10, tzinfo=LONDON),
        "tags": ["leak", "px200", "warranty"],
        "channel": "Web form",
        "language": "",
        "extra": {
            "Priority": "high",
            "Group": "Support",
            "Assignee": "Tom Brandt",
            "Reopens": "0",
            "Replies": "3",
            "Resolution time": "49",
            "First reply time in minutes": "34",
            "Full resolution time in minutes": "2924",
            "Requester wait time in minutes": "1840",
            "Order number [txt]": "SO-88120",
        },
    }
    assert len(first.raw) == 43
    assert first.raw["Satisfaction Score"] == "good"

    second = record(results, 3)
    assert (second.kind, second.score, second.tags) == (
        "enquiry",
        Decimal(0),
        ["billing", "invoice"],
    )
    assert second.acknowledged_at is None  # no first reply time
    # offered / unoffered: a survey without an answer is no score, not an error
    assert (record(results, 4).score, record(results, 4).scale) == (None, "")
    assert record(results, 5).score is None
    assert record(results, 5).kind == "enquiry"

    bad = error(results, 6)
    assert bad.column == "Created at"
    assert bad.reason == "'2024-02-31 10:00' is not a date Harken can read"
    assert (
        bad.message
        == "line 6: column 'Created at': '2024-02-31 10:00' is not a date Harken can read"
    )
    assert bad.raw["Id"] == "10235"


def test_zendesk_missing_required_column_is_named() -> None:
    with open_table(SAMPLES / "zendesk_missing_created.csv") as table:
        preset = detect_preset(table)
        assert preset.key == "zendesk"
        assert preset.validate(table.columns) == [
            "column 'Created at': no such column in the file, and it gives the received date "
            "(map another column or give a default date)"
        ]
        context = MapContext.for_table(table)
        results = [preset.map_row(row, context) for row in table]
    bad = error(results, 2)
    assert (bad.column, bad.reason) == (
        "Created at",
        "no such column in the file, and it gives the received date "
        "(map another column or give a default date)",
    )
    _, results = import_file(
        SAMPLES / "zendesk_missing_created.csv", default_date=date(2024, 5, 20)
    )
    assert record(results, 2).received_at == datetime(2024, 5, 20, tzinfo=LONDON)
    _, results = import_file(
        SAMPLES / "zendesk_missing_created.csv", mapping={"received_at": "Updated at"}
    )
    assert record(results, 2).received_at == datetime(2024, 5, 20, 10, 0, tzinfo=LONDON)


def test_user_mapping_overrides_the_preset() -> None:
    _, results = import_file(
        SAMPLES / "zendesk.csv",
        mapping={"text": "Subject", "title": None, "customer_ref": "Requester external id"},
    )
    first = record(results, 2)
    assert (first.title, first.text) == ("", "Pump PX-200 leaking after two weeks")
    assert first.customer_ref == "CRM-5521"
    _, results = import_file(SAMPLES / "zendesk.csv", mapping={"text": "Complaint text"})
    bad = error(results, 2)
    assert (
        bad.message
        == "line 2: column 'Complaint text': no such column in the file (chosen for text)"
    )


def test_nothing_to_import() -> None:
    data = (
        b"Summation column,Id,Requester id,Subject,Created at,Satisfaction Score\n"
        b",1,77,,2024-05-11 15:26,offered\n"
        b",2,78,,2024-05-11 15:27,good\n"
    )
    _, results = import_file(io.BytesIO(data), "zendesk")
    assert error(results, 2).message == "line 2: nothing to import: no text, title or score"
    assert record(results, 3).score == Decimal(1)


# --- Freshdesk --------------------------------------------------------------------------------


def test_freshdesk_export() -> None:
    preset, results = import_file(SAMPLES / "freshdesk.csv")
    assert preset.key == "freshdesk"
    first = record(results, 2)
    assert first.external_id == "4501"
    assert first.kind == "complaint"
    assert first.title == "Valve arrived cracked"
    assert first.text.startswith("The DN50 valve from order 7731")
    assert (first.score, first.scale) == (Decimal(5), "csat")
    assert first.received_at == datetime(2024, 3, 4, 8, 12, 55, tzinfo=LONDON)
    assert first.acknowledged_at == datetime(2024, 3, 4, 9, 2, 55, tzinfo=LONDON)
    assert first.resolved_at == datetime(2024, 3, 6, 14, 0, 10, tzinfo=LONDON)
    assert first.tags == ["damaged", "dn50"]
    assert (first.product_line, first.channel, first.language) == (
        "Industrial Valves",
        "Email",
        "German",
    )
    assert (first.contact_name, first.contact_email) == (
        "Jonas Weber",
        "jonas.weber@hydrotech.example",
    )
    assert first.customer_name == "Hydrotech AG"
    # from the "(in hrs)" columns, given as HH:MM:SS
    assert first.extra["first_response_hours"] == "0.83"
    assert first.extra["resolution_hours"] == "53.79"
    assert first.extra["Account tier"] == "Gold"

    second = record(results, 3)
    assert (second.kind, second.score, second.contact_name) == (
        "enquiry",
        Decimal(3),
        "Chloé Martin",
    )
    # the "(in hrs)" columns are empty: computed from the timestamps
    assert second.extra["first_response_hours"] == "1.50"
    assert second.extra["resolution_hours"] == "6.50"

    third = record(results, 4)
    assert (third.kind, third.score, third.resolved_at) == ("suggestion", None, None)
    assert "first_response_hours" not in third.extra

    fourth = record(results, 5)
    assert (
        fourth.text
        == "After the service visit the pump makes a grinding noise.\nIt started the same day."
    )
    assert (fourth.kind, fourth.score) == ("complaint", Decimal(2))

    bad = error(results, 7)
    assert (bad.column, bad.reason) == (
        "Survey results",
        "'Very good indeed' is not a score on the CSAT scale 1\u20135",
    )


def test_freshservice_capitalisation() -> None:
    data = (
        b"Ticket Id,Subject,Description,Status,Priority,Source,Type,Created Time,Resolved Time,"
        b"Survey Result,Requester Name,Requester Email\n"
        b"SR-88,Laptop will not boot,Black screen after update,Closed,High,Portal,Incident,"
        b"2024-04-02 09:00:00,2024-04-02 17:30:00,Extremely happy,Ola Nordmann,ola@example.no\n"
    )
    preset, results = import_file(io.BytesIO(data))
    assert preset.key == "freshdesk"
    only = record(results, 2)
    assert (only.external_id, only.score, only.contact_email) == (
        "SR-88",
        Decimal(5),
        "ola@example.no",
    )
    assert only.extra["resolution_hours"] == "8.50"


def test_freshdesk_cp1252_export() -> None:
    _, results = import_file(SAMPLES / "malformed_cp1252.csv", "freshdesk")
    first = record(results, 2)
    assert first.title == "Réclamation livraison"
    assert first.text == "\u201cColis endommagé\u201d \u2013 120 € de dégâts"
    assert first.received_at == datetime(2024, 3, 4, 8, 12, 55, tzinfo=LONDON)


# --- Jira Service Management ------------------------------------------------------------------


def test_jira_service_management_export() -> None:
    preset, results = import_file(SAMPLES / "jira_sm.csv")
    assert preset.key == "jira_sm"
    assert [result.line for result in results] == [2, 5, 6, 7]

    first = record(results, 2)
    assert first.external_id == "SUP-101"
    assert first.kind == "complaint"
    assert first.received_at == datetime(2024, 5, 11, 15, 26, tzinfo=LONDON)
    assert first.resolved_at == datetime(2024, 5, 12, 9, 58, tzinfo=LONDON)
    assert (first.score, first.scale) == (Decimal(4), "csat")
    assert first.tags == ["login", "portal"]  # both Labels columns
    assert first.text == (
        'After resetting my password the portal shows "Invalid session" on every page.\n\n'
        "Steps: reset, log in, open Orders."
    )
    assert (first.category, first.contact_name) == ("Portal", "Carla Dias")
    assert (
        first.extra["Comment"] == "11/May/24 03:40 PM;557058:aa11;Thanks, we are looking into it."
    )
    assert (
        first.extra["Comment (2)"]
        == "12/May/24 09:58 AM;557058:aa11;Fixed by clearing the session cache."
    )
    assert first.extra["Custom field (Time to resolution)"] == "18h 32m"

    second = record(results, 5)  # after the three-line description
    assert (second.external_id, second.kind, second.score, second.tags) == (
        "SUP-102",
        "enquiry",
        None,
        [],
    )

    wide = error(results, 6)
    assert wide.column is None
    assert wide.message == "line 6: row has 38 values but the header has 37"
    assert wide.raw["(beyond the header 1)"] == "unexpected"

    last = record(results, 7)
    assert (last.external_id, last.tags, last.score) == ("SUP-104", ["billing", "vat"], Decimal(2))


# --- Qualtrics --------------------------------------------------------------------------------


def test_qualtrics_export() -> None:
    preset, results = import_file(SAMPLES / "qualtrics.csv")
    assert preset.key == "qualtrics"
    first = record(results, 4)
    assert first.canonical() == {
        "external_id": "R_2aXbQ9kLmN0pQrS",
        # row 3 says the dates are in Europe/Berlin, whatever the default zone
        "received_at": datetime(2024, 5, 11, 15, 26, 3, tzinfo=BERLIN),
        "kind": "survey_response",
        "title": "",
        "text": "Schnelle Lieferung und gute Beratung.",
        "score": Decimal(9),
        "scale": "nps",
        "customer_name": "",
        "customer_ref": "CUST-1001",
        "contact_name": "Anna Schulz",
        "contact_email": "anna.schulz@kunde.example",
        "product_line": "",
        "region": "",
        "category": "",
        "status": "",
        "acknowledged_at": None,
        "resolved_at": None,
        "tags": [],
        "channel": "email",
        "language": "DE",
        "extra": {
            "Finished": "1",
            "Progress": "100",
            "Q1_NPS_GROUP": "Promoter",
            "Q2 - Topics": "Lieferung",
            "Q3": "Kugelhähne,Schieber",
        },
    }
    assert first.received_at is not None and first.received_at.utcoffset() == timedelta(hours=2)
    assert (
        record(results, 5).text == "Die Dichtung war nach zwei Wochen undicht.\nBitte verbessern."
    )
    partial = record(results, 7)
    assert (partial.score, partial.text, partial.extra["Finished"]) == (Decimal(8), "", "0")
    bad = error(results, 8)
    assert (bad.column, bad.reason) == (
        "RecordedDate",
        "'13.05.2024 25:61' is not a date Harken can read",
    )


def test_qualtrics_columns_are_chosen_by_id_never_by_question_text() -> None:
    _, results = import_file(
        SAMPLES / "qualtrics.csv", score_column="QID1", text_column="Q2 - Topics"
    )
    first = record(results, 4)
    assert (first.score, first.text) == (Decimal(9), "Lieferung")
    _, results = import_file(SAMPLES / "qualtrics.csv", text_column="Was können wir verbessern?")
    assert error(results, 4).message == (
        "line 4: column 'Was können wir verbessern?': no such column in the file (chosen for text)"
    )


def test_qualtrics_legacy_export() -> None:
    with open_table(SAMPLES / "qualtrics_legacy.csv") as table:
        preset = detect_preset(table)
        assert preset.validate(table.columns) == [
            "nothing to import: no column gives the text, a title or a score; "
            "choose the columns to use"
        ]
    _, results = import_file(
        SAMPLES / "qualtrics_legacy.csv", score_column="Q1", text_column="Q2", scale="nps"
    )
    first = record(results, 3)
    assert (first.external_id, first.score, first.scale, first.text) == (
        "R_1Fz8Ue8yVJcGjKb",
        Decimal(9),
        "nps",
        "Quick answers from support.",
    )
    assert first.received_at == datetime(2015, 4, 21, 10, 18, 2, tzinfo=LONDON)
    assert (first.contact_name, first.customer_ref, first.contact_email) == (
        "Okafor, Chidi",
        "CUST-0042",
        "chidi.okafor@example.org",
    )
    assert first.extra == {"V10": "1"}
    assert record(results, 4).score == Decimal(6)


# --- SurveyMonkey -----------------------------------------------------------------------------


def test_surveymonkey_export() -> None:
    preset, results = import_file(SAMPLES / "surveymonkey.csv")
    assert preset.key == "surveymonkey"
    first = record(results, 3)
    assert first.external_id == "114239876501"
    assert first.received_at == datetime(2026, 5, 10, 9, 15, 3, tzinfo=LONDON)
    assert (first.score, first.scale, first.kind) == (Decimal(9), "nps", "survey_response")
    assert first.text == "Reliable valves, friendly support."
    assert (first.contact_name, first.contact_email, first.customer_ref) == (
        "Kim Tan",
        "kim.tan@example.com",
        "ACC-1001",
    )
    assert first.extra == {
        "Collector ID": "431562001",
        "Which of our products do you use? - Ball valves": "Ball valves",
        "Which of our products do you use? - Gate valves": "Gate valves",
        "How satisfied were you with delivery times?": "Very satisfied",
    }
    assert (
        record(results, 4).extra["Which of our products do you use? - Other (please specify)"]
        == "Actuators"
    )

    bad = error(results, 5)
    assert (
        bad.column
        == "How likely is it that you would recommend Acme Valves to a friend or colleague?"
    )
    assert bad.reason == "11 is outside the NPS scale 0\u201310"

    last = record(results, 6)
    assert (last.score, last.text, last.contact_name) == (Decimal(10), "", "")


def test_surveymonkey_day_first_account_and_chosen_columns() -> None:
    _, results = import_file(
        SAMPLES / "surveymonkey.csv",
        date_order="dmy",
        score_column="How satisfied were you with delivery times?",
        scale="csat",
    )
    first = record(results, 3)
    assert first.received_at == datetime(2026, 10, 5, 9, 15, 3, tzinfo=LONDON)
    assert (first.score, first.scale) == (Decimal(5), "csat")
    # 11 is no longer the score, so that row imports
    assert record(results, 5).score == Decimal(4)


# --- Typeform ---------------------------------------------------------------------------------


def test_typeform_export() -> None:
    preset, results = import_file(SAMPLES / "typeform.csv")
    assert preset.key == "typeform"
    first = record(results, 2)
    assert first.external_id == "8q3v2nqdz1kpxz8q3v2nqd1r4w5j8fxe"
    # "(UTC)" columns are UTC whatever the default zone
    assert first.received_at == datetime(2024, 5, 11, 15, 26, 3, tzinfo=UTC)
    assert (first.score, first.scale) == (Decimal(9), "nps")
    assert first.text == "Faster delivery, please."
    assert first.contact_email == "sam@example.com"
    assert first.tags == ["vip", "trade-show"]
    assert first.extra == {
        "Response Type": "completed",
        "Ending": "default_tys",
        "Which products did you buy?": "Ball valves / Gate valves",
        "Your phone number": "+44 7700 900123",
    }
    partial = record(results, 4)  # no submit date: the start date stands in
    assert partial.received_at == datetime(2024, 5, 12, 9, 30, tzinfo=UTC)
    assert partial.extra["Response Type"] == "partial"
    bad = error(results, 5)
    assert (bad.column, bad.reason) == (
        "How likely are you to recommend Acme Valves to a colleague?",
        "'ten' is not a score on the NPS scale 0\u201310",
    )


def test_typeform_answer_taken_for_the_email_never_rejects_the_response() -> None:
    data = (
        b"#,What could we do better?,Your email,Submit Date (UTC),Network ID\n"
        b"tok1,Nothing,not telling,2024-05-11 15:26:03,ab12\n"
    )
    _, results = import_file(io.BytesIO(data), "typeform")
    only = record(results, 2)
    assert (only.contact_email, only.extra["Your email"]) == ("", "not telling")
    _, results = import_file(io.BytesIO(data), "typeform", mapping={"contact_email": "Your email"})
    assert error(results, 2).message == (
        "line 2: column 'Your email': 'not telling' is not an email address"
    )


# --- Google Forms -----------------------------------------------------------------------------


def test_google_forms_quiz_export() -> None:
    preset, results = import_file(SAMPLES / "google_forms.csv")
    assert preset.key == "google_forms"
    first = record(results, 2)
    assert first.received_at == datetime(2026, 9, 27, 15, 0, tzinfo=timezone(timedelta(hours=3)))
    assert first.contact_email == "noor.haddad@example.com"
    assert (first.score, first.scale) == (Decimal(4), "custom")
    assert first.extra == {
        "How satisfied are you with our service?": "Very satisfied",
        "score_out_of": "5",
    }
    assert first.text == "More evening delivery slots"
    assert first.external_id.startswith("gforms-") and len(first.external_id) == 27
    assert (
        len({result.external_id for result in results if isinstance(result, CanonicalRecord)}) == 3
    )
    bad = error(results, 5)
    assert (bad.column, bad.reason) == (
        "Timestamp",
        "'27/09/2026 lunchtime' is not a date Harken can read",
    )

    _, again = import_file(SAMPLES / "google_forms.csv", scale="csat")
    assert record(again, 2).external_id == first.external_id  # stable across imports
    assert (record(again, 2).score, record(again, 2).scale) == (Decimal(4), "csat")


def test_google_forms_day_first_locale() -> None:
    data = (
        b"Timestamp,Email address,How likely are you to recommend us to a friend?,Any comments?\n"
        b"05/10/2026 09:15:00,a@example.com,9,Lovely\n"
        b"25/10/2026 18:40:12,b@example.com,6,\n"
    )
    preset, results = import_file(io.BytesIO(data), date_order="dmy")
    assert preset.key == "google_forms"
    first = record(results, 2)
    assert first.received_at == datetime(2026, 10, 5, 9, 15, tzinfo=LONDON)
    assert (first.score, first.scale, first.text, first.contact_email) == (
        Decimal(9),
        "nps",
        "Lovely",
        "a@example.com",
    )
    assert record(results, 3).received_at == datetime(2026, 10, 25, 18, 40, 12, tzinfo=LONDON)


# --- GSA Touchpoints --------------------------------------------------------------------------


def test_touchpoints_export() -> None:
    with open_table(SAMPLES / "touchpoints.csv") as table:
        preset = detect_preset(table)
        assert preset.key == "touchpoints"
        assert preset.validate(table.columns, MapContext(default_date=date(2024, 6, 1))) == []
    _, results = import_file(SAMPLES / "touchpoints.csv")
    assert error(results, 2).column == "created_at"

    _, results = import_file(SAMPLES / "touchpoints.csv", default_date=date(2024, 6, 1))
    first = record(results, 2)
    assert first.received_at == datetime(2024, 6, 1, tzinfo=LONDON)
    assert (first.external_id, first.score, first.scale, first.kind) == (
        "tp-2024-0001",
        Decimal(1),
        "csat2",
        "survey_response",
    )
    assert first.tags == ["positive_effective", "positive_ease", "positive_employee"]
    assert first.text == "The form was easy and the staff member was helpful."
    second = record(results, 3)
    assert (second.score, second.tags) == (
        Decimal(0),
        ["negative_effective", "negative_efficient", "negative_transparent"],
    )
    assert record(results, 4).tags == ["positive_ease"]
    bad = error(results, 5)
    assert (bad.column, bad.reason) == ("positive_effective", "'maybe' is not yes or no")


def test_touchpoints_five_point_variant() -> None:
    data = (
        b"external_id,question_1,positive_ease,question_4,created_at\n"
        b"x1,4,1,Good,2024-06-02T10:00:00Z\n"
    )
    _, results = import_file(io.BytesIO(data), scale="csat")
    only = record(results, 2)
    assert (only.score, only.scale, only.received_at) == (
        Decimal(4),
        "csat",
        datetime(2024, 6, 2, 10, tzinfo=UTC),
    )
    _, results = import_file(io.BytesIO(data))
    assert error(results, 2).reason.startswith("'4' is not an answer on the two-point scale")


# --- generic ----------------------------------------------------------------------------------

CFPB_MAPPING = {
    "external_id": "Complaint ID",
    "received_at": "Date received",
    "text": "Consumer complaint narrative",
    "title": "Sub-issue",
    "product_line": "Product",
    "category": "Issue",
    "region": "State",
    "channel": "Submitted via",
    "status": "Company response to consumer",
    "tags": "Tags",
}


def test_generic_csv_driven_by_the_mapping() -> None:
    preset, results = import_file(
        SAMPLES / "generic.csv",
        mapping=CFPB_MAPPING,
        default_kind="complaint",
        extra_columns=["Sub-product", "Timely response?"],
    )
    assert preset.key == "generic"
    first = record(results, 2)
    assert first.canonical() == {
        "external_id": "9100101",
        "received_at": datetime(2024, 3, 14, tzinfo=LONDON),
        "kind": "complaint",
        "title": "Seal leaking",
        "text": (
            "The pump seal started leaking eleven days after installation; "
            "the replacement took a month."
        ),
        "score": None,
        "scale": "",
        "customer_name": "",
        "customer_ref": "",
        "contact_name": "",
        "contact_email": "",
        "product_line": "Industrial pumps",
        "region": "OH",
        "category": "Product failure",
        "status": "Closed with explanation",
        "acknowledged_at": None,
        "resolved_at": None,
        "tags": ["Older American"],
        "channel": "Web",
        "language": "",
        "extra": {"Sub-product": "PX-200", "Timely response?": "Yes"},
    }
    assert record(results, 4).tags == ["Servicemember", "Older American"]
    assert record(results, 4).text == ""  # the title alone is enough
    bad = error(results, 5)
    assert (bad.column, bad.reason) == ("Date received", "'13/45/24' is not a date Harken can read")


def test_generic_without_a_mapping_says_what_is_missing() -> None:
    with open_table(SAMPLES / "generic.csv") as table:
        assert get_preset("generic").validate(table.columns) == [
            "no column is mapped to received_at and no default date was given",
            "nothing to import: no column gives the text, a title or a score; "
            "choose the columns to use",
        ]
        assert get_preset("generic").validate(
            table.columns, MapContext(mapping=CFPB_MAPPING, extra_columns=["Nope"])
        ) == ["column 'Nope': no such column in the file (chosen for extra)"]


def test_generic_kind_column_must_name_a_kind() -> None:
    data = (
        b"When,What,Type\n2024-01-02,Great service,Praise\n2024-01-03,Broken lid,Banana\n"
        b"2024-01-04,Can I return it?,Return\n"
    )
    _, results = import_file(
        io.BytesIO(data), "generic", mapping={"received_at": "When", "text": "What", "kind": "Type"}
    )
    assert record(results, 2).kind == "compliment"
    assert error(results, 3).message == (
        "line 3: column 'Type': 'Banana' is not a kind Harken knows (complaint, compliment, "
        "suggestion, enquiry, survey_response, review, return_claim, escalation)"
    )
    assert record(results, 4).kind == "return_claim"


def test_generic_json_with_nested_properties() -> None:
    _, results = import_file(
        SAMPLES / "generic.json",
        mapping={
            "external_id": "id",
            "received_at": "submittedAt",
            "score": "properties.hs_response_value",
            "text": "properties.hs_content",
            "channel": "properties.hs_survey_channel",
            "contact_email": "contact.email",
            "contact_name": "contact.name",
            "tags": "tags",
        },
        scale="nps",
        default_kind="survey_response",
    )
    first = record(results, 2)
    assert (first.external_id, first.score, first.scale) == ("fs-7001", Decimal(9), "nps")
    assert first.received_at == datetime(2024, 5, 11, 13, 26, 3, tzinfo=UTC)
    assert (first.contact_email, first.tags, first.channel) == (
        "rosa.diaz@example.com",
        ["support", "nps"],
        "EMAIL",
    )
    second = record(results, 9)
    assert second.received_at == datetime(2024, 5, 12, 8, 0, tzinfo=timezone(timedelta(hours=2)))
    assert second.text == 'Manual is "hard" to follow.\nPlease add diagrams.'
    assert second.contact_email == ""
    bad = error(results, 16)
    assert (bad.column, bad.reason) == (
        "properties.hs_response_value",
        "12 is outside the NPS scale 0\u201310",
    )


def test_generic_json_lines() -> None:
    _, results = import_file(
        SAMPLES / "generic.jsonl",
        mapping={
            "external_id": "id",
            "received_at": "submittedAt",
            "score": "score",
            "text": "comment",
        },
        scale="nps",
    )
    assert [result.line for result in results] == [1, 2, 4, 5]
    assert record(results, 1).score == Decimal(9)
    assert (
        error(results, 4).message
        == "line 4: not valid JSON (Expecting ',' delimiter at column 116)"
    )
    assert record(results, 5).text == "Excellent"


def test_generic_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "generic.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Ref", "Logged", "Customer", "Feedback", "Rating", "Closed"])
    sheet.append(
        ["C-1", datetime(2024, 3, 14, 9, 30), "Acme Ltd", "Great", 5, datetime(2024, 3, 15, 12, 0)]
    )
    sheet.append(["C-2", datetime(2024, 3, 16, 11, 0), "Beta plc", "Slow reply", 2.0, None])
    sheet.append(["C-3", "not a date", "Gamma AG", "Fine", 9, None])
    workbook.save(path)
    _, results = import_file(
        path,
        mapping={
            "external_id": "Ref",
            "received_at": "Logged",
            "customer_name": "Customer",
            "text": "Feedback",
            "score": "Rating",
            "resolved_at": "Closed",
        },
        scale="stars",
        default_tz=BERLIN,
    )
    first = record(results, 2)
    assert (first.received_at, first.resolved_at) == (
        datetime(2024, 3, 14, 9, 30, tzinfo=BERLIN),
        datetime(2024, 3, 15, 12, 0, tzinfo=BERLIN),
    )
    assert (first.score, first.scale, first.customer_name) == (Decimal(5), "stars", "Acme Ltd")
    assert record(results, 3).score == Decimal(2)
    bad = error(results, 4)
    assert bad.problems == [
        Problem("Logged", "'not a date' is not a date Harken can read"),
        Problem("Rating", "9 is outside the star rating scale 1\u20135"),
    ]
    assert bad.message == (
        "line 4: column 'Logged': 'not a date' is not a date Harken can read; "
        "column 'Rating': 9 is outside the star rating scale 1\u20135"
    )


# --- contexts and helpers ---------------------------------------------------------------------


def test_map_row_without_the_table_columns() -> None:
    row = Row(5, {"id": "7", "when": "2024-01-02 10:00", "note": "Thanks!"})
    result = get_preset("generic").map_row(
        row,
        MapContext(
            mapping={"external_id": "id", "received_at": "when", "text": "note"}, default_tz=UTC
        ),
    )
    assert isinstance(result, CanonicalRecord)
    assert (result.line, result.text, result.received_at) == (
        5,
        "Thanks!",
        datetime(2024, 1, 2, 10, tzinfo=UTC),
    )
    assert result.raw == row.values
    bad = get_preset("generic").map_row(
        Row(9, {}, ["x"], "line 9: row has 1 values but the header has 0"), MapContext()
    )
    assert isinstance(bad, RowError)
    assert bad.message == "line 9: row has 1 values but the header has 0"


def test_repeated_cells_map_the_same_every_time() -> None:
    # Dates and scores are remembered per context: the second row with the same cells
    # gets equal values, and the same problems when they do not parse.
    context = MapContext(
        mapping={"received_at": "when", "text": "note", "score": "rating"},
        scale="nps",
        default_tz=UTC,
    )
    preset = get_preset("generic")
    good = {"when": "2024-01-02 10:00", "note": "Fine", "rating": "9"}
    bad = {"when": "2024-13-02", "note": "Odd", "rating": "11"}
    first, again = (preset.map_row(Row(line, dict(good)), context) for line in (2, 3))
    assert isinstance(first, CanonicalRecord) and isinstance(again, CanonicalRecord)
    assert (
        (again.received_at, again.score)
        == (first.received_at, first.score)
        == (
            datetime(2024, 1, 2, 10, tzinfo=UTC),
            Decimal(9),
        )
    )
    errors = [preset.map_row(Row(line, dict(bad)), context) for line in (4, 5)]
    assert [error.message for error in errors if isinstance(error, RowError)] == [
        f"line {line}: column 'when': '2024-13-02' is not a date Harken can read; "
        "column 'rating': 11 is outside the NPS scale 0\u201310"
        for line in (4, 5)
    ]


def test_default_mapping_shows_the_preset_choices() -> None:
    with open_table(SAMPLES / "typeform.csv") as table:
        assert get_preset("typeform").default_mapping(table.columns) == {
            "external_id": "#",
            "text": "What could we do better?",
            "contact_email": "Your email",
            "received_at": "Submit Date (UTC)",
            "score": "How likely are you to recommend Acme Valves to a colleague?",
            "tags": "Tags",
        }


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Incident", "complaint"),
        ("Problem", "complaint"),
        ("Question", "enquiry"),
        ("Service request", "enquiry"),
        ("Feature Request", "suggestion"),
        ("survey_response", "survey_response"),
        ("Return claim", "return_claim"),
        ("RMA", "return_claim"),
        ("Kudos", "compliment"),
        ("Escalated", "escalation"),
        ("App review", "review"),
        ("Lead", None),
        ("", None),
    ],
)
def test_kind_from_text(text: str, kind: str | None) -> None:
    assert kind_from_text(text) == kind


def test_context_choices_are_checked() -> None:
    with pytest.raises(ValueError, match="'likert' is not a scale"):
        MapContext(scale="likert")
    with pytest.raises(ValueError, match="'gripe' is not a kind"):
        MapContext(default_kind="gripe")
    with pytest.raises(ValueError, match="cannot map a column to 'extra'"):
        MapContext(mapping={"extra": "Notes"})


SAMPLE_FILES = [
    ("zendesk.csv", "zendesk"),
    ("freshdesk.csv", "freshdesk"),
    ("surveymonkey.csv", "surveymonkey"),
    ("qualtrics.csv", "qualtrics"),
    ("typeform.csv", "typeform"),
    ("google_forms.csv", "google_forms"),
    ("jira_sm.csv", "jira_sm"),
    ("touchpoints.csv", "touchpoints"),
]
_COLUMNS = {key: open_table(SAMPLES / name) for name, key in SAMPLE_FILES}
COLUMNS = {key: list(table.columns) for key, table in _COLUMNS.items()}
for _table in _COLUMNS.values():
    _table.close()


@given(st.sampled_from(sorted(COLUMNS)), st.data())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_map_row_never_raises(key: str, data: st.DataObject) -> None:
    columns = COLUMNS[key]
    values = {
        column.key: data.draw(
            st.one_of(
                st.sampled_from(
                    ["", "1", "11", "good", "2024-05-11 15:26", "11/May/24 03:26 PM", "x@y.z"]
                ),
                st.text(max_size=15),
            )
        )
        for column in columns
    }
    context = MapContext(
        columns=columns, date_order=data.draw(st.sampled_from([None, "mdy", "dmy"]))
    )
    result = PRESETS[key].map_row(Row(2, values), context)
    if isinstance(result, RowError):
        assert result.problems and result.message.startswith("line 2: ")
    else:
        assert result.received_at is not None and result.received_at.tzinfo is not None
        assert result.text or result.title or result.score is not None
