"""Scheduled reports by e-mail: the day's summary in the evening of every day with events, and the
week's summary on Monday morning, through the project's outbox and job queue (server.mail, server.jobs).

Each subscriber gets the figures of their own scope, worked out from their role when the report is
sent (the same `scope_for` as the pages), so a moved or removed member never gets another's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select

from server.accounts.models import User
from server.accounts.services import membership_in
from server.audit.services import record
from server.database import utcnow
from server.extensions import db
from server.jobs import crontab, periodic_task
from server.live.services import scope_for
from server.mail.services import absolute_url, queue_mail
from server.reports.audit import EXPORT_ACTION
from server.reports.exports import CSV_MIMETYPE, csv_bytes
from server.reports.models import Frequency, ReportSubscription
from server.reports.participants import Filters
from server.reports.scope import describe
from server.reports.summary import attendance_summary
from server.reports.tables import summary_table
from tenants.models import Tenant
from tenants.scoping import all_tenants, tenant_scope

DAILY_HOUR = 20  # the region's evening: the day's events are over
WEEKLY_DAY, WEEKLY_HOUR = 0, 8  # Monday, 08:00 in the region


def subscriptions_of(user_id: int) -> set[Frequency]:
    return set(
        db.session.scalars(select(ReportSubscription.frequency).where(ReportSubscription.user_id == user_id))
    )


def set_subscriptions(user_id: int, wanted: set[Frequency]) -> None:
    """Keep exactly the wanted frequencies for this user in the current region."""
    held = subscriptions_of(user_id)
    for frequency in wanted - held:
        db.session.add(ReportSubscription(user_id=user_id, frequency=frequency))
    gone = held - wanted
    if gone:
        db.session.execute(
            delete(ReportSubscription).where(
                ReportSubscription.user_id == user_id, ReportSubscription.frequency.in_(gone)
            )
        )
    db.session.flush()


@dataclass(frozen=True)
class Due:
    frequency: Frequency
    first: date
    last: date


def due_in(tenant: Tenant, now: datetime) -> list[Due]:
    """Which reports are due in this region at this hour (the task runs once an hour)."""
    local = now.astimezone(tenant.tz)
    out = []
    if local.hour == DAILY_HOUR:
        out.append(Due(Frequency.DAILY, local.date(), local.date()))
    if local.weekday() == WEEKLY_DAY and local.hour == WEEKLY_HOUR:
        out.append(Due(Frequency.WEEKLY, local.date() - timedelta(days=7), local.date() - timedelta(days=1)))
    return out


def _send(tenant: Tenant, subscription: ReportSubscription, due: Due, now: datetime) -> bool:
    user = db.session.get(User, subscription.user_id)
    membership = membership_in(user, tenant) if user is not None and user.active else None
    scope = scope_for(user, membership, tenant) if membership is not None else None
    if scope is None:
        return False
    filters = Filters(date_from=due.first, date_to=due.last)
    summary = attendance_summary(scope, filters, tenant.tz, now)
    if summary["events"] == 0:
        return False  # no events in this scope: nothing to report, no mail
    period = f"{due.first:%d.%m.%Y}" if due.first == due.last else f"{due.first:%d.%m.%Y}–{due.last:%d.%m.%Y}"
    table = summary_table(summary)
    attachment = csv_bytes(table, tenant.tz)
    queued = queue_mail(
        user.email,
        f"Посещаемость за {period}: {scope.label}",
        "report_summary",
        {
            "period": period,
            "scope": scope.label,
            "summary": summary,
            "weekly": due.frequency is Frequency.WEEKLY,
            "link": absolute_url("reports.attendance_report", tenant=tenant.slug, **filters.as_args()),
            "settings": absolute_url("reports.subscriptions", tenant=tenant.slug),
        },
        kind=f"report_{due.frequency.value}",
        key=f"report:{tenant.id}:{subscription.id}:{due.frequency.value}:{due.first.isoformat()}",
        tenant_id=tenant.id,
        attachments=[(f"svodka-{due.first.isoformat()}.csv", CSV_MIMETYPE, attachment)],
    )
    if queued is not None:
        record(
            EXPORT_ACTION, "report", None, user_id=user.id, report="attendance_summary", format="email",
            scope=describe(scope), filters=filters.as_args(), rows=table.counter["rows"],
        )  # fmt: skip
    return queued is not None


def send_due_reports(now: datetime) -> int:
    """Queue every report due at this hour in every region; returns how many were queued."""
    queued = 0
    for tenant in db.session.scalars(all_tenants(select(Tenant).order_by(Tenant.id))).all():
        dues = due_in(tenant, now)
        if not dues:
            continue
        with tenant_scope(tenant.id):
            for due in dues:
                subscriptions = db.session.scalars(
                    select(ReportSubscription)
                    .where(ReportSubscription.frequency == due.frequency)
                    .order_by(ReportSubscription.id)
                ).all()
                queued += sum(_send(tenant, s, due, now) for s in subscriptions)
            db.session.flush()
    return queued


@periodic_task(crontab(minute="5"))
def send_scheduled_reports() -> int:
    return send_due_reports(utcnow())
