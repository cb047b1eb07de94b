"""A class list upload is bounded before it is parsed: the zip's unpacked size, the row limit, the
cell length; the confirm step's rows are checked for shape; parsing holds no SQLite write lock."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile

import pytest
from openpyxl import Workbook

from server.tickets import importing
from tests.conftest import POSTGRES
from tests.tickets.test_import import _preview, _school_client

HEADER = ["Фамилия", "Имя", "Отчество", "Класс"]


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in [HEADER, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _with_cell(data: bytes, text: str) -> bytes:
    """The workbook with one more row whose first cell holds `text` (written as Excel would not)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                cell = f'<row r="3"><c r="A3" t="inlineStr"><is><t>{text}</t></is></c></row>'
                content = content.replace(b"</sheetData>", cell.encode() + b"</sheetData>")
            target.writestr(item, content)
    return out.getvalue()


def test_an_xlsx_that_unpacks_past_the_bound_is_refused_before_it_is_read(app, world):
    client, _, event = _school_client(app, world)
    bomb = _with_cell(_xlsx([["Иванов", "Иван", "", "8А"]]), "Я" * 12_000_000)
    assert len(bomb) < 200_000  # small on the wire, 24 MB unpacked

    page = _preview(client, event, bomb, "class.xlsx")

    assert page.status_code == 422
    assert "слишком большой" in page.get_data(as_text=True)
    assert len(page.get_data()) < 100_000


def test_reading_stops_at_the_row_limit(app, world):
    client, _, event = _school_client(app, world)
    many = _xlsx([[f"Иванов{i}", "Иван", "", "8А"] for i in range(3000)])

    page = _preview(client, event, many, "class.xlsx")

    assert page.status_code == 422
    assert f"больше {importing.MAX_ROWS} учеников" in page.get_data(as_text=True)


def test_a_long_cell_is_refused_in_its_row_and_not_echoed(app, world):
    client, _, event = _school_client(app, world)
    long_name = "Щ" * 50_000
    csv = f"Фамилия;Имя;Отчество;Класс\nИванов;Иван;;8А\n{long_name};Пётр;;8А\n".encode()

    page = _preview(client, event, csv, "class.csv")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "Слишком длинное значение" in html
    assert "Щ" * (importing.MAX_CELL + 2) not in html  # cut where it was read


def test_a_cell_past_the_csv_readers_own_limit_is_a_clear_refusal(app, world):
    client, _, event = _school_client(app, world)
    csv = ("Фамилия;Имя;Отчество;Класс\n" + '"' + "Щ" * 200_000 + '";Пётр;;8А\n').encode()

    page = _preview(client, event, csv, "class.csv")

    assert page.status_code == 422
    assert "Не удалось прочитать файл CSV" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "rows",
    [
        '{"line": 2}',
        "[1]",
        '[{"line": "2", "last_name": "Иванов"}]',
        '[{"line": 2, "last_name": ["Иванов"]}]',
        '[{"line": 2, "last_name": "Иванов", "class_label": null}]',
        "[" * 100_000 + "]" * 100_000,
        "not json",
        json.dumps([{"line": n, "last_name": "Иванов", "class_label": "8А"} for n in range(2, 400)]),
    ],
)
def test_malformed_confirm_rows_are_refused_not_a_500(app, world, rows):
    client, _, event = _school_client(app, world)

    form = {"step": "confirm", "consent_paper": "1", "consent_date": "2026-09-01", "rows": rows}
    page = client.post(f"/yaroslavl/events/{event}/import", data=form)

    assert page.status_code == 422
    assert "повреждённым" in page.get_data(as_text=True)


@pytest.mark.skipif(POSTGRES, reason="SQLite's write lock")
def test_parsing_an_upload_holds_no_write_lock(app, world, monkeypatch):
    client, _, event = _school_client(app, world)
    database = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    writes = []
    parse = importing._csv_cells

    def parse_while_a_kiosk_writes(data, notes):
        door = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            door.execute("BEGIN IMMEDIATE")
            door.execute("ROLLBACK")
            writes.append("ok")
        except sqlite3.OperationalError as error:
            writes.append(str(error))
        finally:
            door.close()
        return parse(data, notes)

    monkeypatch.setattr(importing, "_csv_cells", parse_while_a_kiosk_writes)
    page = _preview(client, event, "Фамилия;Имя;Отчество;Класс\nИванов;Иван;;8А\n".encode(), "a.csv")

    assert page.status_code == 200
    assert writes == ["ok"]
