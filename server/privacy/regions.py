"""A region's data for an operator leaving the service: the whole export, then the deletion.

The export is every row the region owns (every table with a `tenant_id`), its accounts (no password
hashes, no API tokens) and its tickets' public keys; private signing keys never leave. The deletion
removes the region row, which cascades to everything it owns, and the accounts that had no other region.
"""

from __future__ import annotations

import base64
import json
import logging
import zipfile
from datetime import date, datetime
from enum import Enum
from pathlib import Path

from sqlalchemy import delete, select

from server.accounts.models import Membership, User
from server.audit.services import record
from server.extensions import db
from tenants.models import Tenant
from tenants.scoping import tenant_scope

log = logging.getLogger("propusk.privacy")

NEVER_EXPORTED = {"signing_keys": {"private_key"}}
USER_FIELDS = ("id", "email", "full_name", "active", "created_at")


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Enum):
        return value.value
    return value


def _region_tables():
    return [table for table in db.metadata.sorted_tables if "tenant_id" in table.c]


def export_region(tenant: Tenant, path: Path) -> dict[str, int]:
    """Write the ZIP; answers rows per table. Plain SQL naming the region (a whole-table dump)."""
    counts: dict[str, int] = {}
    connection = db.session.connection()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        region = {c.name: _plain(getattr(tenant, c.name)) for c in Tenant.__table__.c}
        archive.writestr("tenant.json", json.dumps(region, ensure_ascii=False, indent=1))
        for table in _region_tables():
            hidden = NEVER_EXPORTED.get(table.name, set())
            columns = [c for c in table.c if c.name not in hidden]
            rows = connection.execute(
                select(*columns).where(table.c.tenant_id == tenant.id).order_by(*table.primary_key)
            )
            lines = [
                json.dumps({k: _plain(v) for k, v in row._mapping.items()}, ensure_ascii=False)
                for row in rows
            ]
            archive.writestr(f"{table.name}.jsonl", "\n".join(lines) + ("\n" if lines else ""))
            counts[table.name] = len(lines)
        users = connection.execute(
            select(*(User.__table__.c[name] for name in USER_FIELDS))
            .where(User.id.in_(select(Membership.user_id).where(Membership.tenant_id == tenant.id)))
            .order_by(User.id)
        )
        lines = [
            json.dumps({k: _plain(v) for k, v in row._mapping.items()}, ensure_ascii=False) for row in users
        ]
        archive.writestr("users.jsonl", "\n".join(lines) + ("\n" if lines else ""))
        counts["users"] = len(lines)
    with tenant_scope(tenant):
        record("export.region", "tenant", tenant.id, rows=sum(counts.values()))
        db.session.flush()  # stamped with the region while it is in scope
    return counts


def delete_region(tenant: Tenant) -> int:
    """Delete the region and its rows; answers how many accounts went with it (members of it only)."""
    memberships, users = Membership.__table__, User.__table__  # Core: every region's rows are meant
    members = select(memberships.c.user_id).where(memberships.c.tenant_id == tenant.id)
    elsewhere = select(memberships.c.user_id).where(memberships.c.tenant_id != tenant.id)
    connection = db.session.connection()
    only_here = list(
        connection.scalars(
            select(users.c.id).where(
                users.c.id.in_(members), users.c.id.not_in(elsewhere), users.c.is_platform_admin.is_(False)
            )
        )
    )
    tenant_id, slug = tenant.id, tenant.slug
    for table in reversed(_region_tables()):  # children first: no reliance on cascades across dialects
        connection.execute(delete(table).where(table.c.tenant_id == tenant_id))
    connection.execute(delete(Tenant.__table__).where(Tenant.__table__.c.id == tenant_id))
    if only_here:
        connection.execute(delete(users).where(users.c.id.in_(only_here)))
    db.session.expunge_all()
    log.info("region %s deleted with %d accounts", slug, len(only_here))
    return len(only_here)
