"""Scheduled reports: a subscriber's scope, by e-mail through the outbox, once per period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.audit.models import AuditEntry
from server.database import utcnow
from server.extensions import db
from server.mail.models import OutgoingMail
from server.reports.scheduled import DAILY_HOUR, WEEKLY_HOUR, send_due_reports
from tenants.scoping import tenant_scope
from tests.conftest import login
from tests.reports.helpers import build, users


def _local_hour_today(hour: int) -> datetime:
    """Today at `hour` in Moscow (the test region), as UTC."""
    moscow = utcnow() + timedelta(hours=3)
    return datetime(moscow.year, moscow.month, moscow.day, hour, 5, tzinfo=UTC) - timedelta(hours=3)


def _outbox(world) -> list[OutgoingMail]:
    with world.app.app_context():
        mails = db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()
        for mail in mails:
            _ = list(mail.attachments)
        return mails


def test_subscribers_get_their_own_days_summary_once(client, world):
    if world.into_its_day(minutes=60) is not world.a:
        pytest.skip("its events began earlier today in Yaroslavl, whose day began under an hour ago")
    town = build(world)
    logins = users(world, town)
    for role in ("municipal", "school"):
        client.post("/logout")
        login(client, logins[role])
        assert client.post("/yaroslavl/reports/subscriptions", data={"daily": "on"}).status_code == 302
        assert "checked" in client.get("/yaroslavl/reports/subscriptions").text
    with world.app.app_context():
        assert send_due_reports(_local_hour_today(DAILY_HOUR - 3)) == 0  # not the evening yet
        assert send_due_reports(_local_hour_today(DAILY_HOUR)) == 2
        db.session.commit()
        assert send_due_reports(_local_hour_today(DAILY_HOUR)) == 0  # once per day and subscriber
        db.session.commit()
    mails = {m.to_address: m for m in _outbox(world)}
    municipal, school = mails[logins["municipal"]], mails[logins["school"]]
    assert "г. Рыбинск" in municipal.subject and "Записано: 2" in municipal.body_text
    assert "г. Ярославль" not in municipal.body_text  # another municipality's figures never go out
    assert "Средняя школа № 33" in school.subject and "Пришли: 3" in school.body_text
    attachment = school.attachments[0]
    assert (
        attachment.content.startswith(b"\xef\xbb\xbf") and "Средняя школа № 33".encode() in attachment.content
    )
    assert all(m.tenant_id == world.a.id and m.kind == "report_daily" for m in mails.values())
    with world.app.app_context(), tenant_scope(world.a.id):
        formats = [
            e.details["format"] for e in db.session.scalars(select(AuditEntry)) if e.action == "report.export"
        ]
        assert formats == ["email", "email"]


def test_weekly_summary_on_monday_and_unsubscribing_stops_it(client, world):
    town = build(world)
    email = users(world, town)["coordinator"]
    login(client, email)
    client.post("/yaroslavl/reports/subscriptions", data={"weekly": "on"})
    today = _local_hour_today(WEEKLY_HOUR)
    next_monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    with world.app.app_context():
        assert send_due_reports(next_monday - timedelta(days=1)) == 0  # Sunday
        assert send_due_reports(next_monday) == 1
        db.session.commit()
    mail = _outbox(world)[0]
    assert mail.to_address == email and "Итоги недели" in mail.body_text and "Записано: 6" in mail.body_text
    client.post("/yaroslavl/reports/subscriptions", data={})
    with world.app.app_context():
        assert send_due_reports(next_monday + timedelta(days=7)) == 0
