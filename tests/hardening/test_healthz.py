"""`/healthz` tells the proxy whether this process can serve: database reachable, migrations current."""

from __future__ import annotations

from sqlalchemy import text

from server.extensions import db


def test_healthy_when_the_database_answers_and_is_at_the_head(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "migrations": "current"}


def test_unavailable_when_the_schema_is_behind_the_code(app, client):
    with app.app_context():
        head = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.execute(text("UPDATE alembic_version SET version_num = '25877eb2ae47'"))
        db.session.commit()
    try:
        response = client.get("/healthz")
    finally:
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
            db.session.commit()

    assert response.status_code == 503
    assert response.get_json()["migrations"] == "behind"


def test_unavailable_when_the_database_is_unreachable(world, make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/propusk.sqlite")

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "unreachable",
        "migrations": "unknown",
    }
