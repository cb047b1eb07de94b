"""One unit of work (`server.database.unit_of_work`): commit when the block ends, roll back when it
raises; what waits for the commit (a live message) leaves only after it, and never after a rollback."""

from __future__ import annotations

import pytest
from flask import jsonify
from sqlalchemy import select

from server.database import after_commit, unit_of_work
from server.errors import Conflict
from server.extensions import db
from tenants.models import Tenant
from tenants.services import create_tenant


@pytest.fixture
def edge_app(make_app):
    """The real app factory with two views that write a region: one refuses, one answers 422.

    Through `make_app`, which gives the session's app its Socket.IO server and job queue back after."""
    app = make_app()

    @app.post("/_test/refused")
    def refused():
        create_tenant("kaluga")
        db.session.flush()
        raise Conflict("Нельзя.", code="refused")

    @app.post("/_test/unhappy-but-fine")
    def unhappy_but_fine():
        create_tenant("tula")
        return jsonify(saved=True), 422

    return app


def _slugs(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Tenant.slug)))


def test_the_edge_rolls_back_on_a_domain_error_and_commits_by_outcome_not_by_status(edge_app):
    client = edge_app.test_client()

    refused = client.post("/_test/refused")
    kept = client.post("/_test/unhappy-but-fine")

    assert refused.status_code == 409
    assert kept.status_code == 422
    assert "kaluga" not in _slugs(edge_app)
    assert "tula" in _slugs(edge_app)


def test_what_waits_for_the_commit_runs_after_it_and_never_after_a_rollback(app, world):
    ran = []
    with app.app_context():
        with unit_of_work() as work:
            create_tenant("kaluga")
            after_commit(work, lambda: ran.append(_slugs(app)))
            assert ran == []
        with pytest.raises(Conflict), unit_of_work() as work:
            create_tenant("tula")
            after_commit(work, lambda: ran.append("rolled back"))
            raise Conflict()
        with unit_of_work():
            pass  # a later unit of work does not run the dropped callback

    assert len(ran) == 1 and "kaluga" in ran[0]
    assert "tula" not in _slugs(app)
