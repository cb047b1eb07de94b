"""Files for the ministry: CSV for Excel, XLSX with real dates and totals, no formulas; all audited."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.extensions import db
from tenants.scoping import tenant_scope
from tests.conftest import login
from tests.reports.helpers import admit, build, users

HEADER = (
    "ФИО;Класс;Школа;Муниципалитет;Мероприятие;Дата мероприятия;Площадка;Формат;Время отметки;"
    "Как отмечен;Статус"
)


def test_participants_csv_is_excel_ready(client, world):
    town = build(world)
    login(client, users(world, town)["coordinator"])
    response = client.get(f"/yaroslavl/reports/participants.csv?event={town.today}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0] == HEADER
    semyonov = next(line for line in lines if line.startswith("Семёнов"))
    cells = semyonov.split(";")
    assert cells[2:5] == ["Средняя школа № 33", "г. Ярославль", "Открытые двери колледжа"]
    assert cells[7:] == ["Очно", cells[8], "киоск «Вход 1»", "пришёл"]
    assert datetime.strptime(cells[8], "%d.%m.%Y %H:%M")
    assert lines[-1].startswith("Итого: 5;") and lines[-1].endswith(";пришли: 3")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Uchastniki ') and "filename*=UTF-8''" in disposition


def test_summary_csv_uses_decimal_comma(client, world):
    town = build(world)
    login(client, users(world, town)["coordinator"])
    text = client.get("/yaroslavl/reports/attendance.csv").data.decode("utf-8-sig")
    assert "Муниципалитет;г. Ярославль;;;10;3;4;3;0;0;75,0" in text
    assert text.splitlines()[-1] == "Итого;;;;20;4;6;4;1;1;66,7"


def test_participants_xlsx_has_dates_totals_frozen_header_and_widths(client, world):
    town = build(world)
    login(client, users(world, town)["coordinator"])
    response = client.get("/yaroslavl/reports/participants.xlsx")
    sheet = load_workbook(io.BytesIO(response.data))["Участники"]
    assert [c.value for c in sheet[1]][:3] == ["ФИО", "Класс", "Школа"]
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 36
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    semyonov = rows["Семёнов Пётр Петрович"]
    assert isinstance(semyonov[5].value, datetime) and isinstance(semyonov[8].value, datetime)
    assert semyonov[8].number_format == "DD.MM.YYYY HH:MM"
    last = list(sheet.iter_rows(min_row=sheet.max_row))[0]
    assert last[0].value == "Итого: 7" and last[0].font.b and last[10].value == "пришли: 4"


def test_summary_xlsx_has_both_sheets_with_numbers(client, world):
    town = build(world)
    login(client, users(world, town)["coordinator"])
    book = load_workbook(io.BytesIO(client.get("/yaroslavl/reports/attendance.xlsx").data))
    assert book.sheetnames == ["Муниципалитеты и школы", "Площадки и мероприятия"]
    rows = [tuple(c.value for c in r) for r in book["Муниципалитеты и школы"].iter_rows(min_row=2)]
    assert ("Муниципалитет", "г. Рыбинск", None, None, 10, 1, 2, 1, 1, 1, 50.0) in rows
    assert rows[-1] == ("Итого", None, None, None, 20, 4, 6, 4, 1, 1, 66.7)


def test_no_cell_becomes_a_formula(client, world):
    evil = '=HYPERLINK("http://evil.example","жми")'
    municipality = world.municipality(world.a, "+7 район")
    school = world.school(world.a, municipality, evil)
    event = world.event(world.a, title="@SUM(A1:A9)")
    world.ticket(world.a, event, school_id=school, last_name="Минусов")
    login(client, world.user(world.a)[0])
    text = client.get(f"/yaroslavl/reports/participants.csv?event={event}").data.decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(text), delimiter=";"))[1]
    assert row[0].startswith("Минусов") and row[2].startswith("'=HYPERLINK") and row[3] == "'+7 район"
    assert row[4] == "'@SUM(A1:A9)"
    book = load_workbook(io.BytesIO(client.get(f"/yaroslavl/reports/participants.xlsx?event={event}").data))
    cells = list(book.active.iter_rows(min_row=2, max_row=2))[0]
    assert cells[2].value == evil and cells[2].data_type == "s"  # text, not a live formula
    summary = load_workbook(io.BytesIO(client.get("/yaroslavl/reports/attendance.xlsx").data))
    assert all(c.data_type != "f" for sheet in summary for row in sheet.iter_rows() for c in row)


def test_season_summary_counts_trials_against_the_limits(client, world):
    town = build(world)
    online = world.event(world.a, programme="trial", format="online", title="Проба онлайн", grades=(6, 11))
    in_person = world.event(world.a, programme="trial", title="Проба очно", grades=(6, 11))
    ticket = world.ticket(world.a, online, school_id=town.school_33, last_name="Пробина", grade=8)[0]
    with world.app.app_context(), tenant_scope(world.a.id):
        from server.tickets import services as tickets
        from server.tickets.models import Ticket
        from tenants.models import Tenant

        student = db.session.scalar(select(Ticket).where(Ticket.id == ticket)).student
        event = tickets.find_event(in_person)
        tickets.register(
            event,
            tickets.Registration(
                student=tickets.StudentInput(
                    last_name="Пробина",
                    first_name=student.first_name,
                    middle_name=student.middle_name,
                    grade=8,
                    school_id=town.school_33,
                ),  # fmt: skip
                guardian_name="Пробин Игорь",
                guardian_phone="+7 900 000-00-00",
                consent=True,
            ),
            db.session.get(Tenant, world.a.id).tz,
        )
        db.session.commit()
    admit(world, world.a, ticket)
    login(client, users(world, town)["school"])
    html = client.get("/yaroslavl/reports/season").get_data(as_text=True)
    assert "Пробина" in html
    book = load_workbook(io.BytesIO(client.get("/yaroslavl/reports/season.xlsx").data))
    students = [tuple(c.value for c in r) for r in book["Ученики"].iter_rows(min_row=2)]
    limit, in_person_limit = students[0][8], students[0][9]
    assert students[0][0] == "Пробина Иван Петрович"
    assert students[0][1:8] == (8, "Средняя школа № 33", "г. Ярославль", 2, 1, 1, 1)
    assert (limit, in_person_limit) == (4, 1)
    schools = [tuple(c.value for c in r) for r in book["Школы"].iter_rows(min_row=2)]
    assert schools[0] == ("Средняя школа № 33", "г. Ярославль", 1, 2, 1, 1, 1, 0)
    lines = client.get("/yaroslavl/reports/season.csv").data.decode("utf-8-sig").splitlines()
    assert lines[1].split(";")[4:] == ["2", "1", "1", "1", "4", "1", "в пределах лимита"]


def test_every_export_is_audited_and_the_coordinator_sees_the_log(client, world):
    town = build(world)
    logins = users(world, town)
    login(client, logins["municipal"])
    assert client.get("/yaroslavl/reports/participants.csv?q=кузн").status_code == 200
    assert client.get("/yaroslavl/reports/attendance.xlsx").status_code == 200
    assert client.get("/yaroslavl/reports/exports").status_code == 403
    with world.app.app_context(), tenant_scope(world.a.id):
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        exports = [e for e in entries if e.action == "report.export"]
        assert [(e.details["report"], e.details["format"], e.details["rows"]) for e in exports] == [
            ("participants", "csv", 1),
            ("attendance_summary", "xlsx", 3),  # Рыбинск, Лицей № 2, 10 класс
        ]
        assert exports[0].details["scope"] == {"kind": "municipality", "id": town.rybinsk}
        assert exports[0].details["filters"] == {"q": "кузн"}
        assert exports[0].actor_user_id is not None
    client.post("/logout")
    login(client, logins["coordinator"])
    html = client.get("/yaroslavl/reports/exports").get_data(as_text=True)
    assert logins["municipal"] in html and "Список участников" in html and "г. Рыбинск" in html
    english = client.get("/yaroslavl/reports/exports?lang=en").get_data(as_text=True)
    assert "Participant list" in english and "Список участников" not in english
    with world.app.app_context(), tenant_scope(world.b.id):
        assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "report.export")).all() == []


def test_formula_guard_covers_every_dangerous_first_character():
    from server.reports.exports import safe_text

    for text in ("=1+1", "+7 900", "-5", "@SUM(A1)", "\tx", "\rx"):
        assert safe_text(text) == "'" + text
    assert safe_text("Лицей № 2") == "Лицей № 2"
