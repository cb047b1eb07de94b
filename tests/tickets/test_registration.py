"""Registration through the API and the public page: every rule refuses in plain Russian."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.accounts.models import Role
from server.catalog.models import Event, EventQuota
from server.database import utcnow
from server.extensions import db
from server.tickets import codes
from server.tickets.consent import CONSENT_VERSION
from server.tickets.models import Consent, ConsentMethod, Student, Ticket, TicketStatus
from tests.conftest import bearer, login
from tests.tickets.helpers import body, give_quotas, region


def _url(world, event_id, slug="yaroslavl"):
    return f"/api/v1/{slug}/events/{event_id}/registrations"


def test_public_registration_returns_a_signed_ticket_and_counts_the_seat(app, client, world):
    school = world.school(world.a)
    event = world.event(world.a, capacity=5)
    response = client.post(_url(world, event), json=body(school))
    assert response.status_code == 201
    ticket = response.json["ticket"]
    assert ticket["url"].startswith("http://localhost/yaroslavl/t/")
    with region(app, world.a):
        payload = codes.verify(ticket["code"], world.a.id, codes.CodeKind.TICKET)
        assert payload.object_id == ticket["id"] and payload.event_id == event
        assert db.session.scalar(select(Event.registered).where(Event.id == event)) == 1
        student = db.session.scalar(select(Student))
        assert (student.last_name, student.first_name, student.short_name) == (
            "Смирнова",
            "Алёна",
            "Смирнова А. И.",
        )
        consent = db.session.scalar(select(Consent))
        assert consent.method == ConsentMethod.ONLINE and consent.guardian_phone == "+79001234567"
    assert "Смирнова" not in ticket["code"]


def test_the_same_student_cannot_register_twice_for_one_event(client, world):
    school = world.school(world.a)
    event = world.event(world.a)
    assert client.post(_url(world, event), json=body(school)).status_code == 201
    again = client.post(_url(world, event), json=body(school, last_name="СМИРНОВА", first_name="Алена"))
    assert again.status_code == 409
    assert again.json["error"]["code"] == "already_registered"


def test_full_event_says_so(client, world):
    school = world.school(world.a)
    event = world.event(world.a, capacity=1)
    world.ticket(world.a, event)
    response = client.post(_url(world, event), json=body(school))
    assert response.status_code == 409
    assert response.json["error"] == {
        "code": "event_full",
        "message": "Свободных мест больше нет: все места на это событие заняты.",
    }


def test_wrong_grade_and_missing_consent_are_422(client, world):
    school = world.school(world.a)
    event = world.event(world.a, grades=(8, 11))
    response = client.post(_url(world, event), json=body(school, grade=6))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "wrong_grade"
    assert "8–11 классов" in response.json["error"]["message"]
    response = client.post(_url(world, event), json=body(school, consent=False))
    assert response.status_code == 422 and response.json["error"]["code"] == "consent_required"
    response = client.post(_url(world, event), json={"student": {}})
    assert response.status_code == 422


def test_quota_of_the_municipality_is_a_cap_until_the_deadline(app, client, world):
    north = world.municipality(world.a)
    south = world.municipality(world.a)
    north_school, south_school = world.school(world.a, north), world.school(world.a, south)
    event = world.event(world.a, capacity=3, quotas=[(north, 1)])
    assert client.post(_url(world, event), json=body(north_school, last_name="Первый")).status_code == 201
    refused = client.post(_url(world, event), json=body(north_school, last_name="Второй"))
    assert refused.status_code == 409 and refused.json["error"]["code"] == "quota_full"
    assert "квоте вашего муниципалитета" in refused.json["error"]["message"]
    # The other two seats are the general pool.
    for name in ("Третий", "Четвёртый"):
        assert client.post(_url(world, event), json=body(south_school, last_name=name)).status_code == 201
    assert client.post(_url(world, event), json=body(south_school, last_name="Пятый")).status_code == 409


def test_a_quota_given_after_registration_opened_holds_from_the_next_registration(app, client, world):
    north = world.municipality(world.a)
    south_school = world.school(world.a)
    event = world.event(world.a, capacity=2)
    assert client.post(_url(world, event), json=body(south_school, last_name="Первый")).status_code == 201
    with region(app, world.a) as tz:
        give_quotas(db.session.scalar(select(Event).where(Event.id == event)), [(north, 1)], tz)
        db.session.commit()
    # The last seat is now the northern municipality's.
    refused = client.post(_url(world, event), json=body(south_school, last_name="Второй"))
    assert refused.status_code == 409 and refused.json["error"]["code"] == "event_full"


def test_unclaimed_quota_seats_are_released_after_the_deadline(app, client, world):
    north = world.municipality(world.a)
    south_school = world.school(world.a)
    event = world.event(world.a, capacity=2, quotas=[(north, 2)])
    refused = client.post(_url(world, event), json=body(south_school))
    assert refused.status_code == 409 and refused.json["error"]["code"] == "event_full"
    with region(app, world.a):
        db.session.scalar(select(Event).where(Event.id == event)).quota_deadline = utcnow() - timedelta(
            minutes=1
        )
        db.session.commit()
    assert client.post(_url(world, event), json=body(south_school)).status_code == 201


def test_season_limit_lists_the_students_trials(app, client, world):
    school = world.school(world.a)
    venue = world.venue(world.a)
    start = utcnow() + timedelta(days=1)
    online = [
        world.event(
            world.a,
            venue_id=venue,
            programme="trial",
            format="online",
            starts_at=start + timedelta(hours=i * 3),
        )
        for i in range(5)
    ]
    for event in online[:4]:
        assert client.post(_url(world, event), json=body(school)).status_code == 201
    refused = client.post(_url(world, online[4]), json=body(school, last_name="смирнова"))
    assert refused.status_code == 409
    error = refused.json["error"]
    assert error["code"] == "season_limit"
    assert error["message"].startswith("Проб за учебный год разрешено: 4, и ученик уже записан на все")
    assert [t["event_id"] for t in error["trials"]] == online[:4]


def test_only_one_in_person_trial_per_season_by_default(client, world):
    school = world.school(world.a)
    start = utcnow() + timedelta(days=2)
    first = world.event(world.a, programme="trial", starts_at=start)
    second = world.event(world.a, programme="trial", starts_at=start + timedelta(days=1))
    assert client.post(_url(world, first), json=body(school)).status_code == 201
    refused = client.post(_url(world, second), json=body(school))
    assert refused.status_code == 409 and refused.json["error"]["code"] == "season_in_person_limit"
    # Another grade is another student.
    assert client.post(_url(world, second), json=body(school, grade=10)).status_code == 201


def test_school_staff_register_only_their_school_and_skip_the_rate_limit(app, client, world):
    mine, other = world.school(world.a), world.school(world.a)
    event = world.event(world.a)
    _, token = world.user(world.a, Role.SCHOOL, school_id=mine)
    assert client.post(_url(world, event), json=body(mine), headers=bearer(token)).status_code == 201
    refused = client.post(_url(world, event), json=body(other), headers=bearer(token))
    assert refused.status_code == 403
    _, venue_token = world.user(world.a, Role.VENUE, venue_id=world.venue(world.a))
    assert (
        client.post(
            _url(world, event), json=body(mine, last_name="Другой"), headers=bearer(venue_token)
        ).status_code
        == 403
    )
    assert client.post(_url(world, event), json=body(mine), headers=bearer("pk_nonsense")).status_code == 401


def test_public_registration_is_rate_limited_per_client(world, make_app):
    app = make_app(RATELIMIT_ENABLED=True, REGISTRATION_RATE_LIMIT="3 per minute")
    client = app.test_client()
    school = world.school(world.a)
    event = world.event(world.a)
    codes_seen = [
        client.post(_url(world, event), json=body(school, last_name=name)).status_code
        for name in ("Аа", "Бб", "Вв", "Гг")
    ]
    assert codes_seen == [201, 201, 201, 429]


@pytest.mark.parametrize("trusted_proxies", [0, 1])
def test_behind_a_trusted_proxy_each_parent_has_their_own_limit(world, make_app, trusted_proxies):
    """Behind nginx every request comes from 127.0.0.1: without trusting X-Forwarded-For, a whole
    region's parents would share one limit; trusting it when nothing sets it would let anyone dodge it."""
    app = make_app(
        RATELIMIT_ENABLED=True, REGISTRATION_RATE_LIMIT="2 per minute", TRUSTED_PROXIES=trusted_proxies
    )
    client = app.test_client()
    school = world.school(world.a)
    event = world.event(world.a)
    statuses = [
        client.post(
            _url(world, event),
            json=body(school, last_name=name),
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        ).status_code
        for n, name in enumerate(("Аа", "Бб", "Вв", "Гг"))
    ]
    assert statuses == ([201, 201, 201, 201] if trusted_proxies else [201, 201, 429, 429])


def test_cancel_frees_the_seat_and_the_quota(app, client, world):
    north = world.municipality(world.a)
    school = world.school(world.a, north)
    event = world.event(world.a, capacity=1, quotas=[(north, 1)])
    ticket_id, _ = world.ticket(world.a, event, school_id=school)
    _, school_token = world.user(world.a, Role.SCHOOL, school_id=school)
    _, stranger_token = world.user(world.a, Role.SCHOOL, school_id=world.school(world.a))
    assert (
        client.delete(f"/api/v1/yaroslavl/tickets/{ticket_id}", headers=bearer(stranger_token)).status_code
        == 403
    )
    response = client.delete(f"/api/v1/yaroslavl/tickets/{ticket_id}", headers=bearer(school_token))
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    with region(app, world.a):
        ticket = db.session.scalar(select(Ticket).where(Ticket.id == ticket_id))
        assert ticket.status == TicketStatus.CANCELLED and ticket.cancelled_at is not None
        assert db.session.scalar(select(Event.registered).where(Event.id == event)) == 0
        assert db.session.scalar(select(EventQuota.used)) == 0
    assert client.post(_url(world, event), json=body(school)).status_code == 201
    _, b_token = world.user(world.b, Role.COORDINATOR)
    assert client.delete(f"/api/v1/irkutsk/tickets/{ticket_id}", headers=bearer(b_token)).status_code == 404


def test_one_active_ticket_per_student_and_event_is_a_database_constraint(app, world):
    import pytest
    from sqlalchemy.exc import IntegrityError

    event = world.event(world.a)
    ticket_id, _ = world.ticket(world.a, event)
    with region(app, world.a):
        original = db.session.scalar(select(Ticket).where(Ticket.id == ticket_id))
        db.session.add(
            Ticket(
                event_id=event,
                student_id=original.student_id,
                consent_id=original.consent_id,
                municipality_id=original.municipality_id,
                access_token="x" * 32,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_public_page_registers_and_shows_the_ticket(client, world):
    school = world.school(world.a, name="Средняя школа № 33 имени Ёлкина")
    event = world.event(world.a, capacity=10)
    page = client.get(f"/yaroslavl/e/{event}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "ул. Советская, 1" in text and "Свободно" in text and "редакция" in text
    found = client.get("/yaroslavl/schools/find?q=ЕЛКИНА").json
    assert found and found[0]["id"] == school
    form = {
        "last_name": "петров",
        "first_name": "пётр",
        "grade": "9",
        "school": "елкина",  # no JavaScript: the server matches the typed name
        "guardian_name": "Петрова Анна",
        "guardian_phone": "+7 900 000-00-00",
        "consent": "y",
        "consent_version": CONSENT_VERSION,
    }
    refused = client.post(f"/yaroslavl/e/{event}", data={**form, "consent": ""})
    assert refused.status_code == 422
    assert "Без согласия родителя" in refused.get_data(as_text=True)
    done = client.post(f"/yaroslavl/e/{event}", data=form)
    assert done.status_code == 302
    ticket_page = client.get(done.headers["Location"])
    html = ticket_page.get_data(as_text=True)
    assert ticket_page.status_code == 200 and "Петров П." in html and "Добавить в календарь" in html
    assert ticket_page.headers["Cache-Control"] == "no-store"


def test_guardian_cancels_from_the_ticket_page_and_the_code_stops(app, client, world):
    event = world.event(world.a)
    ticket_id, _ = world.ticket(world.a, event)
    with region(app, world.a):
        token = db.session.scalar(select(Ticket.access_token).where(Ticket.id == ticket_id))
    assert client.get(f"/yaroslavl/t/{token}/qr.svg").status_code == 200
    response = client.post(f"/yaroslavl/t/{token}/cancel")
    assert "Запись отменена" in response.get_data(as_text=True)
    page = client.get(f"/yaroslavl/t/{token}").get_data(as_text=True)
    assert "Билет отменён" in page
    assert client.get(f"/yaroslavl/t/{token}/qr.svg").status_code == 404
    assert client.get(f"/irkutsk/t/{token}").status_code == 404


def test_moving_to_another_slot_keeps_the_history(app, client, world):
    venue = world.venue(world.a)
    start = utcnow() + timedelta(days=3)
    first = world.event(world.a, venue_id=venue, programme="trial", starts_at=start)
    second = world.event(world.a, venue_id=venue, programme="trial", starts_at=start + timedelta(days=1))
    ticket_id, _ = world.ticket(world.a, first)
    with region(app, world.a):
        token = db.session.scalar(select(Ticket.access_token).where(Ticket.id == ticket_id))
    offer = client.get(f"/yaroslavl/t/{token}?move=1").get_data(as_text=True)
    assert f'value="{second}"' in offer
    moved = client.post(f"/yaroslavl/t/{token}/move", data={"event_id": second})
    assert moved.status_code == 302
    with region(app, world.a):
        new = db.session.scalar(select(Ticket).where(Ticket.replaces_id == ticket_id))
        old = db.session.scalar(select(Ticket).where(Ticket.id == ticket_id))
        assert new.event_id == second and new.status == TicketStatus.ACTIVE
        assert old.status == TicketStatus.CANCELLED
        counts = dict(db.session.execute(select(Event.id, Event.registered)).all())
        assert counts[first] == 0 and counts[second] == 1
    assert "Запись перенесена" in client.get(f"/yaroslavl/t/{token}").get_data(as_text=True)


def test_staff_cancel_page_and_programme_limits(app, client, world):
    school = world.school(world.a)
    event = world.event(world.a)
    ticket_id, _ = world.ticket(world.a, event, school_id=school)
    email, _ = world.user(world.a, Role.SCHOOL, school_id=school)
    login(client, email)
    listing = client.get(f"/yaroslavl/events/{event}/tickets").get_data(as_text=True)
    assert "Иванов" in listing
    question = client.get(f"/yaroslavl/tickets/{ticket_id}/cancel").get_data(as_text=True)
    assert "Отменить билет?" in question and "Да, отменить билет" in question
    client.post(f"/yaroslavl/tickets/{ticket_id}/cancel", data={"confirmed": "1"})
    assert "отменён" in client.get(f"/yaroslavl/events/{event}/tickets").get_data(as_text=True)
    assert client.get("/yaroslavl/programmes").status_code == 403

    coordinator, _ = world.user(world.a, Role.COORDINATOR)
    other = app.test_client()
    login(other, coordinator)
    with region(app, world.a):
        from server.catalog.models import Programme, ProgrammeKind

        trial = db.session.scalar(select(Programme).where(Programme.kind == ProgrammeKind.TRIAL))
        open_day = db.session.scalar(select(Programme).where(Programme.kind == ProgrammeKind.OPEN_DAY))
        ids = trial.id, open_day.id
    response = other.post(
        "/yaroslavl/programmes",
        data={
            f"season_limit-{ids[0]}": "6",
            f"season_in_person_limit-{ids[0]}": "2",
            f"season_limit-{ids[1]}": "",
        },
    )
    assert response.status_code == 302
    with region(app, world.a):
        trial = db.session.scalar(select(Programme).where(Programme.id == ids[0]))
        assert (trial.season_limit, trial.season_in_person_limit) == (6, 2)
    bad = other.post(
        "/yaroslavl/programmes", data={f"season_limit-{ids[0]}": "1", f"season_in_person_limit-{ids[0]}": "2"}
    )
    assert bad.status_code == 422 and "Очных проб не может быть больше" in bad.get_data(as_text=True)


SCHOOLS = (
    "Средняя школа № 33", "Средняя школа № 3", "Средняя школа № 133", "Гимназия № 2", "Лицей № 86",
    "Лицей № 2", "Основная общеобразовательная школа № 7", "Школа имени Алёши Попова",
)  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("школа 33", ["Средняя школа № 33"]),
        ("33 школа", ["Средняя школа № 33"]),
        ("сш 33", ["Средняя школа № 33"]),
        ("СОШ 33", ["Средняя школа № 33"]),
        ("МОУ СОШ № 33", ["Средняя школа № 33"]),
        ("средняя 33", ["Средняя школа № 33"]),
        ("лицей 86", ["Лицей № 86"]),
        ("гимназия № 2", ["Гимназия № 2"]),
        ("гимн 2", ["Гимназия № 2"]),
        ("оош 7", ["Основная общеобразовательная школа № 7"]),
        ("алеши попова", ["Школа имени Алёши Попова"]),
        ("попова алёши", ["Школа имени Алёши Попова"]),
        ("лицей", ["Лицей № 2", "Лицей № 86"]),
    ],
)
def test_parents_find_their_school_word_by_word_in_any_order(client, world, typed, found):
    municipality = world.municipality(world.a, "г. Ярославль")
    for name in SCHOOLS:
        world.school(world.a, municipality, name)
    world.school(world.b, world.municipality(world.b), "Средняя школа № 33")  # another region's
    answer = client.get("/yaroslavl/schools/find", query_string={"q": typed}).json
    assert sorted(s["name"] for s in answer) == found
