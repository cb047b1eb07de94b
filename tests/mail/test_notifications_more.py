"""After the event, schools' mail, «Найти мой билет», and what the coordinator and the school see."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from server.accounts.models import Role
from server.database import utcnow
from server.extensions import db
from server.mail.models import OutgoingMail
from server.notifications.jobs import plan_all
from server.tickets.models import Ticket
from tenants.scoping import tenant_scope
from tests.conftest import login
from tests.kiosk.helpers import paired_kiosk, scan
from tests.mail.helpers import family_ticket, outbox
from tests.mail.test_notifications import _evening, _tomorrow_at


def _code(app, region, ticket_id: int) -> str:
    with app.app_context(), tenant_scope(region.id):
        return db.session.scalar(select(Ticket.code).where(Ticket.id == ticket_id))


def test_after_the_event_who_came_gets_thanks_who_did_not_a_short_note(app, world, client):
    venue = world.venue(world.a)
    event = world.event(world.a, venue_id=venue, title="День открытых дверей")
    came, _ = family_ticket(world, world.a, event, "came@example.ru", last_name="Пришедший")
    family_ticket(world, world.a, event, "missed@example.ru", last_name="Непришедший")
    kiosk = paired_kiosk(client, world, world.a, venue)
    assert scan(client, kiosk, _code(app, world.a, came))["result"] == "ok"
    with app.app_context():
        plan_all(utcnow() + timedelta(hours=2))  # still running: nothing yet
    assert outbox(app, tenant_id=world.a.id, event_id=event, kind="after_thanks") == []
    with app.app_context():
        plan_all(utcnow() + timedelta(hours=4))
        plan_all(utcnow() + timedelta(hours=5))
    [thanks] = outbox(app, kind="after_thanks")
    [missed] = outbox(app, kind="after_missed")
    assert thanks.to_address == "came@example.ru" and "Спасибо, что пришли" in thanks.subject
    assert "Что дальше" in thanks.body_text and "/yaroslavl/events/open" in thanks.body_text
    assert missed.to_address == "missed@example.ru" and "Жаль, что не получилось" in missed.subject
    assert thanks.decline_url and "после события" in thanks.body_text


def test_school_staff_get_the_class_sheet_and_a_summary_of_only_their_students(app, world):
    tomorrow = world.event(world.a, starts_at=_tomorrow_at(world, "yaroslavl", 11), title="Профпроба «Повар»")
    ours, theirs = world.school(world.a, name="Школа № 5"), world.school(world.a, name="Школа № 9")
    world.user(world.a, role=Role.SCHOOL, school_id=ours)
    world.user(world.a, role=Role.SCHOOL, school_id=theirs)
    world.class_group(world.a, tomorrow, school_id=ours, size=2, label="8Б")
    family_ticket(world, world.a, tomorrow, "p@example.ru", last_name="Чужаков", school_id=theirs)
    [sheet] = outbox(app, kind="class_sheet")
    assert sheet.school_id == ours and sheet.subject == "Лист класса готов: Профпроба «Повар»"
    assert "Школа № 5" in sheet.body_text and "/sheet.pdf" in sheet.body_text
    with app.app_context():
        plan_all(_evening(world))
    summaries = {m.school_id: m for m in outbox(app, kind="school_summary")}
    assert set(summaries) == {ours, theirs}
    assert "Профпроба «Повар»" in summaries[ours].body_text and "Чужаков" not in summaries[ours].body_text
    assert "Чужаков П." in summaries[theirs].body_text and "Ученик" not in summaries[theirs].body_text


def test_find_my_ticket_answers_the_same_for_known_and_unknown_addresses(app, world, client):
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=3), title="Экскурсия")
    _, token = family_ticket(world, world.a, event, "olga@example.ru", last_name="Смирнов")
    family_ticket(world, world.a, event, "other@example.ru", last_name="Кузнецов")
    known = client.post("/yaroslavl/find-ticket", data={"email": "Olga@Example.ru"})
    unknown = client.post("/yaroslavl/find-ticket", data={"email": "nobody@example.ru"})
    strip = lambda page, address: page.get_data(as_text=True).replace(address, "ADDRESS")  # noqa: E731
    assert known.status_code == unknown.status_code == 200
    assert strip(known, "Olga@Example.ru") == strip(unknown, "nobody@example.ru")
    [found] = outbox(app, kind="find_ticket")
    assert found.to_address == "olga@example.ru" and token in found.body_text
    assert "Смирнов П. А." in found.body_text and "Кузнецов" not in found.body_text
    client.post(
        "/yaroslavl/find-ticket", data={"email": "olga@example.ru"}
    )  # again at once: no second letter
    assert len(outbox(app, kind="find_ticket")) == 1
    # the same address in another region finds nothing there
    client.post("/irkutsk/find-ticket", data={"email": "olga@example.ru"})
    assert len(outbox(app, kind="find_ticket")) == 1


def test_find_my_ticket_is_throttled(make_app, world):
    limited = make_app(FIND_TICKET_RATE_LIMIT="3 per minute").test_client()
    answers = [
        limited.post("/yaroslavl/find-ticket", data={"email": f"x{i}@example.ru"}).status_code
        for i in range(5)
    ]
    assert answers[:3] == [200, 200, 200] and answers[3:] == [429, 429]


def test_coordinator_sees_counts_per_kind_and_the_school_sees_its_failed_addresses(app, world, client):
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=3), title="Слёт")
    ours, theirs = world.school(world.a, name="Школа № 5"), world.school(world.a, name="Школа № 9")
    family_ticket(world, world.a, event, "good@example.ru", last_name="Хорошев", school_id=ours)
    bad, _ = family_ticket(world, world.a, event, "bad@example.ru", last_name="Плохов", school_id=ours)
    family_ticket(world, world.a, event, "far@example.ru", last_name="Далёкин", school_id=theirs)
    with app.app_context():  # the mail server refused two addresses
        db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.to_address.in_(["bad@example.ru", "far@example.ru"]))
            .values(status="bounced", error="550 recipient refused")
        )
        db.session.commit()
    coordinator, _ = world.user(world.a)
    login(client, coordinator)
    page = client.get(f"/yaroslavl/events/{event}/mail").get_data(as_text=True)
    row = page.split("Подтверждение записи", 1)[1].split("</tr>", 1)[0]
    assert [cell.split("<")[0] for cell in row.split('class="num">')[1:]] == ["1", "0", "2", "0"]
    assert "bad@example.ru" in page and "Плохов П. А." in page and "far@example.ru" in page
    client.post("/logout")
    staff, _ = world.user(world.a, role=Role.SCHOOL, school_id=ours)
    login(client, staff)
    school_page = client.get("/yaroslavl/mail/undelivered").get_data(as_text=True)
    assert "bad@example.ru" in school_page and "Плохов П. А." in school_page
    assert "far@example.ru" not in school_page and "good@example.ru" not in school_page
    assert client.get(f"/yaroslavl/events/{event}/mail").status_code == 403


def test_coordinator_sets_the_sender_name_and_reminder_time(app, world, client):
    coordinator, _ = world.user(world.a)
    login(client, coordinator)
    bad = client.post("/yaroslavl/mail/settings", data={"sender_name": "ЦОПП", "reminder_time": "25:00"})
    assert "Время напоминания — в виде ЧЧ:ММ" in client.get(bad.headers["Location"]).get_data(as_text=True)
    client.post(
        "/yaroslavl/mail/settings", data={"sender_name": "ЦОПП Ярославской области", "reminder_time": "19:30"}
    )
    event = world.event(world.a, starts_at=_tomorrow_at(world, "yaroslavl", 10))
    family_ticket(world, world.a, event, "olga@example.ru", last_name="Смирнов")
    [confirmation] = outbox(app, kind="confirmation")
    assert confirmation.sender_name == "ЦОПП Ярославской области"
    with app.app_context():
        plan_all(_evening(world).replace(hour=19, minute=29))
    assert outbox(app, kind="reminder") == []
    with app.app_context():
        plan_all(_evening(world).replace(hour=19, minute=31))
    assert len(outbox(app, kind="reminder")) == 1
