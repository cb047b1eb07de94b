"""A small region with everything a report shows: two municipalities, schools, venues, all statuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from server.accounts.models import Role
from server.checkins.models import AdmissionMethod, Checkin, Kiosk, ScanResult
from server.database import utcnow
from server.extensions import db
from server.tickets import services as tickets
from server.tickets.models import Ticket
from tenants.scoping import tenant_scope


def admit(world, region, ticket_id: int, *, at: datetime | None = None, kiosk: str | None = None,
          method: AdmissionMethod = AdmissionMethod.SCAN, left: bool = False) -> None:  # fmt: skip
    """An admission row as the door writes it (this is about the report, not the door)."""
    with world.app.app_context(), tenant_scope(region.id):
        ticket = db.session.scalar(select(Ticket).where(Ticket.id == ticket_id))
        kiosk_id = None
        if kiosk is not None:
            found = Kiosk(venue_id=ticket.event.venue_id, name=kiosk)
            db.session.add(found)
            db.session.flush()
            kiosk_id = found.id
        db.session.add(
            Checkin(
                ticket_id=ticket.id,
                event_id=ticket.event_id,
                kiosk_id=kiosk_id,
                result=ScanResult.OK,
                method=method,
                scanned_at=at or utcnow(),
            )  # fmt: skip
        )
        if left:
            ticket.left_at = (at or utcnow()) + timedelta(hours=1)
        db.session.commit()


def cancel(world, region, ticket_id: int) -> None:
    with world.app.app_context(), tenant_scope(region.id):
        ticket = db.session.scalar(select(Ticket).where(Ticket.id == ticket_id))
        tickets.cancel(ticket, by="test")
        db.session.commit()


@dataclass
class Town:
    yaroslavl: int
    rybinsk: int
    school_33: int
    lyceum_2: int
    college: int
    plant: int
    today: int  # an event now at the college (open day)
    past: int  # an event that ended at the plant (open day)
    tickets: dict


def build(world) -> Town:
    a = world.a
    yaroslavl = world.municipality(a, "г. Ярославль")
    rybinsk = world.municipality(a, "г. Рыбинск")
    school_33 = world.school(a, yaroslavl, "Средняя школа № 33")
    lyceum_2 = world.school(a, rybinsk, "Лицей № 2")
    college = world.venue(a, "Ярославский колледж")
    plant = world.venue(a, "Завод «Автодизель»")
    today = world.event(a, venue_id=college, title="Открытые двери колледжа", capacity=40,
                        quotas=[(yaroslavl, 10), (rybinsk, 10)])  # fmt: skip
    past = world.event(a, venue_id=plant, title="Экскурсия на завод",
                       starts_at=utcnow() - timedelta(hours=6), hours=2)  # fmt: skip
    t = {}
    t["semyonov"] = world.ticket(a, today, school_id=school_33, last_name="Семёнов", first_name="Пётр")[0]
    t["ivanova"] = world.ticket(a, today, school_id=school_33, last_name="Иванова", first_name="Анна")[0]
    t["petrov"] = world.ticket(a, today, school_id=school_33, last_name="Петров", first_name="Олег")[0]
    t["kuznetsov"] = world.ticket(a, today, school_id=lyceum_2, last_name="Кузнецов", grade=10)[0]
    t["orlova"] = world.ticket(a, today, school_id=lyceum_2, last_name="Орлова", grade=10)[0]
    t["absent"] = world.ticket(a, past, school_id=lyceum_2, last_name="Сидоров", grade=10)[0]
    t["visitor"] = world.ticket(a, past, school_id=school_33, last_name="Ёлкина", first_name="Дарья")[0]
    admit(world, a, t["semyonov"], kiosk="Вход 1")
    admit(world, a, t["ivanova"], method=AdmissionMethod.MANUAL)
    admit(world, a, t["kuznetsov"], kiosk="Вход 2", left=True)
    admit(world, a, t["visitor"], at=utcnow() - timedelta(hours=5), kiosk="Проходная")
    cancel(world, a, t["orlova"])
    # Region B holds a look-alike that must never appear in region A's reports.
    b_school = world.school(world.b, None, "Средняя школа № 33")
    b_event = world.event(world.b, title="Чужое событие")
    world.ticket(world.b, b_event, school_id=b_school, last_name="Семёнов")
    return Town(yaroslavl, rybinsk, school_33, lyceum_2, college, plant, today, past, t)


def users(world, town: Town) -> dict[str, str]:
    """An e-mail per role, narrowed as each role is."""
    a = world.a
    return {
        "coordinator": world.user(a, Role.COORDINATOR)[0],
        "municipal": world.user(a, Role.MUNICIPAL, municipality_id=town.rybinsk)[0],
        "school": world.user(a, Role.SCHOOL, school_id=town.school_33)[0],
        "venue": world.user(a, Role.VENUE, venue_id=town.plant)[0],
    }
