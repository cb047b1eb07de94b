"""The tenant comes from the URL (`/<tenant>/…`, `/api/v1/<tenant>/…`). It selects, never authorises.

Every request needs its region; regions change almost never. So a process keeps a short-lived
snapshot per slug (`TENANT_CACHE_SECONDS`, default 30 s) instead of a query per request. `g.tenant` is
that snapshot: read-only attributes, no database session attached.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, abort, current_app, g
from sqlalchemy import select

from server.errors import Forbidden
from server.extensions import db
from tenants.models import Tenant
from tenants.scoping import set_tenant


class RegionSuspended(Forbidden):
    """Every page, API call, kiosk scan and live stream of a suspended region gets this answer."""

    code = "region_suspended"
    message = (
        "Работа региона приостановлена администратором платформы. Данные сохранены; "
        "обратитесь к оператору платформы."
    )

    @classmethod
    def of(cls, name: str) -> RegionSuspended:
        return cls(
            f"Работа региона «{name}» приостановлена администратором платформы. Данные сохранены; "
            "обратитесь к оператору платформы."
        )


@dataclass(frozen=True)
class CurrentTenant:
    """What a request needs of its region, detached from any session."""

    id: int
    slug: str
    name: str
    timezone: str
    region_code: str | None
    tz: ZoneInfo = field(compare=False)
    suspended: bool = False

    def local(self, moment: datetime | None) -> datetime | None:
        return None if moment is None else moment.astimezone(self.tz)


_cache: dict[str, tuple[float, CurrentTenant]] = {}
_lock = threading.Lock()


def load_tenant(slug: str) -> CurrentTenant | None:
    """The region of a URL; None when there is none. Raises `RegionSuspended` for a suspended one:
    this is the one place every page, API call and kiosk scan of a region passes through."""
    tenant = _snapshot(slug)
    if tenant is not None and tenant.suspended:
        raise RegionSuspended.of(tenant.name)
    return tenant


def _snapshot(slug: str) -> CurrentTenant | None:
    ttl = current_app.config.get("TENANT_CACHE_SECONDS", 30)
    now = time.monotonic()
    cached = _cache.get(slug)
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    row = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if row is None:
        return None
    tenant = CurrentTenant(
        row.id, row.slug, row.name, row.timezone, row.region_code, row.tz, row.suspended_at is not None
    )
    if ttl > 0:
        with _lock:
            _cache[slug] = (now, tenant)
    return tenant


def forget_tenants() -> None:
    """Drop the snapshots (after renaming a region, in tests)."""
    with _lock:
        _cache.clear()


def init_app(app: Flask) -> None:
    @app.url_value_preprocessor
    def _pull_tenant(endpoint, values) -> None:
        g.tenant = None
        if not values or "tenant" not in values:
            return
        tenant = load_tenant(values.pop("tenant"))
        if tenant is None:
            abort(404)
        g.tenant = tenant
        set_tenant(tenant.id)

    @app.url_defaults
    def _push_tenant(endpoint, values) -> None:
        if "tenant" in values or g.get("tenant") is None:
            return
        if app.url_map.is_endpoint_expecting(endpoint, "tenant"):
            values["tenant"] = g.tenant.slug
