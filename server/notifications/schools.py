"""Mail for school staff: the class sheet is ready, and the day-before summary of who goes where.

Each goes to the staff of that school only, and names only that school's students.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from server.accounts.models import Membership, Role, User
from server.catalog.models import Event, School
from server.extensions import db
from server.mail import absolute_url, queue_mail
from server.notifications.messages import place_of, sender_of, when_of
from server.notifications.models import MailRun
from server.tickets.models import ClassGroup, Student, Ticket, TicketStatus
from tenants.models import Tenant


def school_staff(school_id: int) -> list[User]:
    query = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role == Role.SCHOOL, Membership.school_id == school_id, User.active.is_(True))
        .order_by(User.id)
    )
    return list(db.session.scalars(query))


def class_sheet_ready(
    tenant: Tenant, event: Event, school: School, groups: list[ClassGroup], count: int
) -> None:
    """After a class import: the sheet to print (a staff link: it needs a login)."""
    stamp = datetime.now().strftime("%Y%m%d%H%M%S%f")
    sheets = [
        (group.label, absolute_url("tickets_views.staff.class_sheet", tenant=tenant.slug, group_id=group.id))
        for group in groups
    ]
    for user in school_staff(school.id):
        queue_mail(
            f"{user.full_name} <{user.email}>" if user.full_name else user.email,
            f"Лист класса готов: {event.title}",
            "class_sheet",
            {"school": school.name, "event": event, "when": when_of(event, tenant), "place": place_of(event),
             "sheets": sheets, "count": count, "region": tenant.name},
            kind="class_sheet",
            key=f"class_sheet:{school.id}:{event.id}:{user.id}:{stamp}",
            tenant_id=tenant.id,
            event_id=event.id,
            school_id=school.id,
            sender_name=sender_of(tenant),
        )  # fmt: skip


def day_bounds(day: date, tenant: Tenant) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tenant.tz)
    return start, start + timedelta(days=1)


def write_summaries(tenant: Tenant, run: MailRun) -> int:
    """One summary per school with students at tomorrow's events, to that school's staff."""
    day = date.fromisoformat(json.loads(run.payload)["date"])
    start, end = day_bounds(day, tenant)
    rows = db.session.execute(
        select(
            Student.school_id,
            Student.last_name,
            Student.first_name,
            Student.middle_name,
            Student.grade,
            Event,
        )
        .select_from(Ticket)
        .join(Student, Student.id == Ticket.student_id)
        .join(Event, Event.id == Ticket.event_id)
        .where(
            Ticket.status == TicketStatus.ACTIVE,
            Event.starts_at >= start,
            Event.starts_at < end,
            Event.cancelled_at.is_(None),
        )
        .order_by(Student.school_id, Event.starts_at, Student.last_name, Student.first_name)
    ).all()
    by_school: dict[int, dict[int, dict]] = defaultdict(dict)
    for school_id, last, first, middle, grade, event in rows:
        entry = by_school[school_id].setdefault(
            event.id,
            {"event": event, "when": when_of(event, tenant), "place": place_of(event), "students": []},
        )
        from server.tickets.models import short_name

        entry["students"].append(f"{short_name(last, first, middle)}, {grade} кл.")
    written = 0
    for school_id, events in by_school.items():
        school = db.session.scalar(select(School).where(School.id == school_id))
        for user in school_staff(school_id):
            written += (
                queue_mail(
                    f"{user.full_name} <{user.email}>" if user.full_name else user.email,
                    f"Завтра на событиях учеников: {sum(len(e['students']) for e in events.values())}",
                    "school_summary",
                    {"school": school.name, "events": list(events.values()), "region": tenant.name},
                    kind="school_summary",
                    key=f"school_summary:{run.id}:{school_id}:{user.id}",
                    tenant_id=tenant.id,
                    school_id=school_id,
                    sender_name=sender_of(tenant),
                )
                is not None
            )
        db.session.commit()
    return written
