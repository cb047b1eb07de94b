"""Live events, sent only after the database holds what they announce.

Services queue events on the session (`queue`); an `after_commit` listener emits them, a rollback
drops them. Emitting is best-effort: if the message queue (Redis) is down, the admission still
stands and dashboards catch up from the next snapshot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from server.extensions import db, socketio

NAMESPACE = "/live"
OUTBOX = "live_outbox"
log = logging.getLogger("propusk.live")


@dataclass(frozen=True)
class LiveMessage:
    name: str
    payload: dict[str, Any]
    rooms: tuple[str, ...]


def tenant_room(tenant_id: int) -> str:
    return f"tenant:{tenant_id}"


def municipality_room(tenant_id: int, municipality_id: int) -> str:
    return f"municipality:{tenant_id}:{municipality_id}"


def school_room(tenant_id: int, school_id: int) -> str:
    return f"school:{tenant_id}:{school_id}"


def queue(name: str, payload: dict[str, Any], rooms: tuple[str, ...], session: Session | None = None) -> None:
    (session or db.session()).info.setdefault(OUTBOX, []).append(LiveMessage(name, payload, rooms))


@event.listens_for(Session, "after_commit")
def _flush_outbox(session: Session) -> None:
    for message in session.info.pop(OUTBOX, []):
        for room in message.rooms:
            try:
                socketio.emit(message.name, message.payload, to=room, namespace=NAMESPACE)
            except Exception:  # the database is the truth; a lost live event is caught up by snapshots
                log.warning("live event %s to %s not delivered", message.name, room, exc_info=True)


@event.listens_for(Session, "after_rollback")
def _drop_outbox(session: Session) -> None:
    session.info.pop(OUTBOX, None)
