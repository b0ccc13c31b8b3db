"""Reading export files as streams of rows: formats, encodings, limits, line numbers, memory."""

from __future__ import annotations

import codecs
import copy
import csv
import gc
import io
import json
import pickle
import time
import tracemalloc
import warnings
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harken.feedback.importers.readers import (
    Column,
    ReaderError,
    Row,
    Table,
    TableFormatError,
    open_table,
)

SAMPLES = Path(__file__).parent / "samples"
CFPB = Path("/work/shared/data/ext/formats/cfpb_ccdb_v1-public.csv")


def read_all(source: Path | IO[bytes], **options: Any) -> tuple[Table, list[Row]]:
    with open_table(source, **options) as table:
        return table, list(table)


class OneWayStream(io.RawIOBase):
    """A binary stream that cannot seek, like an upload read from a socket, handing out
    small pieces."""

    def __init__(self, data: bytes, piece: int = 1000) -> None:
        self._data = memoryview(data)
        self._piece = piece

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        count = min(len(target), self._piece, len(self._data))
        target[:count] = self._data[:count]
        self._data = self._data[count:]
        return count


# --- delimited text ---------------------------------------------------------------------------


def test_quoted_newlines_keep_line_numbers_right() -> None:
    table, rows = read_all(SAMPLES / "quoted_newlines.csv")
    assert (table.format, table.encoding, table.delimiter) == ("csv", "utf-8", ",")
    assert [row.line for row in rows] == [2, 5, 6, 8]
    assert rows[0].values == {
        "id": "1",
        "comment": "first line\nsecond line\nthird line",
        "score": "5",
    }
    assert rows[2].values["comment"] == 'a "quoted" word\nand a newline'
    assert rows[3].values == {"id": "4", "comment": "last", "score": "2"}
    assert all(row.error is None and row.extra == [] for row in rows)


def test_crlf_line_endings_and_lone_carriage_returns() -> None:
    data = b'id,comment\r\n1,"two\r\nlines"\r\n2,plain\r3,old mac\r'
    _, rows = read_all(io.BytesIO(data))
    assert [(row.line, row.values["comment"]) for row in rows] == [
        (2, "two\r\nlines"),
        (4, "plain"),
        (5, "old mac"),
    ]


def test_semicolons_and_decimal_commas_in_cp1252() -> None:
    table, rows = read_all(SAMPLES / "semicolon_decimal_comma.csv")
    assert (table.delimiter, table.encoding) == (";", "cp1252")
    assert table.columns == ["Id", "Kommentar", "Bewertung", "Datum"]
    assert rows[0].values == {
        "Id": "1",
        "Kommentar": "Sehr gut, danke",
        "Bewertung": "4,5",
        "Datum": "10.05.2026 09:15",
    }
    assert rows[1].values["Kommentar"] == "Lieferung zu spät"


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("id\tname\tcomment", "\t"),
        ("id|name|comment", "|"),
        ("id;name;comment", ";"),
        ("id,name,comment", ","),
    ],
)
def test_delimiter_detection(header: str, delimiter: str) -> None:
    body = "\n".join(
        delimiter.join([str(n), f"name {n}", "a, b; c | d\te".replace(delimiter, " ")])
        if delimiter != ","
        else f'{n},x,"a, b"'
        for n in range(1, 6)
    )
    table, rows = read_all(io.BytesIO(f"{header}\n{body}\n".encode()))
    assert table.delimiter == delimiter
    assert len(table.columns) == 3
    assert all(row.error is None for row in rows)


def test_excel_sep_hint_line_is_honoured_and_counted() -> None:
    table, rows = read_all(io.BytesIO(b"sep=;\nid;comment\n1;a,b\n"))
    assert table.delimiter == ";"
    assert table.columns == ["id", "comment"]
    assert rows == [Row(3, {"id": "1", "comment": "a,b"})]


def test_tsv_extension_defaults_to_tabs(tmp_path: Path) -> None:
    path = tmp_path / "single.tsv"
    path.write_text("comment\nhello, world\n")
    table, rows = read_all(path)
    assert table.delimiter == "\t"
    assert rows[0].values == {"comment": "hello, world"}


# --- encodings --------------------------------------------------------------------------------


def test_cp1252_export_is_decoded() -> None:
    table, rows = read_all(SAMPLES / "malformed_cp1252.csv")
    assert table.encoding == "cp1252"
    assert rows[0].values["Subject"] == "Réclamation livraison"
    assert rows[0].values["Description"] == "\u201cColis endommagé\u201d \u2013 120 € de dégâts"
    assert rows[1].values["Subject"] == "Straße gesperrt"


def test_utf16_with_bom_tab_separated() -> None:
    table, rows = read_all(SAMPLES / "malformed_utf16.csv")
    assert (table.encoding, table.delimiter) == ("utf-16-le", "\t")
    assert table.columns == ["Id", "Subject", "Created at", "Satisfaction Score"]
    assert rows[0] == Row(
        2,
        {
            "Id": "501",
            "Subject": "Πρόβλημα με την παράδοση",
            "Created at": "2024-05-11 15:26",
            "Satisfaction Score": "bad",
        },
    )
    assert rows[1].values["Subject"] == "配送が遅れました"


@pytest.mark.parametrize(
    ("encoded", "reported"),
    [
        (codecs.BOM_UTF8 + "Name,Note\nZoë,ok\n".encode(), "utf-8-sig"),
        (codecs.BOM_UTF16_BE + "Name,Note\nZoë,ok\n".encode("utf-16-be"), "utf-16-be"),
        ("Name,Note\nZoë,ok\n".encode("utf-16-le"), "utf-16-le"),  # no BOM: found by its NULs
        (codecs.BOM_UTF32_LE + "Name,Note\nZoë,ok\n".encode("utf-32-le"), "utf-32-le"),
        ("Name,Note\nZoë,ok\n".encode(), "utf-8"),
        ("Name,Note\nZoë,ok\n".encode("cp1252"), "cp1252"),
        ("Name,Note\nZoë,ok\x81\n".encode("latin-1"), "latin-1"),  # 0x81 is not cp1252
    ],
)
def test_encoding_detection(encoded: bytes, reported: str) -> None:
    table, rows = read_all(io.BytesIO(encoded))
    assert table.encoding == reported
    assert table.columns == ["Name", "Note"]
    assert rows[0].values["Name"] == "Zoë"
    assert rows[0].error is None


def test_stated_encoding_wins_and_unknown_ones_are_refused() -> None:
    data = "Name\nÅsa\n".encode("cp1252")
    table, rows = read_all(io.BytesIO(data), encoding="latin-1")
    assert table.encoding == "iso8859-1"
    assert rows[0].values["Name"] == "Åsa"
    with pytest.raises(ReaderError, match="'klingon' is not a text encoding Harken knows"):
        open_table(io.BytesIO(data), encoding="klingon")


def test_undecodable_bytes_after_the_sample_make_only_that_row_bad() -> None:
    filler = "".join(f"{n},plain ascii comment number {n}\n" for n in range(1, 3001))
    data = ("id,comment\n" + filler).encode() + b"3001,caf\xe9 cr\xe8me\n3002,fine again\n"
    assert len(data) > 64 * 1024  # the bad bytes come after the sample the encoding is chosen on
    table, rows = read_all(io.BytesIO(data))
    assert table.encoding == "utf-8"
    assert len(rows) == 3002
    bad = rows[3000]
    assert bad.line == 3002
    assert bad.error == "line 3002: column 'comment' has bytes that are not valid utf-8: 0xE9 0xE8"
    assert bad.values["comment"] == "caf\ufffd cr\ufffdme"
    assert rows[3001] == Row(3003, {"id": "3002", "comment": "fine again"})
    assert all(row.error is None for row in rows[:3000])


# --- columns and row shapes -------------------------------------------------------------------


def test_repeated_column_names_keep_every_value() -> None:
    table, rows = read_all(SAMPLES / "jira_sm.csv")
    assert [column.name for column in table.columns].count("Labels") == 2
    assert [column.name for column in table.columns].count("Comment") == 2
    labels = [column for column in table.columns if column == "Labels"]
    assert [(c.key, c.position) for c in labels] == [("Labels", 23), ("Labels (2)", 24)]
    assert rows[0].values["Labels"] == "login"
    assert rows[0].values["Labels (2)"] == "portal"
    assert rows[0].values["Comment (2)"] == (
        "12/May/24 09:58 AM;557058:aa11;Fixed by clearing the session cache."
    )


def test_unique_keys_respect_real_names_and_blank_headers() -> None:
    table, _ = read_all(io.BytesIO(b"Labels,Labels,Labels (2),, Note ,\n1,2,3,4,5,6\n"))
    assert table.columns == ["Labels", "Labels", "Labels (2)", "", "Note", ""]
    assert table.keys == ["Labels", "Labels (3)", "Labels (2)", "Column 4", "Note", "Column 6"]
    assert isinstance(table.columns[0], Column)
    assert table.columns[1].name == "Labels"
    assert table.header_lines == [["Labels", "Labels", "Labels (2)", "", " Note ", ""]]


def test_columns_survive_copying_and_pickling() -> None:
    column = Column("Labels", key="Labels (2)", position=24, labels=("x",))
    for copied in (copy.copy(column), pickle.loads(pickle.dumps(column))):  # noqa: S301
        assert (copied, copied.key, copied.position, copied.labels) == column_parts(column)
    assert json.dumps([column]) == '["Labels"]'


def column_parts(column: Column) -> tuple[str, str, int, tuple[str, ...]]:
    return (column.name, column.key, column.position, column.labels)


def test_rows_wider_than_the_header_are_flagged_not_shifted() -> None:
    _, rows = read_all(SAMPLES / "wide_row.csv")
    assert rows[0] == Row(2, {"id": "1", "name": "Ada", "comment": "fine"})
    assert rows[1] == Row(
        3,
        {"id": "2", "name": "Bob", "comment": "has, commas"},
        ["surplus", "values"],
        "line 3: row has 5 values but the header has 3",
    )
    assert rows[2] == Row(4, {"id": "3", "name": "Cy", "comment": "last"})


def test_short_rows_are_padded_and_empty_surplus_is_ignored() -> None:
    _, rows = read_all(io.BytesIO(b"a,b,c\n1\n2,x,y,,\n\n,,,\n3,,\n"))
    assert rows == [
        Row(2, {"a": "1", "b": "", "c": ""}),
        Row(3, {"a": "2", "b": "x", "c": "y"}),
        Row(6, {"a": "3", "b": "", "c": ""}),
    ]


def test_a_huge_cell_rejects_its_row_only() -> None:
    huge = "x" * (2 * 1024 * 1024)
    data = f'Ticket ID,Description\n1,short\n2,"{huge}"\n3,after\n'.encode()
    _, rows = read_all(io.BytesIO(data))
    assert [row.line for row in rows] == [2, 3, 4]
    assert (
        rows[1].error
        == "line 3: column 'Description' is 2,097,152 characters, the limit is 1,048,576"
    )
    assert rows[1].values == {"Ticket ID": "2", "Description": ""}
    assert rows[0].error is None and rows[2] == Row(4, {"Ticket ID": "3", "Description": "after"})


def test_the_cell_limit_is_configurable() -> None:
    _, rows = read_all(io.BytesIO(b"a,b\n12345,ok\n"), max_cell=4)
    assert rows[0].error == "line 2: column 'a' is 5 characters, the limit is 4"


def test_empty_and_header_only_files() -> None:
    with pytest.raises(ReaderError, match=r"^The file is empty\.$"):
        open_table(SAMPLES / "empty.csv")
    with pytest.raises(ReaderError, match=r"^The file is empty\.$"):
        open_table(io.BytesIO(b"\r\n \n\t\n"))
    table, rows = read_all(SAMPLES / "header_only.csv")
    assert table.columns == ["Ticket ID", "Subject", "Description", "Created time"]
    assert rows == []


def test_too_few_rows_for_the_header() -> None:
    with pytest.raises(
        ReaderError, match=r"^The file has 1 row but 3 header rows were expected\.$"
    ):
        open_table(io.BytesIO(b"a,b\n"), header_rows=3)


# --- multi-row headers ------------------------------------------------------------------------


def test_qualtrics_three_header_rows_are_detected() -> None:
    table, rows = read_all(SAMPLES / "qualtrics.csv")
    assert table.header_rows == 3
    assert table.columns[:2] == ["StartDate", "EndDate"]
    recorded = table.columns[7]
    assert recorded.key == "RecordedDate"
    assert recorded.labels == (
        "Aufgezeichnetes Datum",
        '{"ImportId":"recordedDate","timeZone":"Europe/Berlin"}',
    )
    assert rows[0].line == 4
    assert rows[1].line == 5 and rows[2].line == 7  # row 5 holds a quoted newline


def test_surveymonkey_question_names_are_carried_across_blank_cells() -> None:
    table, rows = read_all(SAMPLES / "surveymonkey.csv")
    assert table.header_rows == 2
    assert table.keys[9:] == [
        "How likely is it that you would recommend Acme Valves to a friend or colleague?",
        "Which of our products do you use? - Ball valves",
        "Which of our products do you use? - Gate valves",
        "Which of our products do you use? - Other (please specify)",
        "What is the main reason for your score?",
        "How satisfied were you with delivery times?",
    ]
    assert table.columns[11] == "Which of our products do you use?"
    assert table.columns[11].labels == ("Gate valves",)
    assert table.columns[13].labels == ("Open-Ended Response",)
    assert rows[0].line == 3
    assert (
        rows[1].values["Which of our products do you use? - Other (please specify)"] == "Actuators"
    )


def test_legacy_qualtrics_has_two_header_rows() -> None:
    table, _ = read_all(SAMPLES / "qualtrics_legacy.csv")
    assert table.header_rows == 2
    assert table.columns[0] == "V1" and table.columns[0].labels == ("ResponseID",)


def test_reopen_with_other_header_rows(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text("Question,,\n,Yes,No\n1,x,\n")
    table = open_table(path)
    assert table.header_rows == 1
    table = table.reopen(header_rows=2)
    with table:
        assert table.keys == ["Question", "Question - Yes", "Question - No"]
        assert list(table) == [
            Row(3, {"Question": "1", "Question - Yes": "x", "Question - No": ""})
        ]


# --- workbooks --------------------------------------------------------------------------------


def _write_workbook(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Complaints"
    sheet.append(
        [
            "Date received",
            "Product",
            "Consumer complaint narrative",
            "Score",
            "Timely?",
            "Complaint ID",
        ]
    )
    sheet.append([datetime(2024, 3, 14, 9, 30), "Pumps", "Seal leaking", 4.0, True, 9100101])
    sheet.append(
        [datetime(2024, 3, 18), "Valves", "Late delivery\nby two weeks", 2.5, False, 9100102]
    )
    sheet.append([])  # a gap: the next row is row 5 of the sheet
    sheet.append([None, "Valves", None, None, None, 9100103, "beyond the header"])
    sheet.append(["=TODAY()", "Pumps", None, None, None, 9100104])
    other = workbook.create_sheet("Notes")
    other.append(["note"])
    other.append(["second sheet"])
    workbook.save(path)


def test_xlsx_rows_keep_sheet_row_numbers_and_text_values(tmp_path: Path) -> None:
    path = tmp_path / "generic.xlsx"
    _write_workbook(path)
    table, rows = read_all(path)
    assert (table.format, table.encoding, table.delimiter, table.sheet) == (
        "xlsx",
        None,
        None,
        "Complaints",
    )
    assert table.columns[0] == "Date received"
    assert rows[0] == Row(
        2,
        {
            "Date received": "2024-03-14 09:30:00",
            "Product": "Pumps",
            "Consumer complaint narrative": "Seal leaking",
            "Score": "4",
            "Timely?": "TRUE",
            "Complaint ID": "9100101",
        },
    )
    assert rows[1].values["Score"] == "2.5"
    assert rows[1].values["Consumer complaint narrative"] == "Late delivery\nby two weeks"
    assert rows[2].line == 5
    assert rows[2].extra == ["beyond the header"]
    assert rows[2].error == "line 5: row has 7 values but the header has 6"
    # a formula never calculated by Excel has no cached value: read as empty, not as its text
    assert rows[3].line == 6 and rows[3].values["Date received"] == ""


def test_xlsx_sheet_choice(tmp_path: Path) -> None:
    path = tmp_path / "generic.xlsx"
    _write_workbook(path)
    table, rows = read_all(path, sheet="Notes")
    assert table.columns == ["note"] and rows == [Row(2, {"note": "second sheet"})]
    table, rows = read_all(path, sheet=1)
    assert table.sheet == "Notes"
    with pytest.raises(
        ReaderError, match=r"has no sheet named 'Summary' \(it has 'Complaints', 'Notes'\)"
    ):
        open_table(path, sheet="Summary")


def test_xlsx_from_a_stream_that_cannot_seek_and_renamed_to_csv(tmp_path: Path) -> None:
    path = tmp_path / "generic.xlsx"
    _write_workbook(path)
    data = path.read_bytes()
    table, rows = read_all(io.BufferedReader(OneWayStream(data)))
    assert table.format == "xlsx" and len(rows) == 4
    renamed = tmp_path / "export.csv"
    renamed.write_bytes(data)
    table, rows = read_all(renamed)
    assert table.format == "xlsx" and len(rows) == 4


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "corrupt.xlsx",
            "corrupt.xlsx is not a readable Excel workbook (.xlsx); it may be damaged",
        ),
        (
            "not_a_workbook.xlsx",
            "not_a_workbook.xlsx is named like an Excel workbook but is not one",
        ),
    ],
)
def test_broken_workbooks(name: str, message: str) -> None:
    with pytest.raises(TableFormatError) as caught:
        open_table(SAMPLES / name)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
            "The file is an old-style Excel .xls workbook",
        ),
        (
            b"\x89PNG\r\n\x1a\n" + bytes(100),
            "The file is a PNG image, not a spreadsheet or CSV file.",
        ),
        (
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
            "The file is a PDF document, not a spreadsheet or CSV file.",
        ),
        (bytes(range(32)) * 40, "The file does not look like text"),
    ],
)
def test_files_that_are_not_tables(data: bytes, message: str) -> None:
    with pytest.raises(TableFormatError) as caught:
        open_table(io.BytesIO(data))
    assert str(caught.value).startswith(message)


# --- JSON -------------------------------------------------------------------------------------


def test_json_array_of_objects() -> None:
    table, rows = read_all(SAMPLES / "generic.json")
    assert table.format == "json"
    assert table.columns == [
        "id",
        "submittedAt",
        "tags",
        "contact.email",
        "contact.name",
        "properties.hs_survey_type",
        "properties.hs_response_value",
        "properties.hs_content",
        "properties.hs_survey_channel",
    ]
    assert [row.line for row in rows] == [2, 9, 16]
    assert rows[0].values["tags"] == '["support", "nps"]'
    assert rows[0].values["properties.hs_response_value"] == "9"
    assert (
        rows[1].values["properties.hs_content"]
        == 'Manual is "hard" to follow.\nPlease add diagrams.'
    )
    assert rows[1].values["contact.email"] == ""


def test_json_is_read_in_pieces_across_chunk_boundaries() -> None:
    records = [{"id": n, "comment": "é" * (n % 700), "score": 10 ** (n % 12)} for n in range(400)]
    text = (
        "[\n" + ",\n".join(json.dumps(record, ensure_ascii=False) for record in records) + "\n]\n"
    )
    _, rows = read_all(io.BufferedReader(OneWayStream(text.encode(), piece=777)))
    assert len(rows) == 400
    assert [row.line for row in rows] == list(range(2, 402))
    assert rows[399].values == {"id": "399", "comment": "é" * 399, "score": str(10**3)}


def test_json_records_with_new_keys_later_are_flagged() -> None:
    records = [{"id": n} for n in range(1000)] + [{"id": 1000, "late": "value"}]
    _, rows = read_all(io.BytesIO(json.dumps(records).encode()), format="json")
    assert (
        rows[-1].error
        == "line 1: key 'late' is not one of the columns (taken from the first 1,000 records)"
    )
    assert rows[-1].extra == ["value"]


def test_truncated_json_yields_the_good_rows_then_fails() -> None:
    table = open_table(SAMPLES / "truncated.json")
    rows: list[Row] = []
    with table, pytest.raises(ReaderError) as caught:
        rows.extend(table)
    assert rows == [Row(1, {"id": "1", "comment": "fine"})]
    assert (
        str(caught.value)
        == "line 2: the file ends in the middle of a JSON record; it may have been cut short."
    )


def test_json_that_is_not_an_array_of_objects() -> None:
    with pytest.raises(TableFormatError, match=r"object\.json is an object at the top level"):
        open_table(SAMPLES / "object.json")
    _, rows = read_all(io.BytesIO(b'[{"a": 1}, 2, "x"]'))
    assert [row.error for row in rows] == [
        None,
        "line 1: the record is a number, not an object",
        "line 1: the record is a string, not an object",
    ]
    with pytest.raises(
        ReaderError, match=r"line 2: the file is not valid JSON here \(Expecting value\)"
    ):
        read_all(io.BytesIO(b'[{"a": 1},\n {"a": }]\n'))


def test_json_lines() -> None:
    table, rows = read_all(SAMPLES / "generic.jsonl")
    assert table.format == "jsonl"
    assert table.columns == ["id", "submittedAt", "score", "comment", "email", "channel"]
    assert [row.line for row in rows] == [1, 2, 4, 5]
    assert rows[1].values["email"] == ""
    assert rows[2].error == "line 4: not valid JSON (Expecting ',' delimiter at column 116)"
    assert rows[3].values["channel"] == "chat"


def test_json_lines_saved_as_json(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text('{"id": 1}\n{"id": 2}\n')
    table, rows = read_all(path)
    assert table.format == "jsonl" and [row.values["id"] for row in rows] == ["1", "2"]


# --- sources and lifecycle --------------------------------------------------------------------


def test_streams_that_cannot_seek_are_read_once_and_not_closed() -> None:
    data = (SAMPLES / "freshdesk.csv").read_bytes()
    stream = io.BufferedReader(OneWayStream(data, piece=97))
    with open_table(stream) as table:
        assert table.encoding == "utf-8-sig"
        assert table.columns[0] == "Ticket ID"
        assert len(list(table)) == 5
        with pytest.raises(ReaderError, match="already been read"):
            list(table)
        with pytest.raises(ReaderError, match="cannot be rewound"):
            table.reopen()
    assert not stream.closed


def test_text_mode_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n")
    with path.open() as handle, pytest.raises(ReaderError, match="open it in binary mode"):
        open_table(handle)  # type: ignore[arg-type]
    with pytest.raises(ReaderError, match=r"Cannot open missing\.csv"):
        open_table(tmp_path / "missing.csv")


@pytest.mark.skipif(not CFPB.exists(), reason="the shared CFPB sample is not available")
def test_real_cfpb_complaints_export() -> None:
    table, rows = read_all(CFPB)
    assert table.columns[0] == "Date received" and table.columns[-1] == "Complaint ID"
    assert len(rows) == 30 and all(row.error is None for row in rows)
    assert rows[0].values["Company"] == "Spike Corporation"


# --- properties -------------------------------------------------------------------------------

FORMATS = st.sampled_from([None, "csv", "json", "jsonl", "xlsx"])


def _drain(table: Table) -> None:
    keys = table.keys
    assert len(set(keys)) == len(keys)
    for row in table:
        assert list(row.values) == keys


@given(st.binary(max_size=3000), FORMATS)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_bytes_only_raise_reader_errors(data: bytes, format: str | None) -> None:
    try:
        with open_table(io.BytesIO(data), format=format) as table:
            _drain(table)
    except ReaderError:
        pass


CELL_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("\",;\t|\n\r '=+-é€漢😀\x00")),
        st.characters(exclude_categories=["Cs"]),
    ),
    max_size=12,
)


@given(
    st.lists(st.lists(CELL_TEXT, max_size=6), min_size=0, max_size=8),
    st.sampled_from([",", ";", "\t", "|", " "]),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_csv_like_text_only_raises_reader_errors(
    rows: list[list[str]], delimiter: str, newline: str, encoding: str
) -> None:
    text = newline.join(delimiter.join(cells) for cells in rows)
    data = text.encode(encoding, errors="replace")
    try:
        with open_table(io.BytesIO(data)) as table:
            _drain(table)
    except ReaderError:
        pass


HEADER_NAME = st.text(alphabet="abcdefghij XYZ", min_size=1, max_size=6).filter(str.strip)
ROUND_TRIP_CELL = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("\",;\t|\n 'é€漢😀")),
        st.characters(exclude_categories=["Cs", "Cc", "Cf", "Zl", "Zp"]),
    ),
    max_size=10,
)


@given(
    st.lists(HEADER_NAME, min_size=1, max_size=5),
    st.lists(st.lists(ROUND_TRIP_CELL, max_size=7), max_size=8),
    st.sampled_from([",", ";", "\t", "|"]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_csv_written_by_a_csv_writer_round_trips(
    header: list[str], body: list[list[str]], delimiter: str, encoding: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    data = buffer.getvalue().encode(encoding)

    expected: list[tuple[int, list[str]]] = []
    line = 2
    for cells in body:
        if "".join(cells).strip():
            expected.append((line, cells))
        line += 1 + "".join(cells).count("\n")

    with open_table(io.BytesIO(data), delimiter=delimiter) as table:
        width = len(table.columns)
        assert width == len(header)
        assert [column.name for column in table.columns] == [name.strip() for name in header]
        got = list(table)
    assert [row.line for row in got] == [line for line, _ in expected]
    for row, (_, cells) in zip(got, expected, strict=True):
        surplus = cells[width:]
        assert list(row.values.values()) == (cells + [""] * width)[:width]
        if "".join(surplus).strip():
            assert row.extra == surplus
            assert (
                row.error
                == f"line {row.line}: row has {len(cells)} values but the header has {width}"
            )
        else:
            assert row.extra == [] and row.error is None


# --- memory -----------------------------------------------------------------------------------


def _big_csv(path: Path, target_bytes: int) -> int:
    """Write a CSV of about target_bytes, in rows of about 1 KB; return its number of rows."""
    story = 'The pump was fine, the delivery was ""late"" and the invoice correct. ' * 11
    rows = 0
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Id,Created at,Requester,Description,Score,Tags,Region\n")
        while written < target_bytes:
            chunk = "".join(
                f'{n},2024-05-{1 + n % 28:02d} 10:{n % 60:02d},Customer {n},"Comment {n}: '
                f'{story}",{n % 11},tag-a tag-b,Region {n % 7}\n'
                for n in range(rows, rows + 1000)
            )
            handle.write(chunk)
            written += len(chunk)
            rows += 1000
    return rows


def test_memory_stays_flat_on_a_50_mb_file(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    expected_rows = _big_csv(path, 50 * 1024 * 1024)
    assert path.stat().st_size >= 50 * 1024 * 1024

    started = time.perf_counter()
    tracemalloc.start()
    try:
        count = 0
        last: Row | None = None
        with open_table(path) as table:
            for row in table:
                count += 1
                last = row
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == expected_rows
    assert last is not None and last.error is None and last.line == expected_rows + 1
    assert peak < 4 * 1024 * 1024, f"peak traced memory {peak:,} bytes"
    assert time.perf_counter() - started < 20


def test_rows_outlive_a_table_nobody_holds(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a\n" + "".join(f"{n}\n" for n in range(5000)))
    assert sum(1 for _ in open_table(path)) == 5000


def test_abandoned_tables_release_their_file(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n2\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = open_table(path)
        assert next(iter(table)).values == {"a": "1"}
        del table  # abandoned half-way, never closed
        gc.collect()
        table = open_table(path)
        table.close()
        table.close()  # twice is fine
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
