"""The coordinator's and the family's side of notifications; the hooks the ticket and event services call.

Hooks (`ticket_registered`, `ticket_cancelled`, `ticket_moved`, `event_changed`) run inside the
caller's transaction and only write rows: the outbox, or a run for the worker to fan out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from server.audit.services import record
from server.catalog.models import Event, School, Venue
from server.database import utcnow
from server.errors import Conflict, Invalid
from server.extensions import db
from server.mail import absolute_url, queue_mail
from server.mail.models import MailStatus, OutgoingMail
from server.notifications import messages
from server.notifications.models import MailSettings
from server.notifications.runs import start_run
from server.signals import EventShape
from server.tickets.models import Consent, Student, Ticket, TicketStatus, short_name
from tenants.models import Tenant
from tenants.scoping import required_tenant_id

FIND_TICKET_EVERY = timedelta(minutes=15)  # one «Найти мой билет» letter per address per window
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _region() -> Tenant:
    return db.session.get(Tenant, required_tenant_id())


# --- hooks called by the ticket and event services ----------------------------------------------


def ticket_registered(ticket: Ticket) -> None:
    messages.confirmation(_region(), ticket.event, ticket)


def ticket_cancelled(ticket: Ticket, by: str) -> None:
    messages.ticket_cancelled(_region(), ticket.event, ticket, by_family=by == "guardian")


def ticket_moved(old: Ticket, new: Ticket) -> None:
    messages.ticket_moved(_region(), old.event, new.event, new)


@dataclass(frozen=True)
class Before:
    """What families were told about an event: compared after an edit."""

    starts_at: datetime
    ends_at: datetime
    venue_id: int
    format: str
    when: str
    place: str

    @classmethod
    def of(cls, shape: EventShape) -> Before:
        """The words families were given for `shape`: its venue read by id (an edit may have moved it)."""
        venue = db.session.get(Venue, shape.venue_id)
        return cls(
            shape.starts_at, shape.ends_at, shape.venue_id, shape.format,
            messages.when(shape.starts_at, shape.ends_at, _region().tz), messages.place(shape.format, venue),
        )  # fmt: skip


def event_changed(event: Event, before: Before) -> int | None:
    """After an edit: if the time or the place changed, every family registered is told."""
    now = utcnow()
    moved = (before.starts_at, before.ends_at, before.venue_id, before.format) != (
        event.starts_at, event.ends_at, event.venue_id, str(event.format),
    )  # fmt: skip
    if not moved or event.cancelled_at is not None or before.ends_at <= now:
        return None
    return start_run(
        "event_changed",
        f"event_changed:{event.id}:{now.isoformat()}",
        event.id,
        {"when": before.when, "place": before.place},
    )


# --- cancelling an event ------------------------------------------------------------------------


def cancel_event(event: Event, *, reason: str, user_id: int | None) -> int:
    """Cancel the event and every ticket not yet used; each family is told once. Returns tickets cancelled."""
    from server.checkins.services import was_admitted
    from server.tickets import services as tickets

    now = utcnow()
    if event.cancelled_at is not None:
        raise Conflict("Событие уже отменено.", code="event_cancelled")
    if event.ends_at <= now:
        raise Conflict("Событие уже прошло — отменять нечего.", code="event_over")
    reason = " ".join((reason or "").split())
    if len(reason) > 500:
        raise Invalid("Причина — не длиннее 500 знаков.", code="reason_too_long")
    active = db.session.scalars(
        select(Ticket)
        .where(Ticket.event_id == event.id, Ticket.status == TicketStatus.ACTIVE)
        .order_by(Ticket.id)
    ).all()
    cancelled = []
    for ticket in active:
        if was_admitted(ticket.id):
            continue  # already inside: nothing to cancel, nothing to tell
        tickets.cancel(ticket, by="event", user_id=user_id, now=now, notify=False)
        cancelled.append(ticket.id)
    event.cancelled_at = now
    record("event.cancelled", "event", event.id, user_id=user_id, tickets=len(cancelled))
    start_run(
        "event_cancelled",
        f"event_cancelled:{event.id}",
        event.id,
        {"reason": reason, "ticket_ids": cancelled},
    )
    return len(cancelled)


# --- the coordinator's view ---------------------------------------------------------------------

KIND_LABELS = {
    "confirmation": "Подтверждение записи",
    "reminder": "Напоминание накануне",
    "event_changed": "Изменение времени или места",
    "event_cancelled": "Отмена события",
    "ticket_cancelled": "Отмена билета",
    "ticket_moved": "Перенос записи",
    "after_thanks": "Спасибо (пришли)",
    "after_missed": "Не пришли",
    "class_sheet": "Лист класса готов",
    "school_summary": "Сводка для школы",
    "find_ticket": "«Найти мой билет»",
}


@dataclass
class KindCounts:
    kind: str
    label: str
    sent: int = 0
    waiting: int = 0
    failed: int = 0
    declined: int = 0


@dataclass(frozen=True)
class Undelivered:
    address: str
    student: str | None
    school: str | None
    kind: str
    status: str
    error: str | None
    at: datetime


def _region_mail():
    """The outbox of the region in scope (the outbox is not TenantScoped: bound here, explicitly)."""
    return OutgoingMail.tenant_id == required_tenant_id()


def event_mail_counts(event_id: int) -> list[KindCounts]:
    rows = db.session.execute(
        select(OutgoingMail.kind, OutgoingMail.status, func.count())
        .where(_region_mail(), OutgoingMail.event_id == event_id)
        .group_by(OutgoingMail.kind, OutgoingMail.status)
    ).all()
    counts: dict[str, KindCounts] = {}
    for kind, status, n in rows:
        entry = counts.setdefault(kind, KindCounts(kind, KIND_LABELS.get(kind, kind)))
        if status == MailStatus.SENT:
            entry.sent += n
        elif status in (MailStatus.FAILED, MailStatus.BOUNCED):
            entry.failed += n
        elif status == MailStatus.DECLINED:
            entry.declined += n
        else:
            entry.waiting += n
    order = list(KIND_LABELS)
    return sorted(counts.values(), key=lambda c: order.index(c.kind) if c.kind in order else len(order))


def undelivered(
    *,
    event_id: int | None = None,
    school_id: int | None = None,
    municipality_id: int | None = None,
    limit: int = 500,
) -> list[Undelivered]:
    """Failed and refused addresses, with whose ticket they were about (for the coordinator, the school)."""
    query = (
        select(OutgoingMail, Student.last_name, Student.first_name, Student.middle_name, School.name)
        .outerjoin(Ticket, Ticket.id == OutgoingMail.ticket_id)
        .outerjoin(Student, Student.id == Ticket.student_id)
        .outerjoin(School, School.id == OutgoingMail.school_id)
        .where(_region_mail(), OutgoingMail.status.in_([MailStatus.FAILED, MailStatus.BOUNCED]))
        .order_by(OutgoingMail.id.desc())
        .limit(limit)
    )
    if event_id is not None:
        query = query.where(OutgoingMail.event_id == event_id)
    if school_id is not None:
        query = query.where(OutgoingMail.school_id == school_id)
    if municipality_id is not None:
        query = query.where(School.municipality_id == municipality_id)
    return [
        Undelivered(
            mail.to_address,
            short_name(last, first, middle) if last else None,
            school,
            KIND_LABELS.get(mail.kind, mail.kind),
            mail.status,
            mail.error,
            mail.created_at,
        )  # fmt: skip
        for mail, last, first, middle, school in db.session.execute(query)
    ]


def region_mail_counts(since: datetime) -> dict[str, int]:
    rows = db.session.execute(
        select(OutgoingMail.status, func.count())
        .where(_region_mail(), OutgoingMail.created_at >= since)
        .group_by(OutgoingMail.status)
    ).all()
    counts: dict[str, int] = defaultdict(int)
    for status, n in rows:
        counts[status] += n
    return counts


# --- settings -------------------------------------------------------------------------------------


def mail_settings() -> MailSettings:
    settings = db.session.scalar(select(MailSettings))
    return settings or MailSettings(sender_name=None, reminder_time="18:00")


def save_mail_settings(*, sender_name: str, reminder_time: str, user_id: int | None) -> MailSettings:
    sender_name = " ".join((sender_name or "").split())
    if len(sender_name) > 200:
        raise Invalid("Имя отправителя — не длиннее 200 знаков.", code="sender_name_too_long")
    if not _TIME.match(reminder_time or ""):
        raise Invalid("Время напоминания — в виде ЧЧ:ММ, например 18:00.", code="invalid_reminder_time")
    settings = db.session.scalar(select(MailSettings))
    if settings is None:
        settings = MailSettings()
        db.session.add(settings)
    settings.sender_name, settings.reminder_time = sender_name or None, reminder_time
    db.session.flush()
    record("mail.settings", "mail_settings", settings.id, user_id=user_id)
    return settings


# --- the family's side ------------------------------------------------------------------------------


def find_my_tickets(address: str, *, now: datetime | None = None) -> bool:
    """Mail the links of this address's active tickets, at most once per window. The caller shows the
    same answer either way; returns whether a letter was queued (tests only)."""
    now = now or utcnow()
    address = (address or "").strip().lower()
    if not address or len(address) > 254 or "@" not in address:
        raise Invalid("Проверьте адрес электронной почты.", code="invalid_email")
    tenant = _region()
    found = db.session.execute(
        select(Ticket.access_token, Student.last_name, Student.first_name, Student.middle_name, Event)
        .join(Consent, Consent.id == Ticket.consent_id)
        .join(Student, Student.id == Ticket.student_id)
        .join(Event, Event.id == Ticket.event_id)
        .where(Consent.guardian_email == address, Ticket.status == TicketStatus.ACTIVE, Event.ends_at > now)
        .order_by(Event.starts_at)
        .limit(50)
    ).all()
    if not found:
        return False
    window = int(now.timestamp() // FIND_TICKET_EVERY.total_seconds())
    tickets = [
        {
            "student": short_name(last, first, middle),
            "title": event.title,
            "when": messages.when_of(event, tenant),
            "place": messages.place_of(event),
            "url": messages.ticket_link(tenant, token),
        }
        for token, last, first, middle, event in found
    ]
    return (
        queue_mail(
            address,
            "Ваши билеты",
            "find_ticket",
            {
                "tickets": tickets,
                "region": tenant.name,
                "find_url": absolute_url("notifications.find_ticket", tenant=tenant.slug),
            },
            kind="find_ticket",
            key=f"find_ticket:{tenant.id}:{address}:{window}",
            tenant_id=tenant.id,
            sender_name=messages.sender_of(tenant),
        )
        is not None
    )


def decline(token: str) -> tuple[str, str] | None:
    """Record a family's "no more of these" from a signed link; returns (address, what) or None if forged."""
    from server.mail.tasks import suppress

    read = messages.read_decline_token(token)
    if read is None or read[0] != required_tenant_id():
        return None
    tenant_id, address, preference = read
    suppress(address, tenant_id, preference, reason="declined")
    return address, str(messages.PREFERENCES[preference])
