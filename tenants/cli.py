"""`flask tenants create <slug>` and `flask tenants list`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from server.database import unit_of_work
from server.errors import DomainError
from tenants.services import create_tenant, list_tenants

tenants_cli = AppGroup("tenants", help="Регионы (тенанты).")


@tenants_cli.command("create")
@click.argument("slug")
@click.option("--name", help="Название региона; по умолчанию из справочника субъектов РФ.")
@click.option("--timezone", help="Часовой пояс IANA; по умолчанию из справочника.")
def create_tenant_command(slug, name, timezone):
    """Create a region (tenant)."""
    try:
        with unit_of_work():
            tenant = create_tenant(slug, name=name, timezone=timezone)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Регион создан: {tenant.slug} — {tenant.name} ({tenant.timezone})")


@tenants_cli.command("list")
def list_tenants_command():
    for tenant in list_tenants():
        click.echo(f"{tenant.slug}\t{tenant.name}\t{tenant.timezone}")
