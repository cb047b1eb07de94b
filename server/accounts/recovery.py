"""Passwords by link and by hand: forgot → reset, invitation → first password, change password.

`request_reset` answers the same way whether or not the address exists; the caller shows one page
for both. Each address gets at most `RESET_PER_ADDRESS_PER_HOUR` letters an hour, silently.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from werkzeug.security import check_password_hash

from server.accounts.letters import send_reset
from server.accounts.links import issue_link, recent_links, retire_links, spend_link
from server.accounts.models import AccountLink, LinkPurpose, User
from server.accounts.passwords import set_password
from server.accounts.services import find_user
from server.audit.services import record
from server.errors import Invalid
from tenants.scoping import tenant_scope

log = logging.getLogger("propusk")


def request_reset(email: str) -> None:
    """Send a reset link when the address belongs to an active user; otherwise do nothing, quietly."""
    user = find_user(email)
    if user is None or not user.active:
        return
    limit = int(current_app.config["RESET_PER_ADDRESS_PER_HOUR"])
    if recent_links(user, LinkPurpose.RESET, timedelta(hours=1)) >= limit:
        log.warning("password reset throttled for user %s", user.id)
        return
    send_reset(user, issue_link(user, LinkPurpose.RESET))
    log.info("password reset link sent to user %s", user.id)


def reset_password(token: str, password: str) -> User:
    """Spend the reset link and set the new password; every other session of the user ends."""
    link = spend_link(token, LinkPurpose.RESET)
    set_password(link.user, password)
    retire_links(link.user, LinkPurpose.RESET)
    log.info("password reset by link for user %s", link.user.id)
    return link.user


def accept_invitation(token: str, password: str, full_name: str = "") -> AccountLink:
    """Spend the invitation link: the person sets a first password (and their name) and is in."""
    link = spend_link(token, LinkPurpose.INVITE)
    user = link.user
    set_password(user, password)
    if full_name and full_name.strip():
        user.full_name = full_name.strip()[:200]
    if link.tenant_id is not None:
        with tenant_scope(link.tenant_id):
            record("user.accept_invitation", "user", user.id, user_id=user.id)
    return link


def change_password(user: User, current: str, new: str) -> None:
    """The signed-in person's own change; the current password proves it is them."""
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise Invalid("Текущий пароль введён неверно.", code="wrong_password")
    if current == new:
        raise Invalid("Новый пароль совпадает с текущим.", code="same_password")
    set_password(user, new)
    log.info("password changed by user %s", user.id)
