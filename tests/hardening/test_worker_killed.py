"""A gunicorn worker killed with SIGKILL in the middle of a check-in load loses nothing and invents
nothing: every `ok` a kiosk got is in the database once, and the database holds no other admission."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from server.catalog.models import AdmissionCount
from server.checkins.models import Checkin, ScanResult
from server.extensions import db
from server.tickets.models import Ticket
from tenants.scoping import tenant_scope
from tests.conftest import POSTGRES, _free_port
from tests.kiosk.helpers import paired_kiosk
from tests.kiosk.test_checkins import _venue_of
from tests.production import start_gunicorn

KIOSKS = 4
TICKETS_EACH = 60


def _workers(master: int) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def _scan_all(base: str, kiosk, codes: list[str], answers: list[tuple[str, str]]) -> None:
    """One door: each ticket scanned once, with a scan id; a scan cut off by the kill is sent again
    with the same scan id, as the kiosk's queue does, so the server answers it once."""
    session = requests.Session()
    for code in codes:
        scan_id = uuid.uuid4().hex
        for _ in range(200):
            try:
                response = session.post(
                    f"{base}/api/v1/{kiosk.slug}/checkins",
                    json={"code": code, "scan_id": scan_id},
                    headers=kiosk.headers,
                    timeout=10,
                )
            except requests.RequestException:
                session = requests.Session()
                time.sleep(0.05)
                continue
            if response.status_code == 200:
                answers.append((code, response.json()["result"]))
                break
            time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.skipif(not POSTGRES, reason="the door's autocommit lane runs on PostgreSQL")
@pytest.mark.skipif(not Path("/proc").exists(), reason="finds gunicorn's workers in Linux /proc")
def test_a_worker_killed_mid_load_loses_and_invents_no_admission(app, client, world, database_url):
    event = world.event(world.a, capacity=KIOSKS * TICKETS_EACH)
    venue = _venue_of(app, world.a, event)
    kiosks = [paired_kiosk(client, world, world.a, venue, name=f"Вход {n}") for n in range(KIOSKS)]
    groups = [world.class_group(world.a, event, size=TICKETS_EACH)[2] for _ in range(KIOSKS)]
    with app.app_context(), tenant_scope(world.a.id):
        code_of = dict(
            db.session.execute(select(Ticket.id, Ticket.code).where(Ticket.event_id == event)).all()
        )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    master = start_gunicorn(
        database_url, port, GUNICORN_WORKERS="2", GUNICORN_THREADS="8", REQUEST_CONCURRENCY="2"
    )
    answers: list[tuple[str, str]] = []
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/healthz", timeout=30)
                if len(_workers(master.pid)) == 2:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        doors = [
            threading.Thread(target=_scan_all, args=(base, k, [code_of[t] for t in g], answers))
            for k, g in zip(kiosks, groups, strict=True)
        ]
        for door in doors:
            door.start()
        while len(answers) < KIOSKS * TICKETS_EACH // 4:  # a quarter through
            time.sleep(0.01)
        victim = _workers(master.pid)[0]
        os.kill(victim, signal.SIGKILL)
        for door in doors:
            door.join(timeout=120)
        assert victim not in _workers(master.pid)
    finally:
        master.terminate()
        master.wait(timeout=20)

    got_ok = Counter(code for code, result in answers if result == "ok")
    with app.app_context(), tenant_scope(world.a.id):
        admitted = Counter(
            db.session.scalars(
                select(Ticket.code)
                .join(Checkin, Checkin.ticket_id == Ticket.id)
                .where(Checkin.event_id == event, Checkin.result == ScanResult.OK)
            )
        )
        counted = db.session.scalar(
            select(func.coalesce(func.sum(AdmissionCount.admitted), 0)).where(
                AdmissionCount.event_id == event
            )
        )
    assert len(answers) == KIOSKS * TICKETS_EACH  # every door got an answer for every ticket
    assert set(got_ok) == set(code_of.values())  # each ticket scanned once was admitted
    assert max(got_ok.values()) == 1
    assert admitted == got_ok  # in the database once each, and nothing else
    assert counted == len(got_ok)
