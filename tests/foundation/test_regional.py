"""Tenancy below the ORM: Core statements on tenant-owned tables are built by `tenants.scoping.regional`
and refused without a region; ids of another region in a request body are answered 404/422."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import pytest
from sqlalchemy import Delete, Insert, Select, Update, bindparam, select

import server
import tenants
from server.checkins import counts
from server.checkins.models import Checkin
from server.door.statement import DriverStatement
from server.extensions import db
from server.tickets import codes, services
from tenants.scoping import REGIONAL, TenantNotSet, _owned, regional
from tests.conftest import bearer
from tests.kiosk.helpers import paired_kiosk
from tests.kiosk.test_checkins import _venue_of
from tests.kiosk.test_groups import make_group


def _every_prebuilt_statement() -> list:
    for package in (server, tenants):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    for dialect in ("sqlite", "postgresql"):  # the statements built once per database
        counts.log_scan(dialect), counts._increment(dialect)
        services._new_student(dialect), services._new_consent(dialect), codes._first_key(dialect)
    return list(REGIONAL)


def test_every_prebuilt_statement_refuses_to_run_without_its_region(app, world):
    statements = _every_prebuilt_statement()
    assert len(statements) >= 15

    with app.app_context():
        connection = db.session.connection()
        for statement in statements:
            region = statement._execution_options["regional"]
            assert region in statement.compile().binds
            with pytest.raises(TenantNotSet):
                connection.execute(statement, {region: None})


def test_no_module_holds_core_sql_on_a_regions_table_that_is_not_regional(app):
    _every_prebuilt_statement()
    unguarded = []
    with app.app_context():
        for name, module in list(sys.modules.items()):
            if not name.startswith(("server.", "tenants.")):
                continue
            for attribute, value in list(vars(module).items()):
                statement = value.statement if isinstance(value, DriverStatement) else value
                if not isinstance(statement, (Select, Insert, Update, Delete)):
                    continue
                if statement._propagate_attrs.get("compile_state_plugin") == "orm":
                    continue
                options = statement._execution_options
                if not (options.get("regional") or options.get("all_tenants")) and _owned(statement):
                    unguarded.append(f"{name}.{attribute}")
    assert unguarded == []


def test_core_sql_on_a_regions_table_is_refused_unless_regional(app, world):
    table = Checkin.__table__
    by_hand = select(table.c.id).where(table.c.ticket_id == bindparam("ticket_id"))
    with app.app_context():
        connection = db.session.connection()
        with pytest.raises(TenantNotSet):
            connection.execute(by_hand, {"ticket_id": 1})
        bound = regional(by_hand, table)
        REGIONAL.remove(bound)
        assert connection.execute(bound, {"ticket_id": 1, "tenant_id": world.a.id}).all() == []


# --- ids that arrive in a request body, of another region ------------------------------------------


def test_a_venue_of_another_region_gets_404_when_creating_a_kiosk(client, world):
    other_venue = world.venue(world.b)
    _, token = world.user(world.a)

    response = client.post(
        f"/api/v1/{world.a.slug}/kiosks",
        json={"venue_id": other_venue, "name": "Вход"},
        headers=bearer(token),
    )

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "venue_not_found"


def test_a_ticket_of_another_region_gets_404_at_manual_admission(app, client, world):
    event = world.event(world.a)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    other_ticket, _ = world.ticket(world.b, world.event(world.b))

    response = client.post(
        f"/api/v1/{kiosk.slug}/kiosk/manual", json={"ticket_id": other_ticket}, headers=kiosk.headers
    )

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "ticket_not_found"


def test_a_class_group_of_another_region_gets_404_at_the_door(app, client, world):
    event = world.event(world.a)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    other_group, _, other_tickets = make_group(app, world, world.b, world.event(world.b), size=1)
    base = f"/api/v1/{kiosk.slug}/kiosk/groups/{other_group}"

    sheet = client.get(base, headers=kiosk.headers)
    admit = client.post(f"{base}/admit", json={"ticket_ids": other_tickets}, headers=kiosk.headers)

    assert (sheet.status_code, admit.status_code) == (404, 404)
    assert admit.get_json()["error"]["code"] == "group_not_found"


def test_a_school_of_another_region_is_refused_at_registration(client, world):
    event = world.event(world.a)
    other_school = world.school(world.b)
    body = {
        "student": {"last_name": "Иванов", "first_name": "Иван", "grade": 9, "school_id": other_school},
        "guardian": {"name": "Родитель", "phone": "+79000000000"},
        "consent": True,
    }

    response = client.post(f"/api/v1/{world.a.slug}/events/{event}/registrations", json=body)

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "unknown_school"
