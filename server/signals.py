"""What happens to events and tickets, for the packages above to act on (mail to families, to schools;
the door's veto on cancelling a used ticket).

The catalog and ticket services, low in the layering, send these inside the transaction of the change;
`server.notifications.hooks` and `server.checkins.services` subscribe. So those services never import
who listens, and whatever a receiver writes (the outbox row) commits or rolls back with the change
itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from blinker import Namespace

_domain = Namespace()

event_edited = _domain.signal("event-edited")  # sender: the Event, flushed; before: EventShape
ticket_registered = _domain.signal("ticket-registered")  # sender: the new Ticket
# sender: the Ticket, locked, about to be cancelled; a receiver refuses by raising a DomainError
ticket_cancelling = _domain.signal("ticket-cancelling")
ticket_cancelled = _domain.signal("ticket-cancelled")  # sender: the Ticket; by: who ("guardian", a user)
ticket_moved = _domain.signal("ticket-moved")  # sender: the new Ticket; old: the one it replaces
class_registered = _domain.signal("class-registered")  # sender: the Event; school, groups, count


@dataclass(frozen=True)
class EventShape:
    """An event's time and place as families were told them, taken before an edit."""

    starts_at: datetime
    ends_at: datetime
    venue_id: int
    format: str
