"""The door (`server.door`) alone answers a kiosk's scan: its answers, headers, errors and rollbacks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.checkins.models import Checkin
from server.extensions import db
from server.tickets import codes
from server.tickets.models import SigningKey
from tenants.scoping import tenant_scope
from tests.conftest import bearer
from tests.kiosk.helpers import paired_kiosk, scan
from tests.kiosk.test_checkins import _checkins, _venue_of


@pytest.fixture
def door(app, client, world):
    """A paired kiosk at the venue of an open event, and one ticket's code."""
    event = world.event(world.a)
    _, code = world.ticket(world.a, event)
    return paired_kiosk(client, world, world.a, _venue_of(app, world.a, event)), code, event


def test_a_scan_answers_json_with_the_security_headers(client, door):
    kiosk, code, _ = door

    response = client.post(f"/api/v1/{kiosk.slug}/checkins", json={"code": code}, headers=kiosk.headers)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json()["result"] == "ok"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ('{"code": "X", "extra": 1}', "application/json", 422, "invalid"),
        ("[1, 2]", "application/json", 422, "invalid_json"),
        ("not json", "application/json", 422, "invalid_json"),
        ('{"code": "X"}', "text/plain", 422, "invalid_json"),
        # past the door's 4 KB: refused unread, as the API refuses a body past its route's bound
        ('{"code": "' + "A" * 5000 + '"}', "application/json", 413, "too_large"),
    ],
    ids=["extra-field", "not-an-object", "not-json", "not-declared-json", "too-long"],
)
def test_a_bad_scan_request_gets_the_documented_error_and_writes_nothing(
    app, client, world, door, body, content_type, status, code
):
    kiosk, _, _ = door

    response = client.post(
        f"/api/v1/{kiosk.slug}/checkins",
        data=body.encode(),
        headers={**kiosk.headers, "Content-Type": content_type},
    )

    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert _checkins(app, world.a) == []


def test_strangers_to_the_door_get_401_or_404_as_before(client, world, door):
    kiosk, code, _ = door
    _, coordinator_token = world.user(world.a)
    path = f"/api/v1/{kiosk.slug}/checkins"

    no_token = client.post(path, json={"code": code})
    unknown_kiosk = client.post(path, json={"code": code}, headers=bearer("kk_" + "x" * 43))
    user_token = client.post(path, json={"code": code}, headers=bearer(coordinator_token))
    no_ones_token = client.post(path, json={"code": code}, headers=bearer("pk_" + "x" * 43))
    unknown_region = client.post("/api/v1/atlantis/checkins", json={"code": code}, headers=kiosk.headers)

    assert (no_token.status_code, no_token.get_json()["error"]["code"]) == (401, "unauthenticated")
    assert (unknown_kiosk.status_code, unknown_kiosk.get_json()["error"]["code"]) == (401, "kiosk_revoked")
    assert (user_token.status_code, user_token.get_json()["error"]["code"]) == (404, "kiosk_only")
    assert (no_ones_token.status_code, no_ones_token.get_json()["error"]["code"]) == (401, "invalid_token")
    assert unknown_region.status_code == 404
    assert scan(client, kiosk, code)["result"] == "ok"  # none of them admitted the ticket


def test_an_unexpected_failure_after_the_write_answers_json_500_and_admits_nobody(
    app, client, world, door, monkeypatch
):
    kiosk, code, _ = door

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("server.door.scan.announce", broken)  # after the admitted row is written
    monkeypatch.setattr("server.checkins.counts.announce", broken)
    response = client.post(f"/api/v1/{kiosk.slug}/checkins", json={"code": code}, headers=kiosk.headers)

    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "database" not in response.get_data(as_text=True)
    assert _checkins(app, world.a) == []  # rolled back
    monkeypatch.undo()
    assert scan(client, kiosk, code)["result"] == "ok"


def test_the_door_app_is_what_answers_a_scan(app, client, door, monkeypatch):
    """Flask's rule for the path only documents it: unmounted, the door's every scan fails."""
    from server.door.app import DoorMount

    kiosk, code, _ = door
    monkeypatch.setattr(DoorMount, "__call__", lambda self, environ, start: self.wsgi_app(environ, start))

    response = client.post(f"/api/v1/{kiosk.slug}/checkins", json={"code": code}, headers=kiosk.headers)

    assert response.status_code == 500
    monkeypatch.undo()
    assert scan(client, kiosk, code)["result"] == "ok"


def test_a_ticket_signed_by_a_retired_key_is_refused_at_the_door(app, client, world, door):
    """The door matches the whole code against the database instead of checking its signature; a
    retired (leaked) key must still make its codes invalid there."""
    kiosk, code, _ = door
    with app.app_context(), tenant_scope(world.a.id):
        codes.retire_key(db.session.scalar(select(SigningKey)))
        db.session.commit()

    answer = scan(client, kiosk, code)

    assert answer["result"] == "invalid"
    assert "ticket" not in answer


def test_an_escort_code_with_a_forged_signature_is_only_invalid(app, client, world, door):
    from tests.kiosk.test_groups import make_group

    kiosk, _, event = door
    _, escort_code, _ = make_group(app, world, world.a, event, size=1)
    forged = escort_code[:-6] + ("AAAAAA" if not escort_code.endswith("AAAAAA") else "BBBBBB")

    answer = scan(client, kiosk, forged)

    assert answer == {"result": "invalid", "message": "Билет недействителен"}


def test_a_code_naming_a_real_ticket_with_another_signature_admits_nobody(app, client, world, door):
    kiosk, code, _ = door
    forged = code[:-6] + ("AAAAAA" if not code.endswith("AAAAAA") else "BBBBBB")

    answers = [scan(client, kiosk, forged), scan(client, kiosk, forged.lower())]

    assert {a["result"] for a in answers} == {"invalid"}
    with app.app_context(), tenant_scope(world.a.id):
        assert db.session.scalar(select(Checkin).where(Checkin.ticket_id.is_not(None))) is None
    assert scan(client, kiosk, code)["result"] == "ok"


def test_an_online_events_ticket_at_its_venues_kiosk_is_sent_to_its_link(app, client, world):
    """Every rule but the format lets it in: the door's one-statement admission must refuse it too."""
    venue = world.venue(world.a)
    event = world.event(world.a, venue_id=venue, format="online", broadcast_url="https://example.ru/live")
    _, code = world.ticket(world.a, event)
    kiosk = paired_kiosk(client, world, world.a, venue)

    answer = scan(client, kiosk, code)

    assert answer["result"] == "wrong_venue"
    assert answer["message"] == "Это онлайн-событие: вход по личной ссылке"
    assert [row.result.value for row in _checkins(app, world.a)] == ["wrong_venue"]
