"""An event's attendance as CSV (UTF-8 with BOM, `;`: Excel opens Cyrillic right) and as XLSX."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

HEADER = ("Уровень", "Название", "Квота", "Зарегистрировано", "Пришли", "Доля пришедших, %")


def _rows(report: dict) -> list[tuple]:
    def share(row: dict) -> float:
        return round(100 * row["checked_in"] / row["registered"], 1) if row["registered"] else 0.0

    rows: list[tuple] = [
        ("Всего", report["title"], "", report["registered"], report["checked_in"], share(report))
    ]
    rows += [
        (
            "Муниципалитет",
            r["name"],
            r["quota"] if r["quota"] is not None else "",
            r["registered"],
            r["checked_in"],
            share(r),
        )
        for r in report["by_municipality"]
    ]
    rows += [
        ("Школа", r["name"], "", r["registered"], r["checked_in"], share(r)) for r in report["by_school"]
    ]
    return rows


def attendance_csv(report: dict) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows([tuple(_ru_number(v) for v in row) for row in _rows(report)])
    return buffer.getvalue().encode("utf-8-sig")


def _ru_number(value):
    """Russian Excel reads «33,3» as a number and «33.3» as text (or a date): a decimal comma in CSV.
    XLSX keeps real numbers, which Excel shows in the reader's own format."""
    return str(value).replace(".", ",") if isinstance(value, float) else value


def attendance_xlsx(report: dict) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Посещаемость"
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _rows(report):
        sheet.append(row)
    for column, width in zip("ABCDEF", (16, 60, 10, 18, 10, 20), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
