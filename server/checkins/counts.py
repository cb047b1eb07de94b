"""Admitted per event, as O(1) counts kept beside the check-in rows and applied as the admission commits.

Counting admitted rows grows with the day (thousands of index entries per live message at a busy
door); a counter row per event would make every door wait on every other. So each event's count is
split into shards — a kiosk's own shard at the door, one of `LINK_SHARDS` for admissions without a
kiosk — and is the sum of its shards.

A scan admits one ticket, and `log_admission` writes its check-in row and counts it in the same
statement on PostgreSQL. A transaction that admits many (an offline sync, a class ticked on its
checklist) runs inside `many_admissions()`: its increments are applied in a fixed order when that
block ends, after every check-in row is written, so it takes counter locks last and never deadlocks
with a door scanning one of the same tickets. Either way the live `checkin` message of each
admission carries the event's new count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from blinker import Namespace
from sqlalchemy import bindparam, func, literal, select, true

from server.catalog.models import AdmissionCount
from server.checkins.models import AdmissionMethod, Checkin
from server.database import Work, bound, insert_on_conflict
from tenants.scoping import regional

if TYPE_CHECKING:
    from server.checkins.services import DoorTicket

admitted = Namespace().signal("admitted")  # (work, **values): `live` announces it once work commits
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


@contextmanager
def many_admissions(work: Work | None = None) -> Iterator[None]:
    """Admissions inside are counted when the block ends, in a fixed order (a transaction that admits
    many tickets); if it raises, its unit of work rolls back the rows and counts nothing."""
    work = work or Work.of()
    if PENDING in work.info:  # nested: the outer block counts
        yield
        return
    work.info[PENDING] = []
    try:
        yield
        _apply(work, work.info[PENDING])
    finally:
        del work.info[PENDING]


_CHECKINS = Checkin.__table__
_COUNTS = AdmissionCount.__table__
_SCAN_COLUMNS = (
    "tenant_id", "ticket_id", "event_id", "kiosk_id", "user_id", "result", "method", "scan_id",
    "scanned_at", "created_at", "message", "conflict",
)  # fmt: skip


@cache
def log_scan(dialect_name: str):
    """Insert a scan row, or nothing when a unique rule refuses it (admitted once; a kiosk's scan_id
    once), returning its id. ON CONFLICT DO NOTHING waits for a racing admission of the same ticket
    to commit, then yields to it: one statement, no savepoint."""
    return regional(
        insert_on_conflict(_CHECKINS, dialect_name)
        .values(bound(*_SCAN_COLUMNS))
        .on_conflict_do_nothing()
        .returning(_CHECKINS.c.id)
    )


def log_admission(row: dict[str, Any], admitted: Admitted, work: Work) -> int | None:
    """Write an admitted scan row and count it; None when a unique rule refused the row.

    Alone in its transaction, the increment rides in the same statement on PostgreSQL and the live
    message joins the work's outbox at once with the new total; inside `many_admissions()` it waits
    for the end of that block.
    """
    connection = work.connection
    dialect = connection.dialect.name
    pending = work.info.get(PENDING)
    if pending is not None:
        checkin_id = connection.execute(log_scan(dialect), row).scalar()
        if checkin_id is not None:
            pending.append(replace(admitted, checkin_id=checkin_id))
        return checkin_id
    if dialect == "postgresql":
        written = connection.execute(_logged_and_counted(), {**row, "shard": admitted.shard}).first()
        if written is None:
            return None
        checkin_id, total = written
    else:  # SQLite: no INSERT inside WITH; its one writer at a time makes two statements as safe
        checkin_id = connection.execute(log_scan(dialect), row).scalar()
        if checkin_id is None:
            return None
        shard = {"shard": admitted.shard, "admitted": 1}
        total = connection.execute(_increment(dialect), {**row, **shard}).scalar_one()
    announce(work, replace(admitted, checkin_id=checkin_id), total)
    return checkin_id


def _others(tenant_id, event_id, shard):
    """The event's admitted on every shard but this one, as the statement's snapshot sees them."""
    return (
        select(func.coalesce(func.sum(_COUNTS.c.admitted), 0))
        .where(_COUNTS.c.tenant_id == tenant_id, _COUNTS.c.event_id == event_id, _COUNTS.c.shard != shard)
        .scalar_subquery()
    )


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
    others = _others(tenant_id, event_id, shard)
    return regional(
        upsert.on_conflict_do_update(
            index_elements=["tenant_id", "event_id", "shard"],
            set_={"admitted": _COUNTS.c.admitted + upsert.excluded.admitted},
        ).returning(_COUNTS.c.admitted + others)
    )


@cache
def _logged_and_counted():
    """PostgreSQL: the scan row and its increment in one statement, returning (check-in id, total).

    A refused row (already admitted) inserts nothing, so nothing is counted and no row comes back.
    """
    logged = log_scan("postgresql").returning(_CHECKINS.c.tenant_id, _CHECKINS.c.event_id).cte("logged")
    counted, total = counting(logged, bindparam("shard"))
    return regional(select(logged.c.id, total).select_from(logged.join(counted, true())))


def counting(logged, shard):
    """PostgreSQL: the increment on `shard` of the row that the CTE `logged` wrote (it returns the row's
    `tenant_id` and `event_id`), as a CTE, and the event's new total, for the statement's columns.
    Both are empty where `logged` wrote nothing.

    Rows a WITH clause writes are visible only through its RETURNING, hence `logged` feeds the increment.
    """
    upsert = insert_on_conflict(_COUNTS, "postgresql").from_select(
        ["tenant_id", "event_id", "shard", "admitted"],
        select(logged.c.tenant_id, logged.c.event_id, shard, literal(1)),
    )
    counted = (
        upsert.on_conflict_do_update(
            index_elements=["tenant_id", "event_id", "shard"],
            set_={"admitted": _COUNTS.c.admitted + upsert.excluded.admitted},
        )
        .returning(_COUNTS.c.admitted)
        .cte("counted")
    )
    return counted, counted.c.admitted + _others(logged.c.tenant_id, logged.c.event_id, shard)


def _apply(work: Work, pending: list[Admitted]) -> None:
    """Count a block's admissions, one increment per shard in a fixed order, and announce each."""
    if not pending:
        return
    increments = Counter((a.door.tenant_id, a.door.event_id, a.shard) for a in pending)
    connection = work.connection
    increment = _increment(connection.dialect.name)
    now: dict[int, int] = {}
    for (tenant_id, event_id, shard), n in sorted(increments.items()):
        row = {"tenant_id": tenant_id, "event_id": event_id, "shard": shard, "admitted": n}
        now[event_id] = connection.execute(increment, row).scalar_one()
    still_to_come = Counter(a.door.event_id for a in pending)
    for a in pending:  # each message carries the count right after its own admission
        still_to_come[a.door.event_id] -= 1
        announce(work, a, now[a.door.event_id] - still_to_come[a.door.event_id])


def announce(work: Work, a: Admitted, checked_in: int) -> None:
    """Tell whoever listens (`live`) of an admission in `work`, in plain values: no door types leave."""
    door = a.door
    admitted.send(
        work,
        tenant_id=door.tenant_id, checkin_id=a.checkin_id, event_id=door.event_id,
        venue_id=door.venue_id, ticket_id=door.id, municipality_id=door.municipality_id,
        school_id=door.school_id, school=door.school_name, short_name=door.short_name,
        grade=door.grade, method=a.method.value, registered=door.registered,
        checked_in=checked_in, at=a.at,
    )  # fmt: skip
