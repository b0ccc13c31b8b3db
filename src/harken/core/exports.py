"""CSV and XLSX exports of list pages, safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed
with an apostrophe, so a customer-written text can never run as a formula in the
reader's spreadsheet (CSV injection).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import FileResponse, StreamingHttpResponse

from .tables import Column, text_of

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def cells(obj: Any, columns: Sequence[Column]) -> list[str]:
    return [neutralise(text_of(column.value(obj))) for column in columns]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Any], columns: Sequence[Column]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so spreadsheet programs read UTF-8
    yield writer.writerow([column.label for column in columns])
    for obj in rows:
        yield writer.writerow(cells(obj, columns))


def csv_response(
    rows: Iterable[Any], columns: Sequence[Column], filename: str
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(rows, columns), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(
    rows: Iterable[Any], columns: Sequence[Column], filename: str, title: str
) -> FileResponse:
    from openpyxl import Workbook  # heavy; only when an XLSX is asked for

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Export")
    sheet.append([column.label for column in columns])
    for obj in rows:
        sheet.append(cells(obj, columns))
    handle = tempfile.TemporaryFile()
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
