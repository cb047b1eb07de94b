"""`flask users create|deactivate|set-role`: people and their roles (scopes name a region's
municipality, school or venue, hence here above the catalog)."""

from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.accounts.models import Membership, Role
from server.accounts.passwords import end_sessions
from server.accounts.services import create_user, find_user
from server.audit.services import record
from server.catalog.models import Municipality, School, Venue
from server.database import unit_of_work
from server.errors import DomainError
from server.extensions import db
from server.people.services import Scope, _check_scope
from tenants.models import Tenant
from tenants.scoping import tenant_scope

users_cli = AppGroup("users", help="Пользователи и их роли.")


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


def _user(email: str):
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"Пользователь {email} не найден.")
    return user


def _tenant(slug: str) -> Tenant:
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"Регион «{slug}» не найден.")
    return tenant


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_user_command(email):
    """Switch a user off everywhere: sessions, «remember me» and API tokens stop at the next request."""
    user = _user(email)
    user.active = False
    end_sessions(user)
    # The memberships stay as they are: a region's coordinator cannot undo a platform-level lock by
    # switching a membership back on (only `set-role` here does that).
    for membership in db.session.scalars(
        select(Membership).where(Membership.user_id == user.id).execution_options(all_tenants=True)
    ):
        with tenant_scope(membership.tenant_id):
            record("user.deactivate", "membership", membership.id, via="cli")
    db.session.commit()
    click.echo(f"Пользователь {user.email} отключён.")


@users_cli.command("set-role")
@click.argument("email")
@click.option("--tenant", "tenant_slug", required=True, help="Код региона (slug).")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="Новая роль.")
@click.option("--municipality", help="Муниципалитет (для роли municipal).")
@click.option("--school", help="Школа (для роли school).")
@click.option("--venue", help="Площадка (для роли venue).")
def set_role_command(email, tenant_slug, role, municipality, school, venue):
    """Give a user a role (and its scope) in a region; an existing role there is replaced."""
    user = _user(email)
    tenant = _tenant(tenant_slug)
    role = Role(role)
    try:
        with tenant_scope(tenant):
            scope = Scope(
                municipality_id=_scope_id(Municipality, municipality, "Муниципалитет"),
                school_id=_scope_id(School, school, "Школа"),
                venue_id=_scope_id(Venue, venue, "Площадка"),
            )
            values = _check_scope(role, scope)
            membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
            if membership is None:
                membership = Membership(tenant_id=tenant.id, user_id=user.id, role=role)
                db.session.add(membership)
            membership.role = role
            membership.deactivated_at = None
            for key, value in values.items():
                setattr(membership, key, value)
            db.session.flush()
            record("user.change_role", "membership", membership.id, via="cli", role=role.value, **values)
        user.active = True
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(f"{user.email}: роль «{role.value}» в регионе {tenant.slug}.")
