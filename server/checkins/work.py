"""Where the door's statements run, and where the live messages they cause wait for the commit.

Every admission path runs in the request's session (`DoorWork.of_session`) — manual and group
admissions, online links, offline syncs, the Flask view — except the busiest: on PostgreSQL the
door's lane (`checkins.lane`) runs a kiosk's scan on a connection of its own, without a session. A
session's begin, commit and close cost about 100 µs of CPU per scan, such a connection 10 µs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from server.extensions import db
from server.live.publish import LiveMessage, outbox, send

LANE_BIND = "door"  # SQLALCHEMY_BINDS key of the lane's engine (`lane_engine_options`)


@dataclass(frozen=True)
class DoorWork:
    """A connection to run on, the outbox its live messages join, and its session if it has one.

    Without a session there is one admission per transaction and nobody else's outbox: the caller
    sends `outbox` itself once the connection has committed.
    """

    connection: Connection
    outbox: list[LiveMessage]
    session: Session | None = None

    @classmethod
    def of_session(cls, session: Session | None = None) -> DoorWork:
        session = session or db.session()
        return cls(session.connection(), outbox(session), session)


def lane_engine_options(database_uri: str) -> dict:
    """PostgreSQL: the lane's own pool, of connections that stay in autocommit.

    Each of a scan's statements stands on its own (`server.database.statement_transactions`), so
    it needs no BEGIN or COMMIT; switching one of the session's pooled connections to autocommit and
    back cost more than the rest of the lane's connection handling. No reset on return: an
    autocommit connection never holds a transaction.
    """
    return {"url": database_uri, "isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}


@contextmanager
def lane_work() -> Iterator[DoorWork]:
    """Where the lane admits a scan; what it wrote is committed and announced when the block ends.

    PostgreSQL: a connection of the lane's pool, each statement committed as it runs, the live
    messages sent at the end. (The region's and the keys' caches still read through the session
    when they miss, a few times a minute.) SQLite: the request's session, committed at the end
    (rolled back on an error), as the view's; there a second connection would wait for the
    session's write lock.
    """
    engine = db.engines.get(LANE_BIND)
    if engine is None:
        work = DoorWork.of_session()
        try:
            yield work
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        return
    waiting: list[LiveMessage] = []
    with engine.connect() as connection:
        yield DoorWork(connection, waiting)
    send(waiting)
