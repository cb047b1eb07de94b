"""The worker's side of mail: send one message (claimed once), retry with back-off, sweep the outbox.

A message is claimed by one conditional UPDATE (pending → sending) and the claim is committed before
the SMTP conversation, so two workers, a retried task and the sweep can all be handed the same id and
only one sends. Only a worker that dies mid-conversation leaves a claim behind; after CLAIM_STALE the
sweep hands that message out again, with the same Message-ID so the receiver can tell.
"""

from __future__ import annotations

import functools
import logging
import smtplib
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, func, literal, or_, select, update

from server.database import insert_on_conflict, utcnow
from server.extensions import db
from server.jobs import app_task, crontab, periodic_task
from server.mail.models import MailRateSlot, MailStatus, MailSuppression, OutgoingMail
from server.mail.services import normalise_address
from server.mail.transport import build_message, sender_for

CLAIM_STALE = timedelta(minutes=10)
SWEEP_GRACE = timedelta(seconds=60)  # a row younger than this still has its own task on the way
SWEEP_BATCH = 5000
log = logging.getLogger("propusk.mail")
table = OutgoingMail.__table__


class Permanent(Exception):
    """The server refused for good: do not retry."""

    def __init__(self, reason: str, *, address_refused: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.address_refused = address_refused


def backoff(attempts: int) -> timedelta:
    """30 s, 2 min, 8 min, 32 min, then hourly (MAIL_RETRY_BASE_SECONDS scales it)."""
    base = current_app.config["MAIL_RETRY_BASE_SECONDS"]
    return timedelta(seconds=min(base * 4 ** max(attempts - 1, 0), 3600))


@app_task()
def send_mail(mail_id: int, slot_reserved: bool = False) -> str:
    return deliver(mail_id, slot_reserved=slot_reserved)


def deliver(mail_id: int, *, slot_reserved: bool = False) -> str:
    """Send one outbox message if it is still due; returns what happened (for tests and logs)."""
    row = db.session.execute(select(table.c.status, table.c.tenant_id).where(table.c.id == mail_id)).first()
    if row is None or row.status not in (MailStatus.PENDING, MailStatus.SENDING):
        return "done"
    if row.tenant_id is not None and not slot_reserved:
        wait = _reserve_slot(row.tenant_id)
        if wait > 0.05:
            return _defer(mail_id, wait)
    now = utcnow()
    claimed = db.session.execute(
        update(table)
        .where(
            table.c.id == mail_id,
            or_(
                (table.c.status == MailStatus.PENDING)
                & or_(
                    table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now + timedelta(seconds=1)
                ),
                (table.c.status == MailStatus.SENDING) & (table.c.claimed_at <= now - CLAIM_STALE),
            ),
        )
        .values(status=MailStatus.SENDING, claimed_at=now, attempts=table.c.attempts + 1)
    ).rowcount
    db.session.commit()  # the claim is visible before the conversation; no lock held during it
    if claimed != 1:
        return "not claimed"  # sent, being sent, or not due yet
    mail = db.session.get(OutgoingMail, mail_id)
    assert mail is not None
    try:
        via = _transmit(mail)
    except Permanent as refused:
        return _give_up(mail, refused)
    except (smtplib.SMTPException, OSError) as error:
        return _retry_later(mail, error)
    mail.status, mail.sent_at, mail.delivered_via, mail.error = MailStatus.SENT, utcnow(), via, None
    db.session.commit()
    log.info("mail %s (%s) sent via %s", mail.id, mail.kind, via)
    return "sent"


def _transmit(mail: OutgoingMail) -> str:
    config = current_app.config
    url = config.get("MAIL_URL")
    if not url:
        return "kept"  # the embedded default: the outbox row is the message, read on the admin page
    message = build_message(mail, config["MAIL_FROM"], config["MAIL_SENDER_NAME"])
    try:
        sender_for(url).send(message)
    except smtplib.SMTPRecipientsRefused as refused:
        code = next(iter(refused.recipients.values()))[0]
        if code >= 500:
            raise Permanent(f"{code} recipient refused", address_refused=True) from None
        raise
    except smtplib.SMTPResponseException as error:
        if error.smtp_code >= 500:
            raise Permanent(f"{error.smtp_code} {type(error).__name__}", address_refused=False) from None
        raise
    return "smtp"


def _give_up(mail: OutgoingMail, refused: Permanent) -> str:
    mail.error = refused.reason[:200]
    if refused.address_refused:
        mail.status = MailStatus.BOUNCED
        suppress(mail.to_address, None, None, reason="bounced")
    else:
        mail.status = MailStatus.FAILED
    db.session.commit()
    log.warning("mail %s (%s) refused: %s", mail.id, mail.kind, refused.reason)
    return str(mail.status)


def _retry_later(mail: OutgoingMail, error: Exception) -> str:
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code = next(iter(error.recipients.values()))[0]
    mail.error = f"{code or ''} {type(error).__name__}".strip()[:200]
    if mail.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        mail.status = MailStatus.FAILED
        db.session.commit()
        log.warning("mail %s (%s) failed after %s attempts", mail.id, mail.kind, mail.attempts)
        return "failed"
    delay = backoff(mail.attempts)
    mail.status, mail.next_attempt_at = MailStatus.PENDING, utcnow() + delay
    db.session.commit()
    log.info("mail %s (%s) retry in %ss: %s", mail.id, mail.kind, delay.seconds, mail.error)
    _schedule(mail.id, delay.total_seconds(), slot_reserved=False)
    return "retry"


def _schedule(mail_id: int, seconds: float, *, slot_reserved: bool) -> None:
    try:
        send_mail.schedule(args=(mail_id, slot_reserved), delay=seconds)
    except Exception:
        log.warning("mail %s not rescheduled; the sweep will", mail_id, exc_info=True)


def _defer(mail_id: int, wait: float) -> str:
    db.session.execute(
        update(table)
        .where(table.c.id == mail_id, table.c.status == MailStatus.PENDING)
        .values(next_attempt_at=utcnow() + timedelta(seconds=wait))
    )
    db.session.commit()
    _schedule(mail_id, wait, slot_reserved=True)
    return "deferred"


@functools.cache
def _slot_row(dialect: str):
    return insert_on_conflict(MailRateSlot.__table__, dialect).on_conflict_do_nothing(
        index_elements=["tenant_id"]
    )


def _reserve_slot(tenant_id: int) -> float:
    """Take the region's next send slot; returns how many seconds from now it is (0: now)."""
    rate = current_app.config["MAIL_RATE_PER_MINUTE"]
    if not rate:
        return 0.0
    slots = MailRateSlot.__table__
    step = 60.0 / rate
    now = time.time()
    db.session.execute(_slot_row(db.engine.dialect.name), {"tenant_id": tenant_id, "next_slot": 0.0})
    taken = db.session.execute(
        update(slots)
        .where(slots.c.tenant_id == tenant_id)
        .values(next_slot=_later(slots.c.next_slot, now) + step)
        .returning(slots.c.next_slot)
    ).scalar_one()
    db.session.commit()
    return max(taken - step - now, 0.0)


def _later(column, now: float):
    """The later of a slot column and now, written so SQLite and PostgreSQL both run it."""
    return case((column > now, column), else_=literal(now))


def suppress(address: str, tenant_id: int | None, kind: str | None, *, reason: str) -> None:
    """Stop writing to an address: everywhere (a bounce), or one kind in one region (a decline)."""
    scope = MailSuppression.BOUNCE_SCOPE if kind is None else MailSuppression.decline_scope(tenant_id, kind)
    statement = insert_on_conflict(MailSuppression.__table__, db.engine.dialect.name).on_conflict_do_nothing(
        index_elements=["address", "scope"]
    )
    db.session.execute(
        statement,
        {
            "address": normalise_address(address),
            "scope": scope,
            "tenant_id": tenant_id,
            "reason": reason,
            "created_at": utcnow(),
        },
    )


def due_for_sweep() -> list[int]:
    """Messages whose hand-over to the queue may have been lost, or whose worker died mid-send."""
    now = utcnow()
    query = (
        select(table.c.id)
        .where(
            or_(
                (table.c.status == MailStatus.PENDING)
                & (func.coalesce(table.c.next_attempt_at, table.c.created_at) <= now - SWEEP_GRACE),
                (table.c.status == MailStatus.SENDING) & (table.c.claimed_at <= now - CLAIM_STALE),
            )
        )
        .order_by(table.c.id)
        .limit(SWEEP_BATCH)
    )
    return list(db.session.scalars(query))


@periodic_task(crontab(minute="*"))
def sweep_outbox() -> int:
    """Every minute: hand the queue whatever it may not have (see module docstring)."""
    ids = due_for_sweep()
    db.session.commit()  # hold no transaction (on SQLite: the write lock) while handing them out
    for mail_id in ids:
        send_mail(mail_id)
    if ids:
        log.info("mail sweep handed %s messages to the queue", len(ids))
    return len(ids)
