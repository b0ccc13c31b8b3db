"""Generated files through the import readers: what is written is what is read, and a damaged
file raises only the readers' own errors, with the line named when one row is at fault.

tests/feedback/test_readers.py already round-trips UTF-8/UTF-16 CSV and throws random bytes at
every format; these add the single-byte encodings, detection of delimiter and encoding,
workbooks, JSON and JSON Lines.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harken.feedback.importers.readers import ReaderError, Row, open_table

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADER = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8),
    min_size=2,
    max_size=5,
    unique=True,
)
# Words with one non-ASCII letter between ASCII ones: in cp1252 such a byte is never the start
# of a valid UTF-8 sequence, so the encoding can be told from the bytes alone.
LATIN_WORDS = st.sampled_from(
    ["Grüße", "café", "naïve", "Ærø", "façade", "señor", "Zürich", "€uro", "coöp", "plain", "42"]
)
SINGLE_BYTE_CELL = st.text(
    alphabet=st.characters(codec="latin-1", exclude_categories=["Cc"]) | st.sampled_from("\n\t"),
    max_size=12,
)


def read(data: bytes, **options: Any) -> tuple[Any, list[Row]]:
    with open_table(io.BytesIO(data), **options) as table:
        return table, list(table)


def written_csv(header: list[str], body: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue()


def expected_rows(header: list[str], body: list[list[str]]) -> list[list[str]]:
    """The rows a reader must give back: blank ones skipped, short ones padded."""
    width = len(header)
    return [(cells + [""] * width)[:width] for cells in body if "".join(cells).strip()]


@given(
    HEADER,
    st.data(),
    st.sampled_from([",", ";", "\t", "|"]),
    st.sampled_from(["cp1252", "latin-1"]),
)
@FAST
def test_single_byte_csv_round_trips_with_the_stated_encoding(
    header: list[str], data: st.DataObject, delimiter: str, encoding: str
) -> None:
    width = len(header)
    body = data.draw(
        st.lists(st.lists(SINGLE_BYTE_CELL, min_size=width, max_size=width), max_size=8)
    )
    raw = written_csv(header, body, delimiter).encode(encoding, errors="strict")
    table, rows = read(raw, delimiter=delimiter, encoding=encoding, header_rows=1)
    assert list(table.columns) == header
    assert [list(row.values.values()) for row in rows] == expected_rows(header, body)
    assert all(row.error is None for row in rows)


@given(
    HEADER,
    st.data(),
    st.sampled_from([",", ";", "\t", "|"]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
@FAST
def test_delimiter_and_encoding_are_detected(
    header: list[str], data: st.DataObject, delimiter: str, encoding: str
) -> None:
    width = len(header)
    body = data.draw(
        st.lists(
            st.lists(LATIN_WORDS, min_size=width, max_size=width),
            min_size=1,
            max_size=6,
        )
    )
    # One accented word at least, or cp1252 and UTF-8 are the same bytes.
    body[0][0] = "Grüße"
    raw = written_csv(header, body, delimiter).encode(encoding)
    table, rows = read(raw, format="csv")
    assert table.delimiter == delimiter
    assert table.encoding.replace("-le", "") == encoding
    assert [list(row.values.values()) for row in rows] == body


XLSX_CELL = st.one_of(
    st.text(
        alphabet=st.characters(exclude_categories=["Cs", "Cc", "Co", "Cn"]),
        max_size=12,
    ).filter(lambda s: not s.startswith("=") and "_x" not in s),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.booleans(),
)


def cell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


@given(HEADER, st.data())
@FAST
def test_workbooks_round_trip(header: list[str], data: st.DataObject) -> None:
    width = len(header)
    body = data.draw(st.lists(st.lists(XLSX_CELL, min_size=width, max_size=width), max_size=6))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for cells in body:
        sheet.append([None if cell == "" else cell for cell in cells])
    buffer = io.BytesIO()
    workbook.save(buffer)

    table, rows = read(buffer.getvalue())
    assert table.format == "xlsx"
    assert list(table.columns) == header
    as_text = [[cell_text(cell) for cell in cells] for cells in body]
    assert [list(row.values.values()) for row in rows] == expected_rows(header, as_text)
    # Each row knows the sheet row it came from (the header is row 1).
    wanted_lines = [n for n, cells in enumerate(as_text, start=2) if "".join(cells).strip()]
    assert [row.line for row in rows] == wanted_lines


JSON_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12),
)
JSON_RECORDS = st.lists(
    st.dictionaries(st.text(alphabet="abcdefghij", min_size=1, max_size=5), JSON_VALUE, max_size=5),
    min_size=1,
    max_size=8,
)


def json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@given(JSON_RECORDS, st.booleans(), st.sampled_from(["utf-8", "utf-16"]))
@FAST
def test_json_and_json_lines_round_trip(
    records: list[dict[str, Any]], lines: bool, encoding: str
) -> None:
    if lines:
        text = "\n".join(json.dumps(record, ensure_ascii=False) for record in records) + "\n"
    else:
        text = json.dumps(records, ensure_ascii=False, indent=1)
    table, rows = read(text.encode(encoding), format="jsonl" if lines else "json")
    keys = list(dict.fromkeys(key for record in records for key in record))
    assert list(table.columns) == keys
    assert [row.values for row in rows] == [
        {key: json_text(record.get(key)) for key in keys} for record in records
    ]
    if lines:
        assert [row.line for row in rows] == list(range(1, len(records) + 1))


@given(JSON_RECORDS, st.data())
@FAST
def test_a_broken_json_line_is_reported_on_its_line_and_the_rest_land(
    records: list[dict[str, Any]], data: st.DataObject
) -> None:
    bad_at = data.draw(st.integers(min_value=0, max_value=len(records)))
    garbage = data.draw(st.sampled_from(['{"a": ', "[1, 2", "not json", '{"a": 1}}', "nul\x00l"]))
    lines = [json.dumps(record) for record in records]
    lines.insert(bad_at, garbage)
    _, rows = read(("\n".join(lines) + "\n").encode(), format="jsonl")
    assert len(rows) == len(records) + 1
    bad = [row for row in rows if row.error]
    assert [row.line for row in bad] == [bad_at + 1]
    assert bad[0].error.startswith(f"line {bad_at + 1}: ")


@given(
    st.lists(st.lists(SINGLE_BYTE_CELL, min_size=1, max_size=6), min_size=1, max_size=8),
    st.sampled_from([",", ";", "|"]),
)
@FAST
def test_row_problems_name_their_line_and_never_stop_the_file(
    body: list[list[str]], delimiter: str
) -> None:
    header = ["a", "b", "c"]
    raw = written_csv(header, body, delimiter).encode("utf-8")
    _, rows = read(raw, delimiter=delimiter, header_rows=1)
    assert len(rows) == len([cells for cells in body if "".join(cells).strip()])
    for row in rows:
        if row.error is not None:
            assert row.error.startswith(f"line {row.line}: ")
            assert "values but the header has 3" in row.error


@given(st.text(max_size=400), st.sampled_from(["json", "jsonl", "csv", None]))
@FAST
def test_arbitrary_text_only_raises_reader_errors_that_say_what_is_wrong(
    text: str, format: str | None
) -> None:
    try:
        _, rows = read(text.encode("utf-8", errors="surrogatepass"), format=format)
    except ReaderError as exc:
        assert str(exc).strip()
        return
    for row in rows:
        if row.error is not None:
            assert row.error.startswith(f"line {row.line}: ")
