"""Races: many registrations at once never exceed capacity, a quota, a school quota or a season limit.

Real threads, each with its own session and transaction (and, in the HTTP test, real requests), started
together by a barrier. Runs on SQLite by default and on PostgreSQL when DATABASE_URL points at it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests
from sqlalchemy import func, select

from server.catalog.models import Event, EventQuota, SchoolQuota
from server.database import utcnow
from server.errors import DomainError
from server.extensions import db
from server.tickets import services
from server.tickets.models import Ticket, TicketStatus
from tenants.scoping import tenant_scope
from tests.conftest import _letters
from tests.tickets.helpers import body, give_quotas, region

THREADS = 24


def _student(school_id: int, n: int, grade: int = 9) -> services.StudentInput:
    return services.StudentInput(f"Гонщик{_letters(n)}", "Пётр", grade, school_id)


def _answer(app, region_, act) -> str:
    """Run `act` in a transaction of its own in the region: "ok" once committed, else the refusal's code."""
    with app.app_context(), tenant_scope(region_.id):
        try:
            act()
            db.session.commit()
            return "ok"
        except DomainError as error:
            db.session.rollback()
            return error.code
        finally:
            db.session.remove()


def _race(app, region_, attempts: list[tuple[int, services.StudentInput]]) -> Counter:
    """Run every (event_id, student) registration in its own thread and transaction, all at once."""
    barrier = threading.Barrier(len(attempts))
    with region(app, region_) as tz:
        pass

    def attempt(item):
        event_id, student = item
        data = services.Registration(
            student=student, guardian_name="Мама", guardian_phone="89000000000", consent=True
        )
        barrier.wait(timeout=30)  # before touching the database: on SQLite a transaction holds the write lock
        return _answer(app, region_, lambda: services.register(services.find_event(event_id), data, tz))

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return Counter(pool.map(attempt, attempts))


def _active(app, region_, event_id: int) -> tuple[int, int]:
    with region(app, region_):
        tickets = db.session.scalar(
            select(func.count()).where(Ticket.event_id == event_id, Ticket.status == TicketStatus.ACTIVE)
        )
        return tickets, db.session.scalar(select(Event.registered).where(Event.id == event_id))


def test_never_more_tickets_than_seats(app, world):
    school = world.school(world.a)
    event = world.event(world.a, capacity=7)
    results = _race(app, world.a, [(event, _student(school, n)) for n in range(THREADS)])
    assert results == Counter({"ok": 7, "event_full": THREADS - 7})
    assert _active(app, world.a, event) == (7, 7)


def test_never_over_a_municipality_quota_and_general_seats_stay_free(app, world):
    north, south = world.municipality(world.a), world.municipality(world.a)
    north_schools = [world.school(world.a, north) for _ in range(3)]
    south_school = world.school(world.a, south)
    event = world.event(world.a, capacity=12, quotas=[(north, 5)])
    attempts = [(event, _student(north_schools[n % 3], n)) for n in range(THREADS)]
    attempts += [(event, _student(south_school, 100 + n)) for n in range(THREADS)]
    results = _race(app, world.a, attempts)
    assert results["ok"] == 12
    with region(app, world.a):
        assert db.session.scalar(select(EventQuota.used)) == 5
        north_tickets = db.session.scalar(select(func.count()).where(Ticket.municipality_id == north))
        assert north_tickets == 5
    assert _active(app, world.a, event) == (12, 12)


def test_never_over_a_school_quota(app, world):
    from server.catalog.models import Municipality
    from server.tickets import quotas

    north = world.municipality(world.a)
    favoured, other = world.school(world.a, north), world.school(world.a, north)
    event = world.event(world.a, capacity=30, quotas=[(north, 10)])
    with region(app, world.a):
        municipality = db.session.scalar(select(Municipality).where(Municipality.id == north))
        quotas.set_school_quotas(event, municipality, {favoured: 3})
        db.session.commit()
    attempts = [(event, _student(favoured, n)) for n in range(THREADS)]
    attempts += [(event, _student(other, 100 + n)) for n in range(THREADS)]
    results = _race(app, world.a, attempts)
    with region(app, world.a):
        assert db.session.scalar(select(SchoolQuota.used)) == 3
        assert db.session.scalar(select(EventQuota.used)) == 10
    # 3 for the favoured school, 7 for the rest of the municipality, nobody else.
    assert results["ok"] == 10


def test_never_over_the_season_limit_for_one_student(app, world):
    school = world.school(world.a)
    venue = world.venue(world.a)
    start = utcnow() + timedelta(days=1)
    events = [
        world.event(
            world.a, venue_id=venue, programme="trial", format="online", starts_at=start + timedelta(hours=n)
        )
        for n in range(THREADS)
    ]
    # The same student typed differently by every family member: case, ё/е and spaces.
    spellings = ["Гонщик Пётр", "гонщик петр", "ГОНЩИК  ПЁТР", "Гонщик Петр"]
    attempts = []
    for n, event in enumerate(events):
        last, first = spellings[n % 4].split(maxsplit=1)
        attempts.append((event, services.StudentInput(last, first.strip(), 9, school)))
    results = _race(app, world.a, attempts)
    assert results == Counter({"ok": 4, "season_limit": THREADS - 4})
    with region(app, world.a):
        assert db.session.scalar(select(func.count()).where(Ticket.status == TicketStatus.ACTIVE)) == 4


def test_http_race_for_the_last_seats(app, world, live_server):
    school = world.school(world.a)
    event = world.event(world.a, capacity=50)
    for _ in range(45):
        world.ticket(world.a, event, school_id=school)
    barrier = threading.Barrier(THREADS)

    def post(n: int) -> int:
        barrier.wait(timeout=30)
        url = f"{live_server}/api/v1/yaroslavl/events/{event}/registrations"
        return requests.post(
            url, json=body(school, last_name=f"Сетевой{_letters(n)}"), timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        statuses = Counter(pool.map(post, range(THREADS)))
    assert statuses == Counter({201: 5, 409: THREADS - 5})
    assert _active(app, world.a, event) == (50, 50)


def _cut_while_a_seat_is_held(app, region_, event: int, school: int, cut) -> tuple[str, str]:
    """One registration takes its seat (and quota place) and holds it uncommitted for half a second;
    meanwhile `cut()` runs in a transaction of its own. Both answers, as `_answer` gives them."""
    with region(app, region_) as tz:
        pass
    claimed = threading.Event()

    def register() -> str:
        data = services.Registration(
            student=_student(school, 6), guardian_name="Мама", guardian_phone="89000000000", consent=True
        )
        with app.app_context(), tenant_scope(region_.id):
            services.register(services.find_event(event), data, tz)
            claimed.set()  # the seat and the quota's place are taken, not yet committed
            time.sleep(0.5)
            db.session.commit()
            db.session.remove()
            return "ok"

    def cutting() -> str:
        claimed.wait(timeout=30)
        return _answer(app, region_, lambda: cut(tz))

    with ThreadPoolExecutor(max_workers=2) as pool:
        registered, cut_result = pool.submit(register), pool.submit(cutting)
        return registered.result(), cut_result.result()


def test_a_quota_cut_below_a_seat_being_taken_waits_for_it_and_is_refused(app, world):
    """The coordinator lowers a municipality's quota to what its committed tickets use while one more
    registration holds its seat: the cut waits for that registration, then is refused in Russian
    (409), where it used to pass its check on stale counters and break the quota (a 500)."""
    north = world.municipality(world.a)
    school = world.school(world.a, north)
    event = world.event(world.a, capacity=40, quotas=[(north, 20)])
    for _ in range(6):
        world.ticket(world.a, event, school_id=school)

    def cut(tz):
        give_quotas(services.find_event(event), [(north, 6)], tz)

    assert _cut_while_a_seat_is_held(app, world.a, event, school, cut) == ("ok", "quota_below_used")
    with region(app, world.a):
        quota = db.session.scalar(select(EventQuota))
        assert (quota.used, quota.seats) == (7, 20)


def test_a_school_quota_cut_below_a_seat_being_taken_waits_for_it_and_is_refused(app, world):
    """The same one level down: the municipal coordinator cuts a school's share while the school's
    third student holds a seat of it."""
    from server.catalog.models import Municipality
    from server.tickets import quotas

    north = world.municipality(world.a)
    school = world.school(world.a, north)
    event = world.event(world.a, capacity=40, quotas=[(north, 20)])
    with region(app, world.a):
        municipality = db.session.scalar(select(Municipality).where(Municipality.id == north))
        quotas.set_school_quotas(event, municipality, {school: 5})
        db.session.commit()
    for _ in range(2):
        world.ticket(world.a, event, school_id=school)

    def cut(tz):
        municipality = db.session.scalar(select(Municipality).where(Municipality.id == north))
        quotas.set_school_quotas(event, municipality, {school: 2})

    assert _cut_while_a_seat_is_held(app, world.a, event, school, cut) == ("ok", "quota_below_used")
    with region(app, world.a):
        share = db.session.scalar(select(SchoolQuota))
        assert (share.used, share.seats) == (3, 5)
