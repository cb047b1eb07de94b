"""Registering students, cancelling and moving tickets: the only code that writes tickets.

Every path (public page, API, class import, demo, tests) calls `register`/`register_locked` here, and
every rule is checked by `server.tickets.rules` while the right rows are locked.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Sequence, bindparam, insert, null, select, update
from sqlalchemy.orm import make_transient_to_detached

from server import signals
from server.accounts.auth import Principal
from server.accounts.models import Role
from server.audit.services import record
from server.catalog.models import Event, School
from server.database import bound, insert_on_conflict, utcnow
from server.errors import Forbidden, Invalid
from server.extensions import db
from server.text import normalise_name
from server.tickets import codes, rules
from server.tickets.consent import CONSENT_TEXTS, CONSENT_VERSION, operator_of
from server.tickets.models import Consent, ConsentMethod, Student, Ticket, TicketStatus
from server.tickets.rules import RegistrationRefused
from tenants.scoping import regional, required_tenant_id

_NAME = re.compile(r"^[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё' .\-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class StudentInput:
    last_name: str
    first_name: str
    grade: int
    school_id: int
    middle_name: str = ""


@dataclass
class Registration:
    """What a registration needs, whoever sends it."""

    student: StudentInput
    guardian_name: str
    consent: bool
    guardian_phone: str | None = None
    guardian_email: str | None = None
    consent_version: str = CONSENT_VERSION
    consent_method: ConsentMethod = ConsentMethod.ONLINE
    consent_given_at: datetime | None = None
    source: str = "public"
    registered_by_id: int | None = None
    group_id: int | None = None
    extra: dict = field(default_factory=dict)


# --- input ----------------------------------------------------------------------------------------


def _capitalise(word: str) -> str:
    """«иванов» or «ИВАНОВ» → «Иванов»; mixed case as typed («МакАртур»)."""
    if word.islower() or word.isupper():
        return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))
    return word


# The field's name in the accusative, for «Укажите …» («Укажите фамилию», not «Укажите фамилия»).
_ACCUSATIVE = {"фамилия": "фамилию"}
NAME_MAX = 100


def clean_name(text: str | None, what: str, *, required: bool = True) -> str:
    text = " ".join((text or "").split())
    if not text:
        if required:
            raise Invalid(f"Укажите {_ACCUSATIVE.get(what, what)}.", code="required", field=what)
        return ""
    if len(text) > NAME_MAX:
        raise Invalid(
            f"Поле «{what}» слишком длинное: не больше {NAME_MAX} символов.", code="name_too_long", field=what
        )
    if not _NAME.match(text):
        raise Invalid(f"Проверьте поле «{what}»: только буквы, пробел и дефис.", code="invalid_name")
    return " ".join(_capitalise(w) for w in text.split(" "))


def clean_phone(text: str | None) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    digits = re.sub(r"\D", "", text)
    if not 10 <= len(digits) <= 15:
        raise Invalid("Телефон: 10–15 цифр, например +7 900 123-45-67.", code="invalid_phone")
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    if len(digits) == 10:
        digits = "7" + digits
    return "+" + digits


def clean_email(text: str | None) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > 254 or not _EMAIL.match(text):
        raise Invalid("Проверьте адрес электронной почты.", code="invalid_email")
    return text.lower()


def _validated(data: Registration) -> Registration:
    s = data.student
    if not isinstance(s.grade, int) or not 1 <= s.grade <= 11:
        raise Invalid("Класс — число от 1 до 11.", code="invalid_grade")
    student = StudentInput(
        last_name=clean_name(s.last_name, "фамилия"),
        first_name=clean_name(s.first_name, "имя"),
        middle_name=clean_name(s.middle_name, "отчество", required=False),
        grade=s.grade,
        school_id=s.school_id,
    )
    guardian = " ".join((data.guardian_name or "").split())
    if not guardian:
        raise Invalid("Укажите ФИО родителя (законного представителя).", code="guardian_required")
    if len(guardian) > 200:
        raise Invalid("ФИО родителя слишком длинное.", code="invalid_name")
    if not guardian.isprintable():  # a NUL or another control character: refused alike on every database
        raise Invalid("Проверьте ФИО родителя: в нём недопустимые символы.", code="invalid_name")
    phone, email = clean_phone(data.guardian_phone), clean_email(data.guardian_email)
    if data.consent_method == ConsentMethod.ONLINE and not (phone or email):
        raise Invalid("Укажите телефон или e-mail родителя.", code="guardian_contact_required")
    rules.check_consent(data.consent)
    if data.consent_version not in CONSENT_TEXTS:
        raise Invalid("Неизвестная редакция текста согласия.", code="consent_outdated")
    if data.consent_method == ConsentMethod.ONLINE and data.consent_version != CONSENT_VERSION:
        raise Invalid(
            "Текст согласия обновился. Обновите страницу, прочитайте его и отметьте согласие снова.",
            code="consent_outdated",
        )
    return replace(data, student=student, guardian_name=guardian, guardian_phone=phone, guardian_email=email)


@dataclass(frozen=True)
class SchoolRef:
    """The student's school as a registration needs it: read as two plain columns, not an ORM object."""

    id: int
    municipality_id: int


_SCHOOLS = School.__table__
_SCHOOL = regional(
    select(_SCHOOLS.c.id, _SCHOOLS.c.municipality_id).where(_SCHOOLS.c.id == bindparam("school_id")),
    _SCHOOLS,
)


def _school(school_id: int | None) -> SchoolRef:
    """The school of the current region (plain SQL naming its region, like the door's reads)."""
    row = None
    if school_id is not None:
        params = {"tenant_id": required_tenant_id(), "school_id": school_id}
        row = db.session.connection().execute(_SCHOOL, params).first()
    if row is None:
        raise Invalid("Выберите школу из списка.", code="unknown_school")
    return SchoolRef(*row)


def check_school_scope(principal: Principal | None, school: School | SchoolRef) -> None:
    """School staff register their own school; a municipal coordinator the schools of its municipality."""
    if principal is None or principal.user is None:
        return
    membership = principal.membership
    if principal.is_(Role.SCHOOL) and membership.school_id != school.id:
        raise Forbidden("Можно записывать только учеников своей школы.")
    if principal.is_(Role.MUNICIPAL) and membership.municipality_id != school.municipality_id:
        raise Forbidden("Можно записывать только учеников школ своего муниципалитета.")
    if principal.is_(Role.VENUE):
        raise Forbidden("Сотрудники площадки не записывают учеников.")


def find_event(event_id: int) -> Event:
    event = db.session.scalar(select(Event).where(Event.id == event_id))
    if event is None:
        raise Invalid("Событие не найдено.", code="event_not_found")
    return event


# --- students -------------------------------------------------------------------------------------


def identity_of(student: StudentInput) -> str:
    return normalise_name(" ".join((student.last_name, student.first_name, student.middle_name)))


@dataclass(frozen=True)
class StudentRef:
    """A student as issuing a ticket needs one: the id, and the grade the rules check."""

    id: int
    grade: int


_STUDENTS = Student.__table__
_NEW_STUDENT_FIELDS = (
    "tenant_id", "school_id", "last_name", "first_name", "middle_name", "grade",
    "identity_name", "search_last_name", "created_at",
)  # fmt: skip
_EXISTING_STUDENT = regional(
    select(_STUDENTS.c.id)
    .where(
        _STUDENTS.c.school_id == bindparam("school_id"),
        _STUDENTS.c.identity_name == bindparam("identity_name"),
        _STUDENTS.c.grade == bindparam("grade"),
    )
    .with_for_update(key_share=True),
    _STUDENTS,
)


@functools.cache
def _new_student(dialect: str):
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, built once per dialect (every registration)."""
    return regional(
        insert_on_conflict(_STUDENTS, dialect)
        .values(bound(*_NEW_STUDENT_FIELDS))
        .on_conflict_do_nothing()
        .returning(_STUDENTS.c.id)
    )


def student_for(data: StudentInput) -> tuple[StudentRef, bool]:
    """The student with this identity, locked for this transaction, and whether it was created just now.

    Insert first: a new student (most registrations) is then one statement, its row ours until commit.
    On a conflict the existing row is locked instead; a concurrent insert of the same student makes
    this wait for that transaction and then find its row. Plain SQL naming its region (hot path).
    """
    params = {
        "tenant_id": required_tenant_id(),
        "school_id": data.school_id,
        "last_name": data.last_name,
        "first_name": data.first_name,
        "middle_name": data.middle_name,
        "grade": data.grade,
        "identity_name": identity_of(data),
        "search_last_name": normalise_name(data.last_name),
        "created_at": utcnow(),
    }
    connection = db.session.connection()
    created = connection.execute(_new_student(connection.dialect.name), params).scalar()
    if created is not None:
        return StudentRef(created, data.grade), True
    return StudentRef(connection.execute(_EXISTING_STUDENT, params).scalar_one(), data.grade), False


# --- registration ---------------------------------------------------------------------------------


def register(
    event: Event,
    data: Registration,
    tz: ZoneInfo,
    *,
    principal: Principal | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Register one student: validate, lock the student then the event, check every rule, issue.

    The caller has loaded the event (a page or the API answers 404 for another region's first).
    """
    now = now or utcnow()
    data = _validated(data)
    key = codes.ensure_key(required_tenant_id())
    school = _school(data.student.school_id)
    check_school_scope(principal, school)
    rules.check_open(event, now)
    rules.check_grade(event, data.student.grade)
    student, created = student_for(data.student)
    ticket = register_locked(event, student, school, data, tz, now, new_student=created, key=key)
    if data.guardian_email:
        signals.ticket_registered.send(ticket)  # the confirmation, written with the ticket
    return ticket


_CONSENTS = Consent.__table__
_CONSENT_FIELDS = (
    "tenant_id", "student_id", "guardian_name", "guardian_phone", "guardian_email", "text_version",
    "method", "given_at", "recorded_by_id", "created_at", "operator_name",
)  # fmt: skip
_TICKETS = Ticket.__table__
_NEW_TICKET = regional(
    insert(_TICKETS).values(bound(*(column.name for column in _TICKETS.columns))).returning(_TICKETS.c.id)
)
_TICKET_CODE = regional(
    update(_TICKETS).where(_TICKETS.c.id == bindparam("ticket_id")).values(code=bindparam("signed")),
    _TICKETS,
)


@functools.cache
def _new_consent(dialect: str):
    """INSERT the consent RETURNING its id and, on PostgreSQL, the id the ticket will have.

    The ticket's code is signed over the ticket's id. Taking that id from the tickets' sequence in the
    same round trip lets the ticket go in whole, instead of being inserted and then updated with its
    code: an UPDATE that, under the unique code index, writes a new version of the row and of all nine
    of its index entries. SQLite has no sequences: NULL there, and the code is written after the insert.
    """
    next_ticket_id = Sequence("tickets_id_seq").next_value() if dialect == "postgresql" else null()
    return regional(
        insert(_CONSENTS).values(bound(*_CONSENT_FIELDS)).returning(_CONSENTS.c.id, next_ticket_id)
    )


def _issue(values: dict, tenant_id: int, key: codes.ActiveKey | None) -> Ticket:
    """Insert the ticket with plain SQL and hand back its ORM object as if it had been loaded: no flush.

    Every column is given, so the object needs no refresh; later changes to it (a quota seat) are
    flushed as an ordinary UPDATE. If a savepoint around it rolls back (an import row refused at the
    seat), the session only expires the object, and drops it with the caller's last reference.
    """
    sign = functools.partial(
        codes.sign, codes.CodeKind.TICKET, tenant_id, event_id=values["event_id"], key=key
    )
    if values["id"] is not None:
        values["code"] = sign(values["id"])
    connection = db.session.connection()
    values["id"] = connection.execute(_NEW_TICKET, values).scalar_one()
    if values["code"] is None:  # SQLite: the id exists only now
        values["code"] = sign(values["id"])
        signed = {"region": values["tenant_id"], "ticket_id": values["id"], "signed": values["code"]}
        connection.execute(_TICKET_CODE, signed)
    ticket = Ticket(**values)
    make_transient_to_detached(ticket)
    db.session.add(ticket)
    return ticket


def register_locked(
    event: Event,
    student: Student | StudentRef,
    school: School | SchoolRef,
    data: Registration,
    tz: ZoneInfo,
    now: datetime,
    *,
    replaces: Ticket | None = None,
    new_student: bool = False,
    key: codes.ActiveKey | None = None,
) -> Ticket:
    """Issue a ticket; the caller holds the student's lock, the event's is taken last.

    Everything that does not touch a seat counter (checks on the locked student, consent, ticket, code)
    happens before the event row is locked, so the lock every registration of this event queues on is
    held only for the seat claim (which takes it), the quota check and the commit.
    """
    rules.check_open(event, now)
    rules.check_grade(event, student.grade)
    if not new_student:  # a student created in this transaction holds no tickets yet
        _check_not_registered(student, event)
        rules.check_season(student.id, event, tz, ignore_ticket_id=replaces.id if replaces else None)
    tenant_id = required_tenant_id()
    connection = db.session.connection()
    consent_id, ticket_id = connection.execute(
        _new_consent(connection.dialect.name),
        {
            "tenant_id": tenant_id,
            "student_id": student.id,
            "guardian_name": data.guardian_name,
            "guardian_phone": data.guardian_phone,
            "guardian_email": data.guardian_email,
            "text_version": data.consent_version,
            "method": data.consent_method,
            "given_at": data.consent_given_at or now,
            "recorded_by_id": data.registered_by_id,
            "created_at": now,
            "operator_name": operator_of(tenant_id).name,
        },
    ).one()
    ticket = _issue(
        {
            "id": ticket_id,
            "tenant_id": tenant_id,
            "event_id": event.id,
            "student_id": student.id,
            "consent_id": consent_id,
            "group_id": data.group_id,
            "municipality_id": school.municipality_id,
            "status": TicketStatus.ACTIVE,
            "code": None,
            "access_token": secrets.token_urlsafe(24),
            "source": data.source,
            "registered_by_id": data.registered_by_id,
            "replaces_id": replaces.id if replaces else None,
            "created_at": now,
            "cancelled_at": None,
            "cancelled_by": None,
            "left_at": None,
            "in_quota": False,
            "in_school_quota": False,
        },
        tenant_id,
        key,
    )
    claim = rules.claim_seat(event, school.municipality_id, school.id, now)
    if claim.in_quota:
        ticket.in_quota = True
    if claim.in_school_quota:
        ticket.in_school_quota = True
    return ticket


def _check_not_registered(student: Student, event: Event) -> None:
    existing = db.session.scalar(
        select(Ticket.id).where(
            Ticket.event_id == event.id,
            Ticket.student_id == student.id,
            Ticket.status == TicketStatus.ACTIVE,
        )
    )
    if existing is not None:
        raise RegistrationRefused("Этот ученик уже записан на это событие.", code="already_registered")


# --- cancellation and change ----------------------------------------------------------------------


def may_manage(principal: Principal | None, ticket: Ticket) -> bool:
    """Coordinator: any ticket; municipal: its municipality's; school staff: its school's."""
    if principal is None or principal.role is None:
        return False
    if principal.is_(Role.COORDINATOR):
        return True
    if principal.is_(Role.MUNICIPAL):
        return ticket.municipality_id == principal.membership.municipality_id
    if principal.is_(Role.SCHOOL):
        return ticket.student.school_id == principal.membership.school_id
    return False


def _lock_ticket(ticket_id: int) -> Ticket:
    return db.session.scalar(
        select(Ticket).where(Ticket.id == ticket_id).execution_options(populate_existing=True)
    )


def cancel(
    ticket: Ticket, *, by: str, user_id: int | None = None, now: datetime | None = None, notify: bool = True
) -> Ticket:
    """Cancel and give the seat back; the code is refused at the door from now on. Idempotent.

    The family is told (whoever cancelled), unless the caller tells them itself (`notify=False`:
    a cancelled event, a moved ticket).
    """
    now = now or utcnow()
    event = rules.lock_event(ticket.event_id)
    ticket = _lock_ticket(ticket.id)
    if ticket.status == TicketStatus.CANCELLED:
        return ticket
    if event.ends_at <= now:
        raise RegistrationRefused("Событие уже прошло — билет нельзя отменить.", code="event_over")
    signals.ticket_cancelling.send(ticket)  # the door refuses a ticket already used (`checkins.services`)
    rules.release_seat(event, ticket, ticket.student.school_id)
    ticket.status = TicketStatus.CANCELLED
    ticket.cancelled_at = now
    ticket.cancelled_by = by[:100]
    record("ticket.cancelled", "ticket", ticket.id, user_id=user_id, by=by, event_id=event.id)
    if notify:
        signals.ticket_cancelled.send(ticket, by=by)
    return ticket


def change_event(
    ticket: Ticket, new_event_id: int, tz: ZoneInfo, *, by: str, user_id: int | None = None
) -> Ticket:
    """Move a registration to another slot: a new ticket that `replaces` the old one, which is cancelled."""
    now = utcnow()
    if ticket.status != TicketStatus.ACTIVE:
        raise RegistrationRefused("Билет уже отменён.", code="cancelled")
    if new_event_id == ticket.event_id:
        raise Invalid("Это то же самое событие.", code="same_event")
    old_event = find_event(ticket.event_id)
    new_event = find_event(new_event_id)
    if new_event.programme_id != old_event.programme_id:
        raise Invalid("Перенести можно только на событие той же программы.", code="other_programme")
    student = rules.lock_student(ticket.student_id)
    for event_id in sorted((ticket.event_id, new_event_id)):
        rules.lock_event(event_id)
    ticket = _lock_ticket(ticket.id)
    school = student.school
    consent = db.session.scalar(select(Consent).where(Consent.id == ticket.consent_id))
    data = Registration(
        student=StudentInput(student.last_name, student.first_name, student.grade, student.school_id),
        guardian_name=consent.guardian_name,
        guardian_phone=consent.guardian_phone,
        guardian_email=consent.guardian_email,
        consent=True,
        consent_version=consent.text_version,
        consent_method=consent.method,
        consent_given_at=consent.given_at,
        source=ticket.source,
        registered_by_id=user_id,
    )
    new_ticket = register_locked(new_event, student, school, data, tz, now, replaces=ticket)
    cancel(ticket, by=by, user_id=user_id, now=now, notify=False)
    signals.ticket_moved.send(new_ticket, old=ticket)
    return new_ticket


def tickets_of_student(student_id: int) -> list[Ticket]:
    return list(
        db.session.scalars(select(Ticket).where(Ticket.student_id == student_id).order_by(Ticket.created_at))
    )


def ticket_by_token(token: str) -> Ticket | None:
    """The ticket behind an unguessable page URL, in the current region."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Ticket).where(Ticket.access_token == token))
