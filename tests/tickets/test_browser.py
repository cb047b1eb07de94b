"""A parent on a phone in headless Chromium: type part of the school name, register, get the QR."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from server.extensions import db
from server.tickets.models import Ticket, TicketStatus
from tenants.scoping import tenant_scope

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium"),
]


def test_parent_registers_on_a_phone_and_gets_a_ticket_with_a_qr(app, world, live_server):
    from playwright.sync_api import sync_playwright

    municipality = world.municipality(world.a, "г. Рыбинск")
    world.school(world.a, municipality, "Средняя школа № 30")
    world.school(world.a, municipality, "Лицей № 2")
    event_id = world.event(world.a, programme="trial", grades=(6, 11), hours=48)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_server}/yaroslavl/e/{event_id}")
        page.fill("input[name=last_name]", "Ёлкина")
        page.fill("input[name=first_name]", "Ульяна")
        page.select_option("select[name=grade]", "7")
        page.type("input[name=school]", "ЛИЦЕ")  # part of the name, other case
        page.click(".typeahead-list button:has-text('Лицей № 2')")
        page.fill("input[name=guardian_name]", "Ёлкина Мария Ивановна")
        page.fill("input[name=guardian_phone]", "+7 900 123-45-67")
        page.check("input[name=consent]")
        page.click("button[type=submit]")
        page.wait_for_selector("text=Это ваш билет")
        body = page.inner_text("body")
        qr = page.query_selector("img[src$='.svg'], img[src$='.png'], svg")
        browser.close()

    assert "Ёлкина У." in body and "7 класс" in body and "Лицей № 2" in body
    assert qr is not None
    assert errors == []
    with app.app_context(), tenant_scope(world.a.id):
        ticket = db.session.scalar(select(Ticket))
        assert ticket.status == TicketStatus.ACTIVE and ticket.event_id == event_id
