"""Retention: a season's personal data is erased once the season is over (plus a grace period for the
reports), the same way as on a withdrawal; erasure records and audit entries go after 3 years."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from server.database import utcnow
from server.extensions import db
from server.privacy.services import PurgeResult, purge_before
from server.tickets.rules import season_bounds
from tenants.models import Tenant
from tenants.scoping import tenant_scope


def purge_region(tenant_id: int, before: datetime, *, now: datetime | None = None) -> PurgeResult:
    """`purge_before` in one region, committed (each region on its own: one failing stops no other)."""
    with tenant_scope(tenant_id):
        result = purge_before(before, now=now)
        db.session.commit()
    return result


def season_cutoff(now: datetime, tenant: Tenant, grace_days: int) -> datetime:
    """The start of the season that held `now - grace_days`: data of earlier seasons is due."""
    return season_bounds(now - timedelta(days=grace_days), tenant.tz)[0]


def purge_finished_seasons(now: datetime | None = None) -> dict[str, PurgeResult]:
    """The scheduled purge: every region, data of the seasons that ended `RETENTION_GRACE_DAYS` ago."""
    now = now or utcnow()
    grace = current_app.config["RETENTION_GRACE_DAYS"]
    results = {}
    for tenant in list(db.session.scalars(select(Tenant).order_by(Tenant.id))):
        results[tenant.slug] = purge_region(tenant.id, season_cutoff(now, tenant, grace), now=now)
    return results
