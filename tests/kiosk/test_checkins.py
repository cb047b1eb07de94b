"""The door's answers through the API: every result, once, replayed scan ids, isolation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.checkins.models import AdmissionMethod, Checkin, ScanResult
from server.database import utcnow
from server.extensions import db
from server.tickets.models import Ticket, TicketStatus
from tenants.scoping import tenant_scope
from tests.conftest import bearer, login
from tests.kiosk.helpers import paired_kiosk, scan


def _checkins(app, region) -> list[Checkin]:
    with app.app_context(), tenant_scope(region.id):
        rows = list(db.session.scalars(select(Checkin).order_by(Checkin.id)))
        db.session.expunge_all()
        return rows


def _cancel(app, region, ticket_id: int) -> None:
    with app.app_context(), tenant_scope(region.id):
        ticket = db.session.scalar(select(Ticket).where(Ticket.id == ticket_id))
        ticket.status = TicketStatus.CANCELLED
        ticket.cancelled_at = utcnow()
        db.session.commit()


def test_first_scan_admits_and_shows_door_details(app, client, world):
    school = world.school(world.a, name="Школа № 7")
    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    _, code = world.ticket(world.a, event, school_id=school, last_name="Петров", first_name="Илья", grade=9)
    kiosk = paired_kiosk(client, world, world.a, venue)

    answer = scan(client, kiosk, code)

    assert answer["result"] == "ok"
    assert answer["message"] == "Проходите"
    assert answer["ticket"]["short_name"] == "Петров И. П."
    assert answer["ticket"]["grade"] == 9
    assert answer["ticket"]["school"] == "Школа № 7"
    assert answer["ticket"]["event"].startswith("Событие")
    assert "checked_in_at" in answer


def test_second_scan_reports_first_admission_time_and_kiosk(app, client, world):
    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    _, code = world.ticket(world.a, event)
    door1 = paired_kiosk(client, world, world.a, venue, "Вход 1")
    door2 = paired_kiosk(client, world, world.a, venue, "Вход 2")

    first = scan(client, door1, code)
    second = scan(client, door2, code)

    assert first["result"] == "ok"
    assert second["result"] == "already_checked_in"
    with app.app_context():
        from tenants.models import Tenant

        tz = db.session.get(Tenant, world.a.id).tz
    from datetime import datetime

    at = datetime.fromisoformat(first["checked_in_at"]).astimezone(tz).strftime("%H:%M")
    assert second["message"] == f"Уже прошёл в {at} · киоск «Вход 1»"
    assert second["checked_in_at"] == first["checked_in_at"]
    rows = _checkins(app, world.a)
    assert [r.result for r in rows] == [ScanResult.OK, ScanResult.ALREADY_CHECKED_IN]


def test_cancelled_ticket_is_refused(app, client, world):
    event = world.event(world.a)
    ticket_id, code = world.ticket(world.a, event)
    _cancel(app, world.a, ticket_id)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))

    answer = scan(client, kiosk, code)

    assert answer["result"] == "cancelled"
    assert answer["message"] == "Билет аннулирован"


def test_a_ticket_used_at_the_door_is_cancelled_neither_by_staff_nor_with_its_event(app, client, world):
    event = world.event(world.a)
    ticket_id, code = world.ticket(world.a, event)
    other_id, _ = world.ticket(world.a, event)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    assert scan(client, kiosk, code)["result"] == "ok"
    _, token = world.user(world.a)

    refused = client.delete(f"/api/v1/{world.a.slug}/tickets/{ticket_id}", headers=bearer(token))

    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "used"
    assert "Ученик уже прошёл по этому билету" in refused.get_json()["error"]["message"]
    with app.app_context(), tenant_scope(world.a.id):
        from server.catalog.models import Event
        from server.notifications.services import cancel_event

        cancelled = cancel_event(db.session.get(Event, event), reason="Авария", user_id=None)
        db.session.commit()
        status = dict(db.session.execute(select(Ticket.id, Ticket.status)).all())
    assert cancelled == 1
    assert status == {ticket_id: TicketStatus.ACTIVE, other_id: TicketStatus.CANCELLED}


def test_ticket_for_another_venue_names_that_venue(app, client, world):
    other_venue = world.venue(world.a, name="Колледж связи")
    event = world.event(world.a, venue_id=other_venue)
    _, code = world.ticket(world.a, event)
    kiosk = paired_kiosk(client, world, world.a, world.venue(world.a, name="Политехникум"))

    answer = scan(client, kiosk, code)

    assert answer["result"] == "wrong_venue"
    assert "Колледж связи" in answer["message"]


def test_window_opens_an_hour_before_and_closes_at_the_end(app, client, world):
    venue = world.venue(world.a)
    later_start = utcnow() + timedelta(minutes=90)
    later = world.event(world.a, venue_id=venue, starts_at=later_start)
    soon = world.event(world.a, venue_id=venue, starts_at=utcnow() + timedelta(minutes=50))
    over = world.event(world.a, venue_id=venue, starts_at=utcnow() - timedelta(hours=4), hours=3)
    kiosk = paired_kiosk(client, world, world.a, venue)

    too_early = scan(client, kiosk, world.ticket(world.a, later)[1])
    just_open = scan(client, kiosk, world.ticket(world.a, soon)[1])
    too_late = scan(client, kiosk, world.ticket(world.a, over)[1])

    assert too_early["result"] == "outside_window"
    with app.app_context():
        from tenants.models import Tenant

        opens = (later_start - timedelta(hours=1)).astimezone(db.session.get(Tenant, world.a.id).tz)
    # «… откроется в 21:30», or with the day named when the region's date changes before then
    assert too_early["message"].startswith("Вход ещё не открыт: откроется ")
    assert too_early["message"].endswith(f"в {opens:%H:%M}")
    assert just_open["result"] == "ok"
    assert too_late["result"] == "outside_window"
    assert too_late["message"].startswith("Событие уже закончилось")


def test_a_ticket_for_another_day_says_which_day_its_window_opens(app, client, world):
    from tenants.models import Tenant

    venue = world.venue(world.a)
    with app.app_context():
        tz = db.session.get(Tenant, world.a.id).tz
    local = utcnow().astimezone(tz)
    starts = (local + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    event = world.event(world.a, venue_id=venue, starts_at=starts)
    kiosk = paired_kiosk(client, world, world.a, venue)

    answer = scan(client, kiosk, world.ticket(world.a, event)[1])
    months = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
              "октября", "ноября", "декабря")  # fmt: skip
    day = f"{starts.day} {months[starts.month - 1]}"
    assert answer["result"] == "outside_window"
    assert answer["message"].startswith(f"Вход ещё не открыт: откроется {day} (")
    assert answer["message"].endswith("в 09:00")


def test_unknown_forged_and_other_region_codes_are_indistinguishable(app, client, world):
    event = world.event(world.a)
    _, code = world.ticket(world.a, event)
    foreign_event = world.event(world.b)
    _, foreign_code = world.ticket(world.b, foreign_event)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    forged = code[:-6] + ("AAAAAA" if not code.endswith("AAAAAA") else "BBBBBB")

    answers = [scan(client, kiosk, c) for c in ("hello", forged, foreign_code, "A" * 125)]

    assert {a["result"] for a in answers} == {"invalid"}
    assert {a["message"] for a in answers} == {"Билет недействителен"}
    assert all("ticket" not in a for a in answers)
    assert len(_checkins(app, world.a)) == 4  # failures are logged too
    assert _checkins(app, world.b) == []


def test_replayed_scan_id_returns_the_first_answer(app, client, world):
    event = world.event(world.a)
    _, code = world.ticket(world.a, event)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))

    first = scan(client, kiosk, code, scan_id="scan-0001-aaaa")
    again = scan(client, kiosk, code, scan_id="scan-0001-aaaa")
    other = scan(client, kiosk, code, scan_id="scan-0002-bbbb")

    assert first["result"] == again["result"] == "ok"
    assert again == first
    assert other["result"] == "already_checked_in"
    assert len(_checkins(app, world.a)) == 2


def test_kiosk_cannot_act_in_another_region(app, client, world):
    event = world.event(world.a)
    _, code = world.ticket(world.a, event)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))

    response = client.post("/api/v1/irkutsk/checkins", json={"code": code}, headers=kiosk.headers)

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_kiosk_scanning_a_genuine_code_of_another_region_there_learns_nothing(app, client, world):
    """The scan reads the kiosk and the ticket in one query: the region check must still come first."""
    _, code_b = world.ticket(world.b, world.event(world.b))
    event_a = world.event(world.a)
    kiosk_a = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event_a))

    response = client.post("/api/v1/irkutsk/checkins", json={"code": code_b}, headers=kiosk_a.headers)

    assert response.status_code == 404
    assert "ticket" not in response.get_json() and "Иван" not in response.get_data(as_text=True)
    assert _checkins(app, world.b) == [] and _checkins(app, world.a) == []


def test_escort_code_at_the_turnstile_points_to_the_class_list(app, client, world):
    from tests.kiosk.test_groups import make_group

    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    _, escort_code, _ = make_group(app, world, world.a, event, size=1)
    kiosk = paired_kiosk(client, world, world.a, venue)

    answer = scan(client, kiosk, escort_code)

    assert answer["result"] == "invalid"
    assert "список класса" in answer["message"]


def test_every_admission_is_announced_live(app, client, world):
    from server.checkins.counts import admitted

    announced = []

    def heard(work, **values):
        announced.append((values["ticket_id"], values["checked_in"]))

    event = world.event(world.a)
    ticket_id, code = world.ticket(world.a, event)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))

    with admitted.connected_to(heard):
        scan(client, kiosk, code)
        scan(client, kiosk, code)

    assert announced == [(ticket_id, 1)]


def test_offline_scans_sync_with_device_times_and_flag_two_doors(app, client, world):
    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    _, code1 = world.ticket(world.a, event)
    _, code2 = world.ticket(world.a, event)
    door1 = paired_kiosk(client, world, world.a, venue, "Вход 1")
    door2 = paired_kiosk(client, world, world.a, venue, "Вход 2")
    at = (utcnow() - timedelta(minutes=7)).replace(microsecond=0)
    batch1 = [
        {"code": code1, "scan_id": "off-1-0000001", "scanned_at": at.isoformat()},
        {"code": code2, "scan_id": "off-1-0000002", "scanned_at": (at + timedelta(seconds=5)).isoformat()},
    ]
    batch2 = [
        {"code": code1, "scan_id": "off-2-0000001", "scanned_at": (at + timedelta(minutes=1)).isoformat()}
    ]

    def sync(kiosk, items):
        response = client.post(
            f"/api/v1/{kiosk.slug}/checkins/bulk", json={"items": items}, headers=kiosk.headers
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["results"]

    first = sync(door1, batch1)
    replayed = sync(door1, batch1)  # the tablet lost the answer and retries
    second = sync(door2, batch2)

    assert [r["result"] for r in first] == ["ok", "ok"]
    assert replayed == [{**r, "conflict": False} for r in first]
    assert second[0]["result"] == "already_checked_in" and second[0]["conflict"] is True
    rows = _checkins(app, world.a)
    assert len(rows) == 3
    assert rows[0].scanned_at == at and rows[0].method == AdmissionMethod.OFFLINE
    assert [r.conflict for r in rows] == [False, False, True]
    email, _ = world.user(world.a)
    login(client, email)
    page = client.get(f"/{world.a.slug}/kiosks").get_data(as_text=True)
    conflicts = page.split("Конфликты офлайн-входа", 1)[1].split("Не отмечены как ушедшие", 1)[0]
    assert first[0]["ticket"]["short_name"] in conflicts and "Вход 2" in conflicts


def _venue_of(app, region, event_id: int) -> int:
    from server.catalog.models import Event

    with app.app_context(), tenant_scope(region.id):
        return db.session.scalar(select(Event.venue_id).where(Event.id == event_id))


def test_ticket_cancelled_after_the_offline_list_was_taken_is_flagged_on_sync(app, client, world):
    event = world.event(world.a)
    ticket_id, code = world.ticket(world.a, event)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    _cancel(app, world.a, ticket_id)  # after the tablet downloaded its list, before it synced
    item = {"code": code, "scan_id": "off-cancel-0001", "scanned_at": utcnow().isoformat()}

    response = client.post(
        f"/api/v1/{kiosk.slug}/checkins/bulk", json={"items": [item]}, headers=kiosk.headers
    )

    assert response.get_json()["results"][0] | {"ticket": None} == {
        "scan_id": "off-cancel-0001",
        "result": "cancelled",
        "message": "Билет аннулирован",
        "conflict": True,
        "ticket": None,
    }
    email, _ = world.user(world.a)
    login(client, email)
    page = client.get(f"/{world.a.slug}/kiosks").get_data(as_text=True)
    assert "Билет аннулирован" in page.split("Конфликты офлайн-входа", 1)[1]


def test_upgrading_an_existing_database_counts_the_admissions_already_there(app, client, world):
    """The migration that brought `admission_counts` fills it from the check-ins it finds."""
    from flask_migrate import downgrade, upgrade

    event = world.event(world.a)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    for _ in range(2):
        assert scan(client, kiosk, world.ticket(world.a, event)[1])["result"] == "ok"
    with app.app_context():
        db.session.remove()
        downgrade(revision="c1b2c3d4e503")  # the schema before counts: two admitted rows, no counts
        upgrade()

    today = client.get("/api/v1/yaroslavl/kiosk/today", headers=kiosk.headers).get_json()
    assert [e["checked_in"] for e in today["events"] if e["id"] == event] == [2]
    assert scan(client, kiosk, world.ticket(world.a, event)[1])["result"] == "ok"
    today = client.get("/api/v1/yaroslavl/kiosk/today", headers=kiosk.headers).get_json()
    assert [e["checked_in"] for e in today["events"] if e["id"] == event] == [3]
