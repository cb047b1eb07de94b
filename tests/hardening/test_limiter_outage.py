"""The rate limiter survives a Redis outage: limits are then counted in memory, nothing answers 500."""

from __future__ import annotations

import pytest

from server.extensions import limiter
from tests.conftest import PASSWORD, _free_port
from tests.kiosk.helpers import create_kiosk
from tests.tickets.test_registration import _url, body


@pytest.fixture
def redis_down(make_app):
    """An app whose limiter counts in a Redis nobody listens on; the shared limiter is put back after."""
    saved = dict(limiter.__dict__)
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_free_port()}/7",
        LOGIN_RATE_LIMIT="3 per minute",
    )
    yield app
    limiter.__dict__.clear()
    limiter.__dict__.update(saved)


def test_login_registration_and_pairing_answer_while_redis_is_down_and_limits_still_hold(world, redis_down):
    client = redis_down.test_client()
    email, _ = world.user(world.a)
    school = world.school(world.a)
    event = world.event(world.a)
    venue = world.venue(world.a)

    logins = [
        client.post("/login", data={"email": email, "password": "wrong" + PASSWORD}).status_code
        for _ in range(4)
    ]
    registered = client.post(_url(world, event), json=body(school)).status_code
    pairing = create_kiosk(client, world, world.a, venue)["pairing_code"]
    paired = client.post("/api/v1/kiosk/pair", json={"pairing_code": pairing}).status_code

    assert logins == [200, 200, 200, 429]
    assert registered == 201
    assert paired == 200
