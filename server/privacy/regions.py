"""A region's data for an operator leaving the service: the whole export, then the deletion.

The export is every row the region owns (every table with a `tenant_id`), its accounts (no password
hashes, no API tokens) and its tickets' public keys; private signing keys never leave. The deletion
removes the region row, which cascades to everything it owns, and the accounts that had no other region.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import zipfile
from datetime import date, datetime
from enum import Enum
from pathlib import Path

from sqlalchemy import Delete, Select, Table, bindparam, delete, select

from server.accounts.models import Membership, User
from server.audit.services import record
from server.extensions import db
from tenants.models import Tenant
from tenants.scoping import REGION, all_tenants, regional, tenant_scope

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


def _region_tables() -> list[Table]:
    return [table for table in db.metadata.sorted_tables if "tenant_id" in table.c]


@functools.cache
def _rows_of(table: Table) -> Select:
    """One table's rows of the region (never its private keys): built once per table, bound to
    `:tenant_id`, so the tenancy guard refuses it without a region."""
    hidden = NEVER_EXPORTED.get(table.name, set())
    columns = [c for c in table.c if c.name not in hidden]
    return regional(select(*columns).order_by(*table.primary_key), table)


@functools.cache
def _deletion_of(table: Table) -> Delete:
    return regional(delete(table), table)


_MEMBERSHIPS, _USERS = Membership.__table__, User.__table__
# The region's accounts, without password hashes or API tokens.
_USERS_OF = regional(
    select(*(_USERS.c[name] for name in USER_FIELDS))
    .where(
        _USERS.c.id.in_(select(_MEMBERSHIPS.c.user_id).where(_MEMBERSHIPS.c.tenant_id == bindparam(REGION)))
    )
    .order_by(_USERS.c.id)
)
# Accounts of this region and of no other: the one question here about every region's rows.
_ONLY_HERE = all_tenants(
    select(_USERS.c.id).where(
        _USERS.c.id.in_(select(_MEMBERSHIPS.c.user_id).where(_MEMBERSHIPS.c.tenant_id == bindparam(REGION))),
        _USERS.c.id.not_in(
            select(_MEMBERSHIPS.c.user_id).where(_MEMBERSHIPS.c.tenant_id != bindparam(REGION))
        ),
        _USERS.c.is_platform_admin.is_(False),
    )
)


def _jsonl(rows) -> tuple[str, int]:
    lines = [json.dumps({k: _plain(v) for k, v in row._mapping.items()}, ensure_ascii=False) for row in rows]
    return "\n".join(lines) + ("\n" if lines else ""), len(lines)


def export_region(tenant: Tenant, path: Path) -> dict[str, int]:
    """Write the ZIP; answers rows per table. Whole-table dumps below the ORM, each bound to the region."""
    counts: dict[str, int] = {}
    connection = db.session.connection()
    region = {REGION: tenant.id}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        header = {c.name: _plain(getattr(tenant, c.name)) for c in Tenant.__table__.c}
        archive.writestr("tenant.json", json.dumps(header, ensure_ascii=False, indent=1))
        for table in _region_tables():
            text, counts[table.name] = _jsonl(connection.execute(_rows_of(table), region))
            archive.writestr(f"{table.name}.jsonl", text)
        text, counts["users"] = _jsonl(connection.execute(_USERS_OF, region))
        archive.writestr("users.jsonl", text)
    with tenant_scope(tenant):
        record("export.region", "tenant", tenant.id, rows=sum(counts.values()))
        db.session.flush()  # stamped with the region while it is in scope
    return counts


def delete_region(tenant: Tenant) -> int:
    """Delete the region and its rows; answers how many accounts went with it (members of it only)."""
    connection = db.session.connection()
    tenant_id, slug = tenant.id, tenant.slug
    region = {REGION: tenant_id}
    only_here = list(connection.scalars(_ONLY_HERE, region))
    for table in reversed(_region_tables()):  # children first: no reliance on cascades across dialects
        connection.execute(_deletion_of(table), region)
    connection.execute(delete(Tenant.__table__).where(Tenant.__table__.c.id == tenant_id))
    if only_here:
        connection.execute(delete(_USERS).where(_USERS.c.id.in_(only_here)))
    db.session.expunge_all()
    log.info("region %s deleted with %d accounts", slug, len(only_here))
    return len(only_here)
