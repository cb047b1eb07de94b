"""What a kiosk screen shows: today's events at its venue, who is registered, how many came in.

Read-only helpers for the kiosk page and the offline bundle; admitting lives in `services`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from server.audit import services as audit
from server.catalog.models import Event
from server.checkins.kiosks import DoorKiosk
from server.checkins.models import Checkin, ScanResult
from server.checkins.services import door_details
from server.database import utcnow
from server.errors import Invalid
from server.extensions import db
from server.text import normalise_name
from server.tickets.models import Student, Ticket, TicketStatus
from tenants.models import Tenant


def local_day_bounds(tenant_id: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Today in the region's timezone, as a UTC interval."""
    tz = db.session.get(Tenant, tenant_id).tz
    local_now = (now or utcnow()).astimezone(tz)
    start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def todays_events(kiosk: DoorKiosk, now: datetime | None = None) -> list[Event]:
    """Events at the kiosk's venue that start today (local) or are still running."""
    now = now or utcnow()
    start, end = local_day_bounds(kiosk.tenant_id, now)
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.venue_id == kiosk.venue_id, Event.starts_at < end, Event.ends_at > start)
            .options(joinedload(Event.programme))
            .order_by(Event.starts_at, Event.id)
        )
    )


SEARCH_MIN_LETTERS = 3


def find_registrations(kiosk: DoorKiosk, surname: str, limit: int = 20) -> list[dict[str, Any]]:
    """Today's tickets at this venue whose surname starts with what the staff typed, by short name.

    A stolen kiosk must not read the day's full names: at least three letters (two-letter prefixes
    harvested every name in seconds), short names only, and each search audited with what it showed.
    """
    needle = normalise_name(surname or "")
    if sum(ch.isalpha() for ch in needle) < SEARCH_MIN_LETTERS:
        raise Invalid("Введите не меньше трёх букв фамилии.", code="query_too_short")
    event_ids = [e.id for e in todays_events(kiosk)]
    tickets = _matching_tickets(event_ids, needle, limit) if event_ids else []
    audit.record(
        "kiosk.search",
        "kiosk",
        kiosk.id,
        kiosk_id=kiosk.id,
        letters=len(needle),
        ticket_ids=[t.id for t in tickets],
    )
    admitted = admitted_times([t.id for t in tickets])
    return [
        {
            **door_details(t),
            "checked_in_at": admitted[t.id].isoformat() if t.id in admitted else None,
        }
        for t in tickets
    ]


def _matching_tickets(event_ids: list[int], needle: str, limit: int) -> list[Ticket]:
    return list(
        db.session.scalars(
            select(Ticket)
            .join(Student, Student.id == Ticket.student_id)
            .where(
                Ticket.event_id.in_(event_ids),
                Ticket.status == TicketStatus.ACTIVE,
                Student.search_last_name.startswith(needle, autoescape=True),
            )
            .options(joinedload(Ticket.event), joinedload(Ticket.student).joinedload(Student.school))
            .order_by(Student.search_last_name, Student.first_name)
            .limit(limit)
        )
    )


def admitted_times(ticket_ids: list[int]) -> dict[int, datetime]:
    if not ticket_ids:
        return {}
    rows = db.session.execute(
        select(Checkin.ticket_id, Checkin.scanned_at).where(
            Checkin.ticket_id.in_(ticket_ids), Checkin.result == ScanResult.OK
        )
    )
    return dict(rows.all())


def admitted_today(kiosk: DoorKiosk) -> tuple[int, int]:
    """Admissions at this venue today, and those by this kiosk."""
    start, end = local_day_bounds(kiosk.tenant_id)
    base = (
        select(func.count())
        .select_from(Checkin)
        .join(Event, Event.id == Checkin.event_id)
        .where(
            Checkin.result == ScanResult.OK,
            Event.venue_id == kiosk.venue_id,
            Checkin.scanned_at >= start,
            Checkin.scanned_at < end,
        )
    )
    venue_total = db.session.scalar(base)
    by_kiosk = db.session.scalar(base.where(Checkin.kiosk_id == kiosk.id))
    return venue_total, by_kiosk
