"""Pairing: a one-time code (also a QR) → the device's token; revocation locks the device out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.checkins.models import Kiosk
from server.extensions import db
from server.security import token_hash
from tenants.scoping import tenant_scope
from tests.conftest import bearer, login
from tests.kiosk.helpers import create_kiosk, paired_kiosk


def test_pairing_code_works_once_and_stores_only_hashes(app, client, world):
    venue = world.venue(world.a, name="Ярославский колледж")
    created = create_kiosk(client, world, world.a, venue, "Вход 1")

    first = client.post("/api/v1/kiosk/pair", json={"pairing_code": created["pairing_code"].lower()})
    second = client.post("/api/v1/kiosk/pair", json={"pairing_code": created["pairing_code"]})

    assert first.status_code == 200
    body = first.get_json()
    assert body["token"].startswith("kk_")
    assert body["tenant"]["slug"] == "yaroslavl"
    assert body["venue"]["name"] == "Ярославский колледж"
    assert second.status_code == 404
    assert second.get_json()["error"]["code"] == "pairing_code_invalid"
    with app.app_context(), tenant_scope(world.a.id):
        kiosk = db.session.scalar(select(Kiosk).where(Kiosk.id == created["id"]))
        assert kiosk.token_hash == token_hash(body["token"])
        assert kiosk.pairing_code_hash is None
        assert kiosk.paired_at is not None


def test_expired_pairing_code_is_refused(app, client, world):
    created = create_kiosk(client, world, world.a, world.venue(world.a))
    with app.app_context(), tenant_scope(world.a.id):
        kiosk = db.session.scalar(select(Kiosk).where(Kiosk.id == created["id"]))
        kiosk.pairing_expires_at -= timedelta(hours=25)
        db.session.commit()

    response = client.post("/api/v1/kiosk/pair", json={"pairing_code": created["pairing_code"]})

    assert response.status_code == 404
    assert "истёк" in response.get_json()["error"]["message"]


def test_revoked_kiosk_is_refused_at_its_next_request(app, client, world):
    event = world.event(world.a)
    _, code = world.ticket(world.a, event)
    from tests.kiosk.test_checkins import _venue_of

    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    _, coordinator = world.user(world.a)
    assert client.get(f"/api/v1/{kiosk.slug}/kiosk/today", headers=kiosk.headers).status_code == 200

    revoked = client.post(f"/api/v1/{kiosk.slug}/kiosks/{kiosk.id}/revoke", headers=bearer(coordinator))
    after = client.post(f"/api/v1/{kiosk.slug}/checkins", json={"code": code}, headers=kiosk.headers)

    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    assert after.status_code == 401
    assert after.get_json()["error"]["code"] == "kiosk_revoked"


def test_only_coordinators_create_kiosks_and_only_in_their_region(app, client, world):
    from server.accounts.models import Role

    venue_a = world.venue(world.a)
    venue_b = world.venue(world.b)
    _, venue_staff = world.user(world.a, role=Role.VENUE, venue_id=venue_a)
    _, coordinator_a = world.user(world.a)

    as_venue_staff = client.post(
        "/api/v1/yaroslavl/kiosks", json={"venue_id": venue_a, "name": "X"}, headers=bearer(venue_staff)
    )
    as_stranger = client.post(
        "/api/v1/irkutsk/kiosks", json={"venue_id": venue_b, "name": "X"}, headers=bearer(coordinator_a)
    )
    other_venue = client.post(
        "/api/v1/yaroslavl/kiosks", json={"venue_id": venue_b, "name": "X"}, headers=bearer(coordinator_a)
    )

    assert as_venue_staff.status_code == 403
    assert as_stranger.status_code == 404
    assert other_venue.status_code == 404


def test_pairing_is_rate_limited(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "KIOSK_PAIR_RATE_LIMIT", "3 per minute")
    statuses = [
        client.post("/api/v1/kiosk/pair", json={"pairing_code": "AAAA-BBBB"}).status_code for _ in range(5)
    ]

    assert statuses[:3] == [404, 404, 404]
    assert statuses[3:] == [429, 429]


def test_coordinator_page_creates_kiosk_shows_qr_once_and_revokes(app, client, world):
    venue = world.venue(world.a, name="Рыбинский колледж")
    email, _ = world.user(world.a)
    login(client, email)

    created = client.post("/yaroslavl/kiosks", data={"venue_id": venue, "name": "Проходная"})
    page = created.get_data(as_text=True)
    listing = client.get("/yaroslavl/kiosks").get_data(as_text=True)

    assert created.status_code == 200
    assert "Код привязки для «Проходная»" in page
    assert "<svg" in page and "style=" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    code = page.split("data-pairing-code>", 1)[1].split("<", 1)[0]
    assert len(code) == 9 and code[4] == "-"
    assert code not in listing  # shown once
    assert "Проходная" in listing and "ждёт привязки" in listing

    paired = client.post("/api/v1/kiosk/pair", json={"pairing_code": code})
    assert paired.status_code == 200
    with app.app_context(), tenant_scope(world.a.id):
        kiosk_id = db.session.scalar(select(Kiosk.id).where(Kiosk.name == "Проходная"))
    yes = {"confirmed": "1"}
    revoke = client.post(f"/yaroslavl/kiosks/{kiosk_id}/revoke", data=yes, follow_redirects=True)
    assert "отозван" in revoke.get_data(as_text=True)
    token = paired.get_json()["token"]
    assert client.get("/api/v1/yaroslavl/kiosk/today", headers=bearer(token)).status_code == 401


def test_user_tokens_cannot_act_as_a_kiosk(app, client, world):
    event = world.event(world.a)
    _, code = world.ticket(world.a, event)
    _, coordinator = world.user(world.a)

    scan = client.post("/api/v1/yaroslavl/checkins", json={"code": code}, headers=bearer(coordinator))
    bundle = client.get("/api/v1/yaroslavl/kiosk/offline", headers=bearer(coordinator))

    assert scan.status_code == 404 and scan.get_json()["error"]["code"] == "kiosk_only"
    assert bundle.status_code == 404
