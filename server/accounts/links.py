"""One-time links by mail: an invitation to set a first password (48 h), a password reset (2 h).

A link is a random token of which only the hash is stored. It is spent with one conditional UPDATE,
so two clicks racing each other cannot both use it; a new link of the same kind retires the old ones.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from server.accounts.models import AccountLink, LinkPurpose, User
from server.database import utcnow
from server.errors import Invalid
from server.extensions import db
from server.security import token_hash

EXPIRED = "Ссылка недействительна: она уже использована или истёк её срок. Запросите новую."


def _hours(purpose: LinkPurpose) -> int:
    key = "INVITATION_HOURS" if purpose is LinkPurpose.INVITE else "RESET_LINK_HOURS"
    return int(current_app.config[key])


def issue_link(
    user: User, purpose: LinkPurpose, *, tenant_id: int | None = None, created_by_id: int | None = None
) -> str:
    """A new one-time link token for the user; earlier unused links of the same kind stop working."""
    now = utcnow()
    retire_links(user, purpose)
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountLink(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash(token),
            tenant_id=tenant_id,
            created_by_id=created_by_id,
            created_at=now,
            expires_at=now + timedelta(hours=_hours(purpose)),
        )
    )
    db.session.flush()
    return token


def retire_links(user: User, purpose: LinkPurpose | None = None) -> None:
    """Unused links of the user (of one kind, or all) stop working now."""
    query = update(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None))
    if purpose is not None:
        query = query.where(AccountLink.purpose == purpose)
    db.session.execute(query.values(expires_at=utcnow()), execution_options={"synchronize_session": False})


def valid_link(token: str, purpose: LinkPurpose) -> AccountLink | None:
    """The unused, unexpired link for this token (for showing its form), or None."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(
        select(AccountLink).where(AccountLink.token_hash == token_hash(token), AccountLink.purpose == purpose)
    )
    if link is None or link.used_at is not None or link.expires_at <= utcnow() or not link.user.active:
        return None
    return link


def spend_link(token: str, purpose: LinkPurpose) -> AccountLink:
    """Use a link once: exactly one of any number of racing requests gets it, the rest `Invalid`."""
    link = valid_link(token, purpose)
    if link is None:
        raise Invalid(EXPIRED, code="link_invalid")
    now = utcnow()
    spent = db.session.execute(
        update(AccountLink)
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None), AccountLink.expires_at > now)
        .values(used_at=now),
        execution_options={"synchronize_session": False},
    )
    if spent.rowcount != 1:
        raise Invalid(EXPIRED, code="link_invalid")
    db.session.refresh(link)
    return link


def recent_links(user: User, purpose: LinkPurpose, within: timedelta) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == purpose,
            AccountLink.created_at > utcnow() - within,
        )
    )
