"""The letters accounts send: an invitation, a notice of new access, a password reset.

All go through the shared outbox (`server.mail.queue_mail`) in the caller's transaction, so a letter
exists only if the change that caused it commits. Keys are derived from the link, so a retried request
never sends the same letter twice.
"""

from __future__ import annotations

from flask import current_app

from server.accounts.models import ROLE_LABELS, Role, User
from server.mail import absolute_url, queue_mail
from server.security import token_hash


def send_invitation(
    user: User, *, region_name: str, tenant_id: int, role: Role, token: str, inviter: str
) -> None:
    queue_mail(
        user.email,
        f"Приглашение в «Пропуск»: {region_name}",
        "account_invitation",
        {
            "name": user.full_name,
            "region": region_name,
            "role": ROLE_LABELS[role],
            "inviter": inviter,
            "link": absolute_url("accounts.accept_invitation", token=token),
            "hours": current_app.config["INVITATION_HOURS"],
        },
        kind="account_invitation",
        key=f"invite:{token_hash(token)[:32]}",
        tenant_id=tenant_id,
    )


def send_access_notice(
    user: User, *, region_name: str, tenant_id: int, role: Role, membership_id: int, inviter: str
) -> None:
    """Someone who already has a password got a role in another region: no link, just the news."""
    queue_mail(
        user.email,
        f"Доступ в «Пропуск»: {region_name}",
        "account_access",
        {
            "name": user.full_name,
            "region": region_name,
            "role": ROLE_LABELS[role],
            "inviter": inviter,
            "link": absolute_url("accounts.login"),
        },
        kind="account_invitation",
        key=f"access:{membership_id}",
        tenant_id=tenant_id,
    )


def send_reset(user: User, token: str) -> None:
    queue_mail(
        user.email,
        "Восстановление пароля в «Пропуске»",
        "account_reset",
        {
            "name": user.full_name,
            "link": absolute_url("accounts.reset_password", token=token),
            "hours": current_app.config["RESET_LINK_HOURS"],
        },
        kind="password_reset",
        key=f"reset:{token_hash(token)[:32]}",
    )
