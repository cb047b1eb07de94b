"""One function per message. Each names one family's ticket (or one school's staff), never another's.

Links are absolute (`server.mail.absolute_url`); times are the region's. Messages that can be
declined carry a signed one-click link (`decline_link`) and a List-Unsubscribe header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from server.catalog.models import Event, EventFormat, Venue
from server.extensions import db
from server.mail import absolute_url
from server.mail.services import Mail, queue_mails
from server.notifications import attachments  # noqa: F401  (registers the "ticket" renderer)
from server.notifications.models import MailSettings
from server.tickets.models import Consent, Student, Ticket, TicketStatus, short_name
from server.tickets.pdf import when
from tenants.models import Tenant

# Preferences a family can decline (by the link in the message); everything else always goes.
PREFERENCES = {"reminder": _l("напоминания накануне события"), "after_event": _l("письма после события")}


@dataclass(frozen=True)
class Family:
    """One ticket's guardian: where to write and which ticket it is about."""

    ticket_id: int
    token: str
    event_id: int
    school_id: int
    address: str
    guardian: str
    student: str  # «Иванов И.»: their own child, to tell two tickets apart


def families(
    event_id: int, *, ticket_ids: list[int] | None = None, status=TicketStatus.ACTIVE
) -> list[Family]:
    """The guardians with an e-mail of an event's tickets (active ones by default)."""
    query = (
        select(
            Ticket.id,
            Ticket.access_token,
            Ticket.event_id,
            Student.school_id,
            Consent.guardian_email,
            Consent.guardian_name,
            Student.last_name,
            Student.first_name,
        )
        .join(Consent, Consent.id == Ticket.consent_id)
        .join(Student, Student.id == Ticket.student_id)
        .where(Ticket.event_id == event_id, Consent.guardian_email.is_not(None))
        .order_by(Ticket.id)
    )
    if status is not None:
        query = query.where(Ticket.status == status)
    if ticket_ids is not None:
        query = query.where(Ticket.id.in_(ticket_ids))
    return [
        Family(r[0], r[1], r[2], r[3], r[4], r[5], short_name(r[6], r[7], None))
        for r in db.session.execute(query)
    ]


def settings_of(tenant: Tenant) -> MailSettings | None:
    return db.session.scalar(select(MailSettings))


def sender_of(tenant: Tenant) -> str:
    settings = settings_of(tenant)
    if settings is not None and settings.sender_name:
        return settings.sender_name
    return f"Пропуск · {tenant.name}"


def _decliner() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="mail-decline")


def decline_token(tenant_id: int, address: str, preference: str) -> str:
    return _decliner().dumps([tenant_id, address, preference])


def read_decline_token(token: str) -> tuple[int, str, str] | None:
    try:
        tenant_id, address, preference = _decliner().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if preference not in PREFERENCES:
        return None
    return int(tenant_id), str(address), str(preference)


def decline_link(tenant: Tenant, address: str, preference: str) -> str:
    token = decline_token(tenant.id, address.strip().lower(), preference)
    return absolute_url("notifications.decline", tenant=tenant.slug, token=token)


def ticket_link(tenant: Tenant, token: str) -> str:
    return absolute_url("tickets_views.ticket_page", tenant=tenant.slug, token=token)


def place_of(event: Event) -> str:
    return place(event.format, event.venue)


def place(format: str, venue: Venue) -> str:
    if format == EventFormat.ONLINE:
        return f"онлайн · {venue.name}"
    return f"{venue.name}, {venue.address}"


def when_of(event: Event, tenant: Tenant) -> str:
    return when(event.starts_at, event.ends_at, tenant.tz)


def _event_context(tenant: Tenant, event: Event) -> dict:
    return {
        "region": tenant.name,
        "event": event,
        "when": when_of(event, tenant),
        "place": place_of(event),
        "online": event.format == EventFormat.ONLINE,
    }


def family_mail(
    tenant: Tenant,
    event: Event,
    family: Family,
    *,
    kind: str,
    key: str,
    subject: str,
    preference: str | None = None,
    render_later: list[str] | None = None,
    extra: dict | None = None,
    sender: str | None = None,
) -> Mail:
    """The message to one family about its ticket, from `templates/mail/<kind>.txt` and `.html`."""
    decline = decline_link(tenant, family.address, preference) if preference else None
    context = {
        **_event_context(tenant, event),
        "guardian": family.guardian,
        "student": family.student,
        "ticket_url": ticket_link(tenant, family.token),
        "decline_url": decline,
        "decline_what": PREFERENCES.get(preference or ""),
        **(extra or {}),
    }
    return Mail(
        f"{family.guardian} <{family.address}>", subject, kind, context, kind=kind, key=key,
        tenant_id=tenant.id, event_id=event.id, school_id=family.school_id, ticket_id=family.ticket_id,
        sender_name=sender or sender_of(tenant), preference=preference, decline_url=decline,
        render_later=render_later,
    )  # fmt: skip


# --- about one ticket: queued by the change itself (registered, cancelled, moved) -----------------


def _about_ticket(
    tenant: Tenant, event: Event, ticket: Ticket, *, kind: str, status=TicketStatus.ACTIVE, **options
) -> int | None:
    """Queue the message about one ticket to its family, once (`<kind>:<ticket>`); None without an e-mail."""
    family = next(iter(families(event.id, ticket_ids=[ticket.id], status=status)), None)
    if family is None:
        return None
    mail = family_mail(tenant, event, family, kind=kind, key=f"{kind}:{ticket.id}", **options)
    return queue_mails([mail])[0]


def confirmation(tenant: Tenant, event: Event, ticket: Ticket) -> int | None:
    """Registration confirmed: the ticket link, the PDF and the .ics (rendered by the worker)."""
    return _about_ticket(
        tenant, event, ticket, kind="confirmation", subject=f"Билет: {event.title}",
        render_later=[f"ticket:{ticket.id}"],
    )  # fmt: skip


def ticket_cancelled(tenant: Tenant, event: Event, ticket: Ticket, by_family: bool) -> int | None:
    return _about_ticket(
        tenant, event, ticket, kind="ticket_cancelled", subject=f"Запись отменена: {event.title}",
        status=None, extra={"by_family": by_family},
    )  # fmt: skip


def ticket_moved(tenant: Tenant, old_event: Event, new_event: Event, new: Ticket) -> int | None:
    """The new ticket's link, PDF and .ics; the old time and place beside the new. Keyed by the new
    ticket: only this move made it, as only this move cancelled the old one."""
    return _about_ticket(
        tenant, new_event, new, kind="ticket_moved", subject=f"Запись перенесена: {new_event.title}",
        render_later=[f"ticket:{new.id}"],
        extra={"old_when": when_of(old_event, tenant), "old_place": place_of(old_event)},
    )  # fmt: skip


# --- fanned out to every family of an event by a run (runs.py) ------------------------------------


def _of_run(
    tenant: Tenant,
    event: Event,
    family: Family,
    run_id: int,
    sender: str,
    *,
    kind: str,
    key: str = "",
    **options,
) -> Mail:
    """One family's message of a run: one per run and ticket, however often the run is written."""
    key = f"{key or kind}:{run_id}:{family.ticket_id}"
    return family_mail(tenant, event, family, kind=kind, key=key, sender=sender, **options)


def reminder(tenant: Tenant, event: Event, family: Family, run_id: int, sender: str) -> Mail:
    return _of_run(
        tenant, event, family, run_id, sender, kind="reminder", subject=f"Завтра: {event.title}",
        preference="reminder",
    )  # fmt: skip


def event_changed(
    tenant: Tenant, event: Event, family: Family, run_id: int, before: dict, sender: str
) -> Mail:
    return _of_run(
        tenant, event, family, run_id, sender, kind="event_changed",
        subject=f"Изменилось время или место: {event.title}",
        extra={"old_when": before.get("when"), "old_place": before.get("place")},
    )  # fmt: skip


def event_cancelled(
    tenant: Tenant, event: Event, family: Family, run_id: int, reason: str, sender: str
) -> Mail:
    return _of_run(
        tenant, event, family, run_id, sender, kind="event_cancelled",
        subject=f"Событие отменено: {event.title}", extra={"reason": reason},
    )  # fmt: skip


def after_event(tenant: Tenant, event: Event, family: Family, run_id: int, came: bool, sender: str) -> Mail:
    """Chosen by check-in status: a thank-you with what comes next, or a short note (one of them per run)."""
    subject = f"Спасибо, что пришли: {event.title}" if came else f"Жаль, что не получилось: {event.title}"
    return _of_run(
        tenant, event, family, run_id, sender, kind="after_thanks" if came else "after_missed",
        key="after_event", subject=subject, preference="after_event",
        extra={"next_url": absolute_url("tickets_views.open_events", tenant=tenant.slug)},
    )  # fmt: skip


def local_date(moment: datetime, tenant: Tenant):
    return moment.astimezone(tenant.tz).date()
