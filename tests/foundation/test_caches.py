"""Per-process caches on the hot path: the region by slug, and the region's public keys."""

from __future__ import annotations

from sqlalchemy import event as sa_event
from sqlalchemy import select

from server.extensions import db
from server.tickets import codes
from server.tickets.models import SigningKey
from tenants.resolution import forget_tenants
from tenants.scoping import tenant_scope
from tests.conftest import bearer


def test_region_is_looked_up_once_per_process_while_cached(app, client, world, monkeypatch):
    _, token = world.user(world.a)
    monkeypatch.setitem(app.config, "TENANT_CACHE_SECONDS", 30)
    forget_tenants()
    statements = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(3):
            assert client.get("/api/v1/yaroslavl/venues", headers=bearer(token)).status_code == 200
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
        forget_tenants()
    tenant_lookups = [s for s in statements if "FROM tenants" in s and "tenants.slug" in s]
    assert len(tenant_lookups) == 1


def test_a_retired_key_stops_verifying_at_once_in_this_process(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNING_KEY_CACHE_SECONDS", 60)
    event_id = world.event(world.a)
    _, code = world.ticket(world.a, event_id)
    with app.app_context(), tenant_scope(world.a.id):
        assert codes.verify(code, world.a.id) is not None  # now cached
        key = db.session.scalar(select(SigningKey))
        codes.retire_key(key)
        db.session.commit()
        assert codes.verify(code, world.a.id) is None
