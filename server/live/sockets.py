"""Socket.IO `/live`: who may watch, which room they join, and the snapshots they get.

The server alone decides rooms: a coordinator joins its region's room, a municipal coordinator, a
school or a venue only its own narrower room. The tenant slug a client sends selects a region; the
user's membership there is what lets them in. `before_request` does not run for socket events, so
each handler sets the tenant scope itself and releases the database session at its end. A client
that names no region joins the region of its only membership.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, disconnect, emit, join_room
from sqlalchemy import select

from server.accounts.models import Membership, User
from server.accounts.services import membership_in, user_for_token
from server.database import unit_of_work, utcnow
from server.extensions import db, socketio
from server.live.publish import NAMESPACE, batch_room
from server.live.services import Filters, LiveScope, scope_for, snapshot
from tenants.models import Tenant
from tenants.resolution import RegionSuspended
from tenants.scoping import tenant_scope

REFRESH_INTERVAL = 5.0  # seconds: a page may ask for a fresh snapshot at most this often


@dataclass
class Connection:
    scope: LiveScope
    tenant_slug: str
    filters: Filters
    user_id: int
    token: str | None
    last_snapshot: float = field(default_factory=time.monotonic)


_connections: dict[str, Connection] = {}
_lock = threading.Lock()


def _credentials(auth: dict) -> tuple[User | None, str | None]:
    """The user behind a bearer token in `auth`, else behind the page's login session."""
    token = auth.get("token")
    if token:
        return (user_for_token(str(token)) if isinstance(token, str) else None), str(token)
    if current_user.is_authenticated and _same_origin():
        return current_user._get_current_object(), None
    return None, None


def _same_origin() -> bool:
    """A login cookie only counts from our own pages: another site's page in the coordinator's
    browser must not open the region's stream with it (the server accepts any Origin otherwise)."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def _authorise(auth: dict) -> tuple[LiveScope, Tenant, User, str | None]:
    user, token = _credentials(auth)
    if user is None:
        raise ConnectionRefusedError("unauthorized")
    slug = auth.get("tenant") or request.args.get("tenant")
    if slug:
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == str(slug)))
    else:
        tenant = _only_region_of(user)
    if tenant is None:
        raise ConnectionRefusedError("unauthorized")
    if tenant.suspended_at is not None:
        raise ConnectionRefusedError(RegionSuspended.of(tenant.name).message)
    with tenant_scope(tenant.id):
        scope = scope_for(user, membership_in(user, tenant), tenant)
    if scope is None:  # a stranger to this region is told nothing more than a wrong token is
        raise ConnectionRefusedError("unauthorized")
    return scope, tenant, user, token


def _only_region_of(user: User) -> Tenant | None:
    """The region of a user's one membership (SPEC: the token alone decides); with several the
    client must name one, since choosing for them would show a region they did not ask for."""
    tenant_ids = db.session.scalars(
        select(Membership.tenant_id).where(Membership.user_id == user.id).execution_options(all_tenants=True)
    ).all()
    if len(tenant_ids) != 1:
        return None
    return db.session.get(Tenant, tenant_ids[0])


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth=None):
    auth = auth if isinstance(auth, dict) else {}
    with unit_of_work():  # commits the token's last use
        scope, tenant, user, token = _authorise(auth)
        now = utcnow()
        filters = Filters.parse(tenant, auth.get("date"), auth.get("programme"), now)
        # Our dashboard asks for coalesced batches; API clients get one `checkin` per admission.
        join_room(batch_room(scope.room) if auth.get("batch") is True else scope.room)
        with _lock:
            _connections[request.sid] = Connection(scope, tenant.slug, filters, user.id, token)
        with tenant_scope(tenant.id):
            data = snapshot(scope, tenant, filters, now)
    emit("snapshot", data)


@socketio.on("refresh", namespace=NAMESPACE)
def on_refresh(wanted=None):
    """A fresh snapshot on request (the page asks every minute): catch-up if live events were lost.

    Credentials are checked again, so a revoked token or a removed membership ends the stream.
    """
    with _lock:
        connection = _connections.get(request.sid)
    if connection is None:
        return
    if time.monotonic() - connection.last_snapshot < REFRESH_INTERVAL:
        return
    connection.last_snapshot = time.monotonic()
    with unit_of_work():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == connection.tenant_slug))
        user = _still_allowed(connection, tenant)
        if user is not None:
            now = utcnow()
            if isinstance(wanted, dict) and ("date" in wanted or "programme" in wanted):
                connection.filters = Filters.parse(tenant, wanted.get("date"), wanted.get("programme"), now)
            with tenant_scope(tenant.id):
                data = snapshot(connection.scope, tenant, connection.filters, now)
    if user is None:
        disconnect()
        return
    emit("snapshot", data)


def _still_allowed(connection: Connection, tenant: Tenant | None) -> User | None:
    if tenant is None or tenant.suspended_at is not None:
        return None
    if connection.token is not None:
        user = user_for_token(connection.token)
    else:
        user = db.session.get(User, connection.user_id)
        user = user if user is not None and user.active else None
    if user is None or user.id != connection.user_id:
        return None
    with tenant_scope(tenant.id):
        scope = scope_for(user, membership_in(user, tenant), tenant)
    return user if scope == connection.scope else None


@socketio.on("disconnect", namespace=NAMESPACE)
def on_disconnect(*args):
    with _lock:
        _connections.pop(request.sid, None)
