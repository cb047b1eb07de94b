"""Venue staff land on «Моя площадка сегодня»: their venue's day, by school and class, and nothing else."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.accounts.models import Role
from server.checkins.models import Kiosk
from server.extensions import db
from tenants.scoping import tenant_scope
from tests.conftest import login
from tests.kiosk.helpers import paired_kiosk, scan


def test_venue_staff_see_their_venues_day_by_school_and_class_and_nothing_of_other_venues(app, client, world):
    mine = world.venue(world.a, name="Колледж связи")
    other = world.venue(world.a, name="Политехнический колледж")
    school = world.school(world.a, name="Школа № 33")
    event = world.event(world.a, venue_id=mine, title="День открытых дверей связистов")
    elsewhere = world.event(world.a, venue_id=other, title="Чужое событие")
    world.class_group(world.a, event, school_id=school, size=3, label="8Б")
    _, code = world.ticket(world.a, event, school_id=school, last_name="Сидорова", grade=9)
    world.ticket(world.a, elsewhere, school_id=world.school(world.a, name="Гимназия № 2"))
    scan(client, paired_kiosk(client, world, world.a, mine), code)

    email, _ = world.user(world.a, Role.VENUE, venue_id=mine)
    login(client, email)
    home = client.get("/yaroslavl/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/yaroslavl/venue")
    html = client.get("/yaroslavl/venue").get_data(as_text=True)
    assert "Моя площадка сегодня" in html and "Колледж связи" in html
    assert "День открытых дверей связистов" in html
    assert "Школа № 33" in html and "8Б" in html
    assert re.search(r"data-venue-registered>4<", html) and re.search(r"data-venue-came>1<", html)
    assert "Сидорова И. П." in html and "пришёл в" in html
    assert 'href="/kiosk"' in html
    for foreign in ("Чужое событие", "Политехнический колледж", "Гимназия № 2"):
        assert foreign not in html

    made = client.post("/yaroslavl/venue/kiosks", data={"name": "Вход со двора"})
    page = made.get_data(as_text=True)
    assert made.status_code == 200 and "data-pairing-code" in page and "Вход со двора" in page
    with app.app_context(), tenant_scope(world.a.id):
        kiosk = db.session.scalar(select(Kiosk).where(Kiosk.name == "Вход со двора"))
        assert kiosk.venue_id == mine

    live = client.get("/yaroslavl/live").get_data(as_text=True)
    assert 'data-scope="venue"' in live


def test_other_roles_cannot_open_the_venue_home(client, world):
    email, _ = world.user(world.a, Role.SCHOOL, school_id=world.school(world.a))
    login(client, email)
    assert client.get("/yaroslavl/venue").status_code == 403
    assert client.post("/yaroslavl/venue/kiosks", data={"name": "x"}).status_code == 403
