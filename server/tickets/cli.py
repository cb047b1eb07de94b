"""`flask keys rotate --tenant <slug>` and `flask keys reseal`: the tickets' signing keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.audit.services import record
from server.extensions import db
from server.tickets import codes
from tenants.models import Tenant
from tenants.scoping import tenant_scope

keys_cli = AppGroup("keys", help="Ключи подписи билетов.")


@keys_cli.command("rotate")
@click.option("--tenant", "slug", required=True, help="Код региона (slug).")
def rotate_command(slug: str) -> None:
    """A new signing key for the region's new tickets; tickets already issued keep verifying."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise click.ClickException(f"Регион «{slug}» не найден.")
    with tenant_scope(tenant):
        key = codes.rotate_key(tenant.id)
        record("keys.rotated", "signing_key", key.id, key_id=key.key_id, via="cli")
        db.session.commit()
    click.echo(f"{slug}: новый ключ № {key.key_id}; выданные билеты действуют.")


@keys_cli.command("reseal")
def reseal_command() -> None:
    """Seal every signing key with the first KEY_ENCRYPTION_KEY (after putting a new one in front)."""
    count = codes.reseal_keys()
    db.session.commit()
    click.echo(f"Перешифровано ключей: {count}.")
