"""Queue a message in the caller's transaction; hand it to the worker once that transaction commits.

The outbox row is the promise: it commits with the change that causes it (a registration, a moved
event) or not at all. After commit its id goes to the queue; if that hand-over is lost (a crash between
commit and enqueue, Redis down) the worker's sweep (tasks.py) finds the row anyway. Sending claims the
row with one conditional UPDATE, so a retried or duplicated task never sends it twice.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for
from jinja2 import TemplateNotFound
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from server.database import insert_on_conflict, transaction_ended, utcnow
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
    adapter = _url_adapter(current_app._get_current_object(), base or "http://localhost")
    return adapter.build(endpoint, values, force_external=True)


@functools.lru_cache(maxsize=16)
def _url_adapter(app, base: str):
    """One URL builder per app and base: a fan-out builds two links for each of 10,000 families."""
    parts = urlsplit(base)
    return app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)


def suppression_for(address: str, tenant_id: int | None, preference: str | None) -> str | None:
    """Why this address must not get this message (`bounced`/`invalid`/`declined`), or None."""
    return _suppressions([normalise_address(address)], tenant_id, preference).get(normalise_address(address))


def _suppressions(addresses: list[str], tenant_id: int | None, preference: str | None) -> dict[str, str]:
    """{address: reason} for those of `addresses` that bounced, or declined `preference` here; one query."""
    scopes = [MailSuppression.BOUNCE_SCOPE]
    if tenant_id is not None and preference is not None:
        scopes.append(MailSuppression.decline_scope(tenant_id, preference))
    found: dict[str, str] = {}
    rows = db.session.execute(
        select(MailSuppression.address, MailSuppression.reason).where(
            MailSuppression.address.in_(set(addresses)), MailSuppression.scope.in_(scopes)
        )
    )
    for address, reason in rows:
        if found.get(address) in (None, "declined"):  # a bounce outranks a decline
            found[address] = reason
    return found


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
    table = OutgoingMail.__table__
    return (
        insert_on_conflict(table, dialect)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id, table.c.key)
    )


@dataclass
class Mail:
    """One message to queue: `queue_mail`'s arguments, for `queue_mails` to write many at once."""

    to: str
    subject: str
    template: str
    context: dict[str, Any]
    kind: str
    key: str
    tenant_id: int | None = None
    attachments: list[Attachment] | None = None
    event_id: int | None = None
    school_id: int | None = None
    ticket_id: int | None = None
    sender_name: str | None = None
    preference: str | None = None
    decline_url: str | None = None
    render_later: list[str] | None = None


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
    ticket_id: int | None = None,
    sender_name: str | None = None,
    preference: str | None = None,
    decline_url: str | None = None,
    render_later: list[str] | None = None,
) -> int | None:
    """Write one message to the outbox in the current transaction; None if `key` was queued before.

    `to` is an address or `Имя <address>`. The body is rendered now from `templates/mail/<template>.txt`
    and `.html` (the HTML one is optional) with `context` — the message is exactly what the change
    meant when it committed. `event_id`/`school_id`/`ticket_id` file it for the coordinator's and the
    school's views. An address that bounced, or declined `preference` in this region (None: a message
    that cannot be declined), gets a row marked so and no send; `decline_url` goes out as
    List-Unsubscribe. `render_later` names attachments the worker renders before sending
    (`attachment_renderer`): a PDF takes too long for a request.
    """
    mail = Mail(
        to, subject, template, context, kind, key, tenant_id, attachments, event_id, school_id, ticket_id,
        sender_name, preference, decline_url, render_later,
    )  # fmt: skip
    return queue_mails([mail])[0]


def queue_mails(mails: list[Mail]) -> list[int | None]:
    """`queue_mail` for many messages of one kind at once (a fan-out): one suppression query, one INSERT."""
    if not mails:
        return []
    parsed = [parseaddr(mail.to) for mail in mails]
    addresses = [
        normalise_address(address or mail.to) for (_, address), mail in zip(parsed, mails, strict=True)
    ]
    first = mails[0]
    assert all((m.tenant_id, m.preference) == (first.tenant_id, first.preference) for m in mails)
    blocked = _suppressions(addresses, first.tenant_id, first.preference)
    now = utcnow()
    rows = []
    for mail, (name, _), address in zip(mails, parsed, addresses, strict=True):
        body_text, body_html = render_mail(mail.template, mail.context)
        reason = blocked.get(address) if "@" in address else "invalid"
        status = MailStatus.PENDING.value
        if reason:
            status = MailStatus.DECLINED.value if reason == "declined" else MailStatus.BOUNCED.value
        rows.append(
            {
                "key": mail.key[:200],
                "kind": mail.kind,
                "tenant_id": mail.tenant_id,
                "event_id": mail.event_id,
                "school_id": mail.school_id,
                "ticket_id": mail.ticket_id,
                "to_address": address,
                "to_name": name or None,
                "sender_name": mail.sender_name,
                "subject": mail.subject[:300],
                "body_text": body_text,
                "body_html": body_html,
                "status": status,
                "attempts": 0,
                "created_at": now,
                "decline_url": mail.decline_url,
                "deferred_attachments": ",".join(mail.render_later) if mail.render_later else None,
            }
        )
    session = db.session()
    statement = _insert_statement(db.engine.dialect.name)
    inserted = dict(
        (key, mail_id) for mail_id, key in session.execute(statement, rows if len(rows) > 1 else rows[0])
    )
    ids: list[int | None] = []
    for mail, row in zip(mails, rows, strict=True):
        mail_id = inserted.get(row["key"])
        ids.append(mail_id)
        if mail_id is None:
            continue
        for filename, mimetype, content in mail.attachments or []:
            session.add(
                MailAttachment(mail_id=mail_id, filename=filename, mimetype=mimetype, content=content)
            )
        if row["status"] == MailStatus.PENDING.value:
            session.info.setdefault(PENDING_SENDS, []).append(mail_id)
    return ids


AttachmentRenderer = Callable[[str], list[Attachment]]
_renderers: dict[str, AttachmentRenderer] = {}


def attachment_renderer(name: str) -> Callable[[AttachmentRenderer], AttachmentRenderer]:
    """Register how the worker renders `name:<argument>` attachments (in the message's region)."""

    def register(render: AttachmentRenderer) -> AttachmentRenderer:
        _renderers[name] = render
        return render

    return register


def render_deferred(mail: OutgoingMail) -> None:
    """Turn a message's deferred attachments into stored ones (once: the field is cleared)."""
    from tenants.scoping import tenant_scope

    if not mail.deferred_attachments:
        return
    with tenant_scope(mail.tenant_id) if mail.tenant_id else nullcontext():
        for item in mail.deferred_attachments.split(","):
            name, _, argument = item.partition(":")
            for filename, mimetype, content in _renderers[name](argument):
                mail.attachments.append(MailAttachment(filename=filename, mimetype=mimetype, content=content))
    mail.deferred_attachments = None


SEND_BATCH = 25  # messages per task when many were committed together (a fan-out's chunk)


def enqueue_sends(mail_ids: list[int]) -> None:
    """Hand committed messages to the worker; a failure here is repaired by the sweep."""
    from server.mail.tasks import send_mail, send_mails

    for start in range(0, len(mail_ids), SEND_BATCH):
        batch = mail_ids[start : start + SEND_BATCH]
        try:
            send_mail(batch[0]) if len(batch) == 1 else send_mails(batch)
        except Exception:
            log.warning("%s mail not enqueued; the sweep will send them", len(batch), exc_info=True)


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    if not transaction_ended(session):
        return  # a savepoint: the rows are not committed yet
    waiting = session.info.pop(PENDING_SENDS, None)
    if waiting:
        enqueue_sends(waiting)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if transaction_ended(session):  # a savepoint's rollback leaves what was queued before it
        session.info.pop(PENDING_SENDS, None)


def outbox_rows(*, status: str | None = None, limit: int = 200) -> list[OutgoingMail]:
    """The latest messages of every region (platform admin's «Отправленные письма»)."""
    query = select(OutgoingMail).order_by(OutgoingMail.id.desc()).limit(limit)
    if status:
        query = query.where(OutgoingMail.status == status)
    return list(db.session.scalars(query))
