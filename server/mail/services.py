"""Queue a message in the caller's transaction; hand it to the worker once that transaction commits.

The outbox row is the promise: it commits with the change that causes it (a registration, a moved
event) or not at all. After commit its id goes to the queue; if that hand-over is lost (a crash between
commit and enqueue, Redis down) the worker's sweep (tasks.py) finds the row anyway. Sending claims the
row with one conditional UPDATE, so a retried or duplicated task never sends it twice.
"""

from __future__ import annotations

import functools
import logging
from email.utils import parseaddr
from typing import Any

from flask import current_app, has_request_context, url_for
from jinja2 import TemplateNotFound
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from server.database import insert_on_conflict, utcnow
from server.extensions import db
from server.mail.models import MailAttachment, MailStatus, MailSuppression, OutgoingMail

PENDING_SENDS = "mail_pending_sends"
log = logging.getLogger("propusk.mail")

Attachment = tuple[str, str, bytes]  # (filename, mimetype, content)


def normalise_address(address: str) -> str:
    return address.strip().lower()


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute link for a message: PUBLIC_URL when set, else the request's host (or localhost).

    Mail is also rendered by the worker, which has no request: links there need PUBLIC_URL.
    """
    base = current_app.config.get("PUBLIC_URL")
    if has_request_context():
        return base + url_for(endpoint, **values) if base else url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=base or "http://localhost"):
        return url_for(endpoint, _external=True, **values)


def suppression_for(address: str, tenant_id: int | None, kind: str) -> str | None:
    """Why this address must not get this message (`bounced`/`invalid`/`declined`), or None."""
    scopes = [MailSuppression.BOUNCE_SCOPE]
    if tenant_id is not None:
        scopes.append(MailSuppression.decline_scope(tenant_id, kind))
    reasons = db.session.scalars(
        select(MailSuppression.reason).where(
            MailSuppression.address == normalise_address(address), MailSuppression.scope.in_(scopes)
        )
    ).all()
    if not reasons:
        return None
    return next((r for r in reasons if r != "declined"), reasons[0])


def render_mail(template: str, context: dict[str, Any]) -> tuple[str, str | None]:
    """The text and HTML bodies. Straight from the Jinja environment: a message is no page, so none of
    the pages' context (the signed-in user, the region in the URL) leaks into it."""
    env = current_app.jinja_env
    text = env.get_template(f"mail/{template}.txt").render(**context)
    try:
        html_template = env.get_template(f"mail/{template}.html")
    except TemplateNotFound as missing:
        if missing.name != f"mail/{template}.html":
            raise
        return text, None
    return text, html_template.render(**context)


@functools.cache
def _insert_statement(dialect: str):
    return (
        insert_on_conflict(OutgoingMail.__table__, dialect)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutgoingMail.__table__.c.id)
    )


def queue_mail(
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    *,
    kind: str,
    key: str,
    tenant_id: int | None = None,
    attachments: list[Attachment] | None = None,
    event_id: int | None = None,
    school_id: int | None = None,
    sender_name: str | None = None,
) -> int | None:
    """Write one message to the outbox in the current transaction; None if `key` was queued before.

    `to` is an address or `Имя <address>`. The body is rendered now from `templates/mail/<template>.txt`
    and `.html` (the HTML one is optional) with `context` — the message is exactly what the change
    meant when it committed. `event_id`/`school_id` file it for the coordinator's and school's views.
    An address that bounced, or declined this kind in this region, gets a row marked so and no send.
    """
    name, address = parseaddr(to)
    address = normalise_address(address or to)
    body_text, body_html = render_mail(template, context)
    blocked = suppression_for(address, tenant_id, kind) if "@" in address else "invalid"
    status = MailStatus.PENDING.value
    if blocked:
        status = MailStatus.DECLINED.value if blocked == "declined" else MailStatus.BOUNCED.value
    session = db.session()
    mail_id = session.execute(
        _insert_statement(db.engine.dialect.name),
        {
            "key": key[:200],
            "kind": kind,
            "tenant_id": tenant_id,
            "event_id": event_id,
            "school_id": school_id,
            "to_address": address,
            "to_name": name or None,
            "sender_name": sender_name,
            "subject": subject[:300],
            "body_text": body_text,
            "body_html": body_html,
            "status": status,
            "attempts": 0,
            "created_at": utcnow(),
        },
    ).scalar()
    if mail_id is None:
        return None
    for filename, mimetype, content in attachments or []:
        session.add(MailAttachment(mail_id=mail_id, filename=filename, mimetype=mimetype, content=content))
    if status == MailStatus.PENDING.value:
        session.info.setdefault(PENDING_SENDS, []).append(mail_id)
    return mail_id


def enqueue_sends(mail_ids: list[int]) -> None:
    """Hand committed messages to the worker; a failure here is repaired by the sweep."""
    from server.mail.tasks import send_mail

    for mail_id in mail_ids:
        try:
            send_mail(mail_id)
        except Exception:
            log.warning("mail %s not enqueued; the sweep will send it", mail_id, exc_info=True)


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    waiting = session.info.pop(PENDING_SENDS, None)
    if waiting:
        enqueue_sends(waiting)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_SENDS, None)


def outbox_rows(*, status: str | None = None, limit: int = 200) -> list[OutgoingMail]:
    """The latest messages of every region (platform admin's «Отправленные письма»)."""
    query = select(OutgoingMail).order_by(OutgoingMail.id.desc()).limit(limit)
    if status:
        query = query.where(OutgoingMail.status == status)
    return list(db.session.scalars(query))
