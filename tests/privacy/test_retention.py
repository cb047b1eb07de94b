"""Retention: `flask privacy purge --before DATE` and the scheduled purge after each season erase the
way a withdrawal does; erasure records go after their 3 years; a region's export and deletion."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timedelta

from sqlalchemy import func, select

from server.accounts.models import Role, User
from server.database import utcnow
from server.extensions import db
from server.privacy.models import Erasure, ErasureReason
from server.tickets.models import Student, Ticket, TicketStatus
from tests.tickets.helpers import region


def _names(app, world, reg=None) -> list[str]:
    with region(app, reg or world.a):
        return sorted(db.session.scalars(select(Student.last_name)))


def test_purge_before_a_date_erases_students_whose_events_all_ended_before_it(app, world, runner):
    past = world.event(world.a, starts_at=utcnow() - timedelta(days=40))
    future = world.event(world.a, starts_at=utcnow() + timedelta(days=3))
    world.ticket(world.a, past, last_name="Прошлов")
    school = world.school(world.a)
    world.ticket(world.a, past, school_id=school, last_name="Двойнов")
    world.ticket(world.a, future, school_id=school, last_name="Двойнов")  # same student, still to come
    world.ticket(world.a, future, last_name="Будущев")
    world.ticket(world.b, world.event(world.b, starts_at=utcnow() - timedelta(days=40)), last_name="Иркутов")
    today = utcnow().date().isoformat()

    result = runner.invoke(args=["privacy", "purge", "--before", today, "--tenant", "yaroslavl"])
    assert result.exit_code == 0, result.output
    assert "yaroslavl: учеников обезличено — 1" in result.output
    assert _names(app, world) == ["", "Будущев", "Двойнов"]
    assert _names(app, world, world.b) == ["Иркутов"]  # another region untouched
    with region(app, world.a):
        erasure = db.session.scalar(select(Erasure))
        assert erasure.reason == ErasureReason.RETENTION
        assert db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.code.is_(None))) == 1
    again = runner.invoke(args=["privacy", "purge", "--before", today])
    assert (
        "yaroslavl: учеников обезличено — 0" in again.output
        and "irkutsk: учеников обезличено — 1" in again.output
    )
    bad = runner.invoke(args=["privacy", "purge", "--before", "вчера"])
    assert bad.exit_code != 0 and "ГГГГ-ММ-ДД" in bad.output


def test_scheduled_purge_erases_last_seasons_data_after_the_grace_period_and_old_records(app, world):
    from server.jobs import huey
    from server.privacy import retention

    last_season = world.event(world.a, starts_at=datetime(2026, 5, 20, 8, tzinfo=utcnow().tzinfo))
    world.ticket(world.a, last_season, last_name="Майский")
    utc = utcnow().tzinfo
    with app.app_context():
        # 10 September: within the grace period, nothing goes; 2 October: last season's data goes.
        early = retention.purge_finished_seasons(datetime(2026, 9, 10, tzinfo=utc))["yaroslavl"]
    assert early.students == 0 and _names(app, world) == ["Майский"]
    with app.app_context():
        due = retention.purge_finished_seasons(datetime(2026, 10, 2, tzinfo=utc))["yaroslavl"]
    assert due.students == 1 and _names(app, world) == [""]
    with app.app_context():  # three years and more later the erasure record itself expires
        result = retention.purge_finished_seasons(datetime(2029, 10, 10, tzinfo=utcnow().tzinfo))
        assert result["yaroslavl"].erasure_records_removed == 1
    daily = [t for t in huey._registry._periodic_tasks if "purge_finished_seasons_daily" in t.__name__]
    assert len(daily) == 1 and daily[0]().validate_datetime(datetime(2026, 10, 2, 2, 30))


def test_region_export_holds_its_data_without_private_keys_and_delete_removes_it(
    app, world, runner, tmp_path
):
    event = world.event(world.a, starts_at=utcnow() + timedelta(days=3))
    ticket_id, _ = world.ticket(world.a, event, last_name="Экспортов")
    world.ticket(world.b, world.event(world.b), last_name="Иркутов")
    email_a, _ = world.user(world.a, Role.COORDINATOR)
    email_b, _ = world.user(world.b, Role.COORDINATOR)
    path = tmp_path / "yaroslavl.zip"
    result = runner.invoke(args=["privacy", "export-region", "yaroslavl", str(path)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(path) as archive:
        students = [json.loads(line) for line in archive.read("students.jsonl").decode().splitlines()]
        keys = [json.loads(line) for line in archive.read("signing_keys.jsonl").decode().splitlines()]
        users = archive.read("users.jsonl").decode()
        tickets = archive.read("tickets.jsonl").decode()
    assert [s["last_name"] for s in students] == ["Экспортов"]
    assert keys and all("private_key" not in k and k["public_key"] for k in keys)
    assert email_a in users and email_b not in users and "password" not in users
    assert f'"id": {ticket_id}' in tickets and "Иркутов" not in tickets

    refused = runner.invoke(args=["privacy", "delete-region", "yaroslavl", "--confirm", "irkutsk"])
    assert refused.exit_code != 0 and "ничего не удалено" in refused.output
    done = runner.invoke(args=["privacy", "delete-region", "yaroslavl", "--confirm", "yaroslavl"])
    assert done.exit_code == 0, done.output
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(Student).execution_options(all_tenants=True))
            == 1
        )
        emails = set(db.session.scalars(select(User.email)))
        assert email_a not in emails and email_b in emails
    assert _names(app, world, world.b) == ["Иркутов"]
    with region(app, world.b):
        assert db.session.scalar(select(Ticket.status)) == TicketStatus.ACTIVE
