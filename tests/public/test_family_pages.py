"""Families land on a public page: the region's open events with filters, seats for their municipality,
the way back to a ticket, staff sign-in; the consent names the region's operator."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.accounts.models import Role
from server.database import utcnow
from tests.conftest import login


def _titles(html: str) -> list[str]:
    return re.findall(r'data-event="\d+">\s*<strong>([^<]+)</strong>', html)


def test_start_page_lists_the_regions_and_staff_sign_in(client, world):
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ярославская область" in html and "Иркутская область" in html
    assert 'href="/login"' in html


def test_region_page_shows_open_events_with_filters_and_nothing_of_another_region(client, world):
    north, south = world.municipality(world.a, "Рыбинск"), world.municipality(world.a, "Тутаев")
    # 10:00 in Yaroslavl three days on: a 3-hour event started in the evening would run into the next
    # day and match that day's filter too (from 21:00 Moscow time the suite would see it there).
    moscow = ZoneInfo("Europe/Moscow")
    soon = datetime.combine((utcnow().astimezone(moscow) + timedelta(days=3)).date(), time(10), tzinfo=moscow)
    world.event(world.a, title="Проба сварщика", programme="trial", grades=(6, 9), starts_at=soon,
                capacity=10, quotas=[(north, 2)])  # fmt: skip
    world.event(world.a, title="ЕДОД онлайн", format="online", grades=(8, 11),
                starts_at=soon + timedelta(days=1), broadcast_url="https://example.org/live")  # fmt: skip
    world.event(world.a, title="Прошедшее", starts_at=utcnow() - timedelta(days=2))
    world.event(world.b, title="Иркутское событие")

    page = client.get("/yaroslavl/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert _titles(html) == ["Проба сварщика", "ЕДОД онлайн"]
    assert "Вход для сотрудников" in html and "Уже записались?" in html
    assert "Рыбинск" in html and "Тутаев" in html
    assert _titles(client.get("/yaroslavl/?programme=trial").get_data(as_text=True)) == ["Проба сварщика"]
    assert _titles(client.get("/yaroslavl/?format=online").get_data(as_text=True)) == ["ЕДОД онлайн"]
    assert _titles(client.get("/yaroslavl/?grade=11").get_data(as_text=True)) == ["ЕДОД онлайн"]
    day = (soon + timedelta(days=1)).date().isoformat()
    assert _titles(client.get(f"/yaroslavl/?date={day}").get_data(as_text=True)) == ["ЕДОД онлайн"]
    assert _titles(client.get("/yaroslavl/?grade=zz&format=nope").get_data(as_text=True)) == [
        "Проба сварщика", "ЕДОД онлайн"
    ]  # fmt: skip

    # Seats where quotas apply: 2 for Рыбинск's families, 8 for everybody else's.
    quota_page = client.get(f"/yaroslavl/?programme=trial&municipality={north}").get_data(as_text=True)
    assert 'data-seats="2"' in quota_page and "для вашего муниципалитета" in quota_page
    other_page = client.get(f"/yaroslavl/?programme=trial&municipality={south}").get_data(as_text=True)
    assert 'data-seats="8"' in other_page


def test_a_ticket_opened_on_this_device_is_one_click_away_from_the_region_page(client, world):
    event = world.event(world.a, title="ЕДОД в колледже", starts_at=utcnow() + timedelta(days=2))
    ticket_id, _ = world.ticket(world.a, event, last_name="Смирнова", first_name="Алёна")
    with world.app.app_context():
        from sqlalchemy import select

        from server.extensions import db
        from server.tickets.models import Ticket
        from tenants.scoping import tenant_scope

        with tenant_scope(world.a.id):
            token = db.session.scalar(select(Ticket.access_token).where(Ticket.id == ticket_id))
    assert client.get(f"/yaroslavl/t/{token}").status_code == 200
    html = client.get("/yaroslavl/").get_data(as_text=True)
    assert f'href="/yaroslavl/t/{token}"' in html and "Смирнова А. П." in html


def test_staff_still_get_their_overview_at_the_region_address(client, world):
    email, _ = world.user(world.a, Role.COORDINATOR)
    login(client, email)
    html = client.get("/yaroslavl/").get_data(as_text=True)
    assert "Ближайшие события" in html and "Вход для сотрудников" not in html


def test_consent_names_the_operator_the_coordinator_set_and_links_the_privacy_notice(client, world):
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=2))
    before = client.get(f"/yaroslavl/e/{event}").get_data(as_text=True)
    assert "региональный оператор профориентационных мероприятий" in before
    assert 'href="/yaroslavl/privacy"' in before

    email, _ = world.user(world.a, Role.COORDINATOR)
    login(client, email)
    refused = client.post("/yaroslavl/settings/operator", data={"name": "ЦОПП", "address": "", "contact": ""})
    assert refused.status_code == 422 and "Укажите адрес оператора." in refused.get_data(as_text=True)
    saved = client.post(
        "/yaroslavl/settings/operator",
        data={
            "name": "ГАУ ДПО ЯО «ЦОПП»",
            "address": "г. Ярославль, ул. Чехова, 5",
            "contact": "pd@copp76.ru",
        },
    )
    assert saved.status_code == 302
    client.post("/logout")

    consent = client.get(f"/yaroslavl/e/{event}").get_data(as_text=True)
    assert "ГАУ ДПО ЯО «ЦОПП» (г. Ярославль, ул. Чехова, 5)" in consent.replace("&#34;", '"').replace(
        "&laquo;", "«"
    ).replace("&raquo;", "»")
    privacy = client.get("/yaroslavl/privacy").get_data(as_text=True)
    assert "pd@copp76.ru" in privacy and "г. Ярославль, ул. Чехова, 5" in privacy
    # Region B's families see their own region's words, not A's operator.
    assert "ЦОПП" not in client.get("/irkutsk/privacy").get_data(as_text=True)


def test_only_the_coordinator_sets_the_operator(client, world):
    email, _ = world.user(world.a, Role.SCHOOL, school_id=world.school(world.a))
    login(client, email)
    assert client.get("/yaroslavl/settings/operator").status_code == 403
    assert client.post("/yaroslavl/settings/operator", data={"name": "x"}).status_code == 403
