"""Headers and cookies: HSTS and Secure cookies over HTTPS, no-store on pages and JSON, a CSP that
lets sockets reach only our own host, broadcast links only https."""

from __future__ import annotations

import pytest

from server.security import CSP
from tests.conftest import bearer, login


def test_over_https_every_response_has_hsts_and_every_cookie_is_secure(client, world):
    email, _ = world.user(world.a)

    secure = client.application.test_client()
    answer = secure.post(
        "/login", data={"email": email, "password": "correct-horse-battery"}, base_url="https://localhost"
    )
    plain = client.post("/login", data={"email": email, "password": "correct-horse-battery"})

    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookies = answer.headers.getlist("Set-Cookie")
    assert cookies and all("; Secure" in cookie for cookie in cookies)
    assert "Strict-Transport-Security" not in plain.headers
    assert not any("; Secure" in cookie for cookie in plain.headers.getlist("Set-Cookie"))


def test_behind_a_trusted_proxy_https_is_recognised(world, make_app):
    app = make_app(TRUSTED_PROXIES=1)

    page = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})

    assert "Strict-Transport-Security" in page.headers


def test_pages_and_json_are_not_stored_but_static_files_may_be(client, world):
    email, token = world.user(world.a)
    login(client, email)

    page = client.get("/yaroslavl/events")
    api = client.get("/api/v1/yaroslavl/events", headers=bearer(token))
    with client.get("/static/css/app.css") as static:  # a file's response: closed, as a server closes it
        assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")

    assert page.headers["Cache-Control"] == "no-store"
    assert api.headers["Cache-Control"] == "no-store"


def test_csp_lets_sockets_reach_our_own_host_only(client, world):
    policy = client.get("/login").headers["Content-Security-Policy"]

    assert policy == CSP
    assert "connect-src 'self';" in policy
    assert "ws:" not in policy and "wss:" not in policy


def _event_body(venue: int, link: str) -> dict:
    return {
        "title": "Онлайн-проба",
        "programme": "trial",
        "format": "online",
        "venue_id": venue,
        "starts_at": "2026-12-01T10:00:00",
        "ends_at": "2026-12-01T12:00:00",
        "capacity": 20,
        "grade_min": 6,
        "grade_max": 11,
        "broadcast_url": link,
    }


@pytest.mark.parametrize(
    ("link", "status"),
    [
        ("https://vk.com/video-1_2", 201),
        ("http://vk.com/video-1_2", 422),
        ("javascript:alert(1)", 422),
        ("https:///nohost", 422),
        ("data:text/html,hi", 422),
    ],
)
def test_a_broadcast_link_is_https_only(client, world, link, status):
    _, token = world.user(world.a)
    venue = world.venue(world.a)

    response = client.post("/api/v1/yaroslavl/events", headers=bearer(token), json=_event_body(venue, link))

    assert response.status_code == status
    if status == 422:
        assert response.get_json()["error"]["code"] == "invalid_broadcast_url"
