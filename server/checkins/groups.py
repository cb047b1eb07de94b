"""A class arrives with its teacher: the escort QR opens the class checklist at the door.

Each ticked child is admitted individually (a `Checkin` row with method `group`), so counts and the
"once" rule are the same as at the turnstile. The same checklist records who left with the teacher;
the coordinator sees children admitted but not marked as left once the event is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from server.audit.services import record as audit
from server.catalog.models import Event, School
from server.checkins.counts import many_admissions
from server.checkins.kiosks import DoorKiosk
from server.checkins.models import AdmissionMethod, Checkin, ScanResult
from server.checkins.services import Admission, admit_ticket, door_ticket
from server.checkins.today import admitted_times
from server.database import utcnow
from server.errors import Forbidden, Invalid, NotFound
from server.extensions import db
from server.tickets import codes
from server.tickets.models import ClassGroup, Student, Ticket, TicketStatus


@dataclass
class GroupSheet:
    group: ClassGroup
    event: Event
    school: School
    tickets: list[Ticket]
    admitted: dict[int, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "group": {
                "id": self.group.id,
                "label": self.group.label,
                "escort_name": self.group.escort_name,
                "school": self.school.name,
                "event": self.event.title,
                "event_id": self.event.id,
            },
            "students": [
                {
                    "ticket_id": t.id,
                    "short_name": t.student.short_name,
                    "grade": t.student.grade,
                    "checked_in_at": self.admitted[t.id].isoformat() if t.id in self.admitted else None,
                    "left_at": t.left_at.isoformat() if t.left_at else None,
                }
                for t in self.tickets
            ],
        }


def _group_tickets(group_id: int) -> list[Ticket]:
    return list(
        db.session.scalars(
            select(Ticket)
            .join(Student, Student.id == Ticket.student_id)
            .where(Ticket.group_id == group_id, Ticket.status == TicketStatus.ACTIVE)
            .options(joinedload(Ticket.student))
            .order_by(Student.search_last_name, Student.first_name, Ticket.id)
        )
    )


def group_sheet(group_id: int, kiosk: DoorKiosk) -> GroupSheet:
    """The checklist of one class, if its event is at this kiosk's venue."""
    group = db.session.scalar(select(ClassGroup).where(ClassGroup.id == group_id))
    if group is None:
        raise NotFound("Класс не найден.", code="group_not_found")
    event = db.session.scalar(
        select(Event).where(Event.id == group.event_id).options(joinedload(Event.venue))
    )
    if event.venue_id != kiosk.venue_id:
        raise Forbidden(f"Этот класс записан на другую площадку: «{event.venue.name}».", code="wrong_venue")
    school = db.session.scalar(select(School).where(School.id == group.school_id))
    tickets = _group_tickets(group.id)
    return GroupSheet(group, event, school, tickets, admitted_times([t.id for t in tickets]))


def open_group(code: str, kiosk: DoorKiosk) -> GroupSheet:
    """The escort QR of a class sheet → that class's checklist."""
    payload = codes.verify(codes.normalise(code), kiosk.tenant_id, codes.CodeKind.ESCORT)
    if payload is None:
        raise NotFound("QR сопровождающего не распознан.", code="escort_invalid")
    sheet = group_sheet(payload.object_id, kiosk)
    if sheet.event.id != payload.event_id:
        raise NotFound("QR сопровождающего не распознан.", code="escort_invalid")
    return sheet


def admit_group(group_id: int, ticket_ids: list[int], kiosk: DoorKiosk) -> list[dict[str, Any]]:
    """Admit the ticked children of a class one by one (each its own check-in)."""
    sheet = group_sheet(group_id, kiosk)
    wanted = set(ticket_ids)
    if wanted - {t.id for t in sheet.tickets}:
        raise Invalid("В списке есть ученики не из этого класса.", code="not_in_group")
    answers: dict[int, dict[str, Any]] = {}
    # In code order, like an offline sync (services.sync_offline): no lock cycle with another door.
    with many_admissions():
        for ticket in sorted((t for t in sheet.tickets if t.id in wanted), key=lambda t: t.code or ""):
            answer: Admission = admit_ticket(door_ticket(ticket.id), kiosk, method=AdmissionMethod.GROUP)
            answers[ticket.id] = {"ticket_id": ticket.id, **answer.as_json()}
    return [answers[t.id] for t in sheet.tickets if t.id in answers]


def mark_left(group_id: int, ticket_ids: list[int], kiosk: DoorKiosk) -> int:
    """Children who left with the teacher. Only admitted children can leave; returns how many marked."""
    sheet = group_sheet(group_id, kiosk)
    wanted = set(ticket_ids)
    now = utcnow()
    marked = 0
    for ticket in sheet.tickets:
        if ticket.id in wanted and ticket.id in sheet.admitted and ticket.left_at is None:
            ticket.left_at = now
            marked += 1
    audit("group.left", "class_group", group_id, kiosk_id=kiosk.id, tickets=sorted(wanted), marked=marked)
    return marked


def not_left(now=None, limit: int = 200) -> list[dict[str, Any]]:
    """Children of class groups admitted to an event that is over, not marked as left with the teacher."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Ticket, Checkin.scanned_at)
        .join(Checkin, (Checkin.ticket_id == Ticket.id) & (Checkin.result == ScanResult.OK))
        .join(Event, Event.id == Ticket.event_id)
        .join(ClassGroup, ClassGroup.id == Ticket.group_id)
        .where(Ticket.left_at.is_(None), Event.ends_at <= now)
        .options(
            joinedload(Ticket.event),
            joinedload(Ticket.student).joinedload(Student.school),
        )
        .order_by(Event.ends_at.desc(), Ticket.group_id, Ticket.id)
        .limit(limit)
    ).all()
    group_ids = {t.group_id for t, _ in rows}
    groups = (
        {g.id: g for g in db.session.scalars(select(ClassGroup).where(ClassGroup.id.in_(group_ids)))}
        if group_ids
        else {}
    )
    return [
        {
            "ticket": ticket,
            "group": groups.get(ticket.group_id),
            "checked_in_at": at,
        }
        for ticket, at in rows
    ]


def conflicts(limit: int = 200) -> list[Checkin]:
    """Offline admissions the server could not confirm on sync: the ticket was already admitted at
    another door, or was cancelled / not valid here by then. The person is inside either way."""
    return list(
        db.session.scalars(
            select(Checkin)
            .where(Checkin.conflict.is_(True))
            .options(
                joinedload(Checkin.kiosk),
                joinedload(Checkin.ticket).joinedload(Ticket.student).joinedload(Student.school),
                joinedload(Checkin.ticket).joinedload(Ticket.event),
            )
            .order_by(Checkin.created_at.desc())
            .limit(limit)
        )
    )
