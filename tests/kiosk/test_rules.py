"""Each door rule (`server.checkins.rules`) broken in turn: the scan is refused, and nothing committed.

The rules are one table that compiles to Python and to the door's SQL. The first test runs on both
databases; the PostgreSQL ones also drop a rule from the SQL only, and see the disagreement roll back.
"""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.catalog.models import AdmissionCount
from server.checkins import rules
from server.checkins.models import Checkin, ScanResult
from server.database import utcnow
from server.extensions import db
from tenants.scoping import tenant_scope
from tests.conftest import POSTGRES, bearer
from tests.kiosk.helpers import paired_kiosk
from tests.kiosk.test_checkins import _cancel

PATH = "/api/v1/{}/checkins"


def _breaking(rule: str, app, client, world):
    """A kiosk, the path it posts to and a code for a scan that breaks `rule` and no other."""
    region = world.a
    venue = world.venue(region)
    event_args: dict = {"venue_id": venue}
    if rule == "online":
        event_args.update(format="online", broadcast_url="https://example.ru/live")
    if rule == "window_open":
        event_args.update(starts_at=utcnow() + timedelta(hours=5))
    if rule == "window_closed":
        event_args.update(starts_at=utcnow() - timedelta(hours=4), hours=3)
    event = world.event(region, **event_args)
    ticket_id, code = world.ticket(region, event)
    kiosk_venue = world.venue(region) if rule == "venue" else venue
    kiosk = paired_kiosk(client, world, region, kiosk_venue)
    path = PATH.format(kiosk.slug)
    if rule == "cancelled":
        _cancel(app, region, ticket_id)
    if rule == "code":
        code = code[:-6] + ("AAAAAA" if not code.endswith("AAAAAA") else "BBBBBB")
    if rule == "kiosk":
        _, coordinator_token = world.user(region)
        revoked = client.post(
            f"/api/v1/{kiosk.slug}/kiosks/{kiosk.id}/revoke", headers=bearer(coordinator_token)
        )
        assert revoked.status_code == 200
    if rule == "region":
        path = PATH.format(world.b.slug)
    return kiosk, path, code


EXPECTED = {
    "kiosk": (401, None),
    "region": (404, None),
    "code": (200, ScanResult.INVALID),
    "cancelled": (200, ScanResult.CANCELLED),
    "venue": (200, ScanResult.WRONG_VENUE),
    "online": (200, ScanResult.WRONG_VENUE),
    "window_open": (200, ScanResult.OUTSIDE_WINDOW),
    "window_closed": (200, ScanResult.OUTSIDE_WINDOW),
}


def test_every_rule_of_the_table_is_broken_by_a_test_here():
    assert {rule.name for rule in rules.RULES} == set(EXPECTED)


def _admitted(app, region) -> tuple[int, int]:
    with app.app_context(), tenant_scope(region.id):
        rows = db.session.scalar(
            select(func.count()).select_from(Checkin).where(Checkin.result == ScanResult.OK)
        )
        counted = db.session.scalar(select(func.coalesce(func.sum(AdmissionCount.admitted), 0)))
        return rows, counted


@pytest.mark.parametrize("rule", list(EXPECTED))
def test_a_scan_breaking_one_rule_is_refused(app, client, world, rule):
    kiosk, path, code = _breaking(rule, app, client, world)

    response = client.post(path, json={"code": code}, headers=kiosk.headers)

    status, result = EXPECTED[rule]
    assert response.status_code == status
    if result is not None:
        assert response.get_json()["result"] == result.value
    assert _admitted(app, world.a) == (0, 0)


@pytest.mark.skipif(not POSTGRES, reason="the door's one-statement admission is PostgreSQL's")
@pytest.mark.parametrize("rule", list(EXPECTED))
def test_a_rule_missing_from_the_sql_is_caught_and_rolled_back(app, client, world, rule, monkeypatch):
    """Python and the database disagree: the scan's transaction rolls back, a retry admits nobody."""
    from server.door import scan

    kiosk, path, code = _breaking(rule, app, client, world)
    without = tuple(r for r in rules.RULES if r.name != rule)
    build = scan.admitting_statement.__wrapped__
    monkeypatch.setattr(scan, "admitting_statement", lambda: build(without))
    failures = []
    monkeypatch.setattr("server.door.app.log.exception", lambda *a: failures.append(sys.exc_info()[1]))

    answers = [
        client.post(path, json={"code": code, "scan_id": "retry-0001"}, headers=kiosk.headers)
        for _ in range(2)
    ]

    status, _ = EXPECTED[rule]
    if status != 200:  # the kiosk's own rules: refused as without the statement
        assert [a.status_code for a in answers] == [status, status]
    else:
        assert [a.status_code for a in answers] == [500, 500]
        assert [type(f) for f in failures] == [scan.RulesDisagree] * 2
        assert f"rule {rule!r} refuses" in str(failures[0])
    assert _admitted(app, world.a) == (0, 0)


@pytest.mark.skipif(not POSTGRES, reason="psycopg's statement cache is PostgreSQL's")
def test_the_door_statement_fits_psycopgs_statement_cache(app):
    """Past this length psycopg converts the query anew on every execution (a tenth of a scan)."""
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

    from server.door.scan import admitting_statement

    with app.app_context():
        sql = admitting_statement().compiled(db.engine.dialect).sql

    assert len(sql.encode()) <= MAX_CACHED_STATEMENT_LENGTH


def test_both_sides_of_a_rule_come_from_one_definition():
    """The window rule's Python check and its SQL are compiled from the same condition."""
    from sqlalchemy import column, literal_column

    rule = next(r for r in rules.RULES if r.name == "window_closed")
    now = utcnow()
    facts = {"now": now, "ends_at": now + timedelta(minutes=1)}
    columns = {"ends_at": column("ends_at")}

    assert rule.condition.holds(facts)
    assert not rule.condition.holds({**facts, "ends_at": now})
    assert str(rule.condition.sql(columns)) == str(literal_column(":now") < column("ends_at"))
