"""`flask privacy purge|export-region|delete-region`: retention and an operator leaving the service."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from server.extensions import db
from server.privacy import regions, retention
from tenants.models import Tenant

privacy_cli = AppGroup("privacy", help="Персональные данные: сроки хранения, выгрузка и удаление региона.")


def _tenants(slug: str | None) -> list[Tenant]:
    query = select(Tenant).order_by(Tenant.slug)
    if slug:
        query = query.where(Tenant.slug == slug)
    found = list(db.session.scalars(query))
    if slug and not found:
        raise click.ClickException(f"Регион «{slug}» не найден.")
    return found


@privacy_cli.command("purge")
@click.option("--before", "before", required=True, help="Дата ГГГГ-ММ-ДД: удалить данные мероприятий до неё.")
@click.option("--tenant", "slug", help="Только этот регион (по умолчанию все).")
def purge_command(before: str, slug: str | None) -> None:
    """Erase the personal data of students whose events all ended before DATE (the region's midnight)."""
    try:
        day = date.fromisoformat(before)
    except ValueError:
        raise click.BadParameter("нужна дата в виде ГГГГ-ММ-ДД", param_hint="--before") from None
    for tenant in _tenants(slug):
        cutoff = datetime.combine(day, time(0), tzinfo=tenant.tz)
        result = retention.purge_region(tenant.id, cutoff)
        click.echo(
            f"{tenant.slug}: учеников обезличено — {result.students}; "
            f"удалено записей журнала удалений — {result.erasure_records_removed}, "
            f"журнала действий — {result.audit_entries_removed}."
        )


@privacy_cli.command("export-region")
@click.argument("slug")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def export_command(slug: str, path: Path) -> None:
    """All of a region's data as a ZIP of JSON Lines (one file per table), for an operator leaving."""
    tenant = _tenants(slug)[0]
    counts = regions.export_region(tenant, path)
    db.session.commit()  # the export is recorded in the region's audit log
    click.echo(f"{slug}: выгружено в {path}: " + ", ".join(f"{t} {n}" for t, n in counts.items() if n))


@privacy_cli.command("delete-region")
@click.argument("slug")
@click.option("--confirm", "confirm", required=True, help="Повторите код региона: удаление необратимо.")
def delete_command(slug: str, confirm: str) -> None:
    """Delete a region with every row it owns, and the accounts that belonged to it only."""
    if confirm != slug:
        raise click.ClickException("Код в --confirm не совпадает: ничего не удалено.")
    tenant = _tenants(slug)[0]
    removed = regions.delete_region(tenant)
    db.session.commit()
    click.echo(f"{slug}: регион удалён; учётных записей удалено — {removed}.")
