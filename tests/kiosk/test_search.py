"""The door's search by surname leaks nothing to a stolen kiosk: three letters, short names, a limit
per kiosk, an audit entry for every search."""

from __future__ import annotations

from sqlalchemy import select

from server.audit.models import AuditEntry
from server.extensions import db, limiter
from tenants.scoping import tenant_scope
from tests.kiosk.helpers import paired_kiosk
from tests.kiosk.test_checkins import _venue_of


def _search(client, kiosk, query: str):
    return client.get(f"/api/v1/{kiosk.slug}/kiosk/search", query_string={"q": query}, headers=kiosk.headers)


def test_search_needs_three_letters_and_answers_short_names_only(app, client, world):
    event = world.event(world.a)
    ticket_id, _ = world.ticket(world.a, event, last_name="Смирнова", first_name="Ольга")
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))

    two = _search(client, kiosk, "См")
    three = _search(client, kiosk, "смИ")

    assert two.status_code == 422
    assert two.get_json()["error"]["code"] == "query_too_short"
    assert three.status_code == 200
    [item] = three.get_json()["items"]
    assert item["id"] == ticket_id and item["short_name"] == "Смирнова О. П."
    assert "Ольга" not in three.get_data(as_text=True) and "Петрович" not in three.get_data(as_text=True)


def test_every_search_is_audited_with_what_it_showed(app, client, world):
    event = world.event(world.a)
    ticket_id, _ = world.ticket(world.a, event, last_name="Смирнова")
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))

    assert _search(client, kiosk, "Сми").status_code == 200
    assert _search(client, kiosk, "Кузн").status_code == 200

    with app.app_context(), tenant_scope(world.a.id):
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "kiosk.search").order_by(AuditEntry.id)
        ).all()
    assert [(e.actor_kiosk_id, e.details["ticket_ids"]) for e in entries] == [
        (kiosk.id, [ticket_id]),
        (kiosk.id, []),
    ]
    assert "Сми" not in str(entries[0].details)


def test_search_is_rate_limited_per_kiosk(app, client, world, monkeypatch):
    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    world.ticket(world.a, event, last_name="Смирнова")
    stolen = paired_kiosk(client, world, world.a, venue, name="Вход 1")
    other = paired_kiosk(client, world, world.a, venue, name="Вход 2")
    monkeypatch.setitem(app.config, "KIOSK_SEARCH_RATE_LIMIT", "3 per minute")
    limiter.reset()
    try:
        answers = [_search(client, stolen, f"Сми{'р' * i}") for i in range(5)]
        neighbour = _search(client, other, "Сми")
    finally:
        limiter.reset()

    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert answers[-1].get_json()["error"]["code"] == "rate_limited"
    assert neighbour.status_code == 200
