"""1,000 unauthenticated WebSocket connections do not take gunicorn down: logins, pages and kiosk
scans still answer, and the connections that got a socket are closed within the join time."""

from __future__ import annotations

import re
import socket
import time

import pytest
import requests

from tests.conftest import PASSWORD, _free_port
from tests.kiosk.helpers import paired_kiosk
from tests.kiosk.test_checkins import _venue_of
from tests.production import start_gunicorn

FLOOD = 1000
JOIN_SECONDS = 2
UPGRADE = (
    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
)


def _wait_until_up(base: str) -> None:
    for _ in range(300):
        try:
            requests.get(f"{base}/login", timeout=30)
            return
        except requests.ConnectionError:
            time.sleep(0.1)


def _flood(port: int) -> list[socket.socket]:
    """Open WebSockets that never join a namespace and never answer: as cheap as an attack gets."""
    held = []
    for _ in range(FLOOD):
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        connection.sendall(UPGRADE.format(port=port).encode())
        held.append(connection)
    return held


def _read_all(connection: socket.socket) -> tuple[bytes, bool]:
    """What the server sent so far, and whether it has closed the connection."""
    connection.setblocking(False)
    data = b""
    try:
        while chunk := connection.recv(65536):
            data += chunk
        return data, True
    except BlockingIOError:
        return data, False
    except ConnectionResetError:
        return data, True


@pytest.mark.slow
def test_a_thousand_idle_websockets_do_not_stop_logins_pages_or_scans(app, client, world, database_url):
    event = world.event(world.a)
    _, code = world.ticket(world.a, event)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    email, _ = world.user(world.a)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # One client address for all: the per-client limit would refuse most at once, so it is lifted
    # here to prove the total bound and the join time (the per-client limit has its own test).
    process = start_gunicorn(
        database_url, port, SOCKETIO_MAX_PER_CLIENT="100000", SOCKETIO_JOIN_SECONDS=str(JOIN_SECONDS)
    )
    held: list[socket.socket] = []
    try:
        _wait_until_up(base)
        held = _flood(port)
        time.sleep(0.5)

        started = time.monotonic()
        browser = requests.Session()
        page = browser.get(f"{base}/login", timeout=20)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        logged_in = browser.post(
            f"{base}/login",
            data={"csrf_token": token, "email": email, "password": PASSWORD},
            timeout=20,
            allow_redirects=False,
        )
        scanned = requests.post(
            f"{base}/api/v1/{kiosk.slug}/checkins", json={"code": code}, headers=kiosk.headers, timeout=20
        )
        answered_in = time.monotonic() - started

        assert page.status_code == 200
        assert logged_in.status_code == 302
        assert scanned.status_code == 200 and scanned.json()["result"] == "ok"
        # Unbounded, 400 such sockets held every thread until the ping timeout (45 s) and beyond.
        assert answered_in < 10, answered_in

        time.sleep(JOIN_SECONDS + 3)
        seen = [_read_all(connection) for connection in held]
        upgraded = [(data, closed) for data, closed in seen if data.startswith(b"HTTP/1.1 101")]
        assert upgraded
        still_open = [data for data, closed in upgraded if not closed]
        assert not still_open, f"{len(still_open)} WebSockets still open past the join time: {still_open[:1]}"
    finally:
        for connection in held:
            connection.close()
        process.terminate()
        process.wait(timeout=20)
