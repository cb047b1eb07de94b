"""Attendance for the ministry: totals, by municipality against quotas, by school; CSV for Excel, XLSX."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from server.checkins.models import Checkin, ScanResult
from server.database import utcnow
from server.extensions import db
from server.tickets.models import Ticket
from tenants.scoping import tenant_scope
from tests.conftest import bearer, login


def _admit(world, region, ticket_id: int) -> None:
    """Record an admission row directly: this test is about the report, not the door."""
    with world.app.app_context(), tenant_scope(region.id):
        ticket = db.session.scalar(select(Ticket).where(Ticket.id == ticket_id))
        db.session.add(
            Checkin(ticket_id=ticket.id, event_id=ticket.event_id, result=ScanResult.OK, scanned_at=utcnow())
        )
        db.session.commit()


def _setup(world):
    yaroslavl = world.municipality(world.a, "г. Ярославль")
    rybinsk = world.municipality(world.a, "г. Рыбинск")
    school_33 = world.school(world.a, yaroslavl, "Средняя школа № 33")
    lyceum_2 = world.school(world.a, rybinsk, "Лицей № 2")
    event = world.event(world.a, capacity=40, quotas=[(yaroslavl, 10), (rybinsk, 10)])
    tickets = [world.ticket(world.a, event, school_id=school_33)[0] for _ in range(3)]
    tickets += [world.ticket(world.a, event, school_id=lyceum_2)[0] for _ in range(2)]
    for ticket_id in tickets[:2] + tickets[3:4]:
        _admit(world, world.a, ticket_id)
    return event, yaroslavl, rybinsk


def test_attendance_api_counts_by_municipality_and_school(client, world):
    event, yaroslavl, rybinsk = _setup(world)
    _, token = world.user(world.a)
    report = client.get(f"/api/v1/yaroslavl/events/{event}/attendance", headers=bearer(token)).json
    assert report["registered"] == 5 and report["checked_in"] == 3
    by_municipality = {row["name"]: row for row in report["by_municipality"]}
    assert by_municipality["г. Ярославль"] | {} == {
        "municipality_id": yaroslavl,
        "name": "г. Ярославль",
        "quota": 10,
        "registered": 3,
        "checked_in": 2,
    }
    assert by_municipality["г. Рыбинск"]["checked_in"] == 1
    assert [row["name"] for row in report["by_school"]] == ["Лицей № 2", "Средняя школа № 33"]


def test_attendance_is_coordinators_only(client, world):
    event, _, _ = _setup(world)
    school = world.school(world.a)
    from server.accounts.models import Role

    _, token = world.user(world.a, Role.SCHOOL, school_id=school)
    assert (
        client.get(f"/api/v1/yaroslavl/events/{event}/attendance", headers=bearer(token)).status_code == 403
    )


def test_csv_export_opens_in_excel_with_cyrillic(client, world):
    event, _, _ = _setup(world)
    email, _ = world.user(world.a)
    login(client, email)
    response = client.get(f"/yaroslavl/events/{event}/attendance.csv")
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    text = response.data.decode("utf-8-sig")
    assert "Муниципалитет;г. Ярославль;10;3;2;66,7" in text


def test_xlsx_export_has_the_same_figures(client, world):
    event, _, _ = _setup(world)
    email, _ = world.user(world.a)
    login(client, email)
    response = client.get(f"/yaroslavl/events/{event}/attendance.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=2)]
    assert ("Школа", "Средняя школа № 33", None, 3, 2, 66.7) in rows
