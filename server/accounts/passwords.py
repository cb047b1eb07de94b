"""What a password must be, and what happens when one is set: every session of the person ends.

The list of common passwords is the 30 000 most used ones that zxcvbn ships (from leaked password
dumps), plus a few Russian keyboard walks; a password that is one of them, or is made of the person's
own address, is refused however long it is.
"""

from __future__ import annotations

import secrets
from functools import cache

from flask import current_app
from sqlalchemy import delete
from werkzeug.security import generate_password_hash

from server.accounts.models import RememberToken, User
from server.database import utcnow
from server.errors import Invalid
from server.extensions import db

MIN_PASSWORD = 10
MAX_PASSWORD = 200
_RUSSIAN_WALKS = ("йцукенгшщз", "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю", "пароль123456", "пропуск123")


@cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | frozenset(_RUSSIAN_WALKS)


def check_policy(password: str, email: str = "") -> None:
    """Raise `Invalid` with a Russian reason when a password is too weak to keep."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"Пароль должен быть не короче {MIN_PASSWORD} символов.", code="weak_password")
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"Пароль должен быть не длиннее {MAX_PASSWORD} символов.", code="weak_password")
    lowered = password.lower()
    local = email.lower().partition("@")[0]
    if (
        lowered in common_passwords()
        or len(set(lowered)) <= 3
        or (len(local) >= 4 and local in lowered)
        or lowered in {email.lower(), "propusk", "пропуск"}
    ):
        raise Invalid(
            "Этот пароль слишком распространён или легко угадывается. Придумайте другой — например, "
            "три-четыре случайных слова.",
            code="common_password",
        )


def end_sessions(user: User) -> None:
    """Every login session and «remember me» of the user stops working at its next request."""
    user.session_key = secrets.token_hex(16)
    db.session.execute(delete(RememberToken).where(RememberToken.user_id == user.id))


def set_password(user: User, password: str) -> None:
    """Store a new password (policy-checked) and end every session that used the old one."""
    check_policy(password, user.email)
    user.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_METHOD"])
    user.password_changed_at = utcnow()
    if user.id is not None:
        end_sessions(user)
