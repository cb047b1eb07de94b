"""Nothing personal in logs: database errors print no bound parameters, request lines no ticket tokens
or searches, PostgreSQL's DETAIL no values. (conftest.py also scans the logs of the whole run.)"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.database import utcnow
from server.extensions import db
from server.logs import redact
from server.tickets.models import Student, Ticket
from tests.conftest import POSTGRES
from tests.tickets.helpers import region


def test_a_database_error_is_logged_without_the_values_it_was_given(app, world, caplog):
    school = world.school(world.a)
    row = {
        "tenant_id": world.a.id,
        "school_id": school,
        "last_name": "Секретова",
        "first_name": "Тайна",
        "middle_name": "",
        "grade": 9,
        "identity_name": "секретова тайна",
        "search_last_name": "секретова",
        "created_at": utcnow(),
    }
    with region(app, world.a), caplog.at_level(logging.ERROR):
        db.session.add(Student(**row))
        db.session.flush()
        try:
            db.session.add(Student(**row))  # the same student: unique
            db.session.flush()
        except IntegrityError:
            logging.getLogger("propusk").exception("registration failed")
        db.session.rollback()
    assert "registration failed" in caplog.text and "IntegrityError" in caplog.text
    assert "Секретова" not in caplog.text and "секретова" not in caplog.text


@pytest.mark.skipif(not POSTGRES, reason="a NUL is refused by PostgreSQL only")
def test_a_nul_in_a_guardians_name_writes_nothing_personal_to_the_log(app, client, world, caplog):
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=2))
    school = world.school(world.a)
    form = {
        "last_name": "Нулев",
        "first_name": "Ноль",
        "grade": "9",
        "school_id": str(school),
        "guardian_name": "Нулева\x00 Анна",
        "guardian_phone": "+7 901 555-44-33",
        "guardian_email": "nuleva@example.ru",
        "consent": "y",
    }
    from server.tickets.consent import CONSENT_VERSION

    with caplog.at_level(logging.INFO):
        client.post(f"/yaroslavl/e/{event}", data={**form, "consent_version": CONSENT_VERSION})
    for secret in ("Нулев", "79015554433", "901 555", "nuleva@example.ru"):
        assert secret not in caplog.text


def test_request_lines_show_no_ticket_token_and_no_search(app, world, live_server, caplog):
    ticket_id, _ = world.ticket(world.a, world.event(world.a), last_name="Журналов")
    with region(app, world.a):
        token = db.session.scalar(select(Ticket.access_token).where(Ticket.id == ticket_id))
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        assert requests.get(f"{live_server}/yaroslavl/t/{token}", timeout=10).status_code == 200
        requests.get(f"{live_server}/yaroslavl/schools/find?q=Журналов", timeout=10)
    assert "/yaroslavl/t/[token]" in caplog.text and "?[query]" in caplog.text
    assert token not in caplog.text and "Журналов" not in caplog.text


def test_redaction_of_what_postgresql_and_people_put_in_messages():
    detail = "DETAIL:  Key (tenant_id, identity_name)=(1, иванов иван) already exists."
    assert redact(detail) == "DETAIL:  Key (tenant_id, identity_name)=([hidden])"
    assert "Петров" not in redact("Failing row contains (1, Петров, null).")
    assert redact("call +7 (900) 123-45-67 or 89001234567, mail a.b@example.ru") == (
        "call [phone] or [phone], mail [email]"
    )
    code = "A" * 125
    assert redact(f"scan {code} refused") == "scan [code] refused"
    assert redact("took 2026-12-03 13:08:34.123, 127.0.0.1:8000, 200 OK") == (
        "took 2026-12-03 13:08:34.123, 127.0.0.1:8000, 200 OK"
    )


def test_the_whole_run_scan_finds_a_remembered_value_in_a_log_record(app, world):
    """The session-end scan (tests/log_scan.py) is only as good as this: a record naming a student of
    the test data is a leak. The record is handed to the collector directly, then taken back out."""
    from tests import log_scan

    world.ticket(world.a, world.event(world.a), last_name="Утечкин")
    log_scan.remember_personal_data(app)
    kept = len(log_scan._texts)
    record = logging.LogRecord("propusk", logging.ERROR, __file__, 1, "failed for %s", ("Утечкин",), None)
    log_scan._Collector().emit(record)
    try:
        assert [kind for _, kind in log_scan.leaks()] == ["student name"]
    finally:
        del log_scan._texts[kept:]
    assert log_scan.leaks() == []


@pytest.mark.slow
def test_gunicorns_access_and_error_logs_show_no_ticket_token(app, world, database_url, tmp_path):
    """The access log is off by default; turned on, it still shows no token and no search."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.conftest import _free_port

    ticket_id, _ = world.ticket(world.a, world.event(world.a), last_name="Гуникорнов")
    with region(app, world.a):
        token = db.session.scalar(select(Ticket.access_token).where(Ticket.id == ticket_id))
    port, log_path = _free_port(), tmp_path / "gunicorn.log"
    env = {**os.environ, "SECRET_KEY": "test-only", "DATABASE_URL": database_url, "PROPUSK_ENV": "production"}
    env.pop("REDIS_URL", None)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}"],
            cwd=Path(__file__).resolve().parents[2],
            env={**env, "GUNICORN_ACCESS_LOG": "-"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(300):
                try:
                    page = requests.get(f"http://127.0.0.1:{port}/yaroslavl/t/{token}", timeout=90)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            assert page.status_code == 200 and "Гуникорнов" in page.text
            requests.get(f"http://127.0.0.1:{port}/yaroslavl/schools/find?q=Гуникорнов", timeout=90)
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    logged = log_path.read_text()
    assert "/yaroslavl/t/[token]" in logged and "/yaroslavl/schools/find?[query]" in logged
    assert token not in logged and "Гуникорнов" not in logged
