"""Manual admission by surname, the personal join link of online events, the offline bundle."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.audit.models import AuditEntry
from server.checkins.models import AdmissionMethod, Checkin, ScanResult
from server.checkins.offline import code_hash, unseal
from server.database import utcnow
from server.extensions import db
from server.tickets.models import Ticket
from tenants.scoping import tenant_scope
from tests.kiosk.helpers import paired_kiosk, scan
from tests.kiosk.test_checkins import _cancel, _venue_of


def test_staff_find_by_surname_and_admit_with_one_tap_audited_as_manual(app, client, world):
    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    elsewhere = world.event(world.a)
    ticket_id, _ = world.ticket(world.a, event, last_name="Ёлкина", first_name="Алёна")
    world.ticket(world.a, event, last_name="Смирнов")
    world.ticket(world.a, elsewhere, last_name="Ёлкин")  # another venue: not offered
    kiosk = paired_kiosk(client, world, world.a, venue)
    base = f"/api/v1/{kiosk.slug}/kiosk"

    found = client.get(f"{base}/search?q=елк", headers=kiosk.headers).get_json()["items"]
    admitted = client.post(f"{base}/manual", json={"ticket_id": ticket_id}, headers=kiosk.headers).get_json()
    again = client.get(f"{base}/search?q=ЕЛКИНА", headers=kiosk.headers).get_json()["items"]

    assert [f["short_name"] for f in found] == ["Ёлкина А. П."]
    assert admitted["result"] == "ok" and admitted["ticket"]["short_name"] == "Ёлкина А. П."
    assert again[0]["checked_in_at"] is not None
    with app.app_context(), tenant_scope(world.a.id):
        checkin = db.session.scalar(select(Checkin).where(Checkin.ticket_id == ticket_id))
        assert checkin.method == AdmissionMethod.MANUAL and checkin.kiosk_id == kiosk.id
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "checkin.manual"))
        assert entry.object_id == ticket_id and entry.actor_kiosk_id == kiosk.id
        assert entry.details["result"] == "ok"


def test_opening_the_join_link_admits_nobody_until_the_button_is_pressed(app, client, world):
    """Messengers open links to draw a preview: a GET must not mark the child as present."""
    event = world.event(world.a, format="online", broadcast_url="https://vk.com/video-1_2")
    ticket_id, _ = world.ticket(world.a, event)
    with app.app_context(), tenant_scope(world.a.id):
        token = db.session.scalar(select(Ticket.access_token).where(Ticket.id == ticket_id))

    opened = [client.get(f"/yaroslavl/t/{token}/join") for _ in range(2)]

    page = opened[0].get_data(as_text=True)
    assert opened[0].status_code == 200 and "Подключиться к трансляции" in page
    assert '<form method="post"' in page and "vk.com" not in page
    with app.app_context(), tenant_scope(world.a.id):
        assert db.session.scalars(select(Checkin).where(Checkin.ticket_id == ticket_id)).all() == []


def test_join_link_admits_once_inside_the_window_and_forwards(app, client, world):
    event = world.event(world.a, format="online", broadcast_url="https://vk.com/video-1_2")
    ticket_id, _ = world.ticket(world.a, event)
    with app.app_context(), tenant_scope(world.a.id):
        token = db.session.scalar(select(Ticket.access_token).where(Ticket.id == ticket_id))

    first = client.post(f"/yaroslavl/t/{token}/join")
    second = client.post(f"/yaroslavl/t/{token}/join")

    assert first.status_code == 302 and first.headers["Location"] == "https://vk.com/video-1_2"
    assert second.status_code == 302
    with app.app_context(), tenant_scope(world.a.id):
        rows = db.session.scalars(select(Checkin).where(Checkin.ticket_id == ticket_id)).all()
        assert [(r.result, r.method) for r in rows] == [
            (ScanResult.OK, AdmissionMethod.ONLINE),
            (ScanResult.ALREADY_CHECKED_IN, AdmissionMethod.ONLINE),
        ]


def test_join_link_outside_the_window_or_cancelled_explains_in_russian(app, client, world):
    later = world.event(
        world.a, format="online", broadcast_url="https://vk.com/x", starts_at=utcnow() + timedelta(hours=5)
    )
    now = world.event(world.a, format="online", broadcast_url="https://vk.com/y")
    early_id, _ = world.ticket(world.a, later)
    cancelled_id, _ = world.ticket(world.a, now)
    _cancel(app, world.a, cancelled_id)
    with app.app_context(), tenant_scope(world.a.id):
        tokens = dict(db.session.execute(select(Ticket.id, Ticket.access_token)).all())

    early = client.post(f"/yaroslavl/t/{tokens[early_id]}/join")
    cancelled = client.post(f"/yaroslavl/t/{tokens[cancelled_id]}/join")
    stranger = client.post(f"/irkutsk/t/{tokens[early_id]}/join")

    assert early.status_code == 200 and "Вход ещё не открыт" in early.get_data(as_text=True)
    assert cancelled.status_code == 200 and "Билет аннулирован" in cancelled.get_data(as_text=True)
    assert stranger.status_code == 404


def test_offline_bundle_hides_names_until_the_code_is_shown(app, client, world):
    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    _, code = world.ticket(world.a, event, last_name="Тайнова")
    gone_id, gone_code = world.ticket(world.a, event)
    _cancel(app, world.a, gone_id)
    _, done_code = world.ticket(world.a, event)
    _, elsewhere_code = world.ticket(world.a, world.event(world.a))
    kiosk = paired_kiosk(client, world, world.a, venue)
    scan(client, kiosk, done_code)

    response = client.get(f"/api/v1/{kiosk.slug}/kiosk/offline", headers=kiosk.headers)

    raw = response.get_data(as_text=True)
    bundle = response.get_json()
    entries = {e["h"]: e for e in bundle["entries"]}
    assert "Тайнова" not in raw and code not in raw
    assert unseal(code, entries[code_hash(code)]["d"])["short_name"] == "Тайнова И. П."
    assert entries[code_hash(gone_code)] == {"h": code_hash(gone_code), "s": "cancelled"}
    assert "a" in entries[code_hash(done_code)]
    assert code_hash(elsewhere_code) not in entries
    assert bundle["tenant_id"] == world.a.id and bundle["keys"]
    assert [e["id"] for e in bundle["events"]] == [event]


def test_manual_admission_names_the_signed_in_member_of_staff(app, client, world):
    from server.accounts.models import Role, User
    from tests.conftest import login

    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    ticket_id, _ = world.ticket(world.a, event, last_name="Забывчивый")
    kiosk = paired_kiosk(client, world, world.a, venue)
    email, _ = world.user(world.a, role=Role.VENUE, venue_id=venue)
    login(client, email)

    answer = client.post(
        f"/api/v1/{kiosk.slug}/kiosk/manual", json={"ticket_id": ticket_id}, headers=kiosk.headers
    ).get_json()

    assert answer["result"] == "ok"
    with app.app_context(), tenant_scope(world.a.id):
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "checkin.manual"))
        checkin = db.session.scalar(select(Checkin).where(Checkin.ticket_id == ticket_id))
    assert entry.actor_user_id == user_id and entry.actor_kiosk_id == kiosk.id
    assert checkin.user_id == user_id
