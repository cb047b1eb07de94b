"""Withdrawal and erasure: a guardian on the ticket page, a coordinator on a written request.

The tickets are cancelled, the student's and guardian's personal data erased at once, the anonymous
counts kept, the erasure recorded (what, when, on whose request) and kept 3 years.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from server.accounts.models import Role
from server.audit.models import AuditEntry
from server.checkins.models import Checkin
from server.database import utcnow
from server.extensions import db
from server.privacy.models import Erasure, ErasureReason
from server.tickets.models import Consent, Student, Ticket, TicketStatus
from tests.conftest import bearer, login
from tests.kiosk.helpers import paired_kiosk, scan
from tests.tickets.helpers import region


def _student_with_two_tickets(client, world):
    """Соколов: admitted today at a kiosk, and registered for an event in two days."""
    school = world.school(world.a)
    venue = world.venue(world.a)
    today = world.event(world.a, venue_id=venue)
    later = world.event(world.a, starts_at=utcnow() + timedelta(days=2))
    admitted, code = world.ticket(world.a, today, school_id=school, last_name="Соколов")
    upcoming, upcoming_code = world.ticket(world.a, later, school_id=school, last_name="Соколов")
    kiosk = paired_kiosk(client, world, world.a, venue)
    assert scan(client, kiosk, code)["result"] == "ok"
    with region(world.app, world.a):
        token = db.session.scalar(select(Ticket.access_token).where(Ticket.id == upcoming))
    return today, later, admitted, upcoming, upcoming_code, token, kiosk


def _attendance(client, world, event_id: int) -> dict:
    _, token = world.user(world.a)
    report = client.get(f"/api/v1/yaroslavl/events/{event_id}/attendance", headers=bearer(token)).get_json()
    return {k: report[k] for k in ("registered", "checked_in", "by_municipality", "by_school")}


def _nothing_personal_left(app, world, ticket_ids: list[int]) -> None:
    with region(app, world.a):
        student = db.session.scalar(select(Student))
        assert (student.last_name, student.first_name, student.middle_name) == ("", "", "")
        assert "соколов" not in student.identity_name and student.erased_at is not None
        for consent in db.session.scalars(select(Consent)):
            assert (consent.guardian_name, consent.guardian_phone, consent.guardian_email) == ("", None, None)
            assert consent.erased_at is not None
        tickets = list(db.session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))))
        assert all(t.code is None for t in tickets)
        assert all(c.message is None for c in db.session.scalars(select(Checkin)))


def test_guardian_withdraws_consent_and_everything_personal_goes_but_the_counts_stay(app, client, world):
    today, later, admitted, upcoming, upcoming_code, token, kiosk = _student_with_two_tickets(client, world)
    before = _attendance(client, world, today)

    page = client.get(f"/yaroslavl/t/{token}").get_data(as_text=True)
    assert "Отозвать согласие и удалить данные" in page
    confirm = client.get(f"/yaroslavl/t/{token}/withdraw").get_data(as_text=True)
    assert "Это нельзя отменить" in confirm and "Соколов И. П." in confirm
    unconfirmed = client.post(f"/yaroslavl/t/{token}/withdraw", data={})
    assert unconfirmed.status_code == 422
    with region(app, world.a):
        assert db.session.scalar(select(Student.last_name)) == "Соколов"

    done = client.post(f"/yaroslavl/t/{token}/withdraw", data={"confirm": "1"})
    assert done.status_code == 200 and "Согласие отозвано" in done.get_data(as_text=True)
    assert "Записи отменены: 1" in done.get_data(as_text=True)

    _nothing_personal_left(app, world, [admitted, upcoming])
    with region(app, world.a):
        statuses = dict(db.session.execute(select(Ticket.id, Ticket.status)).all())
        assert statuses == {admitted: TicketStatus.ACTIVE, upcoming: TicketStatus.CANCELLED}
        consents = list(db.session.scalars(select(Consent)))
        assert all(c.withdrawn_at is not None for c in consents)
        erasure = db.session.scalar(select(Erasure))
        assert erasure.reason == ErasureReason.WITHDRAWAL and erasure.tickets_cancelled == 1
        assert erasure.tickets_erased == 2 and erasure.actor_user_id is None
        assert erasure.keep_until == erasure.created_at.replace(year=erasure.created_at.year + 3)
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"consent.withdrawn", "privacy.erased", "ticket.cancelled"} <= actions
    # The counts of the admitted event did not move; the old link and the old code lead nowhere.
    assert _attendance(client, world, today) == before
    assert client.get(f"/yaroslavl/t/{token}").status_code == 404
    assert scan(client, kiosk, upcoming_code)["result"] == "invalid"


def test_coordinator_erases_on_a_written_request_with_a_confirmation(app, client, world):
    today, later, admitted, upcoming, _, _, _ = _student_with_two_tickets(client, world)
    before = _attendance(client, world, today)
    email, _ = world.user(world.a, Role.COORDINATOR)
    login(client, email)
    found = client.get("/yaroslavl/personal-data?q=соколов").get_data(as_text=True)
    assert "Соколов Иван Петрович" in found
    with region(app, world.a):
        student_id = db.session.scalar(select(Student.id))
    url = f"/yaroslavl/personal-data/students/{student_id}/erase"
    assert "Удалить данные ученика?" in client.get(url).get_data(as_text=True)
    refused = client.post(url, data={"reference": "вх. № 15 от 02.12.2026"})
    assert refused.status_code == 422 and "нельзя отменить" in refused.get_data(as_text=True)
    done = client.post(
        url, data={"reference": "вх. № 15 от 02.12.2026", "confirm": "y"}, follow_redirects=True
    )
    html = done.get_data(as_text=True)
    assert "Данные удалены" in html and "письменное заявление" in html and "вх. № 15 от 02.12.2026" in html

    _nothing_personal_left(app, world, [admitted, upcoming])
    with region(app, world.a):
        erasure = db.session.scalar(select(Erasure))
        assert erasure.reason == ErasureReason.WRITTEN_REQUEST and erasure.actor_user_id is not None
        assert (
            db.session.scalar(
                select(func.count()).select_from(Consent).where(Consent.withdrawn_at.is_not(None))
            )
            == 0
        )
    assert _attendance(client, world, today) == before
    assert client.get(url).status_code == 404  # nothing left to erase
    listed = client.get(f"/yaroslavl/events/{today}/tickets").get_data(as_text=True)
    assert "(данные удалены)" in listed and "Соколов" not in listed


def test_another_regions_coordinator_cannot_find_or_erase_the_student(app, client, world):
    _student_with_two_tickets(client, world)
    email, _ = world.user(world.b, Role.COORDINATOR)
    login(client, email)
    with region(app, world.a):
        student_id = db.session.scalar(select(Student.id))
    assert "Соколов" not in client.get("/irkutsk/privacy?q=соколов").get_data(as_text=True)
    assert (
        client.post(
            f"/irkutsk/personal-data/students/{student_id}/erase", data={"reference": "x", "confirm": "y"}
        ).status_code
        == 404
    )
    assert client.get(f"/yaroslavl/personal-data/students/{student_id}/erase").status_code == 404
    with region(app, world.a):
        assert db.session.scalar(select(Student.last_name)) == "Соколов"


def test_withdrawal_clears_the_guardians_letters_from_the_regions_outbox(app, client, world):
    from server.mail.models import OutgoingMail
    from server.mail.services import queue_mail
    from tests.tickets.helpers import body

    school = world.school(world.a)
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=2))
    data = body(school, last_name="Орлова")
    data["guardian"] = {"name": "Орлов Пётр Ильич", "email": "Orlov.P@Example.ru"}
    created = client.post(f"/api/v1/yaroslavl/events/{event}/registrations", json=data)
    assert created.status_code == 201, created.get_json()
    with region(app, world.a):
        for to, key in (("Орлов П. <orlov.p@example.ru>", "a"), ("other@example.ru", "b")):
            queue_mail(to, "Билет", "test_message", {}, kind="ticket", key=key, tenant_id=world.a.id)
        db.session.commit()
        token = db.session.scalar(select(Ticket.access_token))
    assert client.post(f"/yaroslavl/t/{token}/withdraw", data={"confirm": "1"}).status_code == 200
    with app.app_context():
        assert list(db.session.scalars(select(OutgoingMail.to_address))) == ["other@example.ru"]
