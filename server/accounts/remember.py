"""«Remember me»: a random token in a cookie, its hash in `remember_tokens`.

Flask-Login's own remember cookie is a signed user id valid for a year that nothing on the server can
take back. Ours is a random secret that lives at most `REMEMBER_DAYS` (≤ 30), is replaced at every
login, deleted at logout, and deleted for all the user's browsers when the password changes.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Response, current_app, request
from sqlalchemy import delete, select

from server.accounts.models import RememberToken, User
from server.database import utcnow
from server.extensions import db
from server.security import token_hash

COOKIE = "propusk_remember"
MAX_DAYS = 30


def _days() -> int:
    return min(int(current_app.config.get("REMEMBER_DAYS", MAX_DAYS)), MAX_DAYS)


def _presented() -> str | None:
    value = request.cookies.get(COOKIE)
    return value if value and len(value) <= 100 else None


def forget_this_browser() -> None:
    """Delete the token this browser presents (logout, or a new login replacing it)."""
    token = _presented()
    if token:
        db.session.execute(delete(RememberToken).where(RememberToken.token_hash == token_hash(token)))


def remember(user: User) -> str:
    """A new token for this browser (the old one, if any, is gone): the cookie value to set."""
    forget_this_browser()
    token = secrets.token_urlsafe(32)
    db.session.add(
        RememberToken(
            user_id=user.id, token_hash=token_hash(token), expires_at=utcnow() + timedelta(days=_days())
        )
    )
    return token


def remembered_user() -> User | None:
    """The active user this browser's unexpired token belongs to."""
    token = _presented()
    if not token:
        return None
    row = db.session.scalar(select(RememberToken).where(RememberToken.token_hash == token_hash(token)))
    if row is None or row.expires_at <= utcnow() or not row.user.active:
        return None
    return row.user


def set_cookie(response: Response, token: str | None) -> Response:
    """Set (or, with None, clear) the cookie: HttpOnly, SameSite=Lax, Secure where sessions are."""
    secure = current_app.config.get("SESSION_COOKIE_SECURE", False)
    if token is None:
        response.delete_cookie(COOKIE, httponly=True, secure=secure, samesite="Lax")
    else:
        response.set_cookie(
            COOKIE,
            token,
            max_age=_days() * 86400,
            httponly=True,
            secure=secure,
            samesite="Lax",
        )
    return response
