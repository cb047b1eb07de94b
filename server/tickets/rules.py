"""The registration rules of the SPEC, in one place: pages, API and class import all go through here.

Concurrency: every change of a seat counter (event, municipality quota, school quota) happens while the
event row is locked (`lock_event`: `SELECT … FOR NO KEY UPDATE` on PostgreSQL, which does not conflict
with the key-share locks that inserting a ticket takes on its event; SQLite serialises writers with
`BEGIN IMMEDIATE`). A registration takes that lock with the seat itself (`claim_seat`: one conditional
`UPDATE … SET registered = registered + 1 … RETURNING`), as the last thing before its commit: every
registration of an event queues on that row, so the fewer round trips it is held for, the more
registrations a second. Season limits are checked while the student row is locked (`lock_student`). Locks
are always taken student first, then event, so two registrations never wait on each other in a circle.
The database constraints (`registered <= capacity`, `used <= seats`, one active ticket per student and
event) are the last line behind these checks.

Identity of a student (season limits): the same school + the same normalised full name (case, `ё`/`е`,
spaces: `server.text.normalise_name`) + the same grade is the same student.

Quotas: before `Event.quota_deadline` (or always, when there is none) a municipality's quota both
reserves its seats and caps its schools; a school quota does the same inside its municipality's quota.
After the deadline quotas stop applying: unclaimed seats are free for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from server.catalog.models import Event, EventFormat, EventQuota, Programme, School, SchoolQuota
from server.errors import Conflict, Invalid
from server.extensions import db
from server.formatting import MONTHS
from server.tickets.models import Student, Ticket, TicketStatus
from tenants.scoping import regional


class RegistrationRefused(Conflict):
    """A rule said no (409). `code` is stable for the API; `message` is for a parent."""


@dataclass(frozen=True)
class Claim:
    """Which counters a new ticket took its seat from."""

    in_quota: bool
    in_school_quota: bool


# --- locks ----------------------------------------------------------------------------------------


def lock_event(event_id: int) -> Event:
    """The event, locked for this transaction and re-read from the database."""
    event = db.session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise Invalid("Событие не найдено.", code="event_not_found")
    return event


def lock_student(student_id: int) -> Student:
    return db.session.scalar(
        select(Student)
        .where(Student.id == student_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


# --- rules that need no lock ----------------------------------------------------------------------


def check_open(event: Event, now: datetime) -> None:
    if event.cancelled_at is not None:
        raise RegistrationRefused("Событие отменено организатором — запись закрыта.", code="event_cancelled")
    if event.archived_at is not None:
        raise RegistrationRefused("Событие в архиве — запись закрыта.", code="event_archived")
    if event.ends_at <= now:
        raise RegistrationRefused("Событие уже прошло — запись закрыта.", code="registration_closed")


def check_grade(event: Event, grade: int) -> None:
    if not event.grade_min <= grade <= event.grade_max:
        raise Invalid(
            f"Это событие для {event.grade_min}–{event.grade_max} классов, а указан {grade} класс.",
            code="wrong_grade",
        )


def check_consent(consent_given: bool) -> None:
    if not consent_given:
        raise Invalid(
            "Без согласия родителя (законного представителя) на обработку персональных данных "
            "записать ученика нельзя.",
            code="consent_required",
        )


# --- season limits --------------------------------------------------------------------------------


def season_bounds(moment: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The school year holding `moment`: 1 September – 31 August in the region's time."""
    local = moment.astimezone(tz)
    start_year = local.year if local.month >= 9 else local.year - 1
    return datetime(start_year, 9, 1, tzinfo=tz), datetime(start_year + 1, 9, 1, tzinfo=tz)


def season_tickets(student_id: int, event: Event, tz: ZoneInfo, *, ignore_ticket_id: int | None = None):
    """The student's active tickets for the event's programme in the event's season."""
    start, end = season_bounds(event.starts_at, tz)
    query = (
        select(Ticket, Event)
        .join(Event, Event.id == Ticket.event_id)
        .where(
            Ticket.student_id == student_id,
            Ticket.status == TicketStatus.ACTIVE,
            Event.programme_id == event.programme_id,
            Event.starts_at >= start,
            Event.starts_at < end,
        )
        .order_by(Event.starts_at)
    )
    if ignore_ticket_id is not None:
        query = query.where(Ticket.id != ignore_ticket_id)
    return [tuple(row) for row in db.session.execute(query)]


def _trial_line(event: Event, tz: ZoneInfo) -> str:
    local = event.starts_at.astimezone(tz)
    return f"{event.title}, {local.day} {MONTHS[local.month - 1]}"


def check_season(student_id: int, event: Event, tz: ZoneInfo, *, ignore_ticket_id: int | None = None) -> None:
    """At most N events of this programme per season, of which at most M in person (the student locked)."""
    programme: Programme = event.programme
    if programme.season_limit is None and programme.season_in_person_limit is None:
        return
    held = season_tickets(student_id, event, tz, ignore_ticket_id=ignore_ticket_id)
    trials = [
        {"event_id": e.id, "title": e.title, "starts_at": e.starts_at.astimezone(tz).isoformat()}
        for _, e in held
    ]
    listed = "; ".join(_trial_line(e, tz) for _, e in held)
    if programme.season_limit is not None and len(held) >= programme.season_limit:
        raise RegistrationRefused(
            f"Проб за учебный год разрешено: {programme.season_limit}, и ученик уже записан на все — "
            f"{listed}. Отмените одну из них, чтобы записаться сюда.",
            code="season_limit",
            trials=trials,
        )
    in_person = [e for _, e in held if e.format == EventFormat.IN_PERSON]
    limit = programme.season_in_person_limit
    if event.format == EventFormat.IN_PERSON and limit is not None and len(in_person) >= limit:
        listed = "; ".join(_trial_line(e, tz) for e in in_person)
        raise RegistrationRefused(
            f"Очных проб за учебный год разрешено: {limit}, а ученик уже записан — {listed}. "
            "Выберите онлайн-пробу или отмените очную.",
            code="season_in_person_limit",
            trials=trials,
        )


# --- seats: capacity and cascading quotas ---------------------------------------------------------


def quotas_apply(event: Event, now: datetime) -> bool:
    return event.quota_deadline is None or now < event.quota_deadline


def _fresh(query):
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def _quotas(event: Event) -> list[EventQuota]:
    return _fresh(select(EventQuota).where(EventQuota.event_id == event.id))


def _school_quotas(event: Event) -> list[SchoolQuota]:
    return _fresh(select(SchoolQuota).where(SchoolQuota.event_id == event.id))


@dataclass(frozen=True)
class Availability:
    """Free seats for one school's students, and the counters a seat would come from."""

    seats: int
    reason: str | None
    quota: EventQuota | None
    school_quota: SchoolQuota | None


FULL = "event_full"
QUOTA = "quota_full"
SCHOOL_QUOTA = "school_quota_full"
MESSAGES = {
    FULL: "Свободных мест больше нет: все места на это событие заняты.",
    QUOTA: "Места по квоте вашего муниципалитета на это событие закончились.",
    SCHOOL_QUOTA: "Места, выделенные вашей школе на это событие, закончились.",
}


def availability(
    event: Event,
    municipality_id: int,
    school_id: int,
    now: datetime,
    quotas: list[EventQuota] | None = None,
    school_quotas: list[SchoolQuota] | None = None,
    *,
    taken: int = 0,
) -> Availability:
    """How many seats a student of this school can still take (read-only; exact under the event lock).

    `taken`: seats this transaction has already added to `event.registered` (see `claim_seat`).
    """
    free = event.capacity - event.registered + taken
    if not quotas_apply(event, now):
        return Availability(max(free, 0), None if free > 0 else FULL, None, None)
    quotas = _quotas(event) if quotas is None else quotas
    quota = next((q for q in quotas if q.municipality_id == municipality_id), None)
    if quota is None:
        reserved = sum(max(q.seats - q.used, 0) for q in quotas)
        seats = free - reserved
        return Availability(max(seats, 0), None if seats > 0 else FULL, None, None)
    school_quotas = _school_quotas(event) if school_quotas is None else school_quotas
    municipal_schools = set(
        db.session.scalars(select(School.id).where(School.municipality_id == municipality_id))
    )
    mine = [sq for sq in school_quotas if sq.school_id in municipal_schools]
    school_quota = next((sq for sq in mine if sq.school_id == school_id), None)
    in_quota = quota.seats - quota.used
    if school_quota is not None:
        seats = min(school_quota.seats - school_quota.used, in_quota, free)
        reason = SCHOOL_QUOTA if school_quota.seats - school_quota.used <= 0 else QUOTA
    else:
        reserved_for_schools = sum(max(sq.seats - sq.used, 0) for sq in mine)
        seats = min(in_quota - reserved_for_schools, free)
        reason = QUOTA
    if seats > 0:
        reason = None
    elif free <= 0:
        reason = FULL
    return Availability(max(seats, 0), reason, quota, school_quota)


_EVENTS = Event.__table__
_SEAT_COLUMNS = ("registered", "capacity", "quota_deadline", "has_quotas")
_TAKE_SEAT = regional(
    update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("event"), _EVENTS.c.registered < _EVENTS.c.capacity)
    .values(registered=_EVENTS.c.registered + 1)
    .returning(*(_EVENTS.c[name] for name in _SEAT_COLUMNS)),
    _EVENTS,
)


def _take_seat(event: Event) -> bool:
    """One more seat on the event, if it has a free one; the UPDATE locks the row until commit.

    A plain-table statement (the ORM's bulk UPDATE machinery cost more than the statement): the loaded
    event then learns its counters and whether it has quotas as they are under the lock, as if just
    read. (`has_quotas` changes only by an UPDATE of this row, so not while the seat's lock holds it.)
    """
    params = {"region": event.tenant_id, "event": event.id}
    row = db.session.connection().execute(_TAKE_SEAT, params).first()
    if row is None:
        return False
    for name, value in zip(_SEAT_COLUMNS, row, strict=True):
        set_committed_value(event, name, value)
    return True


def claim_seat(event: Event, municipality_id: int, school_id: int, now: datetime) -> Claim:
    """Take one seat or refuse with the reason.

    The seat is taken first, by the statement that locks the event; quotas are then checked under that
    lock against the counters as they were before this seat.
    """
    if not _take_seat(event):
        raise RegistrationRefused(MESSAGES[FULL], code=FULL)
    no_quotas = [] if not event.has_quotas else None  # None: read them, under the lock
    found = availability(event, municipality_id, school_id, now, quotas=no_quotas, taken=1)
    if found.reason is not None:
        event.registered -= 1  # a quota said no: the seat goes back even if the caller commits
        raise RegistrationRefused(MESSAGES[found.reason], code=found.reason)
    if found.quota is not None:
        found.quota.used += 1
    if found.school_quota is not None:
        found.school_quota.used += 1
    return Claim(in_quota=found.quota is not None, in_school_quota=found.school_quota is not None)


def release_seat(event: Event, ticket: Ticket, school_id: int) -> None:
    """Give back exactly the seats the ticket took (the event must be locked)."""
    event.registered -= 1
    if ticket.in_quota:
        for quota in _quotas(event):
            if quota.municipality_id == ticket.municipality_id and quota.used > 0:
                quota.used -= 1
    if ticket.in_school_quota:
        for school_quota in _school_quotas(event):
            if school_quota.school_id == school_id and school_quota.used > 0:
                school_quota.used -= 1
