"""Platform admin: regions from the registry, first coordinators, size and activity, suspension."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server.accounts.models import Role
from server.accounts.services import find_user
from server.audit.models import AuditEntry
from server.extensions import db
from tenants.models import Tenant
from tenants.scoping import tenant_scope
from tests.accounts.helpers import accept, last_link, letters
from tests.conftest import bearer, login
from tests.kiosk.helpers import paired_kiosk


def _admin(app, client, world) -> str:
    email, _ = world.user(None, None)
    with app.app_context():
        from server.accounts.services import find_user

        find_user(email).is_platform_admin = True
        db.session.commit()
    login(client, email)
    return email


def test_only_platform_admins_see_the_admin_pages(client, world):
    email, _ = world.user(world.a)
    login(client, email)
    for path in ("/admin/regions", "/admin/regions/new", f"/admin/regions/{world.a.id}/suspend"):
        assert client.get(path).status_code == 404
    assert client.post(f"/admin/regions/{world.a.id}/suspend").status_code == 404
    anonymous = client.application.test_client()
    assert anonymous.get("/admin/regions").status_code == 302


def test_a_region_is_created_from_the_registry_with_its_first_coordinators(app, client, world):
    _admin(app, client, world)
    form = client.get("/admin/regions/new").get_data(as_text=True)
    assert 'data-name="Новосибирская область"' in form and 'data-timezone="Asia/Novosibirsk"' in form
    assert 'value="yaroslavl"' not in form  # regions that exist are not offered again
    prefilled = client.get("/admin/regions/new?slug=novosibirsk").get_data(as_text=True)
    assert 'value="Asia/Novosibirsk"' in prefilled
    response = client.post(
        "/admin/regions/new",
        data={
            "slug": "novosibirsk",
            "name": "",
            "timezone": "",
            "coordinators": "copp@example.ru\nresurs@example.ru",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "novosibirsk"))
        assert (tenant.name, tenant.timezone, tenant.region_code) == (
            "Новосибирская область",
            "Asia/Novosibirsk",
            "54",
        )
        with tenant_scope(tenant.id):
            actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert [a for a in actions if a != "user.role_granted"] == ["region.create", "user.invite", "user.invite"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "copp@example.ru" in page and "приглашён" in page

    path = last_link(app, "copp@example.ru")
    coordinator = app.test_client()
    assert accept(coordinator, path).status_code == 302
    assert coordinator.get("/").headers["Location"].endswith("/novosibirsk/")
    assert coordinator.get("/novosibirsk/venues").status_code == 200
    assert coordinator.get("/yaroslavl/venues").status_code == 404


def test_create_region_refuses_bad_input_in_russian(app, client, world):
    _admin(app, client, world)
    taken = client.post("/admin/regions/new", data={"slug": "yaroslavl"})
    assert taken.status_code == 422
    bad_zone = client.post("/admin/regions/new", data={"slug": "tomsk", "timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 422 and "Неизвестный часовой пояс" in bad_zone.get_data(as_text=True)
    bad_mail = client.post("/admin/regions/new", data={"slug": "tomsk", "coordinators": "not-an-address"})
    assert "Некорректный адрес" in bad_mail.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Tenant).where(Tenant.slug == "tomsk")) is None


def test_region_list_shows_size_and_activity(app, client, world):
    event = world.event(world.a)
    world.ticket(world.a, event)
    world.ticket(world.a, event)
    world.school(world.b)
    _admin(app, client, world)
    page = client.get("/admin/regions").get_data(as_text=True)
    yaroslavl = page[
        page.index("Ярославская область") : page.index("</tr>", page.index("Ярославская область"))
    ]
    cells = [c.split("<")[0] for c in yaroslavl.split('<td class="num">')[1:]]
    # municipalities, schools, venues, people, events, tickets, week's tickets / check-ins
    assert cells[:6] == ["2", "2", "1", "0", "1", "2"] and cells[6].startswith("2 / 0")
    assert "Иркутская область" in page


def test_region_list_names_time_zones_in_russian_and_shows_times_in_moscow_time_marked(app, client, world):
    """The operator's pages belong to no region: a time there is Moscow time and says so, not UTC."""
    email, _ = world.user(world.a, Role.COORDINATOR)
    with app.app_context():
        find_user(email).last_seen_at = datetime(2026, 11, 20, 7, 5, tzinfo=UTC)
        db.session.commit()
    _admin(app, client, world)
    page = client.get("/admin/regions").get_data(as_text=True)
    assert "20 ноября, пт, 10:05 МСК" in page
    assert "Москва (МСК)" in page and "Europe/Moscow" not in page
    assert "Europe/Moscow" not in client.get(f"/admin/regions/{world.a.id}").get_data(as_text=True)
    english = client.get("/admin/regions?lang=en").get_data(as_text=True)
    assert "Fri, November 20, 10:05 MSK" in english


def test_admin_invites_a_coordinator_into_an_existing_region(app, client, world):
    _admin(app, client, world)
    response = client.post(f"/admin/regions/{world.a.id}", data={"email": "new-copp@example.ru"})
    assert response.status_code == 302
    (letter,) = letters(app, "new-copp@example.ru")
    assert letter.tenant_id == world.a.id and "Региональный координатор" in letter.body_text


@pytest.fixture
def suspended_world(app, client, world):
    """Region a with a coordinator (session and token), a paired kiosk and a ticket; then suspended."""
    event = world.event(world.a)
    _, code = world.ticket(world.a, event)
    email, token = world.user(world.a)
    member = app.test_client()
    login(member, email)
    with app.app_context(), tenant_scope(world.a.id):
        from server.catalog.models import Event

        venue = db.session.get(Event, event).venue_id
    kiosk = paired_kiosk(client, world, world.a, venue)
    _admin(app, client, world)
    confirm = client.get(f"/admin/regions/{world.a.id}/suspend")
    assert confirm.status_code == 200 and "Ничего не удаляется" in confirm.get_data(as_text=True)
    assert client.post(f"/admin/regions/{world.a.id}/suspend").status_code == 302
    return {"member": member, "token": token, "kiosk": kiosk, "code": code, "event": event}


def test_a_suspended_region_refuses_pages_api_and_kiosks_with_a_clear_message(
    app, client, world, suspended_world
):
    page = suspended_world["member"].get("/yaroslavl/events")
    assert page.status_code == 403
    assert "Работа региона «Ярославская область» приостановлена" in page.get_data(as_text=True)
    api = client.get("/api/v1/yaroslavl/venues", headers=bearer(suspended_world["token"]))
    assert api.status_code == 403 and api.json["error"]["code"] == "region_suspended"
    kiosk = suspended_world["kiosk"]
    scan = client.post(
        "/api/v1/yaroslavl/checkins", json={"code": suspended_world["code"]}, headers=kiosk.headers
    )
    assert scan.status_code == 403 and scan.json["error"]["code"] == "region_suspended"
    assert "приостановлена" in scan.json["error"]["message"]
    # region b works on
    _, token_b = world.user(world.b)
    assert client.get("/api/v1/irkutsk/venues", headers=bearer(token_b)).status_code == 200
    assert "приостановлен" in client.get("/admin/regions").get_data(as_text=True)


def test_suspension_deletes_nothing_and_resuming_restores_everything(app, client, world, suspended_world):
    assert client.post(f"/admin/regions/{world.a.id}/resume").status_code == 302
    assert suspended_world["member"].get("/yaroslavl/events").status_code == 200
    kiosk = suspended_world["kiosk"]
    scan = client.post(
        "/api/v1/yaroslavl/checkins", json={"code": suspended_world["code"]}, headers=kiosk.headers
    )
    assert scan.status_code == 200 and scan.json["result"] == "ok"
    with app.app_context(), tenant_scope(world.a.id):
        actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert "region.suspend" in actions and "region.resume" in actions


def test_a_suspended_region_refuses_kiosk_pairing(app, client, world):
    from tests.kiosk.helpers import create_kiosk

    venue = world.venue(world.a)
    created = create_kiosk(client, world, world.a, venue)
    admin = app.test_client()
    _admin(app, admin, world)
    admin.post(f"/admin/regions/{world.a.id}/suspend")
    response = client.post("/api/v1/kiosk/pair", json={"pairing_code": created["pairing_code"]})
    assert response.status_code == 403 and response.json["error"]["code"] == "region_suspended"


def test_a_suspended_region_refuses_its_live_stream(app, world, live_server):
    from tests.live.support import connect_live

    _, token = world.user(world.a)
    listener = connect_live(live_server, "yaroslavl", token, transport="polling")
    assert listener is not None
    listener.close()
    admin = app.test_client()
    _admin(app, admin, world)
    admin.post(f"/admin/regions/{world.a.id}/suspend")
    assert connect_live(live_server, "yaroslavl", token, transport="polling") is None
    _, token_b = world.user(world.b, Role.COORDINATOR)
    other = connect_live(live_server, "irkutsk", token_b, transport="polling")
    assert other is not None
    other.close()
