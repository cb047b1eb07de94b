"""Backup and restore on SQLite as docs/operations.md says: an online copy with SQLite's backup API
(what `sqlite3 … ".backup …"` does), restored as the database of a fresh app that shows the data."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pytest

from tests.conftest import POSTGRES, bearer


def _backup_with_the_api(source: str, target: str) -> None:
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    copy.close()
    live.close()


def _backup_with_the_cli(source: str, target: str) -> None:
    subprocess.run(["sqlite3", source, f".backup '{target}'"], check=True, timeout=60)


@pytest.mark.skipif(POSTGRES, reason="the SQLite procedure; PostgreSQL's is pg_dump/pg_restore")
@pytest.mark.parametrize(
    "backup",
    [
        _backup_with_the_api,
        pytest.param(
            _backup_with_the_cli,
            marks=pytest.mark.skipif(not shutil.which("sqlite3"), reason="needs the sqlite3 command"),
        ),
    ],
)
def test_a_backup_restored_elsewhere_starts_and_shows_the_data(app, world, make_app, tmp_path, backup):
    event = world.event(world.a, title="День открытых дверей в Рыбинском колледже")
    world.ticket(world.a, event)
    _, token = world.user(world.a)
    live = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")

    backup(live, str(tmp_path / "backup.sqlite"))
    restored = tmp_path / "restored" / "propusk.sqlite"
    restored.parent.mkdir()
    shutil.copy(tmp_path / "backup.sqlite", restored)  # restore: the copy becomes the database file
    client = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{restored}").test_client()

    assert client.get("/healthz").status_code == 200
    events = client.get("/api/v1/yaroslavl/events", headers=bearer(token))
    assert events.status_code == 200
    [found] = [e for e in events.get_json() if e["id"] == event]
    assert found["title"] == "День открытых дверей в Рыбинском колледже"
    assert found["registered"] == 1
