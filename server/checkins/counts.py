"""Admitted per event, as O(1) counts kept beside the check-in rows and applied as the admission commits.

Counting admitted rows grows with the day (thousands of index entries per live message at a busy
door); a counter row per event would make every door wait on every other. So each event's count is
split into shards — a kiosk's own shard at the door, one of `LINK_SHARDS` for admissions without a
kiosk — and is the sum of its shards.

Increments are applied in `before_commit`, in a fixed order, after every check-in row of the
transaction is written: a transaction holds a counter lock only while it commits, so an offline sync
or a class admitted in one go can never deadlock with a door scanning one of the same tickets.
The live `checkin` message of each admission is queued there too, carrying the new count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.orm import Session

from server.checkins.models import AdmissionCount, AdmissionMethod
from server.database import insert_on_conflict
from server.extensions import db

if TYPE_CHECKING:
    from server.checkins.services import DoorTicket

PENDING = "admissions_to_count"
LINK_SHARDS = 16


@dataclass(frozen=True)
class Admitted:
    """An admission written in this transaction, to be counted and announced when it commits."""

    door: DoorTicket
    checkin_id: int
    kiosk_id: int | None
    method: AdmissionMethod
    at: datetime

    @property
    def shard(self) -> int:
        if self.kiosk_id is not None:
            return self.kiosk_id
        return -1 - self.door.id % LINK_SHARDS  # negative: never a kiosk's


def count_on_commit(admitted: Admitted, session: Session | None = None) -> None:
    (session or db.session()).info.setdefault(PENDING, []).append(admitted)


_COUNTS = AdmissionCount.__table__


@cache
def _increment(dialect_name: str):
    """Add to one shard and return the event's new total, in one round trip.

    The total is this shard's new value plus the other shards as the statement sees them; increments
    of one transaction run in order, each seeing the earlier ones, so the last one of an event
    returns its total after all of them.
    """
    tenant_id, event_id, shard = bindparam("tenant_id"), bindparam("event_id"), bindparam("shard")
    upsert = insert_on_conflict(_COUNTS, dialect_name).values(
        tenant_id=tenant_id, event_id=event_id, shard=shard, admitted=bindparam("admitted")
    )
    others = (
        select(func.coalesce(func.sum(_COUNTS.c.admitted), 0))
        .where(_COUNTS.c.tenant_id == tenant_id, _COUNTS.c.event_id == event_id, _COUNTS.c.shard != shard)
        .scalar_subquery()
    )
    return upsert.on_conflict_do_update(
        index_elements=["tenant_id", "event_id", "shard"],
        set_={"admitted": _COUNTS.c.admitted + upsert.excluded.admitted},
    ).returning(_COUNTS.c.admitted + others)


_TOTALS = (
    select(_COUNTS.c.event_id, func.sum(_COUNTS.c.admitted))
    .where(
        _COUNTS.c.tenant_id == bindparam("tenant_id"),  # named here: this runs below the ORM's filter
        _COUNTS.c.event_id.in_(bindparam("event_ids", expanding=True)),
    )
    .group_by(_COUNTS.c.event_id)
)


def totals(tenant_id: int, event_ids: list[int], session: Session | None = None) -> dict[int, int]:
    """Admitted per event of one region: the sum of each event's shards, one query."""
    if not event_ids:
        return {}
    connection = (session or db.session()).connection()
    rows = connection.execute(_TOTALS, {"tenant_id": tenant_id, "event_ids": event_ids})
    return {event_id: int(total) for event_id, total in rows}


@event.listens_for(Session, "before_commit")
def _apply(session: Session) -> None:
    pending: list[Admitted] = session.info.pop(PENDING, [])
    if not pending:
        return
    from server.live.services import announce_checkin

    increments = Counter((a.door.tenant_id, a.door.event_id, a.shard) for a in pending)
    connection = session.connection()
    increment = _increment(connection.dialect.name)
    now: dict[int, int] = {}
    for (tenant_id, event_id, shard), n in sorted(increments.items()):
        row = {"tenant_id": tenant_id, "event_id": event_id, "shard": shard, "admitted": n}
        now[event_id] = connection.execute(increment, row).scalar_one()
    still_to_come = Counter(a.door.event_id for a in pending)
    for a in pending:  # each message carries the count right after its own admission
        still_to_come[a.door.event_id] -= 1
        announce_checkin(a, now[a.door.event_id] - still_to_come[a.door.event_id], session)
