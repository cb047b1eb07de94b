"""`flask users create` and `flask tokens create`."""

from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.accounts.models import Role
from server.accounts.services import create_user, issue_api_token
from server.catalog.models import Municipality, School, Venue
from server.database import unit_of_work
from server.errors import DomainError
from server.extensions import db
from tenants.models import Tenant
from tenants.scoping import tenant_scope

users_cli = AppGroup("users", help="Пользователи и их роли.")
tokens_cli = AppGroup("tokens", help="Токены доступа к API.")


def _scope_id(model, name: str | None, what: str) -> int | None:
    if not name:
        return None
    found = db.session.scalar(select(model).where(model.name == name))
    if found is None:
        raise click.ClickException(f"{what} «{name}» не найден(а) в регионе.")
    return found.id


@users_cli.command("create")
@click.argument("email")
@click.option("--tenant", "tenant_slug", help="Код региона (slug).")
@click.option("--role", type=click.Choice([r.value for r in Role]), help="Роль в регионе.")
@click.option("--password", help="Пароль; без него будет создан случайный и выведен.")
@click.option("--name", "full_name", default="", help="ФИО.")
@click.option("--municipality", help="Муниципалитет (для роли municipal).")
@click.option("--school", help="Школа (для роли school).")
@click.option("--venue", help="Площадка (для роли venue).")
@click.option("--platform-admin", is_flag=True, help="Администратор платформы.")
def create_user_command(
    email, tenant_slug, role, password, full_name, municipality, school, venue, platform_admin
):
    """Create a user, optionally with a role in a region."""
    tenant = None
    if tenant_slug:
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
        if tenant is None:
            raise click.ClickException(f"Регион «{tenant_slug}» не найден.")
        if role is None:
            raise click.ClickException("Укажите --role.")
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        with unit_of_work():
            scope: dict = {}
            if tenant is not None:
                with tenant_scope(tenant):
                    scope = {
                        "municipality_id": _scope_id(Municipality, municipality, "Муниципалитет"),
                        "school_id": _scope_id(School, school, "Школа"),
                        "venue_id": _scope_id(Venue, venue, "Площадка"),
                    }
            user = create_user(
                email,
                password=password,
                full_name=full_name,
                tenant=tenant,
                role=Role(role) if role else None,
                platform_admin=platform_admin,
                **scope,
            )
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Пользователь {user.email} создан.")
    if generated:
        click.echo(f"Пароль: {password}")


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="cli", help="Назначение токена.")
def create_token_command(email, name):
    """Print a new API token for a user (shown once, stored hashed)."""
    try:
        with unit_of_work():
            token = issue_api_token(email, name)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(token)
