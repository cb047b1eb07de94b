"""The timed messages, planned every five minutes by the worker: reminders, school summaries, after-event.

Each plan is a run with a unique key (`reminder:<event>:<date>`), so planning again changes nothing;
an event moved to another day gets a new reminder for its new day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from server.catalog.models import Event
from server.database import utcnow
from server.extensions import db
from server.jobs import crontab, periodic_task
from server.notifications.models import DEFAULT_REMINDER_TIME, MailSettings
from server.notifications.runs import due_runs, enqueue_runs, start_run
from server.notifications.schools import day_bounds
from tenants.models import Tenant
from tenants.scoping import tenant_scope

AFTER_EVENT_DELAY = timedelta(hours=1)  # the thank-you goes an hour after the end
AFTER_EVENT_LOOKBACK = timedelta(days=2)  # never mail about events long past (a fresh deployment)


def plan_region(tenant: Tenant, now: datetime) -> list[int]:
    """Runs due in one region now (in its scope); returns the new run ids."""
    settings = db.session.scalar(select(MailSettings))
    reminder_at = settings.reminder_at if settings else DEFAULT_REMINDER_TIME
    local = now.astimezone(tenant.tz)
    started: list[int | None] = []
    if local.time() >= reminder_at:
        tomorrow = local.date() + timedelta(days=1)
        start, end = day_bounds(tomorrow, tenant)
        events = db.session.scalars(
            select(Event).where(Event.starts_at >= start, Event.starts_at < end, Event.cancelled_at.is_(None))
        ).all()
        for event in events:
            started.append(start_run("reminder", f"reminder:{event.id}:{tomorrow.isoformat()}", event.id))
        if events:
            started.append(
                start_run("school_summary", f"school_summary:{tomorrow.isoformat()}", None,
                          {"date": tomorrow.isoformat()})
            )  # fmt: skip
    ended = db.session.scalars(
        select(Event).where(
            Event.ends_at <= now - AFTER_EVENT_DELAY,
            Event.ends_at > now - AFTER_EVENT_LOOKBACK,
            Event.cancelled_at.is_(None),
        )
    ).all()
    for event in ended:
        started.append(start_run("after_event", f"after_event:{event.id}", event.id))
    return [run_id for run_id in started if run_id is not None]


def plan_all(now: datetime | None = None) -> int:
    """Plan every region (each in its own scope and commit), then hand out runs whose hand-over was lost."""
    now = now or utcnow()
    regions = [(t.id, t.slug) for t in db.session.scalars(select(Tenant).order_by(Tenant.id))]
    planned = 0
    for tenant_id, _slug in regions:
        with tenant_scope(tenant_id):
            planned += len(plan_region(db.session.get(Tenant, tenant_id), now))
            db.session.commit()  # after commit, the new runs go to the queue
    lost = due_runs()
    db.session.commit()
    enqueue_runs(lost)
    return planned


@periodic_task(crontab(minute="*/5"))
def plan_notifications() -> int:
    return plan_all()
