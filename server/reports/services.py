"""Attendance figures a coordinator reports upward: per event, by municipality and by school."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from server.catalog.models import Event, EventQuota, Municipality, School
from server.checkins.models import Checkin, ScanResult
from server.extensions import db
from server.text import normalise_name
from server.tickets.models import Student, Ticket, TicketStatus


@dataclass
class Row:
    id: int
    name: str
    registered: int = 0
    checked_in: int = 0
    quota: int | None = None
    municipality_id: int | None = None


def russian_order(name: str) -> str:
    """Cyrillic sort key independent of the server's locale: case-folded, ё sorted as е."""
    return normalise_name(name)


def _count_by(column, *where) -> dict[int, int]:
    return dict(db.session.execute(select(column, func.count()).where(*where).group_by(column)).all())


def _count_by_school(*where) -> dict[int, int]:
    query = (
        select(Student.school_id, func.count())
        .select_from(Ticket)
        .join(Student, Student.id == Ticket.student_id)
        .where(*where)
        .group_by(Student.school_id)
    )
    return dict(db.session.execute(query).all())


def event_attendance(event: Event) -> dict:
    """Registered (active tickets) and admitted, in total and per municipality and school."""
    active = (Ticket.event_id == event.id, Ticket.status == TicketStatus.ACTIVE)
    admitted_tickets = select(Checkin.ticket_id).where(
        Checkin.event_id == event.id, Checkin.result == ScanResult.OK
    )
    admitted = (Ticket.event_id == event.id, Ticket.id.in_(admitted_tickets))

    registered_by_municipality = _count_by(Ticket.municipality_id, *active)
    admitted_by_municipality = _count_by(Ticket.municipality_id, *admitted)
    registered_by_school = _count_by_school(*active)
    admitted_by_school = _count_by_school(*admitted)
    quotas = {
        q.municipality_id: q.seats
        for q in db.session.scalars(select(EventQuota).where(EventQuota.event_id == event.id))
    }

    municipality_ids = set(registered_by_municipality) | set(admitted_by_municipality) | set(quotas)
    municipalities = [
        Row(
            m.id,
            m.name,
            registered_by_municipality.get(m.id, 0),
            admitted_by_municipality.get(m.id, 0),
            quotas.get(m.id),
        )
        for m in db.session.scalars(select(Municipality).where(Municipality.id.in_(municipality_ids)))
    ]
    school_ids = set(registered_by_school) | set(admitted_by_school)
    schools = [
        Row(
            s.id,
            s.name,
            registered_by_school.get(s.id, 0),
            admitted_by_school.get(s.id, 0),
            municipality_id=s.municipality_id,
        )
        for s in db.session.scalars(select(School).where(School.id.in_(school_ids)))
    ]
    municipalities.sort(key=lambda r: russian_order(r.name))
    schools.sort(key=lambda r: russian_order(r.name))
    return {
        "event_id": event.id,
        "registered": sum(registered_by_municipality.values()),
        "checked_in": sum(admitted_by_municipality.values()),
        "by_municipality": [
            {
                "municipality_id": r.id,
                "name": r.name,
                "quota": r.quota,
                "registered": r.registered,
                "checked_in": r.checked_in,
            }
            for r in municipalities
        ],
        "by_school": [
            {
                "school_id": r.id,
                "name": r.name,
                "municipality_id": r.municipality_id,
                "registered": r.registered,
                "checked_in": r.checked_in,
            }
            for r in schools
        ],
    }


def event_table(report: dict):
    """An event's attendance as one table: the event, its municipalities against quotas, its schools."""
    from server.reports.exports import Column, Kind, Table

    def share(row: dict) -> float:
        return round(100 * row["checked_in"] / row["registered"], 1) if row["registered"] else 0.0

    rows: list[tuple] = [
        (
            "Муниципалитет",
            r["name"],
            r["quota"],
            r["registered"],
            r["checked_in"],
            share(r),
        )
        for r in report["by_municipality"]
    ]
    rows += [
        ("Школа", r["name"], None, r["registered"], r["checked_in"], share(r)) for r in report["by_school"]
    ]
    columns = [
        Column("Уровень", 16),
        Column("Название", 60),
        Column("Квота", 10, Kind.INT),
        Column("Зарегистрировано", 18, Kind.INT),
        Column("Пришли", 10, Kind.INT),
        Column("Доля пришедших, %", 20, Kind.NUMBER),
    ]

    def totals(count: int, sums: list) -> tuple:
        return ("Всего", report["title"], None, report["registered"], report["checked_in"], share(report))

    return Table("Посещаемость", columns, rows, totals=totals)
