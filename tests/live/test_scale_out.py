"""Several server processes: Redis carries check-ins between them; without Redis, admissions still stand.

These start real `gunicorn wsgi:app` processes against the tests' database (`slow`).
"""

from __future__ import annotations

import time

import pytest
import requests

from server.accounts.models import Role
from tests.conftest import POSTGRES, REDIS_URL, _free_port, bearer
from tests.live.support import Gunicorn, LiveListener, connect_live, kiosk_token


def _admit(server: Gunicorn, kiosk: str, code: str) -> tuple[dict, float]:
    started = time.monotonic()
    response = requests.post(
        f"{server.url}/api/v1/yaroslavl/checkins", json={"code": code}, headers=bearer(kiosk), timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json(), time.monotonic() - started


def _setup(world):
    venue_id = world.venue(world.a)
    event_id = world.event(world.a, venue_id=venue_id)
    tickets = [world.ticket(world.a, event_id) for _ in range(3)]
    return event_id, tickets, kiosk_token(world, world.a, venue_id)


@pytest.mark.slow
@pytest.mark.skipif(not (REDIS_URL and POSTGRES), reason="needs REDIS_URL and a PostgreSQL DATABASE_URL")
def test_checkin_admitted_on_one_process_reaches_a_dashboard_on_another(app, world, database_url):
    event_id, tickets, kiosk = _setup(world)
    servers = [Gunicorn(database_url, REDIS_URL), Gunicorn(database_url, REDIS_URL)]
    listeners: list[LiveListener] = []
    try:
        for server in servers:
            server.wait_ready()
        watcher = connect_live(servers[0].url, "yaroslavl", world.user(world.a, Role.COORDINATOR)[1])
        stranger = connect_live(servers[0].url, "irkutsk", world.user(world.b, Role.COORDINATOR)[1])
        listeners += [watcher, stranger]
        assert watcher.wait_for("snapshot")[0]["totals"]["registered"] == 3
        time.sleep(0.3)  # both processes' Redis listeners are subscribed by now

        answer, _ = _admit(servers[1], kiosk, tickets[0][1])
        assert answer["result"] == "ok"

        (message,) = watcher.wait_for("checkin", timeout=5)
        assert (message["event_id"], message["ticket_id"], message["checked_in"]) == (
            event_id,
            answer["ticket"]["id"],
            1,
        )
        time.sleep(0.3)
        assert stranger.events["checkin"] == []
    finally:
        for listener in listeners:
            listener.close()
        for server in servers:
            server.stop()


@pytest.mark.slow
def test_admissions_stand_when_redis_is_down_and_dashboards_catch_up_on_snapshot(app, world, database_url):
    """Redis unreachable from the start: scans answer at once, and a reconnecting dashboard is exact."""
    dead_redis = f"redis://127.0.0.1:{_free_port()}/3"  # nothing listens there
    event_id, tickets, kiosk = _setup(world)
    _, token = world.user(world.a, Role.COORDINATOR)
    servers = [Gunicorn(database_url, dead_redis), Gunicorn(database_url, dead_redis)]
    listeners: list[LiveListener] = []
    try:
        for server in servers:
            server.wait_ready()
        watcher = connect_live(servers[0].url, "yaroslavl", token)
        listeners.append(watcher)
        assert watcher.wait_for("snapshot")[0]["totals"]["checked_in"] == 0

        local, local_took = _admit(servers[0], kiosk, tickets[0][1])  # same process as the dashboard
        remote, remote_took = _admit(servers[1], kiosk, tickets[1][1])  # another process: Redis needed
        assert local["result"] == remote["result"] == "ok"
        assert local_took < 1 and remote_took < 1
        # the dashboard's own process still delivers its own admissions
        assert watcher.wait_for("checkin")[0]["ticket_id"] == local["ticket"]["id"]

        again = connect_live(servers[0].url, "yaroslavl", token)  # the page reconnects (or refreshes)
        listeners.append(again)
        snapshot = again.wait_for("snapshot")[0]
        assert snapshot["totals"]["checked_in"] == 2
        assert {e["id"]: e["checked_in"] for e in snapshot["events"]} == {event_id: 2}
    finally:
        for listener in listeners:
            listener.close()
        for server in servers:
            server.stop()
