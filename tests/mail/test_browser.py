"""In headless Chromium: the coordinator cancels an event after confirming and reads the mail counts; the
parent sees the cancelled ticket, finds the ticket by e-mail and declines reminders; the platform admin
reads the kept mail («Отправленные письма»).

Screenshots: mail-*.png (docs/screenshots with UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

from datetime import timedelta

from server.database import utcnow
from server.extensions import db
from tests.browser import needs_chromium, shot, sign_in
from tests.conftest import PASSWORD
from tests.mail.helpers import family_ticket, outbox
from tests.mail.test_notifications import _evening, _tomorrow_at

pytestmark = needs_chromium


def test_coordinator_cancels_an_event_and_the_parent_sees_it(app, world, live_server, browser):
    event = world.event(
        world.a, starts_at=_tomorrow_at(world, "yaroslavl", 10), title="Мастер-класс «Робототехника»"
    )
    _, token = family_ticket(world, world.a, event, "olga@example.ru", last_name="Смирнов")
    family_ticket(world, world.a, event, "bounce@example.ru", last_name="Кузнецов")
    from sqlalchemy import update

    from server.mail.models import OutgoingMail
    from server.notifications.jobs import plan_all

    with app.app_context():
        plan_all(_evening(world))
        db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.to_address == "bounce@example.ru")
            .values(status="bounced", error="550 recipient refused")
        )
        db.session.commit()
    coordinator, _ = world.user(world.a)
    desk = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(desk, live_server, coordinator)
    desk.goto(f"{live_server}/yaroslavl/events/{event}")
    desk.click(".actions a:has-text('Письма')")
    desk.wait_for_selector("text=Письма по событию")
    assert "Напоминание накануне" in desk.inner_text("table")
    assert "bounce@example.ru" in desk.content()
    shot(desk, "mail-event-counts")
    desk.click(".actions a:has-text('Отменить событие')")
    desk.wait_for_selector("text=Это нельзя отменить.")
    desk.fill("textarea[name=reason]", "Площадка закрыта на ремонт")
    shot(desk, "mail-cancel-confirm")
    desk.click("text=Да, отменить событие")
    desk.wait_for_selector("text=Событие отменено.")
    assert "Отмена события" in desk.inner_text("table")
    shot(desk, "mail-event-cancelled")
    desk.goto(f"{live_server}/yaroslavl/mail")
    desk.wait_for_selector("text=Письма семьям и школам")
    shot(desk, "mail-overview")

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.goto(f"{live_server}/yaroslavl/t/{token}")
    phone.wait_for_selector("text=Событие отменено организатором")
    shot(phone, "mail-ticket-event-cancelled")
    [notice] = [m for m in outbox(app, kind="event_cancelled") if m.to_address == "olga@example.ru"]
    assert "Площадка закрыта на ремонт" in notice.body_text


def test_parent_finds_the_ticket_and_declines_reminders(app, world, live_server, browser):
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=4), title="День открытых дверей")
    _, token = family_ticket(world, world.a, event, "olga@example.ru", last_name="Смирнов")
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.goto(f"{live_server}/yaroslavl/events/open")
    phone.click("text=Найти мой билет")
    phone.fill("input[name=email]", "olga@example.ru")
    shot(phone, "mail-find-ticket")
    phone.click("text=Прислать ссылки")
    phone.wait_for_selector("text=мы отправили на него письмо")
    shot(phone, "mail-find-ticket-sent")
    [found] = outbox(app, kind="find_ticket")
    assert token in found.body_text
    [confirmation] = outbox(app, kind="confirmation")
    assert confirmation.decline_url is None
    from server.notifications.messages import decline_link
    from tenants.models import Tenant

    with app.test_request_context(base_url=live_server):
        link = decline_link(db.session.get(Tenant, world.a.id), "olga@example.ru", "reminder")
    phone.goto(link)
    phone.wait_for_selector("text=Отказаться от писем?")
    shot(phone, "mail-decline")
    phone.click("button:has-text('Отказаться')")
    phone.wait_for_selector("text=Вы больше не будете получать напоминания накануне события")

    from server.accounts.services import create_user

    with app.app_context():
        create_user("root@example.ru", password=PASSWORD, platform_admin=True)
        db.session.commit()
    admin = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(admin, live_server, "root@example.ru")
    admin.goto(f"{live_server}/admin/mail/")
    admin.wait_for_selector("text=Отправленные письма")
    assert "Билет: День открытых дверей" in admin.inner_text("table")
    shot(admin, "mail-admin-outbox")
    admin.click("text=Билет: День открытых дверей")
    admin.wait_for_selector("text=Вложения")
    assert "ticket-" in admin.inner_text("dl") and ".ics" in admin.inner_text("dl")
    shot(admin, "mail-admin-message")
    admin.click("text=Открыть письмо с оформлением")
    admin.wait_for_timeout(500)
    html_page = admin.context.pages[-1]
    html_page.wait_for_selector("text=Открыть билет")
    shot(html_page, "mail-confirmation-html")
