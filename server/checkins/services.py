"""Admission at the door: one service that every path calls (kiosk scan, manual, group, online, offline).

Every scan leaves a `Checkin` row, admitted or refused, with the answer given. "Once" is the partial
unique index on admitted rows: two doors scanning the same ticket at the same instant both try to
insert, the database lets one through, and the other gets "already admitted" (caught in a savepoint).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import joinedload

from server import signals
from server.audit.services import record as audit
from server.catalog.models import Event, EventFormat, Programme, School, Venue
from server.checkins.counts import Admitted, log_admission, log_scan, many_admissions
from server.checkins.door_words import opening_words
from server.checkins.kiosks import KIOSK_BY_TOKEN, KIOSK_COLUMNS, DoorKiosk, kiosk_for_token, paired_kiosk
from server.checkins.models import AdmissionMethod, Checkin, Kiosk, ScanResult
from server.checkins.rules import Rule, Stage, broken
from server.database import Work, utcnow
from server.errors import Invalid, NotFound
from server.extensions import db
from server.security import token_hash
from server.tickets import codes
from server.tickets.models import Student, Ticket, TicketStatus, short_name
from server.tickets.rules import RegistrationRefused
from tenants.models import Tenant
from tenants.scoping import regional, required_tenant_id

# How far a device clock may run ahead before we stop believing it (offline scans carry device time).
CLOCK_SKEW = timedelta(minutes=5)

MESSAGES = {
    ScanResult.OK: "Проходите",
    ScanResult.CANCELLED: "Билет аннулирован",
    ScanResult.INVALID: "Билет недействителен",
}


@dataclass(frozen=True)
class DoorTicket:
    """A ticket as the door sees it: plain values read in one query, no ORM objects per scan."""

    id: int
    tenant_id: int
    code: str | None
    status: TicketStatus
    municipality_id: int
    event_id: int
    event_title: str
    event_format: EventFormat
    registered: int
    starts_at: datetime
    ends_at: datetime
    opens_minutes: int
    venue_id: int
    venue_name: str
    school_id: int
    school_name: str
    short_name: str
    grade: int

    def details(self) -> dict[str, Any]:
        return _shown(self.id, self.short_name, self.grade, self.school_name, self.event_title, self.event_id)

    def facts(self, kiosk: DoorKiosk | None, moment: datetime) -> dict[str, Any]:
        """What the door's rules read (`checkins.rules`), by name, as its statement reads them."""
        facts = dict(self.__dict__, now=moment)
        if kiosk is not None:
            facts.update(kiosk_venue_id=kiosk.venue_id, kiosk_tenant_id=kiosk.tenant_id)
        return facts


DOOR_FIELDS = tuple(name for name in DoorTicket.__dataclass_fields__ if name != "short_name")


def _shown(ticket_id: int, name: str, grade: int, school: str, event: str, event_id: int) -> dict[str, Any]:
    """What the door shows (short name, grade, school, event): nothing more leaves the server."""
    return {
        "id": ticket_id,
        "short_name": name,
        "grade": grade,
        "school": school,
        "event": event,
        "event_id": event_id,
    }


def door_join():
    """Tickets joined to what the door shows, each table on (tenant_id, id) like its foreign key; the
    columns the door reads, named as `DoorTicket`'s fields; and which ticket (`:tenant_id`, `:ticket_id`).

    Plain tables, not the ORM: this is the one read of every scan. So it binds its region
    (`:tenant_id`) itself, and is built with `tenants.scoping.regional`.
    """
    t, e, p, v, st, sc = (
        m.__table__ for m in (Ticket, Event, Programme, Venue, Student, School)
    )  # fmt: skip

    def on(child_column, parent):
        return (parent.c.tenant_id == t.c.tenant_id) & (parent.c.id == child_column)

    joined = (
        t.join(e, on(t.c.event_id, e))
        .join(p, on(e.c.programme_id, p))
        .join(v, on(e.c.venue_id, v))
        .join(st, on(t.c.student_id, st))
        .join(sc, on(st.c.school_id, sc))
    )
    columns = {
        "id": t.c.id, "tenant_id": t.c.tenant_id, "code": t.c.code, "status": t.c.status,
        "municipality_id": t.c.municipality_id, "event_id": t.c.event_id, "event_title": e.c.title,
        "event_format": e.c.format, "registered": e.c.registered, "starts_at": e.c.starts_at,
        "ends_at": e.c.ends_at, "opens_minutes": p.c.checkin_opens_minutes, "venue_id": e.c.venue_id,
        "venue_name": v.c.name, "school_id": st.c.school_id, "school_name": sc.c.name,
        "last_name": st.c.last_name, "first_name": st.c.first_name, "middle_name": st.c.middle_name,
        "grade": st.c.grade,
    }  # fmt: skip
    which = (t.c.tenant_id == bindparam("tenant_id")) & (t.c.id == bindparam("ticket_id"))
    return joined, [column.label(name) for name, column in columns.items()], which


def _door_query():
    joined, columns, which = door_join()
    return select(*columns).select_from(joined).where(which)


_DOOR_QUERY = regional(_door_query())
_CHECKINS, _KIOSKS = Checkin.__table__, Kiosk.__table__


def kiosk_and_door_query():
    """The door's scan in one read: its kiosk by token (`kiosks.KIOSK_COLUMNS`, named `kiosk_…`) and
    the ticket, if any."""
    joined, columns, which = door_join()
    joined = _KIOSKS.outerjoin(joined, which)
    return select(*KIOSK_COLUMNS, *columns).select_from(joined).where(KIOSK_BY_TOKEN)


_KIOSK_AND_DOOR_QUERY = regional(kiosk_and_door_query())


def door_of(row: Mapping[str, Any]) -> DoorTicket | None:
    """The `DoorTicket` of a door read's row (by name), or None where the outer join found no ticket."""
    if row["id"] is None:
        return None
    values = {name: row[name] for name in DOOR_FIELDS}
    name = short_name(row["last_name"], row["first_name"], row["middle_name"])
    return DoorTicket(**values, short_name=name)


def door_ticket(
    ticket_id: int, tenant_id: int | None = None, connection: Connection | None = None
) -> DoorTicket | None:
    """The ticket with everything the door needs, one query, of the current region."""
    region = tenant_id if tenant_id is not None else required_tenant_id()
    params = {"tenant_id": region, "ticket_id": ticket_id}
    row = (connection or db.session.connection()).execute(_DOOR_QUERY, params).mappings().first()
    return None if row is None else door_of(row)


@dataclass(frozen=True)
class Scanned:
    """A code scanned at a kiosk, read: its verified payload (None: not genuine) and the ticket it names."""

    code: str
    payload: codes.CodePayload | None
    kiosk: DoorKiosk | None
    door: DoorTicket | None


def read_code(code: str | None, tenant_id: int) -> tuple[str, codes.CodePayload | None, int | None]:
    """The code as issued, its payload if of this region, and the ticket id it names.

    A ticket's code is identified, not verified: it admits only if it is, whole, the code the
    database holds for that ticket (rule "code" of `checkins.rules`), which says more than its
    signature can. An escort code has no such match at the door, so its signature is checked.
    """
    code = codes.normalise(code)
    payload = codes.identify(code, tenant_id)
    if payload is not None and payload.kind != codes.CodeKind.TICKET:
        payload = codes.verify(code, tenant_id)
    is_ticket = payload is not None and payload.kind == codes.CodeKind.TICKET
    return code, payload, payload.object_id if is_ticket else None


def read_scan(
    token: str, code: str, tenant_id: int, seen_every: timedelta, connection: Connection | None = None
) -> Scanned:
    """The door's busiest request reads its kiosk (by token) and the scanned ticket in one query.

    The caller decides whether the kiosk may scan here (`auth.admit_kiosk`) before `admit_scanned`.
    """
    connection = connection or db.session.connection()
    return _read_scan(token, read_code(code, tenant_id), tenant_id, seen_every, connection)


def _read_scan(
    token: str, read: tuple[str, codes.CodePayload | None, int | None], tenant_id: int,
    seen_every: timedelta, connection: Connection,
) -> Scanned:  # fmt: skip
    code, payload, ticket_id = read
    if ticket_id is None:
        return Scanned(code, payload, kiosk_for_token(token, seen_every, connection), None)
    params = {"token_hash": token_hash(token), "tenant_id": tenant_id, "ticket_id": ticket_id}
    row = connection.execute(_KIOSK_AND_DOOR_QUERY, params).mappings().first()
    if row is None:
        return Scanned(code, payload, None, None)
    return Scanned(code, payload, paired_kiosk(row, seen_every, connection), door_of(row))


@dataclass
class Admission:
    """The door's answer. `ticket` carries only what the door needs (short name, grade, school, event)."""

    result: ScanResult
    message: str
    ticket: dict[str, Any] | None = None
    checked_in_at: datetime | None = None
    checkin_id: int | None = None
    conflict: bool = False  # admitted offline at two doors: the coordinator is told

    @property
    def admitted(self) -> bool:
        return self.result == ScanResult.OK

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"result": self.result.value, "message": self.message}
        if self.ticket is not None:
            body["ticket"] = self.ticket
        if self.checked_in_at is not None:
            body["checked_in_at"] = self.checked_in_at.isoformat()
        return body


_TIMEZONE = select(Tenant.__table__.c.timezone).where(Tenant.__table__.c.id == bindparam("tenant_id"))


def hhmm(moment: datetime, tenant_id: int, connection: Connection) -> str:
    """The time of day in the region, for the door's messages."""
    timezone = connection.execute(_TIMEZONE, {"tenant_id": tenant_id}).scalar_one()
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def door_details(ticket: Ticket) -> dict[str, Any]:
    """`DoorTicket.details()` of a ticket already loaded with its student and event (lists, bundles)."""
    student: Student = ticket.student
    return _shown(
        ticket.id, student.short_name, student.grade, student.school.name, ticket.event.title, ticket.event_id
    )


def window(starts_at: datetime, ends_at: datetime, opens_minutes: int) -> tuple[datetime, datetime]:
    """Admission opens `checkin_opens_minutes` before the start and closes at the end (rule 6)."""
    return starts_at - timedelta(minutes=opens_minutes), ends_at


def checkin_window(event: Event) -> tuple[datetime, datetime]:
    return window(event.starts_at, event.ends_at, event.programme.checkin_opens_minutes)


def _device_moment(scanned_at: datetime | None, now: datetime) -> datetime:
    if scanned_at is None:
        return now
    if scanned_at.tzinfo is None:
        raise Invalid("Время скана должно быть с часовым поясом (ISO 8601).", code="naive_time")
    return min(scanned_at, now + CLOCK_SKEW)


@dataclass(frozen=True)
class FirstAdmission:
    """Where and when a ticket was let in: what "already admitted" tells the door."""

    scanned_at: datetime
    kiosk_id: int | None
    kiosk_name: str | None
    method: AdmissionMethod


_FIRST_ADMISSION = regional(
    select(
        _CHECKINS.c.scanned_at,
        _CHECKINS.c.kiosk_id,
        _KIOSKS.c.name,
        _CHECKINS.c.method,
    )
    .select_from(
        _CHECKINS.outerjoin(
            _KIOSKS, (_KIOSKS.c.tenant_id == _CHECKINS.c.tenant_id) & (_KIOSKS.c.id == _CHECKINS.c.kiosk_id)
        )
    )
    .where(_CHECKINS.c.ticket_id == bindparam("ticket_id"), _CHECKINS.c.result == ScanResult.OK),
    _CHECKINS,
)


def _first_admission(door: DoorTicket, connection: Connection) -> FirstAdmission | None:
    params = {"tenant_id": door.tenant_id, "ticket_id": door.id}
    row = connection.execute(_FIRST_ADMISSION, params).first()
    return None if row is None else FirstAdmission(*row)


def _where(first: FirstAdmission) -> str:
    if first.kiosk_name is not None:
        return f"киоск «{first.kiosk_name}»"
    if first.method == AdmissionMethod.ONLINE:
        return "по ссылке на трансляцию"
    return "вручную"


def _already_message(first: FirstAdmission, tenant_id: int, connection: Connection) -> str:
    return f"Уже прошёл в {hhmm(first.scanned_at, tenant_id, connection)} · {_where(first)}"


def _refusal(
    door: DoorTicket, kiosk: DoorKiosk | None, moment: datetime, connection: Connection
) -> tuple[ScanResult, str] | None:
    """Why this ticket may not pass here and now (`checkins.rules`, stage "ticket"), or None."""
    rule = broken(door.facts(kiosk, moment), Stage.TICKET, at_kiosk=kiosk is not None)
    return None if rule is None else (rule.result, refusal_message(rule, door, moment, connection))


def refusal_message(rule: Rule, door: DoorTicket, moment: datetime, connection: Connection) -> str:
    """A broken rule's message, with the venue's name and the window's times in the region's time
    (the day too, when the window opens on another day)."""
    if "{" not in rule.message:
        return rule.message
    opens, closes = window(door.starts_at, door.ends_at, door.opens_minutes)
    local = {}
    if "{opens}" in rule.message:
        zone = connection.execute(_TIMEZONE, {"tenant_id": door.tenant_id}).scalar_one()
        local["opens"] = opening_words(opens, moment, zone)
    if "{closes}" in rule.message:
        local["closes"] = hhmm(closes, door.tenant_id, connection)
    return rule.message.format(venue_name=door.venue_name, **local)


@dataclass(frozen=True)
class _Scan:
    """Who scanned, how and when: the same for every row one scan may write; and where it is written."""

    kiosk: DoorKiosk | None
    method: AdmissionMethod
    scan_id: str | None
    moment: datetime
    user_id: int | None
    work: Work

    @property
    def offline(self) -> bool:
        return self.method == AdmissionMethod.OFFLINE

    def row(
        self, result: ScanResult, message: str, door: DoorTicket | None = None, conflict: bool = False
    ) -> dict[str, Any]:
        kiosk = self.kiosk
        return {
            "tenant_id": door.tenant_id if door else kiosk.tenant_id,
            "ticket_id": door.id if door else None,
            "event_id": door.event_id if door else None,
            "kiosk_id": kiosk.id if kiosk else None,
            "user_id": self.user_id,
            "result": result,
            "method": self.method,
            "scan_id": self.scan_id,
            "scanned_at": self.moment,
            "created_at": utcnow(),
            "message": message,
            "conflict": conflict,
        }

    def log(
        self, result: ScanResult, message: str, door: DoorTicket | None = None, conflict: bool = False
    ) -> int | None:
        """Insert a refused scan's row; None when its scan_id was logged already (`counts.log_scan`)."""
        connection = self.work.connection
        row = self.row(result, message, door, conflict)
        return connection.execute(log_scan(connection.dialect.name), row).scalar()

    def admit(self, door: DoorTicket) -> int | None:
        """Insert the admitted row and count it; None when the ticket (or this scan_id) is in already."""
        kiosk_id = self.kiosk.id if self.kiosk else None
        admitted = Admitted(door, 0, kiosk_id, self.method, self.moment)
        return log_admission(self.row(ScanResult.OK, MESSAGES[ScanResult.OK], door), admitted, self.work)

    def replay(self) -> Admission | None:
        if self.kiosk is None or not self.scan_id:
            return None
        return replay(self.kiosk, self.scan_id, self.work.connection)

    def refuse(
        self,
        result: ScanResult,
        message: str,
        door: DoorTicket | None,
        conflict: bool,
        checked_in_at: datetime | None = None,
    ) -> Admission:
        """Log a refusal; if the same scan_id raced us in, answer what it was answered."""
        checkin_id = self.log(result, message, door, conflict)
        if checkin_id is None:
            earlier = self.replay()
            if earlier is None:  # pragma: no cover - only the scan_id constraint refuses a refusal
                raise RuntimeError("scan row refused without a replayable scan_id")
            return earlier
        details = door.details() if door else None
        return Admission(result, message, details, checked_in_at, checkin_id, conflict)


_SCANNED = regional(
    select(
        _CHECKINS.c.id,
        _CHECKINS.c.ticket_id,
        _CHECKINS.c.result,
        _CHECKINS.c.message,
        _CHECKINS.c.scanned_at,
        _CHECKINS.c.conflict,
    ).where(_CHECKINS.c.kiosk_id == bindparam("kiosk_id"), _CHECKINS.c.scan_id == bindparam("scan_id")),
    _CHECKINS,
)


def replay(kiosk: DoorKiosk, scan_id: str, connection: Connection | None = None) -> Admission | None:
    """The answer first given to this kiosk's scan_id (offline queues and flaky networks retry)."""
    connection = connection or db.session.connection()
    params = {"tenant_id": kiosk.tenant_id, "kiosk_id": kiosk.id, "scan_id": scan_id}
    earlier = connection.execute(_SCANNED, params).first()
    if earlier is None:
        return None
    checkin_id, ticket_id, result, message, scanned_at, conflict = earlier
    door = door_ticket(ticket_id, kiosk.tenant_id, connection) if ticket_id else None
    checked_in_at = None
    if result == ScanResult.OK:
        checked_in_at = scanned_at
    elif result == ScanResult.ALREADY_CHECKED_IN and door is not None:
        first = _first_admission(door, connection)
        checked_in_at = first.scanned_at if first else None
    message = message or MESSAGES.get(result, "")
    return Admission(result, message, door.details() if door else None, checked_in_at, checkin_id, conflict)


def admit_ticket(
    door: DoorTicket,
    kiosk: DoorKiosk | None,
    *,
    method: AdmissionMethod = AdmissionMethod.SCAN,
    scan_id: str | None = None,
    scanned_at: datetime | None = None,
    user_id: int | None = None,
) -> Admission:
    """Admit a known ticket under rules 6–8 and log the scan; counted and announced as it commits."""
    moment = _device_moment(scanned_at, utcnow())
    return _admit(door, _Scan(kiosk, method, scan_id, moment, user_id, Work.of()))


def _admit(door: DoorTicket, scan: _Scan) -> Admission:
    kiosk = scan.kiosk
    refusal = _refusal(door, kiosk, scan.moment, scan.work.connection)
    if refusal is not None:
        # An offline kiosk already let this person in: the coordinator must see the disagreement.
        return scan.refuse(*refusal, door, conflict=scan.offline)
    checkin_id = scan.admit(door)
    if checkin_id is None:  # admitted before (rule 7), or this very scan_id again
        earlier = scan.replay()
        if earlier is not None:
            return earlier
        first = _first_admission(door, scan.work.connection)
        conflict = scan.offline and first.kiosk_id != (kiosk.id if kiosk else None)
        message = _already_message(first, door.tenant_id, scan.work.connection)
        return scan.refuse(ScanResult.ALREADY_CHECKED_IN, message, door, conflict, first.scanned_at)
    return Admission(ScanResult.OK, MESSAGES[ScanResult.OK], door.details(), scan.moment, checkin_id)


def admit(
    code: str,
    kiosk: DoorKiosk,
    scan_id: str | None = None,
    scanned_at: datetime | None = None,
    method: AdmissionMethod = AdmissionMethod.SCAN,
    user_id: int | None = None,
) -> Admission:
    """A code scanned at a kiosk. Unknown, forged and other regions' codes all answer `invalid`."""
    code, payload, ticket_id = read_code(code, kiosk.tenant_id)
    door = door_ticket(ticket_id, kiosk.tenant_id) if ticket_id is not None else None
    return admit_scanned(Scanned(code, payload, kiosk, door), scan_id, scanned_at, method, user_id)


def admit_scanned(
    scanned: Scanned,
    scan_id: str | None = None,
    scanned_at: datetime | None = None,
    method: AdmissionMethod = AdmissionMethod.SCAN,
    user_id: int | None = None,
    work: Work | None = None,
) -> Admission:
    """Admit a read scan under rules 6–8 (`read_scan` or `admit`); its kiosk is already accepted.

    A replayed `scan_id` needs no lookup up front: every path inserts a row carrying it, the unique
    (kiosk, scan_id) constraint refuses the second one, and the first answer is returned instead.
    It runs in the request's unit of work unless given another (the door's, on its own pool).
    """
    code, payload, door = scanned.code, scanned.payload, scanned.door
    moment = _device_moment(scanned_at, utcnow())
    scan = _Scan(scanned.kiosk, method, scan_id, moment, user_id, work or Work.of())
    if payload is not None and payload.kind == codes.CodeKind.ESCORT:
        message = "Это QR сопровождающего: откройте список класса"
        return scan.refuse(ScanResult.INVALID, message, None, conflict=scan.offline)
    if door is None or _forged(door, code, payload):
        return scan.refuse(ScanResult.INVALID, MESSAGES[ScanResult.INVALID], None, conflict=scan.offline)
    return _admit(door, scan)


def _forged(door: DoorTicket, code: str, payload: codes.CodePayload | None) -> bool:
    """The code breaks the rule "code": with the signature unchecked (`read_code`), matching the
    issued code whole is what a forged code must pass."""
    facts = {"code": door.code, "event_id": door.event_id, "scanned_code": code}
    facts["scanned_event_id"] = payload.event_id if payload is not None else None
    return broken(facts, Stage.CODE, at_kiosk=True) is not None


def sync_offline(kiosk: DoorKiosk, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scans a kiosk made without network, with their device times and scan ids: replay-safe.

    One transaction admits them in one global order (by code, then time), whatever order the device
    sent: two doors syncing the same tickets at once then never wait on each other in a cycle (the
    database would break such a deadlock by failing one sync). Answers keep the request's order.
    """
    answers: list[dict[str, Any]] = [{} for _ in items]
    order = sorted(
        range(len(items)),
        key=lambda i: ((items[i]["code"] or "").strip().upper(), items[i]["scanned_at"], items[i]["scan_id"]),
    )
    with many_admissions():
        for i in order:
            item = items[i]
            answer = admit(
                item["code"],
                kiosk,
                scan_id=item["scan_id"],
                scanned_at=item["scanned_at"],
                method=AdmissionMethod.OFFLINE,
            )
            answers[i] = {"scan_id": item["scan_id"], **answer.as_json(), "conflict": answer.conflict}
    return answers


# --- manual admission -----------------------------------------------------------------------------


def admit_manually(
    ticket_id: int, kiosk: DoorKiosk | None, *, user_id: int | None = None, scan_id: str | None = None
) -> Admission:
    """A student who forgot the ticket, found by surname; the audit says who let them in."""
    if kiosk is not None and scan_id:
        earlier = replay(kiosk, scan_id)
        if earlier is not None:
            return earlier
    door = door_ticket(ticket_id)
    if door is None:
        raise NotFound("Регистрация не найдена.", code="ticket_not_found")
    answer = admit_ticket(door, kiosk, method=AdmissionMethod.MANUAL, scan_id=scan_id, user_id=user_id)
    audit(
        "checkin.manual",
        "ticket",
        door.id,
        user_id=user_id,
        kiosk_id=kiosk.id if kiosk else None,
        result=answer.result.value,
        checkin_id=answer.checkin_id,
    )
    return answer


# --- online events --------------------------------------------------------------------------------


def join_online(access_token: str) -> tuple[Admission, Event]:
    """The personal join link of an online event: the same rules as the door, then the broadcast."""
    ticket = db.session.scalar(
        select(Ticket).where(Ticket.access_token == access_token).options(joinedload(Ticket.event))
    )
    door = door_ticket(ticket.id) if ticket else None
    if door is None:
        raise NotFound("Билет не найден.", code="ticket_not_found")
    if door.event_format != EventFormat.ONLINE:
        raise Invalid("Это очное событие: покажите QR-код на входе.", code="not_online")
    return admit_ticket(door, None, method=AdmissionMethod.ONLINE), ticket.event


def was_admitted(ticket_id: int) -> bool:
    """Whether the ticket has let its holder in (a successful check-in)."""
    query = select(Checkin.id).where(Checkin.ticket_id == ticket_id, Checkin.result == ScanResult.OK)
    return db.session.scalar(query.limit(1)) is not None


@signals.ticket_cancelling.connect
def _keep_used_ticket(ticket: Ticket, **_) -> None:
    """A ticket that let its holder in stays: the seat is taken and the visit happened."""
    if was_admitted(ticket.id):
        raise RegistrationRefused("Ученик уже прошёл по этому билету — отмена невозможна.", code="used")
