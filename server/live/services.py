"""What the live stream says: snapshots of counts, and one message per admission."""

from __future__ import annotations

from sqlalchemy import func, select

from server.catalog.models import Event
from server.checkins.models import Checkin, ScanResult
from server.extensions import db
from server.live.publish import municipality_room, queue, school_room, tenant_room


def admitted_count(event_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(Checkin.event_id == event_id, Checkin.result == ScanResult.OK)
    )


def announce_checkin(checkin: Checkin) -> None:
    """Queue the `checkin` message for an admitted check-in; it is sent after commit, to its rooms only."""
    ticket = checkin.ticket
    event: Event = ticket.event
    student = ticket.student
    payload = {
        "event_id": event.id,
        "venue_id": event.venue_id,
        "ticket_id": ticket.id,
        "municipality_id": ticket.municipality_id,
        "school_id": student.school_id,
        "short_name": student.short_name,
        "grade": student.grade,
        "method": checkin.method.value,
        "registered": event.registered,
        "checked_in": admitted_count(event.id),
        "at": checkin.scanned_at.isoformat(),
    }
    tenant_id = checkin.tenant_id
    queue(
        "checkin",
        payload,
        (
            tenant_room(tenant_id),
            municipality_room(tenant_id, ticket.municipality_id),
            school_room(tenant_id, student.school_id),
        ),
    )
