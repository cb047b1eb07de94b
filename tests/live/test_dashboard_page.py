"""The dashboard page: who may open it, what it shows, and (in Chromium) that it moves on a scan."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import timedelta

import pytest
import requests

from server.accounts.models import Role
from server.database import utcnow
from tests.browser import CHROMIUM, sign_in
from tests.conftest import bearer, login
from tests.live.support import kiosk_token, scan


def test_coordinator_sees_the_regions_totals_and_the_nav_link(world, client):
    venue_id = world.venue(world.a, "Ярославский колледж гостиничного и строительного сервиса")
    event_id = world.event(world.a, venue_id=venue_id)
    tickets = [world.ticket(world.a, event_id) for _ in range(4)]
    scan(client, "yaroslavl", kiosk_token(world, world.a, venue_id), tickets[0][1])
    email, _ = world.user(world.a, Role.COORDINATOR)
    login(client, email)

    page = client.get("/yaroslavl/live")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Онлайн-мониторинг посещаемости" in html and "Весь регион" in html
    assert 'id="total-registered">4<' in html and 'id="total-admitted">1<' in html
    assert 'id="total-percent">25%<' in html
    initial = json.loads(re.search(r'id="live-initial">(.*?)</script>', html, re.S).group(1))
    assert [e["venue"] for e in initial["events"]] == [
        "Ярославский колледж гостиничного и строительного сервиса"
    ]
    assert 'href="/yaroslavl/live"' in client.get("/yaroslavl/").get_data(as_text=True)
    assert "connect-src 'self';" in page.headers["Content-Security-Policy"]


def test_strangers_and_anonymous_users_do_not_see_a_regions_dashboard(world, client):
    assert client.get("/yaroslavl/live").status_code == 302  # to the login page
    email, _ = world.user(world.b, Role.COORDINATOR)
    login(client, email)
    assert client.get("/yaroslavl/live").status_code == 404


def test_municipal_coordinator_sees_only_their_municipality(world, client):
    mine, theirs = (
        world.municipality(world.a, "Рыбинский район"),
        world.municipality(world.a, "Угличский район"),
    )
    event_id = world.event(world.a, quotas=[(mine, 10), (theirs, 10)])
    for school in (world.school(world.a, mine), world.school(world.a, theirs), world.school(world.a, theirs)):
        world.ticket(world.a, event_id, school_id=school)
    email, _ = world.user(world.a, Role.MUNICIPAL, municipality_id=mine)
    login(client, email)
    html = client.get("/yaroslavl/live").get_data(as_text=True)
    assert "Муниципалитет: Рыбинский район" in html
    assert 'id="total-registered">1<' in html
    assert "Угличский район" not in html


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium")
def test_dashboard_counts_an_admission_within_a_second_without_reload(world, live_server, browser):
    from playwright.sync_api import expect

    region = world.into_its_day(minutes=45)
    venue_id = world.venue(region, "Рыбинский полиграфический колледж")
    event_id = world.event(region, venue_id=venue_id, starts_at=utcnow() - timedelta(minutes=40))
    tickets = [world.ticket(region, event_id) for _ in range(3)]
    email, _ = world.user(region, Role.COORDINATOR)
    session = requests.Session()
    kiosk = kiosk_token(world, region, venue_id)

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, email)
    page.goto(f"{live_server}/{region.slug}/live")
    expect(page.locator("#live-status")).to_have_text("В эфире", timeout=5000)
    expect(page.locator("#lagging-alert")).to_contain_text("Рыбинский полиграфический колледж")
    expect(page.locator("#total-admitted")).to_have_text("0")

    started = time.monotonic()
    response = session.post(
        f"{live_server}/api/v1/{region.slug}/checkins", json={"code": tickets[0][1]}, headers=bearer(kiosk)
    )
    assert response.json()["result"] == "ok"
    expect(page.locator("#total-admitted")).to_have_text("1", timeout=1000)
    assert time.monotonic() - started < 1.0
    expect(page.locator("#total-percent")).to_have_text("33%")
    expect(page.locator("#live-feed")).to_contain_text("И. П.")
    expect(page.locator("#lagging-alert")).to_be_hidden()
    assert page.evaluate("window.Chart !== undefined")
    assert not errors, errors
