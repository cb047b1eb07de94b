"""The day of a family, a school and the coordinator in Chromium against `gunicorn wsgi:app` on the
demo: a school found by «сш 33», an online ticket's join button, questions before irreversible clicks,
the archive. Screenshots go to <SHOTS>/walk-*.png."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from server.demo import DEMO_PASSWORD
from tests.browser import needs_chromium, shot
from tests.foundation.test_crawl import demo  # noqa: F401  (the fixture: `flask demo` on an empty database)
from tests.production import gunicorn

pytestmark = [*needs_chromium, pytest.mark.slow]


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


def test_roles_walk_through_what_changed_in_chromium_against_gunicorn(app, demo, database_url, browser):  # noqa: F811
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as conn:
        online_token = conn.execute(text(
            "SELECT t.access_token FROM tickets t JOIN events e ON e.id = t.event_id "
            "WHERE e.format = 'ONLINE' OR e.format = 'online' ORDER BY t.id LIMIT 1"
        )).scalar_one()  # fmt: skip
        open_day = conn.execute(text("SELECT id FROM events ORDER BY id LIMIT 1")).scalar_one()
        kiosk = conn.execute(text("SELECT id FROM kiosks ORDER BY id LIMIT 1")).scalar_one()
    engine.dispose()

    with gunicorn(database_url) as base:
        parent = browser.new_page(viewport={"width": 390, "height": 844})
        parent.goto(f"{base}/yaroslavl/e/{open_day}")
        parent.fill("input[name=school]", "сш 33")
        parent.wait_for_selector(".typeahead-list button")
        assert parent.inner_text(".typeahead-list").startswith("Средняя школа № 33")
        parent.locator(".typeahead-list").scroll_into_view_if_needed()
        shot(parent, "walk-parent-typeahead")

        parent.goto(f"{base}/yaroslavl/t/{online_token}")
        assert parent.is_visible("text=Подключиться к трансляции")
        assert not parent.is_visible("img.ticket-qr")
        shot(parent, "walk-parent-online-ticket")
        parent.goto(f"{base}/yaroslavl/t/{online_token}/join")
        assert parent.is_visible("form button:has-text('Подключиться к трансляции')")
        shot(parent, "walk-parent-join")

        school = browser.new_page(viewport={"width": 1280, "height": 900})
        _sign_in(school, base, "school@yaroslavl.demo")
        school.goto(f"{base}/yaroslavl/events/{open_day}/tickets")
        school.click("a.link-danger >> nth=0")
        assert school.is_visible("h1:has-text('Отменить билет?')")
        shot(school, "walk-school-cancel-question")
        school.click("text=Нет, вернуться")
        assert "/tickets" in school.url

        coordinator = browser.new_page(viewport={"width": 1280, "height": 900})
        _sign_in(coordinator, base, "coordinator@yaroslavl.demo")
        coordinator.goto(f"{base}/yaroslavl/kiosks")
        coordinator.click(f"a[href$='/kiosks/{kiosk}/revoke']")
        shot(coordinator, "walk-coordinator-revoke-question")
        coordinator.click("button:has-text('Да, отозвать киоск')")
        assert coordinator.is_visible("button:has-text('Привязать заново')")
        coordinator.click("button:has-text('Привязать заново')")
        assert coordinator.is_visible("[data-pairing-code]")
        shot(coordinator, "walk-coordinator-kiosk-repaired")

        coordinator.goto(f"{base}/yaroslavl/events/{open_day}/edit")
        coordinator.click("form button[type=submit]")
        assert coordinator.url.endswith(f"/yaroslavl/events/{open_day}")
        coordinator.click("button:has-text('В архив')")
        assert coordinator.is_visible("h1 .badge-archived")
        shot(coordinator, "walk-coordinator-event-archived")
        coordinator.goto(f"{base}/yaroslavl/events?archive=1")
        shot(coordinator, "walk-coordinator-archive")
