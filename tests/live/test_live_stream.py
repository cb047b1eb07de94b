"""The `/live` stream over a real connection: who may connect, which admissions each dashboard hears,
and snapshots that are exact after a reconnect."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from server.accounts.models import ApiToken, Role
from server.database import utcnow
from server.extensions import db
from tests.conftest import PASSWORD
from tests.live.support import connect_live, kiosk_token, scan


@pytest.fixture
def opened(live_server):
    """Connections a test opens, closed at its end. Long-polling here: the test server (Werkzeug) is
    slow to close WebSockets; the browser test and the gunicorn tests use WebSockets."""
    listeners = []

    def open_(slug, token=None, **extra):
        listener = connect_live(live_server, slug, token, transport="polling", **extra)
        if listener is not None:
            listeners.append(listener)
        return listener

    yield open_
    for listener in listeners:
        listener.close()


def _event_with_tickets(world, region, n: int, *, school_id=None, venue_id=None, **kwargs):
    venue_id = venue_id or world.venue(region)
    event_id = world.event(region, venue_id=venue_id, **kwargs)
    tickets = [world.ticket(region, event_id, school_id=school_id) for _ in range(n)]
    return venue_id, event_id, tickets


def _revoke_all_tokens(app) -> None:
    with app.app_context():
        for row in db.session.scalars(db.select(ApiToken)):
            row.revoked_at = utcnow()
        db.session.commit()


def test_coordinator_snapshot_counts_registered_and_admitted(world, client, opened):
    venue_id, event_id, tickets = _event_with_tickets(world, world.a, 3)
    scan(client, "yaroslavl", kiosk_token(world, world.a, venue_id), tickets[0][1])

    live = opened("yaroslavl", world.user(world.a, Role.COORDINATOR)[1])
    (snap,) = live.wait_for("snapshot")
    assert snap["totals"] == {"events": 1, "capacity": 30, "registered": 3, "checked_in": 1, "percent": 33}
    (event,) = snap["events"]
    assert (event["id"], event["registered"], event["checked_in"]) == (event_id, 3, 1)
    (entry,) = snap["feed"]
    assert entry["short_name"].endswith("И. П.") and "Иван " not in entry["short_name"]
    assert sum(b["n"] for b in snap["buckets"]) == 1


def test_unknown_revoked_or_foreign_credentials_are_refused(app, world, opened):
    _, token = world.user(world.a, Role.COORDINATOR)
    assert opened("yaroslavl", "pk_not-a-real-token") is None
    assert opened("yaroslavl") is None  # no token, no session
    assert opened("irkutsk", token) is None  # a member of region A asks for region B
    assert opened("atlantis", token) is None
    assert opened("yaroslavl", token) is not None
    _revoke_all_tokens(app)
    assert opened("yaroslavl", token) is None


def test_a_token_alone_joins_the_region_of_its_users_only_membership(app, world, opened):
    """SPEC: `auth={"token": …}` is enough; a user of two regions must say which one."""
    venue_id, event_id, _ = _event_with_tickets(world, world.b, 2)
    _, token = world.user(world.b, Role.COORDINATOR)
    live = opened(None, token)
    assert live is not None
    (snap,) = live.wait_for("snapshot")
    assert [e["id"] for e in snap["events"]] == [event_id]

    email, both = world.user(world.a, Role.COORDINATOR)
    with app.app_context():
        from server.accounts.services import create_user
        from tenants.models import Tenant

        create_user(email, tenant=db.session.get(Tenant, world.b.id), role=Role.VENUE, venue_id=venue_id)
        db.session.commit()
    assert opened(None, both) is None
    assert opened("irkutsk", both) is not None


def test_login_session_of_the_page_authenticates_the_socket(world, live_server, opened):
    email, _ = world.user(world.a, Role.COORDINATOR)
    browser = requests.Session()
    browser.post(f"{live_server}/login", data={"email": email, "password": PASSWORD})
    # the page's own browser: same cookie, same User-Agent (Flask-Login's strong session protection)
    cookie = {
        "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items()),
        "User-Agent": browser.headers["User-Agent"],
    }

    live = opened("yaroslavl", headers=cookie)
    assert live is not None and live.wait_for("snapshot")[0]["scope"]["kind"] == "region"
    assert opened("irkutsk", headers=cookie) is None  # the same session cannot open region B's stream
    # another site's page in the same browser carries the cookie but not our Origin
    assert opened("yaroslavl", headers={**cookie, "Origin": "https://evil.example"}) is None
    assert opened("yaroslavl", headers={**cookie, "Origin": live_server}) is not None


def test_each_admission_reaches_the_region_and_only_its_own_municipality_school_and_venue(
    world, client, opened
):
    m1, m2 = world.municipality(world.a), world.municipality(world.a)
    s1, s2 = world.school(world.a, m1), world.school(world.a, m2)
    venue_id, other_venue = world.venue(world.a), world.venue(world.a)
    event_id = world.event(world.a, venue_id=venue_id)
    ticket_id, code = world.ticket(world.a, event_id, school_id=s1)
    world.ticket(world.a, event_id, school_id=s2)
    kiosk = kiosk_token(world, world.a, venue_id)

    def watch(role, **scope):
        return opened("yaroslavl", world.user(world.a, role, **scope)[1])

    hearing = [
        watch(Role.COORDINATOR),
        watch(Role.MUNICIPAL, municipality_id=m1),
        watch(Role.SCHOOL, school_id=s1),
        watch(Role.VENUE, venue_id=venue_id),
    ]
    deaf = [
        watch(Role.MUNICIPAL, municipality_id=m2),
        watch(Role.SCHOOL, school_id=s2),
        watch(Role.VENUE, venue_id=other_venue),
    ]
    registered = [c.wait_for("snapshot")[0]["totals"]["registered"] for c in hearing + deaf]
    assert registered == [2, 1, 1, 2, 1, 1, 0]

    scan(client, "yaroslavl", kiosk, code)

    for live in hearing:
        (message,) = live.wait_for("checkin")
        assert (message["ticket_id"], message["event_id"], message["checked_in"]) == (ticket_id, event_id, 1)
    assert all(live.quiet("checkin") == [] for live in deaf)


def test_region_b_hears_nothing_while_region_a_admits_a_hundred(world, client, opened, monkeypatch):
    from server.live import sockets

    monkeypatch.setattr(sockets, "REFRESH_INTERVAL", 0)
    venue_id, event_id, tickets = _event_with_tickets(world, world.a, 100, capacity=100)
    venue_b, municipality_b = world.venue(world.b), world.municipality(world.b)
    event_b = world.event(world.b, venue_id=venue_b)  # region B has its own open day running
    own_ticket, own_code = world.ticket(world.b, event_b, school_id=world.school(world.b, municipality_b))
    kiosk = kiosk_token(world, world.a, venue_id)
    region_a = opened("yaroslavl", world.user(world.a, Role.COORDINATOR)[1])
    region_b = opened("irkutsk", world.user(world.b, Role.COORDINATOR)[1])
    municipal_b = opened("irkutsk", world.user(world.b, Role.MUNICIPAL, municipality_id=municipality_b)[1])
    (snap_b,) = region_b.wait_for("snapshot")
    assert snap_b["tenant"]["slug"] == "irkutsk" and snap_b["totals"]["checked_in"] == 0
    municipal_b.wait_for("snapshot")

    for _, code in tickets:
        assert scan(client, "yaroslavl", kiosk, code)["result"] == "ok"
    heard_by_a = region_a.wait_for("checkin", count=100, timeout=60)
    # B's own admission comes after all of A's, down the same ordered stream: once it has arrived,
    # so would have anything of A's that leaked. No waiting on the clock.
    assert scan(client, "irkutsk", kiosk_token(world, world.b, venue_b), own_code)["result"] == "ok"

    assert len(heard_by_a) == 100 and max(m["checked_in"] for m in heard_by_a) == 100
    for listener in (region_b, municipal_b):
        assert [m["ticket_id"] for m in listener.wait_for("checkin", timeout=60)] == [own_ticket]
    region_b.emit("refresh")  # B's numbers computed again: only B's own admission
    again = region_b.wait_for("snapshot", count=2, timeout=60)[1]
    assert again["totals"]["checked_in"] == 1 and len(again["feed"]) == 1
    assert [e["id"] for e in again["events"]] == [e["id"] for e in snap_b["events"]] != [event_id]


def test_api_clients_get_one_checkin_per_admission_while_dashboards_may_take_batches(
    world, client, opened, monkeypatch
):
    from server.live import publish

    monkeypatch.setattr(publish, "COALESCE", 5.0)  # everything after the first waits for one batch
    venue_id, _, tickets = _event_with_tickets(world, world.a, 20, capacity=20)
    kiosk = kiosk_token(world, world.a, venue_id)
    _, token = world.user(world.a, Role.COORDINATOR)
    api_client = opened("yaroslavl", token)
    dashboard = opened("yaroslavl", token, batch=True)
    api_client.wait_for("snapshot")
    dashboard.wait_for("snapshot")

    for _, code in tickets:
        assert scan(client, "yaroslavl", kiosk, code)["result"] == "ok"

    one_by_one = api_client.wait_for("checkin", count=20, timeout=10)
    assert len(one_by_one) == 20 and api_client.batches == 0
    assert sorted(m["checked_in"] for m in one_by_one) == list(range(1, 21))
    assert publish.sender.wait_idle(timeout=10)
    batched = dashboard.wait_for("checkin", count=20, timeout=10)
    assert len(batched) == 20 and dashboard.batches == 1  # the first at once, the other 19 in one list


def test_two_doors_of_one_event_each_announce_the_events_running_total(world, client, opened):
    """Each kiosk counts on a shard of its own; every message carries the sum over all of them."""
    venue_id, _, tickets = _event_with_tickets(world, world.a, 6, capacity=6)
    doors = [kiosk_token(world, world.a, venue_id) for _ in range(2)]
    _, token = world.user(world.a, Role.COORDINATOR)
    live = opened("yaroslavl", token)
    live.wait_for("snapshot")

    for n, (_, code) in enumerate(tickets):
        assert scan(client, "yaroslavl", doors[n % 2], code)["result"] == "ok"

    heard = live.wait_for("checkin", count=6, timeout=10)
    assert [m["checked_in"] for m in sorted(heard, key=lambda m: m["id"])] == [1, 2, 3, 4, 5, 6]


def test_reconnecting_dashboard_gets_exact_counts_from_the_database(world, client, opened):
    venue_id, event_id, tickets = _event_with_tickets(world, world.a, 5)
    kiosk = kiosk_token(world, world.a, venue_id)
    _, token = world.user(world.a, Role.COORDINATOR)
    live = opened("yaroslavl", token)
    assert live.wait_for("snapshot")[0]["totals"]["checked_in"] == 0
    live.close()  # the wall screen loses its network…
    for _, code in tickets[:4]:
        scan(client, "yaroslavl", kiosk, code)
    back = opened("yaroslavl", token)  # …and comes back
    (snap,) = back.wait_for("snapshot")
    assert snap["totals"]["checked_in"] == 4 and snap["events"][0]["checked_in"] == 4
    assert len(snap["seen"]) == 4  # the page will not count these again if their messages race in


def test_venue_with_nobody_admitted_half_an_hour_after_start_is_flagged(world, client, opened):
    region = world.into_its_day(minutes=45)
    started = utcnow() - timedelta(minutes=40)
    _, quiet_event, _ = _event_with_tickets(world, region, 2, starts_at=started)
    busy_venue, busy_event, busy = _event_with_tickets(world, region, 2, starts_at=started)
    _, soon_event, _ = _event_with_tickets(world, region, 2, starts_at=utcnow() - timedelta(minutes=10))
    scan(client, region.slug, kiosk_token(world, region, busy_venue), busy[0][1])
    live = opened(region.slug, world.user(region, Role.COORDINATOR)[1])
    events = {e["id"]: e["lagging"] for e in live.wait_for("snapshot")[0]["events"]}
    assert events == {quiet_event: True, busy_event: False, soon_event: False}


def test_filters_choose_programme_and_day(app, world, opened):
    today = world.event(world.a)
    trial = world.event(world.a, programme="trial", grades=(6, 11))
    tomorrow = world.event(world.a, starts_at=utcnow() + timedelta(days=1))
    _, token = world.user(world.a, Role.COORDINATOR)

    def ids(**filters):
        return {e["id"] for e in opened("yaroslavl", token, **filters).wait_for("snapshot")[0]["events"]}

    assert ids() == {today, trial}
    assert ids(programme="trial") == {trial}
    from tenants.models import Tenant

    with app.app_context():
        tz = db.session.get(Tenant, world.a.id).tz
    assert ids(date=(utcnow() + timedelta(days=1)).astimezone(tz).date().isoformat()) == {tomorrow}


def test_revoked_token_ends_an_open_stream_at_its_next_refresh(app, world, opened, monkeypatch):
    import time

    from server.live import sockets

    monkeypatch.setattr(sockets, "REFRESH_INTERVAL", 0)
    live = opened("yaroslavl", world.user(world.a, Role.COORDINATOR)[1])
    live.wait_for("snapshot")
    live.emit("refresh")
    assert len(live.wait_for("snapshot", count=2)) == 2
    _revoke_all_tokens(app)
    live.emit("refresh")
    for _ in range(50):
        if not live.connected:
            break
        time.sleep(0.05)
    assert not live.connected


def test_a_stalled_message_queue_never_holds_up_the_door(world, client, monkeypatch):
    """Emitting happens on the live sender thread, after commit: a hung Redis cannot slow a scan."""
    import time

    from server.live import publish

    venue_id, event_id, tickets = _event_with_tickets(world, world.a, 2)
    kiosk = kiosk_token(world, world.a, venue_id)
    stalled = []
    monkeypatch.setattr(publish, "_deliver", lambda triples: triples and stalled.append(time.sleep(1)))

    started = time.monotonic()
    assert scan(client, "yaroslavl", kiosk, tickets[0][1])["result"] == "ok"
    assert scan(client, "yaroslavl", kiosk, tickets[1][1])["result"] == "ok"
    assert time.monotonic() - started < 1.0
    publish.sender.wait_idle(10)
    assert stalled  # the sender did try, off the request's path
