"""In headless Chromium: a parent on a phone registers and gets the QR; a school registers a class
from its list.

Screenshots of the class import: docs/screenshots/tickets-import-*.png with UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from server.accounts.models import Role
from server.extensions import db
from server.tickets.models import Consent, ConsentMethod, Ticket, TicketStatus
from tenants.scoping import tenant_scope
from tests.browser import needs_chromium, shot, sign_in
from tests.tickets.test_import import CSV

pytestmark = needs_chromium


def test_parent_registers_on_a_phone_and_gets_a_ticket_with_a_qr(app, world, live_server, browser):
    municipality = world.municipality(world.a, "г. Рыбинск")
    world.school(world.a, municipality, "Средняя школа № 30")
    world.school(world.a, municipality, "Лицей № 2")
    event_id = world.event(world.a, programme="trial", grades=(6, 11), hours=48)

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

    assert "Ёлкина У." in body and "7 класс" in body and "Лицей № 2" in body
    assert qr is not None
    assert errors == []
    with app.app_context(), tenant_scope(world.a.id):
        ticket = db.session.scalar(select(Ticket))
        assert ticket.status == TicketStatus.ACTIVE and ticket.event_id == event_id


def test_school_uploads_a_cp1251_class_list_sees_each_rows_problem_and_registers_the_rest(
    app, world, live_server, browser
):
    school = world.school(world.a, name="Средняя школа № 33")
    venue = world.venue(world.a, "Ярославский колледж промышленных технологий")
    event_id = world.event(
        world.a, venue_id=venue, hours=48, title="День открытых дверей: Железнодорожный транспорт"
    )
    email, _ = world.user(world.a, Role.SCHOOL, school_id=school)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, email)

    page.goto(f"{live_server}/yaroslavl/events/{event_id}/import")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "8а.csv", "mimeType": "text/csv", "buffer": CSV.encode("cp1251")}],  # Excel's CSV
    )
    page.fill("input[name=escort_name]", "Петрова Анна Сергеевна")
    page.check("input[name=consent_paper]")
    page.click("form.import-form button")
    page.wait_for_selector("tr.row-problem")
    preview = page.inner_text("main")
    shot(page, "tickets-import-preview")
    page.click("form.actions button.primary")
    page.wait_for_selector(".done-count")
    done = page.inner_text("main")
    sheet = page.get_attribute("a:has-text('Лист класса')", "href")
    shot(page, "tickets-import-done")

    assert "Windows-1251" in preview
    assert "Повтор: этот ученик уже есть в строке 2." in preview
    assert "6 класс не подходит: событие для 8–11 классов." in preview
    assert "Класс «восьмой» не распознан" in preview
    assert re.search(r"Записано:\s*2\b", done)
    assert sheet and sheet.endswith(".pdf")
    assert errors == []
    with app.app_context(), tenant_scope(world.a.id):
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 2
        methods = set(db.session.scalars(select(Consent.method)))
    assert methods == {ConsentMethod.PAPER}
