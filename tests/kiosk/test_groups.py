"""A class arrives with its teacher: escort QR → checklist → each child admitted; who left with them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.checkins.models import AdmissionMethod, Checkin, ScanResult
from server.database import utcnow
from server.extensions import db
from server.tickets.models import Ticket
from tenants.scoping import tenant_scope
from tests.conftest import login
from tests.kiosk.helpers import paired_kiosk
from tests.kiosk.test_checkins import _venue_of


def make_group(app, world, region, event_id: int, size: int = 3, label: str = "8А"):
    """A class registered from a list, from a named school; returns (group id, escort code, ticket ids)."""
    school = world.school(region, name=f"Гимназия {label}")
    return world.class_group(region, event_id, school_id=school, size=size, label=label)


def test_escort_qr_opens_checklist_and_admits_each_child(app, client, world):
    event = world.event(world.a)
    group_id, escort, ticket_ids = make_group(app, world, world.a, event, size=3)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    base = f"/api/v1/{kiosk.slug}/kiosk/groups"

    sheet = client.post(f"{base}/open", json={"code": escort}, headers=kiosk.headers).get_json()
    admitted = client.post(
        f"{base}/{group_id}/admit", json={"ticket_ids": ticket_ids[:2]}, headers=kiosk.headers
    ).get_json()
    all_again = client.post(
        f"{base}/{group_id}/admit", json={"ticket_ids": ticket_ids}, headers=kiosk.headers
    )

    assert sheet["group"]["label"] == "8А"
    assert sheet["group"]["school"] == "Гимназия 8А"
    assert len(sheet["students"]) == 3
    assert all(s["checked_in_at"] is None for s in sheet["students"])
    assert [r["result"] for r in admitted["results"]] == ["ok", "ok"]
    assert sorted(r["result"] for r in all_again.get_json()["results"]) == ["already_checked_in"] * 2 + ["ok"]
    with app.app_context(), tenant_scope(world.a.id):
        rows = db.session.scalars(select(Checkin).where(Checkin.result == ScanResult.OK)).all()
        assert sorted(r.ticket_id for r in rows) == sorted(ticket_ids)
        assert {r.method for r in rows} == {AdmissionMethod.GROUP}


def test_escort_of_another_venue_is_refused(app, client, world):
    event = world.event(world.a)
    _, escort, _ = make_group(app, world, world.a, event)
    kiosk = paired_kiosk(client, world, world.a, world.venue(world.a))

    response = client.post(
        f"/api/v1/{kiosk.slug}/kiosk/groups/open", json={"code": escort}, headers=kiosk.headers
    )

    assert response.status_code == 403
    assert "другую площадку" in response.get_json()["error"]["message"]


def test_coordinator_sees_children_not_marked_as_left_after_the_event(app, client, world):
    event = world.event(world.a, starts_at=utcnow() - timedelta(minutes=30), hours=1)
    group_id, _, ticket_ids = make_group(app, world, world.a, event, size=3, label="9Б")
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    base = f"/api/v1/{kiosk.slug}/kiosk/groups/{group_id}"
    client.post(f"{base}/admit", json={"ticket_ids": ticket_ids}, headers=kiosk.headers)
    left = client.post(f"{base}/left", json={"ticket_ids": ticket_ids[:2]}, headers=kiosk.headers).get_json()
    assert left["marked"] == 2
    with app.app_context(), tenant_scope(world.a.id):
        from server.catalog.models import Event

        ev = db.session.scalar(select(Event).where(Event.id == event))
        ev.starts_at, ev.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
        db.session.commit()
        missing = db.session.scalar(select(Ticket).where(Ticket.id == ticket_ids[2]))
        missing_name = missing.student.short_name
    email, _ = world.user(world.a)
    login(client, email)

    page = client.get(f"/{world.a.slug}/kiosks").get_data(as_text=True)

    assert "Не отмечены как ушедшие" in page
    assert missing_name in page
    assert "9Б" in page
