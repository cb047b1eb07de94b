"""A venue's own day for its staff: today's events there, who is registered by school and class, who
has come, and the venue's kiosks. Read-only; nothing of other venues is selected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from server.catalog.models import Event, Venue
from server.checkins.models import Kiosk
from server.checkins.today import admitted_times, local_day_bounds
from server.database import utcnow
from server.extensions import db
from server.tickets.models import ClassGroup, Student, Ticket, TicketStatus


@dataclass
class Arrival:
    short_name: str
    came_at: datetime | None


@dataclass
class ClassAtEvent:
    """One school's class at an event (a class registered from a list, or the grade of single tickets)."""

    school: str
    label: str
    students: list[Arrival] = field(default_factory=list)

    @property
    def came(self) -> int:
        return sum(s.came_at is not None for s in self.students)


@dataclass
class EventToday:
    event: Event
    classes: list[ClassAtEvent]

    @property
    def registered(self) -> int:
        return sum(len(c.students) for c in self.classes)

    @property
    def came(self) -> int:
        return sum(c.came for c in self.classes)


@dataclass
class VenueDay:
    venue: Venue
    events: list[EventToday]
    kiosks: list[Kiosk]


def venue_day(venue_id: int, tenant_id: int, now: datetime | None = None) -> VenueDay | None:
    """Today (in the region's time) at one venue; None when the venue is not of the current region."""
    venue = db.session.scalar(select(Venue).where(Venue.id == venue_id))
    if venue is None:
        return None
    start, end = local_day_bounds(tenant_id, now or utcnow())
    events = db.session.scalars(
        select(Event)
        .where(Event.venue_id == venue_id, Event.starts_at < end, Event.ends_at > start)
        .options(joinedload(Event.programme))
        .order_by(Event.starts_at, Event.id)
    ).all()
    tickets = db.session.scalars(
        select(Ticket)
        .join(Student, Student.id == Ticket.student_id)
        .where(Ticket.event_id.in_([e.id for e in events]), Ticket.status == TicketStatus.ACTIVE)
        .options(joinedload(Ticket.student).joinedload(Student.school))
        .order_by(Student.last_name, Student.first_name)
    ).all()
    labels = dict(
        db.session.execute(
            select(ClassGroup.id, ClassGroup.label).where(ClassGroup.event_id.in_([e.id for e in events]))
        ).all()
    )
    came = admitted_times([t.id for t in tickets])
    by_event: dict[int, dict[tuple[str, str], ClassAtEvent]] = {e.id: {} for e in events}
    for ticket in tickets:
        student = ticket.student
        label = labels.get(ticket.group_id) or f"{student.grade}"
        key = (student.school.name, label)
        group = by_event[ticket.event_id].setdefault(key, ClassAtEvent(*key))
        group.students.append(Arrival(student.short_name, came.get(ticket.id)))
    kiosks = db.session.scalars(
        select(Kiosk).where(Kiosk.venue_id == venue_id).order_by(Kiosk.created_at, Kiosk.id)
    ).all()
    return VenueDay(
        venue,
        [EventToday(e, sorted(by_event[e.id].values(), key=lambda c: (c.school, c.label))) for e in events],
        list(kiosks),
    )
