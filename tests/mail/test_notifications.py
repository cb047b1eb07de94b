"""What families and schools receive: each message, its links, its attachments — and nobody else's data."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from server.accounts.models import Role
from server.database import utcnow
from server.extensions import db
from server.mail.models import MailSuppression
from server.notifications.jobs import plan_all
from tenants.scoping import tenant_scope
from tests.conftest import login
from tests.mail.helpers import family_ticket, outbox


def _evening(world) -> datetime:
    """Today 20:00 in Yaroslavl (Europe/Moscow): after the default reminder time, 18:00."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Moscow")
    return datetime.combine(utcnow().astimezone(tz).date(), time(20, 0), tzinfo=tz)


def _tomorrow_at(world, region_slug: str, hour: int) -> datetime:
    """The day after `_evening`'s date, at `hour` in the region's own time. Counted from Moscow's
    date: from 16:00 UTC Irkutsk already lives in the next day, and its «tomorrow» would be a day late."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Moscow" if region_slug == "yaroslavl" else "Asia/Irkutsk")
    tomorrow = (utcnow().astimezone(ZoneInfo("Europe/Moscow")) + timedelta(days=1)).date()
    return datetime.combine(tomorrow, time(hour), tzinfo=tz)


def test_confirmation_reaches_smtp_with_the_ticket_pdf_ics_and_a_working_link(
    smtp_app, smtp_sink, world, client
):
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=3), title="День открытых дверей")
    family_ticket(world, world.a, event, "olga@example.ru", last_name="Смирнов")
    family_ticket(world, world.a, event, "other@example.ru", last_name="Кузнецов", guardian="Кузнецова Анна")
    messages = smtp_sink.wait_for(2)
    [olga] = [m for m in messages if "olga@example.ru" in m["To"]]
    assert olga["Subject"] == "Билет: День открытых дверей"
    assert olga["To"].addresses[0].display_name == "Смирнова Ольга Ивановна"
    text = olga.get_body(("plain",)).get_content()
    html = olga.get_body(("html",)).get_content()
    assert "Смирнов П." in text and "Кузнецов" not in text + html  # only this family's child
    assert "List-Unsubscribe" not in olga  # a confirmation cannot be declined
    files = {a.get_filename(): a for a in olga.iter_attachments()}
    assert set(files) == {f for f in files if f.startswith(("ticket-", "event-"))} and len(files) == 2
    pdf = next(a for name, a in files.items() if name.endswith(".pdf")).get_content()
    ics = next(a for name, a in files.items() if name.endswith(".ics")).get_content()
    assert pdf.startswith(b"%PDF")
    ics_text = ics.decode() if isinstance(ics, bytes) else ics
    assert "SUMMARY:День открытых дверей" in ics_text and "DTSTART:" in ics_text
    link = next(word for word in text.split() if "/t/" in word)
    page = client.get(link.replace("http://localhost", ""))
    assert page.status_code == 200 and "Смирнов П. А." in page.get_data(as_text=True)


def test_no_email_no_message(app, world):
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=3))
    family_ticket(world, world.a, event, None, last_name="Смирнов")
    assert outbox(app) == []


def test_reminder_goes_the_day_before_at_the_regions_time_once_with_a_decline_link(app, world, client):
    event = world.event(world.a, starts_at=_tomorrow_at(world, "yaroslavl", 10), title="Профпроба «Сварщик»")
    other_region = world.event(world.b, starts_at=_tomorrow_at(world, "irkutsk", 10))
    family_ticket(world, world.a, event, "olga@example.ru", last_name="Смирнов")
    family_ticket(world, world.b, other_region, "irk@example.ru", last_name="Байкалов")
    evening = _evening(world)
    before, after = evening.replace(hour=17, minute=59), evening.replace(hour=18, minute=1)
    with app.app_context():
        plan_all(before)
    assert outbox(app, kind="reminder", tenant_id=world.a.id) == []  # 17:59 in Yaroslavl
    # ...while in Irkutsk it is already 22:59: its families have theirs, from their own region.
    [irkutsk] = outbox(app, kind="reminder", tenant_id=world.b.id)
    assert irkutsk.to_address == "irk@example.ru" and "Смирнов П." not in irkutsk.body_text
    with app.app_context():
        plan_all(after)
        plan_all(after + timedelta(minutes=5))  # planning again changes nothing
    assert len(outbox(app, kind="reminder", tenant_id=world.b.id)) == 1
    [reminder] = outbox(app, kind="reminder", tenant_id=world.a.id)
    assert reminder.to_address == "olga@example.ru" and reminder.status == "sent"
    assert reminder.subject == "Завтра: Профпроба «Сварщик»"
    assert reminder.decline_url and reminder.decline_url in reminder.body_text
    assert "Байкалов" not in reminder.body_text


def test_declining_by_the_link_stops_that_kind_only(app, world, client):
    event = world.event(world.a, starts_at=_tomorrow_at(world, "yaroslavl", 10))
    family_ticket(world, world.a, event, "olga@example.ru", last_name="Смирнов")
    with app.app_context():
        plan_all(_evening(world))
    [reminder] = outbox(app, kind="reminder")
    path = reminder.decline_url.replace("http://localhost", "")
    page = client.get(path)
    assert "Отказаться от писем?" in page.get_data(as_text=True) and "напоминания накануне" in page.get_data(
        as_text=True
    )
    done = client.post(path)
    assert "Вы больше не будете получать напоминания накануне события" in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(MailSuppression.scope)).all() == [f"{world.a.id}:reminder"]
    # A second event tomorrow: the reminder is recorded as declined, not sent; a confirmation still goes.
    second = world.event(world.a, starts_at=_tomorrow_at(world, "yaroslavl", 12))
    family_ticket(world, world.a, second, "olga@example.ru", last_name="Смирнов")
    with app.app_context():
        plan_all(_evening(world))
    statuses = {(m.event_id, m.kind): m.status for m in outbox(app)}
    assert statuses[(second, "reminder")] == "declined"
    assert statuses[(second, "confirmation")] == "sent"
    # A forged or another region's link does nothing.
    assert client.post(path[:-3] + "abc").status_code == 404
    assert client.post(path.replace("/yaroslavl/", "/irkutsk/")).status_code == 404


def test_moving_an_event_by_an_hour_tells_every_family_old_and_new_time(app, world):
    starts = utcnow().replace(microsecond=0) + timedelta(days=5)
    event = world.event(world.a, starts_at=starts, title="Экскурсия на завод")
    family_ticket(world, world.a, event, "one@example.ru", last_name="Первов")
    family_ticket(world, world.a, event, "two@example.ru", last_name="Вторых")
    from server.catalog import services as catalog
    from server.catalog.models import Event
    from tenants.models import Tenant

    with app.app_context(), tenant_scope(world.a.id):
        row = db.session.scalar(select(Event).where(Event.id == event))
        tz = db.session.get(Tenant, world.a.id).tz
        data = catalog.EventInput(
            title=row.title, programme="open_day", format="in_person", venue_id=row.venue_id,
            starts_at=(row.starts_at + timedelta(hours=1)).astimezone(tz).replace(tzinfo=None),
            ends_at=(row.ends_at + timedelta(hours=1)).astimezone(tz).replace(tzinfo=None),
            capacity=row.capacity, grade_min=8, grade_max=11, quotas=[],
        )  # fmt: skip
        catalog.save_event(row, data, tz)
        db.session.commit()
    changed = outbox(app, kind="event_changed")
    assert sorted(m.to_address for m in changed) == ["one@example.ru", "two@example.ru"]
    old_hour = starts.astimezone(tz).strftime("%H:%M")
    new_hour = (starts + timedelta(hours=1)).astimezone(tz).strftime("%H:%M")
    body = changed[0].body_text
    assert "Было: " in body and old_hour in body.split("Было:")[1] and new_hour in body.split("Было:")[0]
    assert "Вторых" not in changed[0].body_text if changed[0].to_address == "one@example.ru" else True


def test_coordinator_cancels_an_event_after_confirming_and_families_are_told(app, world, client):
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=2), title="Мастер-класс")
    _, token = family_ticket(world, world.a, event, "one@example.ru", last_name="Первов")
    left, _left_token = family_ticket(world, world.a, event, "two@example.ru", last_name="Вторых")
    client_ticket = client.post(f"/yaroslavl/t/{_left_token}/cancel")  # this family cancelled earlier
    assert client_ticket.status_code == 200
    coordinator, _ = world.user(world.a)
    login(client, coordinator)
    confirm = client.get(f"/yaroslavl/events/{event}/cancel").get_data(as_text=True)
    assert "Отменить событие?" in confirm and "Это нельзя отменить." in confirm
    done = client.post(f"/yaroslavl/events/{event}/cancel", data={"reason": "Площадка закрыта на ремонт"})
    assert done.status_code == 302
    notices = outbox(app, kind="event_cancelled")
    assert [m.to_address for m in notices] == ["one@example.ru"]  # not the family that had cancelled
    assert "Площадка закрыта на ремонт" in notices[0].body_text
    assert [m.to_address for m in outbox(app, kind="ticket_cancelled")] == ["two@example.ru"]
    page = client.get(f"/yaroslavl/t/{token}").get_data(as_text=True)
    assert "Событие отменено организатором" in page
    mail_page = client.get(f"/yaroslavl/events/{event}/mail").get_data(as_text=True)
    assert "Отмена события" in mail_page and "Событие отменено" in mail_page
    client.post("/logout")
    assert "Мастер-класс" not in client.get("/yaroslavl/events/open").get_data(as_text=True)
    refused = client.post(
        f"/api/v1/yaroslavl/events/{event}/registrations",
        json={
            "student": {
                "last_name": "Третьяков",
                "first_name": "Иван",
                "grade": 9,
                "school_id": world.school(world.a),
            },
            "guardian": {"name": "Третьякова Мария", "email": "three@example.ru"},
            "consent": True,
        },
    )
    assert refused.status_code == 409 and refused.json["error"]["code"] == "event_cancelled"


def test_another_regions_coordinator_cannot_see_or_cancel(app, world, client):
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=2))
    stranger, _ = world.user(world.b)
    login(client, stranger)
    assert client.get(f"/irkutsk/events/{event}/mail").status_code == 404
    assert client.post(f"/irkutsk/events/{event}/cancel").status_code == 404
    assert client.get(f"/yaroslavl/events/{event}/mail").status_code in (403, 404)


def test_a_ticket_cancelled_by_the_school_and_one_moved_are_both_told(app, world, client):
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=2), title="Слот 10:00")
    later = world.event(world.a, starts_at=utcnow() + timedelta(days=2, hours=2), title="Слот 12:00")
    school = world.school(world.a)
    cancelled, _ = family_ticket(
        world, world.a, event, "one@example.ru", last_name="Первов", school_id=school
    )
    _, moving = family_ticket(world, world.a, event, "two@example.ru", last_name="Вторых", school_id=school)
    staff, _ = world.user(world.a, role=Role.SCHOOL, school_id=school)
    login(client, staff)
    answer = client.post(f"/yaroslavl/tickets/{cancelled}/cancel", data={"confirmed": "1"})
    assert answer.status_code in (200, 302, 303)
    client.post("/logout")
    client.post(f"/yaroslavl/t/{moving}/move", data={"event_id": later})
    [notice] = outbox(app, kind="ticket_cancelled")
    assert notice.to_address == "one@example.ru" and "отменена школой или организатором" in notice.body_text
    [moved] = outbox(app, kind="ticket_moved")
    assert moved.to_address == "two@example.ru" and moved.subject == "Запись перенесена: Слот 12:00"
    assert "Было:" in moved.body_text
    assert sorted(a.filename.rsplit(".", 1)[1] for a in moved.attachments) == ["ics", "pdf"]
