"""Admission at the door: one service that every path calls (kiosk scan, manual, group, online, offline).

Every scan leaves a `Checkin` row, admitted or refused, with the answer given. "Once" is the partial
unique index on admitted rows: two doors scanning the same ticket at the same instant both try to
insert, the database lets one through, and the other gets "already admitted" (caught in a savepoint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from server.audit.services import record as audit
from server.catalog.models import Event, EventFormat
from server.checkins.models import AdmissionMethod, Checkin, Kiosk, ScanResult
from server.database import utcnow
from server.errors import Invalid, NotFound
from server.extensions import db
from server.live.services import announce_checkin
from server.tickets import codes
from server.tickets.models import Student, Ticket, TicketStatus
from tenants.models import Tenant

# How far a device clock may run ahead before we stop believing it (offline scans carry device time).
CLOCK_SKEW = timedelta(minutes=5)

MESSAGES = {
    ScanResult.OK: "Проходите",
    ScanResult.CANCELLED: "Билет аннулирован",
    ScanResult.INVALID: "Билет недействителен",
}


@dataclass
class Admission:
    """The door's answer. `ticket` carries only what the door needs (short name, grade, school, event)."""

    result: ScanResult
    message: str
    ticket: dict[str, Any] | None = None
    checked_in_at: datetime | None = None
    checkin: Checkin | None = field(default=None, repr=False)

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


def _tenant(tenant_id: int) -> Tenant:
    return db.session.get(Tenant, tenant_id)


def hhmm(moment: datetime, tenant_id: int) -> str:
    return moment.astimezone(_tenant(tenant_id).tz).strftime("%H:%M")


def door_details(ticket: Ticket) -> dict[str, Any]:
    student: Student = ticket.student
    return {
        "id": ticket.id,
        "short_name": student.short_name,
        "grade": student.grade,
        "school": student.school.name,
        "event": ticket.event.title,
        "event_id": ticket.event_id,
    }


def checkin_window(event: Event) -> tuple[datetime, datetime]:
    """Admission opens `checkin_opens_minutes` before the start and closes at the end (rule 6)."""
    return event.starts_at - timedelta(minutes=event.programme.checkin_opens_minutes), event.ends_at


def _load_ticket(ticket_id: int) -> Ticket | None:
    """The ticket with everything the door shows, in one query."""
    return db.session.scalar(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(  # every one of these is a non-null foreign key: inner joins
            joinedload(Ticket.event, innerjoin=True).joinedload(Event.programme, innerjoin=True),
            joinedload(Ticket.event, innerjoin=True).joinedload(Event.venue, innerjoin=True),
            joinedload(Ticket.student, innerjoin=True).joinedload(Student.school, innerjoin=True),
        )
    )


def _device_moment(scanned_at: datetime | None, now: datetime) -> datetime:
    if scanned_at is None:
        return now
    if scanned_at.tzinfo is None:
        raise Invalid("Время скана должно быть с часовым поясом (ISO 8601).", code="naive_time")
    return min(scanned_at, now + CLOCK_SKEW)


def _first_admission(ticket_id: int) -> Checkin | None:
    return db.session.scalar(
        select(Checkin)
        .where(Checkin.ticket_id == ticket_id, Checkin.result == ScanResult.OK)
        .options(joinedload(Checkin.kiosk))
    )


def _where(checkin: Checkin) -> str:
    if checkin.kiosk is not None:
        return f"киоск «{checkin.kiosk.name}»"
    if checkin.method == AdmissionMethod.ONLINE:
        return "по ссылке на трансляцию"
    return "вручную"


def _already_message(first: Checkin) -> str:
    return f"Уже прошёл в {hhmm(first.scanned_at, first.tenant_id)} · {_where(first)}"


def _refusal(ticket: Ticket, kiosk: Kiosk | None, moment: datetime) -> tuple[ScanResult, str] | None:
    """Why this ticket may not pass here and now (rules 6 and 8), or None."""
    event: Event = ticket.event
    if ticket.status == TicketStatus.CANCELLED:
        return ScanResult.CANCELLED, MESSAGES[ScanResult.CANCELLED]
    if kiosk is not None:
        if event.venue_id != kiosk.venue_id:
            return ScanResult.WRONG_VENUE, f"Другая площадка: билет на «{event.venue.name}»"
        if event.format == EventFormat.ONLINE:
            return ScanResult.WRONG_VENUE, "Это онлайн-событие: вход по личной ссылке"
    opens, closes = checkin_window(event)
    if moment < opens:
        return ScanResult.OUTSIDE_WINDOW, f"Вход ещё не открыт: откроется в {hhmm(opens, ticket.tenant_id)}"
    if moment >= closes:
        return ScanResult.OUTSIDE_WINDOW, f"Событие уже закончилось (в {hhmm(closes, ticket.tenant_id)})"
    return None


def _log(
    *,
    result: ScanResult,
    message: str,
    kiosk: Kiosk | None,
    method: AdmissionMethod,
    scan_id: str | None,
    moment: datetime,
    ticket: Ticket | None = None,
    user_id: int | None = None,
    conflict: bool = False,
) -> Checkin:
    """Insert one scan row inside a savepoint; IntegrityError (once / scan_id) propagates to the caller."""
    checkin = Checkin(
        ticket_id=ticket.id if ticket else None,
        event_id=ticket.event_id if ticket else None,
        kiosk_id=kiosk.id if kiosk else None,
        user_id=user_id,
        result=result,
        method=method,
        scan_id=scan_id,
        scanned_at=moment,
        message=message,
        conflict=conflict,
    )
    if ticket is not None:
        checkin.ticket = ticket
    if kiosk is not None:
        checkin.kiosk = kiosk
    with db.session.begin_nested():
        db.session.add(checkin)
    return checkin


def replay(kiosk: Kiosk, scan_id: str) -> Admission | None:
    """The answer first given to this kiosk's scan_id (offline queues and flaky networks retry)."""
    earlier = db.session.scalar(
        select(Checkin).where(Checkin.kiosk_id == kiosk.id, Checkin.scan_id == scan_id)
    )
    if earlier is None:
        return None
    ticket = _load_ticket(earlier.ticket_id) if earlier.ticket_id else None
    checked_in_at = None
    if earlier.result == ScanResult.OK:
        checked_in_at = earlier.scanned_at
    elif earlier.result == ScanResult.ALREADY_CHECKED_IN and ticket is not None:
        first = _first_admission(ticket.id)
        checked_in_at = first.scanned_at if first else None
    return Admission(
        earlier.result,
        earlier.message or MESSAGES.get(earlier.result, ""),
        door_details(ticket) if ticket else None,
        checked_in_at,
        earlier,
    )


def admit_ticket(
    ticket: Ticket,
    kiosk: Kiosk | None,
    *,
    method: AdmissionMethod = AdmissionMethod.SCAN,
    scan_id: str | None = None,
    scanned_at: datetime | None = None,
    user_id: int | None = None,
) -> Admission:
    """Admit a known ticket under rules 6–8, log the scan, announce an admission after commit."""
    now = utcnow()
    moment = _device_moment(scanned_at, now)
    details = door_details(ticket)
    common = dict(kiosk=kiosk, method=method, scan_id=scan_id, moment=moment, ticket=ticket, user_id=user_id)
    refusal = _refusal(ticket, kiosk, moment)
    if refusal is not None:
        result, message = refusal
        # An offline kiosk already let this person in: the coordinator must see the disagreement.
        offline = method == AdmissionMethod.OFFLINE
        checkin = _log_or_replay(result=result, message=message, conflict=offline, **common)
        if isinstance(checkin, Admission):
            return checkin
        return Admission(result, message, details, None, checkin)
    try:
        checkin = _log(result=ScanResult.OK, message=MESSAGES[ScanResult.OK], **common)
    except IntegrityError:
        earlier = replay(kiosk, scan_id) if kiosk is not None and scan_id else None
        if earlier is not None:
            return earlier
        first = _first_admission(ticket.id)
        if first is None:  # pragma: no cover - the index fired, so an admission exists
            raise
        message = _already_message(first)
        conflict = method == AdmissionMethod.OFFLINE and first.kiosk_id != (kiosk.id if kiosk else None)
        checkin = _log_or_replay(
            result=ScanResult.ALREADY_CHECKED_IN, message=message, conflict=conflict, **common
        )
        if isinstance(checkin, Admission):
            return checkin
        return Admission(ScanResult.ALREADY_CHECKED_IN, message, details, first.scanned_at, checkin)
    announce_checkin(checkin)
    return Admission(ScanResult.OK, MESSAGES[ScanResult.OK], details, moment, checkin)


def _log_or_replay(**row) -> Checkin | Admission:
    """Log a refusal; if the same scan_id raced us in, answer what it was answered."""
    try:
        return _log(**row)
    except IntegrityError:
        kiosk, scan_id = row["kiosk"], row["scan_id"]
        earlier = replay(kiosk, scan_id) if kiosk is not None and scan_id else None
        if earlier is None:
            raise
        return earlier


def admit(
    code: str,
    kiosk: Kiosk,
    scan_id: str | None = None,
    scanned_at: datetime | None = None,
    method: AdmissionMethod = AdmissionMethod.SCAN,
    user_id: int | None = None,
) -> Admission:
    """A code scanned at a kiosk. Unknown, forged and other regions' codes all answer `invalid`.

    A replayed `scan_id` needs no lookup up front: every path inserts a row carrying it, the unique
    (kiosk, scan_id) constraint refuses the second one, and the first answer is returned instead.
    """
    code = (code or "").strip().upper()
    payload = codes.verify(code, kiosk.tenant_id)
    ticket = None
    if payload is not None and payload.kind == codes.CodeKind.ESCORT:
        return _refuse_code(kiosk, scan_id, scanned_at, method, user_id, escort=True)
    if payload is not None:
        ticket = _load_ticket(payload.object_id)
    if ticket is None or ticket.code != code or ticket.event_id != payload.event_id:
        return _refuse_code(kiosk, scan_id, scanned_at, method, user_id)
    return admit_ticket(ticket, kiosk, method=method, scan_id=scan_id, scanned_at=scanned_at, user_id=user_id)


def _refuse_code(kiosk, scan_id, scanned_at, method, user_id, escort: bool = False) -> Admission:
    message = "Это QR сопровождающего: откройте список класса" if escort else MESSAGES[ScanResult.INVALID]
    moment = _device_moment(scanned_at, utcnow())
    row = _log_or_replay(
        result=ScanResult.INVALID,
        message=message,
        conflict=method == AdmissionMethod.OFFLINE,
        kiosk=kiosk,
        method=method,
        scan_id=scan_id,
        moment=moment,
        user_id=user_id,
    )
    if isinstance(row, Admission):
        return row
    return Admission(ScanResult.INVALID, message, None, None, row)


def sync_offline(kiosk: Kiosk, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scans a kiosk made without network, with their device times and scan ids: replay-safe."""
    answers = []
    for item in items:
        answer = admit(
            item["code"],
            kiosk,
            scan_id=item["scan_id"],
            scanned_at=item["scanned_at"],
            method=AdmissionMethod.OFFLINE,
        )
        conflict = bool(answer.checkin is not None and answer.checkin.conflict)
        answers.append({"scan_id": item["scan_id"], **answer.as_json(), "conflict": conflict})
    return answers


# --- manual admission -----------------------------------------------------------------------------


def admit_manually(
    ticket_id: int, kiosk: Kiosk | None, *, user_id: int | None = None, scan_id: str | None = None
) -> Admission:
    """A student who forgot the ticket, found by surname; the audit says who let them in."""
    if kiosk is not None and scan_id:
        earlier = replay(kiosk, scan_id)
        if earlier is not None:
            return earlier
    ticket = _load_ticket(ticket_id)
    if ticket is None:
        raise NotFound("Регистрация не найдена.", code="ticket_not_found")
    answer = admit_ticket(ticket, kiosk, method=AdmissionMethod.MANUAL, scan_id=scan_id, user_id=user_id)
    audit(
        "checkin.manual",
        "ticket",
        ticket.id,
        user_id=user_id,
        kiosk_id=kiosk.id if kiosk else None,
        result=answer.result.value,
        checkin_id=answer.checkin.id if answer.checkin else None,
    )
    return answer


# --- online events --------------------------------------------------------------------------------


def join_online(access_token: str) -> tuple[Admission, Event]:
    """The personal join link of an online event: the same rules as the door, then the broadcast."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.access_token == access_token))
    ticket = _load_ticket(ticket.id) if ticket else None
    if ticket is None:
        raise NotFound("Билет не найден.", code="ticket_not_found")
    if ticket.event.format != EventFormat.ONLINE:
        raise Invalid("Это очное событие: покажите QR-код на входе.", code="not_online")
    return admit_ticket(ticket, None, method=AdmissionMethod.ONLINE), ticket.event
