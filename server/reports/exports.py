"""Tables as files for Excel: CSV (UTF-8 with BOM, `;`, decimal comma) and XLSX (openpyxl).

Both writers take rows one at a time, so a 100,000-row export streams in flat memory: CSV goes out
line by line as it is written; XLSX is written by openpyxl's write-only workbook to a temporary file
(rows never pile up in memory) and then sent in chunks. No cell ever becomes a formula: text that a
spreadsheet would read as one (`=`, `+`, `-`, `@`, tab, CR first) is written as text.
"""

from __future__ import annotations

import csv
import enum
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 64 * 1024


class Kind(enum.Enum):
    TEXT = "text"
    INT = "int"  # summed into the totals row
    NUMBER = "number"  # one decimal, not summed (shares)
    DATETIME = "datetime"  # an aware UTC moment, shown in the region's time
    DATE = "date"


@dataclass
class Column:
    header: str
    width: int = 14
    kind: Kind = Kind.TEXT


@dataclass
class Table:
    """One sheet: Russian headers, rows of plain values, and a totals row at the end."""

    title: str
    columns: list[Column]
    rows: Iterable[tuple]
    totals: Callable[[int, list], tuple] | None = None  # (rows written, column sums) -> the row
    total_label: str = "Итого"
    counter: dict = field(default_factory=lambda: {"rows": 0})

    def _sums_and_rows(self) -> Iterator[tuple]:
        sums: list = [0] * len(self.columns)
        count = 0
        for row in self.rows:
            count += 1
            for i, column in enumerate(self.columns):
                if column.kind is Kind.INT and isinstance(row[i], int):
                    sums[i] += row[i]
            yield row
        self.counter["rows"] = count
        if self.totals is not None:
            yield self.totals(count, sums)
        else:
            yield tuple(
                self.total_label if i == 0 else (sums[i] if c.kind is Kind.INT else None)
                for i, c in enumerate(self.columns)
            )


def safe_text(value: str) -> str:
    """Text a spreadsheet would evaluate gets a leading apostrophe, which Excel shows as text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def _csv_formatter(column: Column, tz: ZoneInfo) -> Callable[[object], str]:
    """One formatter per column, chosen once: 100,000 rows × 11 cells is where an export's time goes."""
    local_cache: dict[datetime, str] = {}

    def moment(value) -> str:
        if value is None:
            return ""
        text = local_cache.get(value)
        if text is None:
            if len(local_cache) > 4096:
                local_cache.clear()
            text = local_cache[value] = f"{_local(value, tz):%d.%m.%Y %H:%M}"
        return text

    def generic(value) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, datetime):
            return moment(value)
        if isinstance(value, date):
            return f"{value:%d.%m.%Y}"
        if isinstance(value, float):
            return f"{value:.1f}".replace(".", ",")
        if isinstance(value, int):
            return str(value)
        return safe_text(str(value))

    return moment if column.kind is Kind.DATETIME else generic


def csv_stream(table: Table, tz: ZoneInfo) -> Iterator[bytes]:
    """The table as CSV for Excel, yielded in chunks as rows arrive (the BOM goes out first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.header for c in table.columns])
    yield "\ufeff".encode() + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    formatters = [_csv_formatter(c, tz) for c in table.columns]
    for row in table._sums_and_rows():
        writer.writerow([f(v) for f, v in zip(formatters, row, strict=True)])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


_BOLD = Font(bold=True)
_FORMATS = {Kind.DATETIME: "DD.MM.YYYY HH:MM", Kind.DATE: "DD.MM.YYYY", Kind.NUMBER: "0.0"}


def _xlsx_cell(sheet, value, column: Column, tz: ZoneInfo, bold: bool = False) -> WriteOnlyCell:
    if isinstance(value, datetime):
        value = _local(value, tz)
    elif isinstance(value, enum.Enum):
        value = str(value.value)
    elif value is not None and not isinstance(value, str | int | float | date):
        value = str(value)  # a translated label (a lazy string) is text
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # a string cell, never a formula, whatever it starts with
    elif column.kind in _FORMATS and value is not None:
        cell.number_format = _FORMATS[column.kind]
    if bold:
        cell.font = _BOLD
    return cell


def _write_sheet(workbook: Workbook, table: Table, tz: ZoneInfo) -> None:
    sheet = workbook.create_sheet(table.title[:31])
    sheet.freeze_panes = "A2"
    for i, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = column.width
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.data_type = "s"
        cell.font = _BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    sheet.append(header)
    rows = table._sums_and_rows()
    pending = next(rows, None)
    for row in rows:  # the last row out of the iterator is the totals row: bold
        sheet.append([_xlsx_cell(sheet, v, c, tz) for v, c in zip(pending, table.columns, strict=True)])
        pending = row
    if pending is not None:
        sheet.append(
            [_xlsx_cell(sheet, v, c, tz, bold=True) for v, c in zip(pending, table.columns, strict=True)]
        )


def xlsx_stream(tables: list[Table], tz: ZoneInfo) -> Iterator[bytes]:
    """The tables as one workbook (a sheet each), written to a temporary file, then sent in chunks."""
    workbook = Workbook(write_only=True)
    for table in tables:
        _write_sheet(workbook, table, tz)
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def xlsx_bytes(tables: list[Table], tz: ZoneInfo) -> bytes:
    return b"".join(xlsx_stream(tables, tz))


def csv_bytes(table: Table, tz: ZoneInfo) -> bytes:
    return b"".join(csv_stream(table, tz))
