"""`flask worker` as its own process: the web side only enqueues, the worker sends over SMTP.

Runs against the test database and, when REDIS_URL is set (CI's PostgreSQL job), the Redis queue —
the deployment at scale; otherwise the SQLite queue file of the embedded default.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from server.extensions import db
from server.mail import queue_mail
from server.mail.models import OutgoingMail
from tenants.scoping import tenant_scope
from tests.conftest import REDIS_URL
from tests.mail.conftest import ROOT


@pytest.mark.slow
def test_a_separate_worker_process_sends_what_the_web_side_queued(
    make_app, world, database_url, smtp_sink, tmp_path
):
    queue_file = str(tmp_path / "huey.sqlite")
    settings = {"HUEY_IMMEDIATE": False, "HUEY_SQLITE_PATH": queue_file, "HUEY_NAME": f"test-{os.getpid()}"}
    web = make_app(**settings)
    from server.jobs import huey

    huey.flush()  # a queue left over from an earlier run holds ids of rows that are gone
    with web.app_context(), tenant_scope(world.a.id):
        for n in range(3):
            queue_mail(
                f"Родитель {n} <parent{n}@example.ru>",
                f"Письмо № {n}",
                "test_message",
                {"name": "Иван", "link": "https://propusk.example/t/x"},
                kind="test",
                key=f"worker:{n}",
                tenant_id=world.a.id,
            )
        db.session.commit()
        assert db.session.scalars(select(OutgoingMail.status)).all() == ["pending"] * 3
    assert huey.pending_count() == 3

    env = {
        **os.environ,
        "PROPUSK_ENV": "production",
        "SECRET_KEY": "test-only",
        "DATABASE_URL": database_url,
        "MAIL_URL": smtp_sink.url,
        "HUEY_SQLITE_PATH": queue_file,
    }
    if REDIS_URL:
        env["REDIS_URL"] = REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--threads", "2"],
        cwd=ROOT,
        env={**env, "HUEY_NAME": settings["HUEY_NAME"]},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        received = smtp_sink.wait_for(3, timeout=30)
        assert sorted(m["Subject"] for m in received) == ["Письмо № 0", "Письмо № 1", "Письмо № 2"]
        deadline = time.monotonic() + 10
        with web.app_context():
            while time.monotonic() < deadline:
                statuses = db.session.scalars(select(OutgoingMail.status)).all()
                db.session.rollback()
                if statuses == ["sent"] * 3:
                    break
                time.sleep(0.1)
            assert statuses == ["sent"] * 3
    finally:
        worker.terminate()
        output = worker.communicate(timeout=15)[0]
    assert worker.returncode == 0, output
    assert "RedisStorage" in output if REDIS_URL else "SqliteStorage" in output
    assert "parent0@example.ru" not in output  # no personal data in the worker's log
