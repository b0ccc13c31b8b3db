"""Reading exported feedback files as streams of rows.

:func:`open_table` opens a CSV or other delimited text file (any of ``, ; TAB |``, in UTF-8,
UTF-16, UTF-32, cp1252 or latin-1), an Excel ``.xlsx`` workbook, a JSON array of objects or a
JSON Lines file, and returns a :class:`Table`. The header is read at once; the rows are read one
at a time while the table is iterated, so memory stays flat whatever the size of the file.

Problems confined to one row (a row wider than the header, a cell over the size limit, bytes
that are not valid in the file's encoding, a JSON line that does not parse) never stop the read:
the row is yielded with ``error`` set, naming its line. Problems with the whole file raise
:class:`ReaderError`, or :class:`TableFormatError` when the file is not a table at all.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import chain, islice
from typing import IO, Any, Final, Literal

import openpyxl

__all__ = [
    "DEFAULT_MAX_CELL",
    "Column",
    "ReaderError",
    "Row",
    "Table",
    "TableFormatError",
    "open_table",
]

Format = Literal["csv", "tsv", "xlsx", "json", "jsonl"]

DEFAULT_MAX_CELL: Final = 1_048_576
"""Largest cell, in characters, a row may carry; a larger one makes the row bad."""

MAX_LINE_CHARS: Final = 64 * 1024 * 1024
"""Longest physical line (or JSON record) read at all; beyond it the file is given up, because
nothing can be read after it without holding it whole in memory."""

SAMPLE_BYTES: Final = 64 * 1024
"""Bytes looked at to decide the format, the encoding and the delimiter."""

KEY_LOOKAHEAD: Final = 1000
"""JSON records read ahead to collect the column names (JSON has no header)."""

_KEY_LOOKAHEAD_CHARS: Final = 8 * 1024 * 1024
_DELIMITERS: Final = ",;\t|"
_MAX_HEADER_ROWS: Final = 20


class ReaderError(Exception):
    """The file cannot be read as a table; the message is written for the person importing."""


class TableFormatError(ReaderError):
    """The file is not a table at all: not a spreadsheet, a corrupt workbook, invalid JSON."""


class Column(str):
    """One column of a table. The string itself is the header text as in the file, so a
    table's columns compare equal to its header (duplicates included, e.g. ``Labels``,
    ``Labels``); ``key`` is unique within the table (``Labels``, ``Labels (2)``) and is what
    :attr:`Row.values` is keyed by; ``labels`` holds the cells of header rows 2 and below
    (a SurveyMonkey option label, a Qualtrics question text and ``{"ImportId": ...}``);
    ``position`` is its 0-based place in the file.
    """

    key: str
    position: int
    labels: tuple[str, ...]

    def __new__(
        cls, name: str, *, key: str | None = None, position: int = 0, labels: tuple[str, ...] = ()
    ) -> Column:
        self = super().__new__(cls, name)
        self.key = name if key is None else key
        self.position = position
        self.labels = labels
        return self

    @property
    def name(self) -> str:
        """The header text as a plain string."""
        return str.__str__(self)

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, Any]]:
        return (self.name,), {"key": self.key, "position": self.position, "labels": self.labels}

    def __repr__(self) -> str:
        return f"Column({self.name!r}, key={self.key!r}, position={self.position})"


@dataclass(slots=True)
class Row:
    """One data row: where it starts in the file, its values by column key, any surplus
    values beyond the header, and what is wrong with it (None when nothing is)."""

    line: int
    values: dict[str, str]
    extra: list[str] = field(default_factory=list)
    error: str | None = None


# --------------------------------------------------------------------------------------------
# Undecodable bytes
# --------------------------------------------------------------------------------------------

_BAD_BYTES: Final = "harken-importers-mark-bad-bytes"
_BAD_CHARS_RE: Final = re.compile("[\udc00-\udcff]+")


def _mark_bad_bytes(exc: UnicodeError) -> tuple[str, int]:
    """Decode each undecodable byte as the lone surrogate U+DC00+byte.

    A real decode never yields lone surrogates, so the row holding one can be reported as bad,
    with the bytes, while the rest of the file goes on being read.
    """
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(chr(0xDC00 + byte) for byte in bad), exc.end


codecs.register_error(_BAD_BYTES, _mark_bad_bytes)


# --------------------------------------------------------------------------------------------
# Opening the source
# --------------------------------------------------------------------------------------------


@dataclass
class _Source:
    """The binary stream being read, whether we opened (and so must close) it, and its name."""

    stream: IO[bytes]
    name: str
    owned: bool
    start: int | None  # position to seek back to; None when the stream cannot seek

    @classmethod
    def open(cls, source: str | os.PathLike[str] | IO[bytes]) -> _Source:
        """Open a path (ours to close) or take a binary stream (the caller's)."""
        if isinstance(source, str | os.PathLike):
            path = os.fspath(source)
            try:
                stream: IO[bytes] = open(path, "rb")  # closed by the Table
            except OSError as exc:
                raise ReaderError(f"Cannot open {os.path.basename(path)}: {exc.strerror}") from exc
            return cls(stream, os.path.basename(path), owned=True, start=0)
        if isinstance(source, io.TextIOBase):
            raise ReaderError("The file was opened as text; open it in binary mode ('rb').")
        if not hasattr(source, "read"):
            raise ReaderError(f"Cannot read from a {type(source).__name__}.")
        name = getattr(source, "name", "")
        start: int | None = None
        try:
            if source.seekable():
                start = source.tell()
        except (AttributeError, OSError, ValueError):
            start = None
        shown = os.path.basename(name) if isinstance(name, str) else ""
        return cls(source, shown, owned=False, start=start)

    def close(self) -> None:
        """Close the stream if we opened it."""
        if self.owned:
            self.stream.close()

    def read_head(self) -> bytes:
        """Read the first SAMPLE_BYTES (fewer at the end of the file), however the stream
        hands them out."""
        parts: list[bytes] = []
        size = 0
        while size < SAMPLE_BYTES:
            chunk = self.stream.read(SAMPLE_BYTES - size)
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts)


class _Prefixed(io.RawIOBase):
    """A raw stream replaying bytes already read (the sample) before the rest of a stream, so
    streams that cannot seek are read once, from the start."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        if self._prefix:
            count = min(len(target), len(self._prefix))
            target[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
            return count
        data = self._rest.read(len(target))
        if not data:
            return 0
        target[: len(data)] = data
        return len(data)


# --------------------------------------------------------------------------------------------
# Format and encoding
# --------------------------------------------------------------------------------------------

_EXTENSIONS: Final[dict[str, str]] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_ZIP_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC: Final[dict[bytes, str]] = {
    b"%PDF-": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"GIF87a": "a GIF image",
    b"GIF89a": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
}
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"),
)


def _decide_format(requested: str | None, name: str, head: bytes) -> str:
    """The format to read: the one asked for, else from the content's magic bytes, the file
    name's extension and finally the content's first characters."""
    if requested is not None:
        wanted = requested.lower().lstrip(".")
        if wanted == "txt":
            wanted = "csv"
        if wanted not in ("csv", "tsv", "xlsx", "json", "jsonl"):
            raise ReaderError(
                f"'{requested}' is not a format Harken reads (csv, tsv, xlsx, json, jsonl)."
            )
        return wanted
    extension = os.path.splitext(name)[1].lower()
    shown = name or "The file"
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"  # a workbook renamed to .csv is still a workbook
    if head.startswith(_OLE_MAGIC) or extension == ".xls":
        raise TableFormatError(
            f"{shown} is an old-style Excel .xls workbook (or a password-protected one), which "
            "Harken cannot read. Save it as .xlsx or CSV and import that."
        )
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise TableFormatError(f"{shown} is {what}, not a spreadsheet or CSV file.")
    if extension in (".xlsx", ".xlsm"):
        raise TableFormatError(
            f"{shown} is named like an Excel workbook but is not one: it may be damaged, or a "
            "CSV file renamed. Export it again as .xlsx or CSV."
        )
    if extension == ".json" and _first_line_is_object(head):
        return "jsonl"  # JSON Lines saved with a .json name
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    stripped = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if re.match(rb"\[\s*[{\]]", stripped) or stripped == b"[":
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    return "csv"


def _first_line_is_object(head: bytes) -> bool:
    """True when the content starts with a line holding one complete JSON object."""
    stripped = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if not stripped.startswith(b"{") or b"\n" not in stripped:
        return False
    first, rest = stripped.split(b"\n", 1)
    if not rest.lstrip().startswith(b"{"):
        return False
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False


def _guess_utf16(head: bytes) -> str | None:
    """Recognise UTF-16 without a byte-order mark by its NUL bytes: text in Latin script has a
    NUL in every other byte, on the odd side for little-endian."""
    half = len(head) // 2
    if half < 2:
        return None
    even = head[0 : half * 2 : 2].count(0)
    odd = head[1 : half * 2 : 2].count(0)
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _choose_encoding(head: bytes, requested: str | None) -> tuple[str, str]:
    """Return (codec to decode with, name to report). Order: byte-order mark, UTF-16 by its
    NULs, strict UTF-8 on the sample, cp1252, and latin-1, which accepts any byte."""
    if requested:
        try:
            name = codecs.lookup(requested).name
        except LookupError:
            raise ReaderError(f"'{requested}' is not a text encoding Harken knows.") from None
        for bom, codec, reported in _BOMS:
            if head.startswith(bom) and reported.startswith(name.replace("-sig", "")):
                return codec, reported
        return name, name
    for bom, codec, reported in _BOMS:
        if head.startswith(bom):
            return codec, reported
    utf16 = _guess_utf16(head)
    if utf16 is not None:
        return utf16, utf16
    try:
        # final=False: a sample cut in the middle of a character is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8", "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1252")
        return "cp1252", "cp1252"
    except UnicodeDecodeError:
        return "latin-1", "latin-1"


def _looks_binary(text: str) -> bool:
    """True when decoded text is full of control characters, as images and archives are."""
    if not text:
        return False
    controls = sum(1 for ch in text if (ch < " " and ch not in "\t\n\r\f\v\x1a") or ch == "\x7f")
    return controls > 0.05 * len(text) or text.count("\x00") > 0.01 * len(text)


# --------------------------------------------------------------------------------------------
# Header and rows (shared by every format)
# --------------------------------------------------------------------------------------------


def _guess_header_rows(rows: list[list[str]]) -> int:
    """How many header rows the first rows show: 3 for Qualtrics (row 3 holds
    ``{"ImportId": ...}``), 2 for legacy Qualtrics (``V1, V2, V3...``) and for SurveyMonkey
    (``Respondent ID`` with option labels below), else 1."""
    first = [cell.strip().lstrip("\ufeff") for cell in rows[0]]
    if len(rows) >= 3:
        third = [cell.strip() for cell in rows[2] if cell.strip()]
        tagged = sum(1 for cell in third if cell.startswith("{") and '"ImportId"' in cell)
        if third and tagged >= max(1, len(third) // 2):
            return 3
    if len(rows) >= 2:
        if first[:3] == ["V1", "V2", "V3"]:
            return 2
        lowered = [cell.casefold() for cell in first]
        if "respondent id" in lowered:
            second = rows[1]
            position = lowered.index("respondent id")
            below = second[position].strip() if position < len(second) else ""
            if not below and any(cell.strip() for cell in second):
                return 2
    return 1


def _unique_keys(bases: list[str]) -> list[str]:
    """Give every column a unique key: its own name when free, else ``name (2)``, ``name (3)``.
    Names that occur in the file are reserved first, so a real ``Labels (2)`` column keeps its
    name even after a duplicated ``Labels``; blank names become ``Column N``."""
    reserved = {base for base in bases if base}
    used: set[str] = set()
    keys: list[str] = []
    for position, base in enumerate(bases, start=1):
        candidate = base or f"Column {position}"
        if candidate in used or (not base and candidate in reserved):
            number = 2
            while f"{candidate} ({number})" in used or f"{candidate} ({number})" in reserved:
                number += 1
            candidate = f"{candidate} ({number})"
        used.add(candidate)
        keys.append(candidate)
    return keys


def _build_columns(header: list[list[str]]) -> list[Column]:
    """Make the columns from the header rows.

    With several header rows, a blank cell in row 1 that has a label below it continues the
    question to its left (SurveyMonkey leaves them blank); the columns of such a multi-column
    question are keyed ``question - label``. Single columns keep their row-1 name as key.
    """
    width = max((len(row) for row in header), default=0)
    rows = [[cell.strip() for cell in row] + [""] * (width - len(row)) for row in header]
    if rows and rows[0]:
        rows[0][0] = rows[0][0].lstrip("\ufeff").strip()
    names = rows[0] if rows else []
    labels = [tuple(row[index] for row in rows[1:]) for index in range(width)]

    carried: list[str] = []
    group_of: list[int] = []
    current: tuple[str, int] | None = None
    for index, name in enumerate(names):
        if name:
            current = (name, index)
        elif current is None or not any(labels[index]):
            current = None
            carried.append("")
            group_of.append(index)
            continue
        carried.append(current[0])
        group_of.append(current[1])
    sizes: dict[int, int] = {}
    for start in group_of:
        sizes[start] = sizes.get(start, 0) + 1

    bases: list[str] = []
    for index, name in enumerate(carried):
        label = labels[index][0] if labels[index] else ""
        if name and sizes[group_of[index]] > 1 and label:
            bases.append(f"{name} - {label}")
        else:
            bases.append(name)
    keys = _unique_keys(bases)
    return [
        Column(carried[index], key=keys[index], position=index, labels=labels[index])
        for index in range(width)
    ]


class _RowBuilder:
    """Turns the cells of one record into a :class:`Row`, checking width, size and bytes."""

    def __init__(self, columns: list[Column], max_cell: int, encoding: str | None) -> None:
        self.keys = [column.key for column in columns]
        self.width = len(self.keys)
        self.max_cell = max_cell
        self.encoding = encoding or "utf-8"

    def __call__(
        self,
        line: int,
        cells: list[str],
        problems: list[str] | None = None,
        extra: list[str] | None = None,
    ) -> Row:
        width = self.width
        if (
            problems is None
            and extra is None
            and len(cells) == width
            and cells
            and max(map(len, cells)) <= self.max_cell
            and all(map(str.isascii, cells))
        ):
            # The usual row, with nothing to check further (the general path below would
            # come to the same Row): a file's worth of them passes through here.
            return Row(line, dict(zip(self.keys, cells, strict=True)), [], None)
        problems = list(problems or ())
        extra = list(extra or ())
        if len(cells) > width:
            surplus = cells[width:]
            cells = cells[:width]
            # Trailing empty cells (a spreadsheet's stray delimiters) carry nothing: only a
            # surplus holding data means the row does not fit its header.
            if "".join(surplus).strip():
                extra = surplus + extra
                problems.append(f"row has {width + len(surplus)} values but the header has {width}")
        elif len(cells) < width:
            cells = cells + [""] * (width - len(cells))

        if cells and max(map(len, cells)) > self.max_cell:
            cells = list(cells)
            for index, cell in enumerate(cells):
                if len(cell) > self.max_cell:
                    problems.append(
                        f"column '{self.keys[index]}' is {len(cell):,} characters, "
                        f"the limit is {self.max_cell:,}"
                    )
                    cells[index] = ""  # never keep an oversized value around
        if extra and max(map(len, extra)) > self.max_cell:
            extra = [cell if len(cell) <= self.max_cell else "" for cell in extra]
            problems.append(f"a value beyond the header is over {self.max_cell:,} characters")

        if not all(map(str.isascii, cells)) or not all(map(str.isascii, extra)):
            cells = self._check_bytes(cells, problems)
            extra = self._check_bytes(extra, problems, beyond=True)

        error = f"line {line}: {'; '.join(problems)}" if problems else None
        return Row(line, dict(zip(self.keys, cells, strict=True)), extra, error)

    def _check_bytes(
        self, cells: list[str], problems: list[str], beyond: bool = False
    ) -> list[str]:
        """Report cells holding bytes the encoding could not decode, and replace them by U+FFFD
        so the values stay printable and storable."""
        checked = cells
        for index, cell in enumerate(cells):
            if cell.isascii():
                continue
            found = _BAD_CHARS_RE.findall(cell)
            if not found:
                continue
            shown = " ".join(f"0x{ord(ch) - 0xDC00:02X}" for ch in "".join(found)[:8])
            where = "a value beyond the header" if beyond else f"column '{self.keys[index]}'"
            problems.append(f"{where} has bytes that are not valid {self.encoding}: {shown}")
            if checked is cells:
                checked = list(cells)
            checked[index] = _BAD_CHARS_RE.sub("\ufffd", cell)
        return checked


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


class Table:
    """An open export file: its header (read when the table is opened) and its rows, read
    one at a time by iterating the table, once. Close it (or use it as a context manager) to
    release the file; the rows' iteration closes it too when it reaches the end."""

    def __init__(
        self,
        *,
        name: str,
        format: str,
        encoding: str | None,
        delimiter: str | None,
        header_rows: int,
        header_lines: list[list[str]],
        columns: list[Column],
        rows: Iterator[Row],
        closers: list[Callable[[], None]],
        reopen: Callable[..., Table] | None,
        sheet: str | None = None,
    ) -> None:
        self.name = name
        """The file's name (without its folder), or "" for an unnamed stream."""
        self.format = format
        """What was read: ``csv`` (any delimiter), ``xlsx``, ``json`` or ``jsonl``."""
        self.encoding = encoding
        """The text encoding used (``utf-8``, ``utf-8-sig``, ``utf-16-le``, ``cp1252``,
        ``latin-1``...); None for workbooks."""
        self.delimiter = delimiter
        """The delimiter of a CSV file; None for other formats."""
        self.header_rows = header_rows
        """How many rows the header took."""
        self.header_lines = header_lines
        """The header rows' cells exactly as read (before any naming of the columns)."""
        self.columns = columns
        """The columns, in file order; see :class:`Column`."""
        self.sheet = sheet
        """The worksheet read, for workbooks."""
        self._rows: Iterator[Row] | None = rows
        self._handed_out = False
        self._closers = closers
        self._reopen = reopen

    @property
    def keys(self) -> list[str]:
        """The columns' unique keys, the keys of every row's ``values``."""
        return [column.key for column in self.columns]

    def __iter__(self) -> Iterator[Row]:
        if self._rows is None:
            raise ReaderError("The rows of this file have already been read; open it again.")
        rows, self._rows = self._rows, None
        self._handed_out = True
        return rows

    def reopen(self, **changes: Any) -> Table:
        """Open the same file again with the same settings except ``changes`` (for instance
        ``header_rows=3`` once a preset has been chosen). Closes this table."""
        if self._reopen is None:
            raise ReaderError("This file was read from a stream that cannot be rewound.")
        reopen = self._reopen
        self.close()
        return reopen(**changes)

    def close(self) -> None:
        """Release the file (and the workbook); safe to call more than once."""
        rows, self._rows = self._rows, None
        close = getattr(rows, "close", None)
        if close is not None:
            close()
        _run_closers(self._closers)

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Close an abandoned table's file ourselves rather than leave it to the file object's
        # finaliser, which complains with a ResourceWarning. Once the rows are handed out they
        # own the file (``for row in open_table(path)`` drops the table at once): their
        # iterator closes it when it ends or is dropped.
        if self._handed_out:
            return
        try:
            self.close()
        except Exception:  # noqa: S110 - nothing sensible to do while being collected
            pass

    def __repr__(self) -> str:
        return (
            f"<Table {self.name or 'stream'} format={self.format} encoding={self.encoding} "
            f"delimiter={self.delimiter!r} columns={len(self.columns)}>"
        )


def _closing_rows(
    records: Iterator[tuple[int, list[str]]],
    build: _RowBuilder,
    closers: list[Callable[[], None]],
) -> Iterator[Row]:
    """Rows from records, closing the file when the rows run out or iteration is abandoned."""
    try:
        for line, cells in records:
            yield build(line, cells)
    finally:
        _run_closers(closers)


def _run_closers(closers: list[Callable[[], None]]) -> None:
    """Close what was opened, last first; each closer runs once."""
    while closers:
        closers.pop()()


def _split_header(
    records: Iterator[tuple[int, list[str]]], header_rows: int | None
) -> tuple[int, list[list[str]], Iterator[tuple[int, list[str]]]]:
    """Take the header rows off the records; detect how many when ``header_rows`` is None."""
    first = list(islice(records, header_rows or 3))
    if not first:
        raise ReaderError("The file has no header row: it holds nothing but blank lines.")
    count = header_rows or _guess_header_rows([cells for _, cells in first])
    if len(first) < count:
        raise ReaderError(
            f"The file has {len(first)} row{'s' if len(first) != 1 else ''} but "
            f"{count} header rows were expected."
        )
    header = [cells for _, cells in first[:count]]
    return count, header, chain(first[count:], records)


# --------------------------------------------------------------------------------------------
# Delimited text
# --------------------------------------------------------------------------------------------


def _ensure_csv_field_limit(max_cell: int) -> None:
    """Raise the csv module's field size limit (131,072 by default, process-wide) so a huge
    cell makes one bad row instead of aborting the whole file."""
    wanted = max(MAX_LINE_CHARS, max_cell + 1)
    if csv.field_size_limit() < wanted:
        csv.field_size_limit(wanted)


def _consistency(sample: str, delimiter: str, cut: bool) -> tuple[float, int]:
    """How well a delimiter fits the sample: the share of rows as wide as the first, and that
    width; (0, 0) when it yields a single column."""
    try:
        rows = list(islice(csv.reader(io.StringIO(sample), delimiter=delimiter), 50))
    except csv.Error:
        return (0.0, 0)
    if cut and len(rows) > 1:
        rows = rows[:-1]  # the sample may end in the middle of a row
    rows = [row for row in rows if row]
    if not rows or len(rows[0]) < 2:
        return (0.0, 0)
    width = len(rows[0])
    return (sum(1 for row in rows if len(row) == width) / len(rows), width)


def _choose_delimiter(sample: str, cut: bool, default: str) -> str:
    """Pick the delimiter with csv.Sniffer, checked against how consistently each of
    ``, ; TAB |`` splits the sample's rows (the Sniffer alone is easily fooled by punctuation
    in free text)."""
    snippet = sample[:16384]
    if cut or len(sample) > len(snippet):
        snippet = snippet[: snippet.rfind("\n") + 1] or snippet
    try:
        sniffed: str | None = csv.Sniffer().sniff(snippet, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    scores = {delimiter: _consistency(snippet, delimiter, cut) for delimiter in _DELIMITERS}
    best = max(
        _DELIMITERS,
        key=lambda d: (scores[d], d == sniffed, d == default, -_DELIMITERS.index(d)),
    )
    return best if scores[best] > (0.0, 0) else default


def _bounded_lines(text: IO[str], first_line: int) -> Iterator[str]:
    """The file's physical lines, refusing one too long to hold in memory."""
    number = first_line
    readline = text.readline
    while True:
        line = readline(MAX_LINE_CHARS)
        if not line:
            return
        if len(line) >= MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise ReaderError(
                f"line {number} is longer than {MAX_LINE_CHARS:,} characters; the file cannot "
                "be read as a table past this point."
            )
        number += 1
        yield line


def _csv_records(text: IO[str], delimiter: str, skip_lines: int) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) for every non-blank record of a delimited file.

    The csv module counts the lines it pulls, so a record's first line is one past the last
    line of the record before it, however many quoted newlines either holds.
    """
    for _ in range(skip_lines):
        text.readline()
    reader = csv.reader(
        _bounded_lines(text, skip_lines + 1),
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        skipinitialspace=False,
        strict=False,
    )
    end = skip_lines
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = skip_lines + reader.line_num
            if "field larger than field limit" in str(exc):
                raise ReaderError(
                    f"line {line}: a value is longer than {csv.field_size_limit():,} "
                    "characters; the file cannot be read past this point."
                ) from None
            raise ReaderError(f"line {line}: {exc}") from None
        start, end = end + 1, skip_lines + reader.line_num
        if cells and (cells[0].strip() or "".join(cells).strip()):
            yield start, cells


def _open_delimited(
    source: _Source,
    head: bytes,
    *,
    tab: bool,
    delimiter: str | None,
    encoding: str | None,
    header_rows: int | None,
    max_cell: int,
    closers: list[Callable[[], None]],
) -> tuple[dict[str, Any], Iterator[Row]]:
    """Open a delimited text file: encoding, delimiter, header; rows to come."""
    codec, reported = _choose_encoding(head, encoding)
    decoder = codecs.getincrementaldecoder(codec)(errors=_BAD_BYTES)
    at_end = len(head) < SAMPLE_BYTES
    sample = decoder.decode(head, final=at_end).lstrip("\ufeff")
    if not head or (at_end and not sample.strip()):
        raise ReaderError("The file is empty.")
    if reported in ("utf-8", "cp1252", "latin-1") and _looks_binary(sample[:8192]):
        raise TableFormatError(
            f"{source.name or 'The file'} does not look like text: it is not a CSV file or a "
            "spreadsheet Harken can read."
        )
    if delimiter is not None and len(delimiter) != 1:
        raise ReaderError("The delimiter must be a single character.")

    skip = 0
    hint = re.match(r"sep=(.)\r?\n", sample)  # Excel's "sep=;" first line
    if hint is not None:
        skip = 1
        delimiter = delimiter or hint.group(1)
    if delimiter is None:
        body = sample[hint.end() :] if hint is not None else sample
        delimiter = _choose_delimiter(body, cut=not at_end, default="\t" if tab else ",")

    _ensure_csv_field_limit(max_cell)
    stream = io.TextIOWrapper(
        io.BufferedReader(_Prefixed(head, source.stream), buffer_size=SAMPLE_BYTES),
        encoding=codec,
        errors=_BAD_BYTES,
        newline="",
    )
    closers.append(stream.close)
    records = _csv_records(stream, delimiter, skip)
    count, header, rest = _split_header(records, header_rows)
    # Undecodable bytes in the header are shown as U+FFFD: there is no row to report them on.
    header = [[_BAD_CHARS_RE.sub("\ufffd", cell) for cell in row] for row in header]
    columns = _build_columns(header)
    build = _RowBuilder(columns, max_cell, reported)
    info = {
        "format": "csv",
        "encoding": reported,
        "delimiter": delimiter,
        "header_rows": count,
        "header_lines": header,
        "columns": columns,
    }
    return info, _closing_rows(rest, build, closers)


# --------------------------------------------------------------------------------------------
# Excel workbooks
# --------------------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    """A workbook cell as text: numbers without a useless ``.0``, dates in ISO 8601 (naive, as
    Excel has no time zones), durations as ``H:MM:SS``, booleans as TRUE/FALSE."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def _workbook_stream(source: _Source, head: bytes, closers: list[Callable[[], None]]) -> IO[bytes]:
    """A seekable stream of the whole workbook (zip files are read from the end): the source
    rewound, or a temporary file copy of a stream that cannot seek."""
    if source.start is not None:
        source.stream.seek(source.start)
        return source.stream
    spool = tempfile.TemporaryFile()  # closed by the Table's closers
    closers.append(spool.close)
    spool.write(head)
    shutil.copyfileobj(source.stream, spool, 1024 * 1024)
    spool.seek(0)
    return spool


def _open_workbook(
    source: _Source,
    head: bytes,
    *,
    sheet: str | int | None,
    header_rows: int | None,
    max_cell: int,
    closers: list[Callable[[], None]],
) -> tuple[dict[str, Any], Iterator[Row]]:
    """Open an .xlsx workbook in read-only mode: sheet, header; rows to come."""
    shown = source.name or "The file"
    stream = _workbook_stream(source, head, closers)
    try:
        # openpyxl warns about styles and extensions it ignores; none of it matters here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises a different error for every kind of damage
        raise TableFormatError(
            f"{shown} is not a readable Excel workbook (.xlsx); it may be damaged or another "
            f"kind of file. ({type(exc).__name__}: {exc})"
        ) from exc
    closers.append(workbook.close)
    worksheets = workbook.worksheets
    if not worksheets:
        raise TableFormatError(f"{shown} has no worksheets.")
    if sheet is None:
        worksheet = worksheets[0]
    elif isinstance(sheet, int):
        if not 0 <= sheet < len(worksheets):
            raise ReaderError(
                f"{shown} has {len(worksheets)} sheet(s); there is no sheet {sheet + 1}."
            )
        worksheet = worksheets[sheet]
    else:
        names = workbook.sheetnames
        if sheet not in names:
            raise ReaderError(
                f"{shown} has no sheet named '{sheet}' (it has {', '.join(map(repr, names))})."
            )
        worksheet = workbook[sheet]
    if not hasattr(worksheet, "iter_rows"):
        raise TableFormatError(f"Sheet '{worksheet.title}' of {shown} is a chart, not a table.")
    # Some generators write a wrong <dimension>; forgetting it makes openpyxl read every row
    # as long as it really is.
    worksheet.reset_dimensions()

    def records() -> Iterator[tuple[int, list[str]]]:
        number = 0
        try:
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                cells = [_cell_text(value) for value in values]
                if cells and "".join(cells).strip():
                    yield number, cells
        except ReaderError:
            raise
        except Exception as exc:
            raise TableFormatError(
                f"{shown} is damaged: row {number + 1} cannot be read ({type(exc).__name__})."
            ) from exc

    count, header, rest = _split_header(records(), header_rows)
    columns = _build_columns(header)
    info = {
        "format": "xlsx",
        "encoding": None,
        "delimiter": None,
        "header_rows": count,
        "header_lines": header,
        "columns": columns,
        "sheet": worksheet.title,
    }
    return info, _closing_rows(rest, _RowBuilder(columns, max_cell, None), closers)


# --------------------------------------------------------------------------------------------
# JSON and JSON Lines
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BadRecord:
    """A JSON record that could not be used, and why."""

    reason: str


_WHITESPACE_RE: Final = re.compile(r"[ \t\n\r\ufeff]*")
_CHUNK_CHARS: Final = 64 * 1024


class _JsonArrayStream:
    """Reads the elements of a top-level JSON array one by one with ``raw_decode`` over a
    buffer that grows only as much as one element needs and drops what has been read."""

    def __init__(self, text: IO[str], name: str) -> None:
        self._text = text
        self._name = name or "The file"
        self._decoder = json.JSONDecoder(strict=False)  # tolerate raw tabs in strings
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._line = 1  # line number at self._counted
        self._counted = 0

    def _line_at(self, position: int) -> int:
        """The line number at a buffer position, counted incrementally."""
        if position > self._counted:
            self._line += self._buffer.count("\n", self._counted, position)
            self._counted = position
        return self._line

    def _read_more(self, wanted: int = _CHUNK_CHARS) -> bool:
        """Append more text to the buffer, dropping what was consumed; False at the end."""
        if self._eof:
            return False
        chunk = self._text.read(max(wanted, _CHUNK_CHARS))
        if not chunk:
            self._eof = True  # positions in the buffer stay valid for the caller's message
            return False
        if self._pos:
            self._line_at(self._pos)
            self._buffer = self._buffer[self._pos :]
            self._counted -= self._pos
            self._pos = 0
        self._buffer += chunk
        if len(self._buffer) > MAX_LINE_CHARS:
            raise ReaderError(
                f"line {self._line}: a JSON record is longer than {MAX_LINE_CHARS:,} "
                "characters; the file cannot be read past this point."
            )
        return True

    def _skip_space(self) -> bool:
        """Move past whitespace; False at the end of the file."""
        while True:
            match = _WHITESPACE_RE.match(self._buffer, self._pos)
            self._pos = match.end() if match else self._pos
            if self._pos < len(self._buffer):
                return True
            if not self._read_more():
                return False

    def _decode(self) -> object:
        """Decode the value at the current position, reading on while it is incomplete."""
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                unterminated = exc.msg.startswith("Unterminated")
                if (unterminated or exc.pos >= len(self._buffer) - 8) and self._read_more(
                    len(self._buffer)
                ):
                    continue  # the record may go on in the text not read yet
                if unterminated or exc.pos >= len(self._buffer.rstrip()):
                    line = self._line_at(self._pos)
                    raise ReaderError(
                        f"line {line}: the file ends in the middle of a JSON record; it may "
                        "have been cut short."
                    ) from None
                line = self._line_at(min(exc.pos, len(self._buffer)))
                reason = exc.msg.removesuffix(" starting at")
                raise ReaderError(
                    f"line {line}: the file is not valid JSON here ({reason})."
                ) from None
            if end == len(self._buffer) and not isinstance(value, dict | list | str):
                # a bare number may continue in the next chunk
                if self._read_more(len(self._buffer)):
                    continue
            self._pos = end
            return value

    def records(self) -> Iterator[tuple[int, object]]:
        """(line, value) for each element of the top-level array."""
        if not self._skip_space():
            raise ReaderError("The file is empty.")
        if self._buffer[self._pos] != "[":
            what = "an object" if self._buffer[self._pos] == "{" else "not an array"
            raise TableFormatError(
                f"{self._name} is {what} at the top level; Harken reads JSON files that hold an "
                'array of objects, one per row: [{"id": 1, ...}, {"id": 2, ...}].'
            )
        self._pos += 1
        first = True
        while True:
            if not self._skip_space():
                raise ReaderError(
                    f"line {self._line_at(self._pos)}: the file ends before the JSON array is "
                    "closed with ']'; it may have been cut short."
                )
            char = self._buffer[self._pos]
            if char == "]":
                self._pos += 1
                break
            if not first:
                if char != ",":
                    raise ReaderError(
                        f"line {self._line_at(self._pos)}: the file is not valid JSON here "
                        f"(expected ',' or ']' between records, found {char!r})."
                    )
                self._pos += 1
                if not self._skip_space():
                    continue  # reported as an unclosed array on the next turn
                if self._buffer[self._pos] == "]":
                    continue  # tolerate a trailing comma
            first = False
            line = self._line_at(self._pos)
            yield line, self._decode()
        if self._skip_space():
            raise ReaderError(
                f"line {self._line_at(self._pos)}: there is more text after the end of the "
                "JSON array."
            )


def _jsonl_records(text: IO[str]) -> Iterator[tuple[int, object]]:
    """(line, parsed object or _BadRecord) for every non-blank line of a JSON Lines file."""
    decoder = json.JSONDecoder(strict=False)
    for number, line in enumerate(_bounded_lines(text, 1), start=1):
        stripped = line.strip().lstrip("\ufeff")
        if not stripped:
            continue
        try:
            yield number, decoder.decode(stripped)
        except json.JSONDecodeError as exc:
            yield number, _BadRecord(f"not valid JSON ({exc.msg} at column {exc.colno})")


def _json_text(value: object) -> str:
    """A JSON value as cell text: null is empty, lists and objects stay JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _flatten(record: object) -> dict[str, str] | _BadRecord:
    """A JSON object as column → text; nested objects become dotted names (``customer.name``),
    lists stay JSON text."""
    if isinstance(record, _BadRecord):
        return record
    if not isinstance(record, dict):
        kinds = {list: "a list", str: "a string", bool: "true or false", type(None): "null"}
        what = kinds.get(type(record), "a number")
        return _BadRecord(f"the record is {what}, not an object")
    flat: dict[str, str] = {}
    stack: list[tuple[str, dict[str, Any]]] = [("", record)]
    while stack:
        prefix, obj = stack.pop()
        for key, value in obj.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict) and value:
                stack.append((f"{name}.", value))
            else:
                flat[name] = _json_text(value)
    return flat


def _open_json(
    source: _Source,
    head: bytes,
    *,
    lines: bool,
    encoding: str | None,
    header_rows: int | None,
    max_cell: int,
    closers: list[Callable[[], None]],
) -> tuple[dict[str, Any], Iterator[Row]]:
    """Open a JSON array or JSON Lines file; the columns are the keys of the first records."""
    if header_rows not in (None, 1):
        raise ReaderError("JSON files have no header rows to count; leave header_rows unset.")
    if not head.strip():
        raise ReaderError("The file is empty.")
    codec, reported = _choose_encoding(head, encoding)
    stream = io.TextIOWrapper(
        io.BufferedReader(_Prefixed(head, source.stream), buffer_size=SAMPLE_BYTES),
        encoding=codec,
        errors=_BAD_BYTES,
        newline="",
    )
    closers.append(stream.close)
    if lines:
        records: Iterator[tuple[int, object]] = _jsonl_records(stream)
    else:
        records = _JsonArrayStream(stream, source.name).records()

    # JSON has no header: the columns are the keys of the first records, in order of appearance.
    ahead: list[tuple[int, dict[str, str] | _BadRecord]] = []
    size = 0
    names: dict[str, None] = {}
    # A broken record met while looking ahead is reported after the good rows before it.
    broken: ReaderError | None = None
    try:
        for line, record in records:
            flat = _flatten(record)
            ahead.append((line, flat))
            if isinstance(flat, dict):
                names.update(dict.fromkeys(flat))
                size += sum(map(len, flat.values()))
            if len(ahead) >= KEY_LOOKAHEAD or size > _KEY_LOOKAHEAD_CHARS:
                break
    except TableFormatError:
        raise
    except ReaderError as exc:
        if not ahead:
            raise
        broken = exc
    if lines and not ahead:
        raise ReaderError("The file is empty.")
    columns = _build_columns([list(names)])
    build = _RowBuilder(columns, max_cell, reported)
    keys = [column.name for column in columns]
    known = set(keys)
    seen = len(ahead)

    def rest() -> Iterator[tuple[int, dict[str, str] | _BadRecord]]:
        if broken is not None:
            raise broken
        for line, record in records:
            yield line, _flatten(record)

    def rows() -> Iterator[Row]:
        try:
            for line, flat in chain(ahead, rest()):
                if isinstance(flat, _BadRecord):
                    yield build(line, [], [flat.reason])
                    continue
                cells = [flat.get(key, "") for key in keys]
                unknown = [key for key in flat if key not in known]
                if unknown:
                    yield build(
                        line,
                        cells,
                        [
                            f"key '{key}' is not one of the columns (taken from the first "
                            f"{seen:,} records)"
                            for key in unknown
                        ],
                        [flat[key] for key in unknown],
                    )
                else:
                    yield build(line, cells)
        finally:
            _run_closers(closers)

    info = {
        "format": "jsonl" if lines else "json",
        "encoding": reported,
        "delimiter": None,
        "header_rows": 1,
        "header_lines": [list(names)],
        "columns": columns,
    }
    return info, rows()


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def open_table(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    format: Format | str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    header_rows: int | None = None,
    sheet: str | int | None = None,
    max_cell: int = DEFAULT_MAX_CELL,
) -> Table:
    """Open an export file and read its header; iterate the returned :class:`Table` for rows.

    ``source`` is a path or a file opened in binary mode (it need not be seekable; it is not
    closed). ``format`` is detected when None: workbooks by their content, then the name's
    extension (.csv/.tsv/.txt/.xlsx/.json/.jsonl), then the content. ``delimiter`` and
    ``encoding`` are detected when None (see :attr:`Table.delimiter`, :attr:`Table.encoding`).
    ``header_rows`` is detected when None (3 for Qualtrics, 2 for legacy Qualtrics and
    SurveyMonkey, else 1). ``sheet`` picks a worksheet by name or 0-based index (default: the
    first). ``max_cell`` is the largest cell, in characters, a row may hold.

    Raises :class:`TableFormatError` when the file is not a table at all and
    :class:`ReaderError` for other problems with the whole file (empty, too few header rows).
    """
    if header_rows is not None and not 1 <= header_rows <= _MAX_HEADER_ROWS:
        raise ReaderError(f"header_rows must be between 1 and {_MAX_HEADER_ROWS}.")
    if max_cell < 1:
        raise ReaderError("max_cell must be at least 1.")
    opened = _Source.open(source)
    closers: list[Callable[[], None]] = [opened.close]
    try:
        head = opened.read_head()
        if not head:
            raise ReaderError("The file is empty.")
        kind = _decide_format(format, opened.name, head)
        if kind == "xlsx":
            info, rows = _open_workbook(
                opened,
                head,
                sheet=sheet,
                header_rows=header_rows,
                max_cell=max_cell,
                closers=closers,
            )
        elif kind in ("json", "jsonl"):
            info, rows = _open_json(
                opened,
                head,
                lines=kind == "jsonl",
                encoding=encoding,
                header_rows=header_rows,
                max_cell=max_cell,
                closers=closers,
            )
        else:
            info, rows = _open_delimited(
                opened,
                head,
                tab=kind == "tsv",
                delimiter=delimiter,
                encoding=encoding,
                header_rows=header_rows,
                max_cell=max_cell,
                closers=closers,
            )
    except BaseException:
        _run_closers(closers)
        raise

    reopen: Callable[..., Table] | None = None
    if opened.start is not None:
        start = opened.start
        settings: dict[str, Any] = {
            "format": info["format"],
            "delimiter": info["delimiter"],
            "encoding": encoding,
            "header_rows": info["header_rows"],
            "sheet": sheet,
            "max_cell": max_cell,
        }

        def reopen(**changes: Any) -> Table:
            if opened.owned:
                return open_table(source, **{**settings, **changes})
            opened.stream.seek(start)
            return open_table(opened.stream, **{**settings, **changes})

    return Table(
        name=opened.name,
        rows=rows,
        closers=closers,
        reopen=reopen,
        **info,
    )
