"""Two doors, one ticket, the same instant: the database lets exactly one admission through."""

from __future__ import annotations

import threading

import requests
from sqlalchemy import func, select

from server.checkins.models import Checkin, ScanResult
from server.database import utcnow
from server.extensions import db
from tenants.scoping import tenant_scope
from tests.kiosk.helpers import paired_kiosk
from tests.kiosk.test_checkins import _venue_of

THREADS = 24


def _race(url: str, calls: list[tuple[str, dict]]) -> list[dict]:
    """Fire every call at once (a barrier releases them together), each over its own HTTP connection."""
    return _race_each([(url, token, body) for token, body in calls])


def _race_each(calls: list[tuple[str, str, dict]]) -> list[dict]:
    barrier = threading.Barrier(len(calls))
    answers: list[dict | None] = [None] * len(calls)

    def run(i: int, url: str, token: str, body: dict) -> None:
        with requests.Session() as http:
            barrier.wait()
            response = http.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)
            answers[i] = {"status": response.status_code, **response.json()}

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_same_ticket_at_many_doors_at_once_is_admitted_exactly_once(app, client, world, live_server):
    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    ticket_id, code = world.ticket(world.a, event)
    doors = [paired_kiosk(client, world, world.a, venue, f"Вход {i}") for i in range(4)]

    answers = _race(
        f"{live_server}/api/v1/yaroslavl/checkins",
        [(doors[i % 4].token, {"code": code}) for i in range(THREADS)],
    )

    assert {a["status"] for a in answers} == {200}
    results = sorted(a["result"] for a in answers)
    assert results.count("ok") == 1
    assert results.count("already_checked_in") == THREADS - 1
    with app.app_context(), tenant_scope(world.a.id):
        admitted = db.session.scalar(
            select(func.count()).where(Checkin.ticket_id == ticket_id, Checkin.result == ScanResult.OK)
        )
        logged = db.session.scalar(select(func.count()).where(Checkin.ticket_id == ticket_id))
    assert admitted == 1
    assert logged == THREADS


def test_a_retried_scan_id_racing_itself_gets_one_answer(app, client, world, live_server):
    event = world.event(world.a)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    _, code = world.ticket(world.a, event)

    answers = _race(
        f"{live_server}/api/v1/yaroslavl/checkins",
        [(kiosk.token, {"code": code, "scan_id": "retry-0000-0001"}) for _ in range(THREADS)],
    )

    assert {a["status"] for a in answers} == {200}
    assert {a["result"] for a in answers} == {"ok"}
    assert len({a["checked_in_at"] for a in answers}) == 1
    with app.app_context(), tenant_scope(world.a.id):
        assert db.session.scalar(select(func.count()).select_from(Checkin)) == 1


def test_doors_and_offline_syncs_racing_over_the_same_tickets_keep_counts_exact(
    app, client, world, live_server
):
    """Single scans and whole offline queues (one transaction each) over the same tickets at once:
    no deadlock, every ticket admitted once, and the event's count equals its admitted rows."""
    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    tickets = [world.ticket(world.a, event) for _ in range(16)]
    doors = [paired_kiosk(client, world, world.a, venue, f"Вход {i}") for i in range(4)]
    moment = utcnow().isoformat()
    singles = [(doors[i % 4].token, {"code": code}) for i, (_, code) in enumerate(tickets)]
    queues = [
        (
            door.token,
            {
                "items": [
                    {"code": code, "scan_id": f"off-{n}-{i:08d}", "scanned_at": moment}
                    for i, (_, code) in enumerate(tickets[::-1] if n % 2 else tickets)
                ]
            },
        )
        for n, door in enumerate(doors)
    ]
    base = f"{live_server}/api/v1/yaroslavl/checkins"
    answers = _race_each([(base, *call) for call in singles] + [(base + "/bulk", *q) for q in queues])

    assert {a["status"] for a in answers} == {200}
    ok = sum(a["result"] == "ok" for a in answers[: len(singles)])
    ok += sum(item["result"] == "ok" for a in answers[len(singles) :] for item in a["results"])
    assert ok == len(tickets)
    today = client.get("/api/v1/yaroslavl/kiosk/today", headers=doors[0].headers).get_json()
    with app.app_context(), tenant_scope(world.a.id):
        rows = db.session.scalar(
            select(func.count()).where(Checkin.event_id == event, Checkin.result == ScanResult.OK)
        )
    assert rows == len(tickets)
    assert [e["checked_in"] for e in today["events"] if e["id"] == event] == [len(tickets)]
