"""Scoping is done once, centrally — and fails closed."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from server.catalog.models import Municipality, School, Venue
from server.extensions import db
from tenants.scoping import TenantNotSet, all_tenants, tenant_scope


def test_query_without_a_tenant_raises(app, world):
    world.venue(world.a)
    with app.app_context(), pytest.raises(TenantNotSet):
        db.session.scalars(select(Venue)).all()


def test_queries_see_only_the_current_region(app, world):
    world.venue(world.a, "Рыбинский авиационный колледж")
    world.venue(world.b, "Ангарский политехнический техникум")
    with app.app_context():
        with tenant_scope(world.a.id):
            assert [v.name for v in db.session.scalars(select(Venue))] == ["Рыбинский авиационный колледж"]
        with tenant_scope(world.b.id):
            assert [v.name for v in db.session.scalars(select(Venue))] == [
                "Ангарский политехнический техникум"
            ]
        assert len(db.session.scalars(all_tenants(select(Venue))).all()) == 2


def test_joins_and_aliases_are_scoped_too(app, world):
    world.school(world.a)
    world.school(world.b)
    with app.app_context(), tenant_scope(world.a.id):
        rows = db.session.execute(
            select(School.name, Municipality.name).join(
                Municipality, Municipality.id == School.municipality_id
            )
        ).all()
        assert len(rows) == 1


def test_bulk_update_touches_only_the_current_region(app, world):
    world.venue(world.a)
    world.venue(world.b)
    with app.app_context():
        with tenant_scope(world.a.id):
            db.session.execute(update(Venue).values(cluster="Машиностроение"))
            db.session.commit()
        clusters = {v.tenant_id: v.cluster for v in db.session.scalars(all_tenants(select(Venue)))}
    assert clusters == {world.a.id: "Машиностроение", world.b.id: None}


def test_new_rows_are_stamped_with_the_current_region(app, world):
    with app.app_context(), tenant_scope(world.b.id):
        municipality = Municipality(name="г. Ангарск")
        db.session.add(municipality)
        db.session.commit()
        assert municipality.tenant_id == world.b.id


def test_a_row_cannot_be_written_into_another_region(app, world):
    with app.app_context(), tenant_scope(world.a.id), pytest.raises(TenantNotSet):
        db.session.add(Municipality(name="Чужой", tenant_id=world.b.id))
        db.session.flush()


def test_the_database_refuses_a_child_pointing_at_another_regions_parent(app, world):
    """Composite foreign keys (tenant_id, parent_id): even raw inserts cannot cross regions."""
    foreign_municipality = world.municipality(world.b)
    with app.app_context(), tenant_scope(world.a.id), pytest.raises(IntegrityError):
        db.session.add(School(name="Школа", municipality_id=foreign_municipality))
        db.session.flush()
