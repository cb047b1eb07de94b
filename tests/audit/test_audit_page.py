"""The coordinator's audit log: admissions (kiosk, manual, offline sync), cancellations, kiosk pair and
revoke, exports, user and role changes, consent given and withdrawn, erasures — with filters."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from server.accounts.models import Role
from server.database import utcnow
from server.extensions import db
from server.tickets.models import Ticket
from tests.conftest import bearer, login
from tests.kiosk.helpers import paired_kiosk, scan
from tests.tickets.helpers import region


def _actions(html: str) -> list[str]:
    return re.findall(r'<tr data-kind="[a-z]+"><td class="nowrap">[^<]*</td><td>([^<]*)</td>', html)


def _a_day_of_a_region(app, client, world):
    venue = world.venue(world.a)
    event = world.event(world.a, venue_id=venue)
    later = world.event(world.a, starts_at=utcnow() + timedelta(days=2))
    kiosk = paired_kiosk(client, world, world.a, venue)
    scanned, code = world.ticket(world.a, event)
    manual, _ = world.ticket(world.a, event)
    offline, offline_code = world.ticket(world.a, event)
    cancelled, _ = world.ticket(world.a, later)
    withdrawn, _ = world.ticket(world.a, later)
    assert scan(client, kiosk, code)["result"] == "ok"
    assert (
        client.post(
            "/api/v1/yaroslavl/kiosk/manual", json={"ticket_id": manual}, headers=kiosk.headers
        ).get_json()["result"]
        == "ok"
    )
    at = (utcnow() - timedelta(minutes=3)).replace(microsecond=0).isoformat()
    synced = client.post(
        "/api/v1/yaroslavl/checkins/bulk",
        json={"items": [{"code": offline_code, "scan_id": "off-audit-00001", "scanned_at": at}]},
        headers=kiosk.headers,
    )
    assert synced.get_json()["results"][0]["result"] == "ok"
    email, token = world.user(world.a, Role.COORDINATOR)
    assert client.delete(f"/api/v1/yaroslavl/tickets/{cancelled}", headers=bearer(token)).status_code < 300
    assert client.post(f"/api/v1/yaroslavl/kiosks/{kiosk.id}/revoke", headers=bearer(token)).status_code < 300
    with region(app, world.a):
        access = db.session.scalar(select(Ticket.access_token).where(Ticket.id == withdrawn))
    assert client.post(f"/yaroslavl/t/{access}/withdraw", data={"confirm": "1"}).status_code == 200
    login(client, email)
    assert client.get(f"/yaroslavl/events/{event}/attendance.csv").status_code == 200
    return event


def test_the_coordinator_sees_every_kind_of_action_and_filters_them(app, client, world):
    _a_day_of_a_region(app, client, world)
    everything = _actions(client.get("/yaroslavl/audit").get_data(as_text=True))
    for action in (
        "проход по QR на киоске",
        "проход вручную (по фамилии)",
        "проход офлайн (синхронизирован)",
        "билет отменён",
        "киоск создан",
        "киоск привязан",
        "киоск отозван",
        "выгрузка отчёта",
        "выдана роль",
        "согласие дано",
        "согласие отозвано",
        "данные удалены",
    ):
        assert action in everything, action

    offline = _actions(client.get("/yaroslavl/audit?kind=admissions&method=offline").get_data(as_text=True))
    assert offline == ["проход офлайн (синхронизирован)"]
    admissions = _actions(client.get("/yaroslavl/audit?kind=admissions").get_data(as_text=True))
    assert sorted(admissions) == sorted(
        ["проход по QR на киоске", "проход вручную (по фамилии)", "проход офлайн (синхронизирован)"]
    )
    assert _actions(client.get("/yaroslavl/audit?kind=exports").get_data(as_text=True)) == [
        "выгрузка отчёта"
    ]
    kiosks = _actions(client.get("/yaroslavl/audit?kind=kiosks").get_data(as_text=True))
    assert {"киоск создан", "киоск привязан", "киоск отозван"} == set(kiosks)
    consent = _actions(client.get("/yaroslavl/audit?kind=consent").get_data(as_text=True))
    assert consent.count("согласие дано") == 5 and consent.count("согласие отозвано") == 1
    assert _actions(client.get("/yaroslavl/audit?kind=erasures").get_data(as_text=True)) == ["данные удалены"]
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    assert _actions(client.get(f"/yaroslavl/audit?from={tomorrow}").get_data(as_text=True)) == []
    # Unreadable filters are no filters, never an error.
    assert client.get("/yaroslavl/audit?kind=nope&method=x&from=31.12").status_code == 200


def test_the_audit_log_is_the_coordinators_and_the_regions_own(app, client, world):
    _a_day_of_a_region(app, client, world)
    other, _ = world.user(world.b, Role.COORDINATOR)
    login(client, other)
    assert _actions(client.get("/irkutsk/audit").get_data(as_text=True)) == ["выдана роль"]
    assert client.get("/yaroslavl/audit").status_code == 404
    school_staff, _ = world.user(world.a, Role.SCHOOL, school_id=world.school(world.a))
    login(client, school_staff)
    assert client.get("/yaroslavl/audit").status_code == 403
