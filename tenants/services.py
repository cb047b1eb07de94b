"""Creating a region: the tenant row; what lives in it (its programmes) is added by the packages above,
which receive `created`."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from blinker import Namespace
from sqlalchemy import select

from server.errors import Conflict, Invalid
from server.extensions import db
from tenants.models import Tenant
from tenants.registry import region
from tenants.scoping import tenant_scope

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
created = Namespace().signal("tenant-created")  # sender: the new Tenant, flushed; received in its scope


def create_tenant(slug: str, *, name: str | None = None, timezone: str | None = None) -> Tenant:
    """A new region. Name and timezone default to the federal registry entry for the slug."""
    slug = slug.strip().lower()
    if not SLUG.match(slug) or slug in {"api", "static", "kiosk", "login", "logout", "socket.io", "t"}:
        raise Invalid("Код региона: латиница, цифры и дефис, 2–40 символов.", code="invalid_slug")
    known = region(slug)
    name = name or (known.name if known else None)
    timezone = timezone or (known.timezone if known else None)
    if not name or not timezone:
        raise Invalid("Регион не найден в справочнике: укажите --name и --timezone.", code="unknown_region")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"Неизвестный часовой пояс: {timezone}.", code="invalid_timezone") from None
    if db.session.scalar(select(Tenant).where(Tenant.slug == slug)) is not None:
        raise Conflict(f"Регион «{slug}» уже есть.", code="duplicate")
    tenant = Tenant(slug=slug, name=name, timezone=timezone, region_code=known.code if known else None)
    db.session.add(tenant)
    db.session.flush()
    with tenant_scope(tenant):
        created.send(tenant)
        db.session.flush()
    return tenant


def list_tenants() -> list[Tenant]:
    return list(db.session.scalars(select(Tenant).order_by(Tenant.name)))
