"""Tables as files for Excel: CSV (UTF-8 with BOM, `;`, decimal comma) and XLSX (SpreadsheetML).

Both writers take rows one at a time and hand out 64 KiB chunks as they fill, so a 100,000-row export
starts downloading at once and streams in flat memory. XLSX is a zip of XML parts: the sheet's rows are
written as XML straight into a zip entry over a write-only stream (data descriptors, no seeking), so
neither a temporary file nor the workbook is ever held whole. openpyxl (which this module used before)
writes a workbook only when all of it is done, and its write-only sheet without lxml took 94 s for
100,000 rows (docs/performance.md); what this writer emits is read back by openpyxl in the tests.

No cell ever becomes a formula: in CSV, text that a spreadsheet would read as one (`=`, `+`, `-`, `@`,
tab, CR first) gets a leading apostrophe; in XLSX every text is an inline string, never a formula.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 64 * 1024
BATCH_ROWS = 256  # rows formatted and written at a time


class Kind(enum.Enum):
    TEXT = "text"
    INT = "int"  # summed into the totals row
    NUMBER = "number"  # one decimal, not summed (shares)
    DATETIME = "datetime"  # a UTC moment (naive means UTC), shown in the region's time
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

    def batches(self) -> Iterator[tuple[list[tuple], bool]]:
        """(rows, is the totals row) in batches: the rows as they come, then the totals row alone."""
        summed = [i for i, c in enumerate(self.columns) if c.kind is Kind.INT]
        sums: list = [0] * len(self.columns)
        count = 0
        batch: list[tuple] = []
        for row in self.rows:
            batch.append(row)
            if len(batch) == BATCH_ROWS:
                count += len(batch)
                _add(sums, summed, batch)
                yield batch, False
                batch = []
        if batch:
            count += len(batch)
            _add(sums, summed, batch)
            yield batch, False
        self.counter["rows"] = count
        if self.totals is not None:
            last = self.totals(count, sums)
        else:
            last = tuple(
                self.total_label if i == 0 else (sums[i] if c.kind is Kind.INT else None)
                for i, c in enumerate(self.columns)
            )
        yield [last], True


def _add(sums: list, summed: list[int], rows: list[tuple]) -> None:
    for i in summed:
        sums[i] += sum(v for row in rows if isinstance(v := row[i], int))


def safe_text(value: str) -> str:
    """Text a spreadsheet would evaluate gets a leading apostrophe, which Excel shows as text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    """The region's wall-clock time of a moment (a naive one is UTC, as SQLite returns them)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).replace(tzinfo=None)


class _Moments:
    """Local times of the moments in an export, each converted once: an event's start repeats on
    every one of its rows."""

    def __init__(self, tz: ZoneInfo, convert: Callable[[datetime], object]) -> None:
        self.tz, self.convert, self.seen = tz, convert, {}

    def __call__(self, moment: datetime):
        out = self.seen.get(moment)
        if out is None:
            if len(self.seen) > 4096:
                self.seen.clear()
            out = self.seen[moment] = self.convert(_local(moment, self.tz))
        return out


# --- CSV --------------------------------------------------------------------------------------------


def _csv_cell(tz: ZoneInfo) -> Callable[[object], str]:
    """One cell's text, by the value's type (the common types first: 1.1 million calls an export)."""
    moment = _Moments(tz, lambda local: f"{local:%d.%m.%Y %H:%M}")

    def cell(value) -> str:
        cls = value.__class__
        if cls is str:
            return "'" + value if value.startswith(FORMULA_STARTS) else value
        if value is None:
            return ""
        if cls is datetime:
            return moment(value)
        if cls is int:
            return str(value)
        if cls is float:
            return f"{value:.1f}".replace(".", ",")
        if cls is date:
            return f"{value:%d.%m.%Y}"
        if isinstance(value, datetime):
            return moment(value)
        if isinstance(value, date):
            return f"{value:%d.%m.%Y}"
        if isinstance(value, Decimal):
            return str(value).replace(".", ",")
        if isinstance(value, enum.Enum):
            value = value.value
        return safe_text(str(value))  # a translated label (a lazy string), an enum's value

    return cell


def csv_stream(table: Table, tz: ZoneInfo) -> Iterator[bytes]:
    """The table as CSV for Excel, yielded in chunks as rows arrive (the BOM and header go out first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.header for c in table.columns])
    yield "\ufeff".encode() + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    cell = _csv_cell(tz)
    for rows, _totals in table.batches():
        writer.writerows([[cell(v) for v in row] for row in rows])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def csv_bytes(table: Table, tz: ZoneInfo) -> bytes:
    return b"".join(csv_stream(table, tz))


# --- XLSX -------------------------------------------------------------------------------------------

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_NS_PKG = "http://schemas.openxmlformats.org/package/2006"
_NS_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Styles (cellXfs): 0 plain, 1 header (bold, wrapped), 2 date-time, 3 date, 4 one decimal, 5 bold,
# 6–8 bold date-time, date, one decimal (the totals row).
_STYLES = (
    _HEAD + f"<styleSheet {_NS}>"
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="DD.MM.YYYY HH:MM"/>'
    '<numFmt numFmtId="165" formatCode="DD.MM.YYYY"/><numFmt numFmtId="166" formatCode="0.0"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="9"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_PLAIN, _HEADER, _DATETIME, _DATE, _DECIMAL, _BOLD = 0, 1, 2, 3, 4, 5
_KIND_STYLE = {Kind.DATETIME: _DATETIME, Kind.DATE: _DATE, Kind.NUMBER: _DECIMAL}
_EPOCH = datetime(1899, 12, 30)
_EPOCH_DAY = _EPOCH.date()
# XML 1.0 has no place for most control characters: they are dropped; CR is kept as a reference.
_XML_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def _escape(text: str) -> str:
    if _XML_SPECIAL.search(text) is None:
        return text
    return _XML_SPECIAL.sub(lambda m: _XML_ESCAPES.get(m.group(), ""), text)


def _letters(n: int) -> str:
    """The column's letters: 1 → A, 27 → AA."""
    out = ""
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def _serial(local: datetime) -> str:
    """Excel's serial day number of a wall-clock time (days since 1899-12-30, the day's fraction)."""
    delta = local - _EPOCH
    return repr(delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400)


def _sheet_rows(table: Table, tz: ZoneInfo) -> Iterator[str]:
    """The sheet's XML in pieces of a batch of rows each: header, rows, the bold totals row."""
    letters = [_letters(i) for i in range(1, len(table.columns) + 1)]
    styles = [_KIND_STYLE.get(c.kind, _PLAIN) for c in table.columns]
    moment = _Moments(tz, _serial)

    def cell(ref: str, value, style: int, bold: bool) -> str:
        cls = value.__class__
        if cls is not str:
            if value is None:
                return ""
            if isinstance(value, enum.Enum):
                value, cls = str(value.value), str
            elif cls is datetime:
                value, style = moment(value), style if style in (_DATETIME, _DATE) else _DATETIME
            elif cls is date:
                value, style = str((value - _EPOCH_DAY).days), style if style in (_DATETIME, _DATE) else _DATE
            elif cls is int or cls is float:
                value = repr(value)
            elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
                value = str(value)
            else:
                value, cls = str(value), str  # a translated label (a lazy string) is text
        if cls is str:
            text = _escape(value[:32767])  # the most a cell holds: Excel refuses a longer one
            if not text:
                return ""
            space = ' xml:space="preserve"' if text[0] in " \n\t" or text[-1] in " \n\t" else ""
            style = _BOLD if bold else _PLAIN
            s = f' s="{style}"' if style else ""
            return f'<c r="{ref}" t="inlineStr"{s}><is><t{space}>{text}</t></is></c>'
        if bold:
            style = style + 4 if style else _BOLD
        s = f' s="{style}"' if style else ""
        return f'<c r="{ref}"{s}><v>{value}</v></c>'

    header = "".join(
        f'<c r="{letter}1" t="inlineStr" s="{_HEADER}"><is><t>{_escape(c.header)}</t></is></c>'
        for letter, c in zip(letters, table.columns, strict=True)
    )
    yield f'<row r="1">{header}</row>'
    number = 1
    pairs = list(zip(letters, styles, strict=True))
    for rows, totals in table.batches():
        out = []
        for row in rows:
            number += 1
            n = str(number)
            cells = "".join(
                [cell(letter + n, v, style, totals) for (letter, style), v in zip(pairs, row, strict=True)]
            )
            out.append(f'<row r="{n}">{cells}</row>')
        yield "".join(out)


class _Pipe(io.RawIOBase):
    """A write-only stream the zip writes into and the response drains: it is never seeked, so the
    zip gives each entry a data descriptor instead of going back to its header."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts, self.size = [], 0
        return out


def _xml_attr(text: str) -> str:
    return _escape(text).replace('"', "&quot;")


def xlsx_stream(tables: list[Table], tz: ZoneInfo) -> Iterator[bytes]:
    """The tables as one workbook, a sheet each (frozen header row, column widths, a bold totals
    row, dates as dates), yielded in compressed chunks while the rows are still being read."""
    pipe = _Pipe()
    names = [t.title[:31] for t in tables]
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        sheets = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(tables) + 1)
        )
        book.writestr(
            "[Content_Types].xml",
            _HEAD + f'<Types xmlns="{_NS_PKG}/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' + sheets + "</Types>",
        )
        book.writestr(
            "_rels/.rels",
            _HEAD + f'<Relationships xmlns="{_NS_PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{_NS_DOC}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        book.writestr(
            "xl/workbook.xml",
            _HEAD
            + f"<workbook {_NS} {_NS_R}><bookViews><workbookView/></bookViews><sheets>"
            + "".join(
                f'<sheet name="{_xml_attr(name)}" sheetId="{i}" r:id="rId{i}"/>'
                for i, name in enumerate(names, start=1)
            )
            + "</sheets></workbook>",
        )
        book.writestr(
            "xl/_rels/workbook.xml.rels",
            _HEAD
            + f'<Relationships xmlns="{_NS_PKG}/relationships">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_NS_DOC}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(tables) + 1)
            )
            + f'<Relationship Id="rId{len(tables) + 1}" Type="{_NS_DOC}/styles" Target="styles.xml"/>'
            "</Relationships>",
        )
        book.writestr("xl/styles.xml", _STYLES)
        yield pipe.take()  # the first bytes leave before the first row is read
        for i, table in enumerate(tables, start=1):
            with book.open(f"xl/worksheets/sheet{i}.xml", "w") as part:
                selected = ' tabSelected="1"' if i == 1 else ""
                cols = "".join(
                    f'<col min="{n}" max="{n}" width="{c.width}" customWidth="1"/>'
                    for n, c in enumerate(table.columns, start=1)
                )
                part.write(
                    (
                        _HEAD + f"<worksheet {_NS} {_NS_R}><sheetViews><sheetView{selected}"
                        ' workbookViewId="0">'
                        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
                        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
                    ).encode()
                )
                for piece in _sheet_rows(table, tz):
                    part.write(piece.encode())
                    if pipe.size >= CHUNK:
                        yield pipe.take()
                part.write(b"</sheetData></worksheet>")
    yield pipe.take()


def xlsx_bytes(tables: list[Table], tz: ZoneInfo) -> bytes:
    return b"".join(xlsx_stream(tables, tz))
