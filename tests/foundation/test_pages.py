"""The coordinator's pages: create, edit and list reference data, with Russian messages and local times."""

from __future__ import annotations

from datetime import UTC, datetime

from server.accounts.models import Role
from tests.conftest import PASSWORD, login


def _event_form(venue: int, **changes: str) -> dict:
    form = {
        "title": "ЕДОД",
        "programme": "open_day",
        "format": "in_person",
        "venue_id": venue,
        "starts_at": "2026-04-20T10:00",
        "ends_at": "2026-04-20T14:00",
        "capacity": "50",
        "grade_min": "8",
        "grade_max": "11",
    }
    return form | changes


def test_coordinator_adds_a_municipality_school_and_venue_through_pages(client, world):
    email, _ = world.user(world.a)
    login(client, email)
    page = client.post("/yaroslavl/municipalities", data={"name": "г. Рыбинск"}, follow_redirects=True)
    assert "Муниципалитет «г. Рыбинск» добавлен" in page.get_data(as_text=True)
    duplicate = client.post("/yaroslavl/municipalities", data={"name": "г. Рыбинск"})
    assert "Муниципалитет с таким названием уже есть" in duplicate.get_data(as_text=True)

    schools = client.get("/yaroslavl/schools").get_data(as_text=True)
    assert "г. Рыбинск" in schools  # offered in the municipality select
    venue = client.post("/yaroslavl/venues", data={"name": "Рыбинский авиационный колледж", "address": ""})
    assert "Обязательное поле" in venue.get_data(as_text=True)


def test_school_search_ignores_case_and_yo(client, world):
    municipality = world.municipality(world.a)
    world.school(world.a, municipality, "Школа имени Алёши Попова")
    world.school(world.a, municipality, "Гимназия № 2")
    email, _ = world.user(world.a)
    login(client, email)
    found = client.get("/yaroslavl/schools?q=АЛЕШИ").get_data(as_text=True)
    assert "Школа имени Алёши Попова" in found and "Гимназия № 2" not in found


def test_event_form_takes_and_shows_times_in_the_region_timezone(client, world):
    venue = world.venue(world.b, "Ангарский политехнический техникум")
    email, _ = world.user(world.b)
    login(client, email)
    form = {
        "title": "Профпроба «Сварщик»",
        "programme": "trial",
        "format": "in_person",
        "venue_id": venue,
        "starts_at": "2026-12-01T10:00",
        "ends_at": "2026-12-01T12:00",
        "capacity": "20",
        "grade_min": "6",
        "grade_max": "11",
    }
    saved = client.post("/irkutsk/events/new", data=form, follow_redirects=True)
    assert "Событие сохранено" in saved.get_data(as_text=True)
    listing = client.get("/irkutsk/events").get_data(as_text=True)
    assert "1 декабря, вт, 10:00" in listing
    with world.app.app_context():
        from sqlalchemy import select

        from server.catalog.models import Event
        from server.extensions import db
        from tenants.scoping import tenant_scope

        with tenant_scope(world.b.id):
            event = db.session.scalar(select(Event))
            assert event.starts_at == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Irkutsk is 02:00 UTC


def test_event_form_explains_broken_rules_in_russian(client, world):
    venue = world.venue(world.a)
    email, _ = world.user(world.a)
    login(client, email)
    form = _event_form(venue, starts_at="2026-04-20T12:00", ends_at="2026-04-20T10:00")
    page = client.post("/yaroslavl/events/new", data=form).get_data(as_text=True)
    assert "Окончание должно быть позже начала" in page


def test_quota_sum_above_capacity_is_refused(client, world):
    venue = world.venue(world.a)
    municipality = world.municipality(world.a)
    email, _ = world.user(world.a)
    login(client, email)
    form = _event_form(venue, capacity="10", **{f"quota-{municipality}": "11"})
    page = client.post("/yaroslavl/events/new", data=form).get_data(as_text=True)
    assert "Сумма квот больше вместимости события" in page


def test_municipal_coordinator_cannot_open_coordinator_pages(client, world):
    municipality = world.municipality(world.a)
    email, _ = world.user(world.a, Role.MUNICIPAL, municipality_id=municipality)
    login(client, email)
    assert client.get("/yaroslavl/venues").status_code == 403
    assert client.get("/yaroslavl/schools").status_code == 200


def test_login_is_rate_limited(app, client, world, monkeypatch):
    from server.extensions import limiter

    email, _ = world.user(world.a)
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "10 per minute")
    limiter.reset()
    statuses = [
        client.post("/login", data={"email": email, "password": "wrong" + PASSWORD}).status_code
        for _ in range(11)
    ]
    limiter.reset()
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
