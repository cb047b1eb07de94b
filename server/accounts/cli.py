"""`flask tokens create|list|revoke`: API tokens."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.accounts.models import ApiToken
from server.accounts.services import find_user, issue_api_token, revoke_api_token, user_tokens
from server.database import unit_of_work, utcnow
from server.errors import DomainError
from server.extensions import db

tokens_cli = AppGroup("tokens", help="Токены доступа к API.")


def _user(email: str):
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"Пользователь {email} не найден.")
    return user


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="cli", help="Назначение токена.")
@click.option("--days", type=int, default=None, help="Срок действия в днях (по умолчанию бессрочно).")
def create_token_command(email, name, days):
    """Print a new API token for a user (shown once, stored hashed)."""
    try:
        with unit_of_work():
            token = issue_api_token(email, name, days)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(token)


@tokens_cli.command("list")
@click.argument("email", required=False)
def list_tokens_command(email):
    """Tokens (of one user, or all): id, prefix, name, owner, expiry, last use, state. Never the token."""
    if email:
        rows = user_tokens(_user(email))
    else:
        rows = list(db.session.scalars(select(ApiToken).order_by(ApiToken.id)))
    now = utcnow()
    for row in rows:
        state = (
            "revoked"
            if row.revoked_at
            else "expired"
            if row.expires_at and row.expires_at <= now
            else "active"
        )
        expires = row.expires_at.strftime("%Y-%m-%d") if row.expires_at else "never"
        used = row.last_used_at.strftime("%Y-%m-%d %H:%M") if row.last_used_at else "-"
        click.echo(
            f"{row.id}\t{row.prefix}…\t{row.name or '-'}\t{row.user.email}\t{expires}\t{used}\t{state}"
        )


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_token_command(token_id):
    """Revoke a token by its id (see `flask tokens list`); the next request with it gets 401."""
    try:
        row = revoke_api_token(token_id)
        db.session.commit()
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Токен {row.prefix}… ({row.user.email}) отозван.")
