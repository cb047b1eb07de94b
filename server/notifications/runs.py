"""Bulk messages: a run row written with the change, fanned out by the worker into one message a family.

Fan-out is repeatable: every message's key names the run and the ticket, so a run interrupted halfway
and run again writes only what is missing. Runs are handed to the queue after commit, and the
periodic planner (jobs.py) picks up any whose hand-over was lost.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.catalog.models import Event
from server.checkins.models import Checkin, ScanResult
from server.database import insert_on_conflict, transaction_ended, utcnow
from server.extensions import db
from server.jobs import region_task
from server.mail.services import Mail, queue_mails
from server.notifications import messages
from server.notifications.models import MailRun, RunStatus
from tenants.models import Tenant
from tenants.scoping import regional, required_tenant_id

PENDING_RUNS = "mail_pending_runs"
CHUNK = 500  # families written per transaction: a 10,000-family reminder commits in 20 steps
log = logging.getLogger("propusk.notifications")


@functools.cache
def _insert_run(dialect: str):
    """A run, once per (region, key): built once per database, bound to its region."""
    table = MailRun.__table__
    return regional(
        insert_on_conflict(table, dialect)
        .on_conflict_do_nothing(index_elements=["tenant_id", "key"])
        .returning(table.c.id)
    )


def start_run(kind: str, key: str, event_id: int | None, payload: dict | None = None) -> int | None:
    """Write a run in the current transaction (once per key); the worker fans it out after commit."""
    tenant_id = required_tenant_id()
    run_id = db.session.execute(
        _insert_run(db.engine.dialect.name),
        {
            "tenant_id": tenant_id,
            "key": key[:120],
            "kind": kind,
            "event_id": event_id,
            "payload": json.dumps(payload or {}, ensure_ascii=False),
            "status": RunStatus.PENDING,
            "created_at": utcnow(),
        },
    ).scalar()
    if run_id is not None:
        db.session.info.setdefault(PENDING_RUNS, []).append((tenant_id, run_id))
    return run_id


def enqueue_runs(runs: list[tuple[int, int]]) -> None:
    for tenant_id, run_id in runs:
        try:
            fan_out(tenant_id, run_id)
        except Exception:
            log.warning("run %s not enqueued; the planner will pick it up", run_id, exc_info=True)


@sa_event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    if not transaction_ended(session):
        return  # a savepoint: the rows are not committed yet
    waiting = session.info.pop(PENDING_RUNS, None)
    if waiting:
        enqueue_runs(waiting)


@sa_event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if transaction_ended(session):  # a savepoint's rollback leaves what was queued before it
        session.info.pop(PENDING_RUNS, None)


@region_task()
def fan_out(tenant_id: int, run_id: int) -> int:
    return write_run(run_id)


def write_run(run_id: int) -> int:
    """Write the run's messages in chunks, committing each; mark it done. Returns messages written."""
    run = db.session.scalar(select(MailRun).where(MailRun.id == run_id))
    if run is None or run.status == RunStatus.DONE:
        return 0
    tenant = db.session.get(Tenant, run.tenant_id)
    event = db.session.scalar(select(Event).where(Event.id == run.event_id)) if run.event_id else None
    payload = json.loads(run.payload)
    written = 0
    if event is not None:
        ticket_ids = payload.get("ticket_ids")
        status = None if ticket_ids is not None else messages.TicketStatus.ACTIVE
        everyone = messages.families(event.id, ticket_ids=ticket_ids, status=status)
        came = _admitted(event.id) if run.kind == "after_event" else set()
        sender = messages.sender_of(tenant)
        for start in range(0, len(everyone), CHUNK):
            chunk = [
                _one(run, tenant, event, f, payload, came, sender) for f in everyone[start : start + CHUNK]
            ]
            # one batch per preference: thank-yous and no-show notes share one ("after_event")
            written += sum(mail_id is not None for mail_id in queue_mails(chunk))
            db.session.commit()
    elif run.kind == "school_summary":
        from server.notifications.schools import write_summaries

        written = write_summaries(tenant, run)
    run = db.session.scalar(select(MailRun).where(MailRun.id == run_id))
    run.status, run.done_at = RunStatus.DONE, utcnow()
    db.session.commit()
    log.info("run %s (%s) wrote %s messages", run_id, run.kind, written)
    return written


def _one(
    run: MailRun, tenant: Tenant, event: Event, family, payload: dict, came: set[int], sender: str
) -> Mail:
    if run.kind == "reminder":
        return messages.reminder(tenant, event, family, run.id, sender)
    if run.kind == "event_changed":
        return messages.event_changed(tenant, event, family, run.id, payload, sender)
    if run.kind == "event_cancelled":
        return messages.event_cancelled(tenant, event, family, run.id, payload.get("reason", ""), sender)
    if run.kind == "after_event":
        return messages.after_event(tenant, event, family, run.id, family.ticket_id in came, sender)
    raise ValueError(f"unknown run kind {run.kind}")


def _admitted(event_id: int) -> set[int]:
    """Tickets of the event admitted at the door (a successful check-in)."""
    query = select(Checkin.ticket_id).where(Checkin.event_id == event_id, Checkin.result == ScanResult.OK)
    return {ticket_id for ticket_id in db.session.scalars(query) if ticket_id is not None}


def due_runs(grace: timedelta = timedelta(minutes=1)) -> list[tuple[int, int]]:
    """Pending runs of every region old enough that their own hand-over should have happened."""
    from tenants.scoping import all_tenants

    query = select(MailRun.tenant_id, MailRun.id).where(
        MailRun.status == RunStatus.PENDING, MailRun.created_at <= utcnow() - grace
    )
    return [(t, r) for t, r in db.session.execute(all_tenants(query))]
