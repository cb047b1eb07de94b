"""Tenant scoping, done once: every ORM query of tenant-owned rows is filtered here, or refused.

The current tenant lives in `Session.info["tenant_id"]` — per session, so per request and per thread,
never module state. Views get it from the URL (`tenants.resolution`); the CLI and jobs use
`tenant_scope()`. Platform-admin work opts out with `.execution_options(all_tenants=True)`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import abort
from sqlalchemy import Delete, Engine, Insert, Select, Table, Update, bindparam, event, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.orm.util import LoaderCriteriaOption
from sqlalchemy.sql.util import find_tables

from server.extensions import db
from tenants.models import Tenant, TenantScoped

T = TypeVar("T")
TENANT_KEY = "tenant_id"


class TenantNotSet(RuntimeError):
    """A query or write touched tenant-owned rows with no tenant in scope: a bug, never a 200."""


def current_tenant_id(session: Session | None = None) -> int | None:
    return (session or db.session()).info.get(TENANT_KEY)


def required_tenant_id(session: Session | None = None) -> int:
    """The region in scope, for code that names it in its own SQL (below the filter here)."""
    tenant_id = current_tenant_id(session)
    if tenant_id is None:
        raise TenantNotSet("tenant-owned rows asked for with no tenant in scope")
    return tenant_id


def set_tenant(tenant: Tenant | int | None, session: Session | None = None) -> None:
    tenant_id = getattr(tenant, "id", tenant)
    (session or db.session()).info[TENANT_KEY] = tenant_id


@contextmanager
def tenant_scope(tenant: Tenant | int) -> Iterator[None]:
    """Scope the current session to one tenant for CLI commands, jobs and tests."""
    session = db.session()
    previous = session.info.get(TENANT_KEY)
    set_tenant(tenant, session)
    try:
        yield
    finally:
        session.info[TENANT_KEY] = previous


def _touches_scoped(state: ORMExecuteState) -> bool:
    return any(issubclass(m.class_, TenantScoped) for m in state.all_mappers)


@functools.lru_cache(maxsize=4096)
def _region_filter(tenant_id: int) -> LoaderCriteriaOption:
    """The WHERE tenant_id = … every ORM select carries, built once per region, not once per query."""
    return with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)


@event.listens_for(Session, "do_orm_execute")
def _scope_query(state: ORMExecuteState) -> None:
    if state.execution_options.get("all_tenants"):
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    tenant_id = state.session.info.get(TENANT_KEY)
    if tenant_id is None:
        # Lazy loads start from an already-scoped parent; anything else must name its tenant.
        if state.is_select and (state.is_relationship_load or state.is_column_load):
            return
        if _touches_scoped(state):
            raise TenantNotSet("tenant-owned rows queried without a tenant in scope")
        return
    if state.is_select:
        state.statement = state.statement.options(_region_filter(tenant_id))
    else:
        mapper = state.bind_mapper
        if mapper is not None and issubclass(mapper.class_, TenantScoped):
            state.statement = state.statement.where(mapper.class_.tenant_id == tenant_id)


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, flush_context, instances) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise TenantNotSet(f"new {type(obj).__name__} with no tenant in scope")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id:
            raise TenantNotSet(f"new {type(obj).__name__} of another tenant")
    for obj in session.dirty:
        if isinstance(obj, TenantScoped):
            history = db.inspect(obj).attrs.tenant_id.history
            if history.deleted and history.deleted[0] is not None:
                raise TenantNotSet(f"{type(obj).__name__} moved between tenants")


@functools.cache
def _by_id(model: type) -> Select:
    """`SELECT model WHERE id = :id`, built once per model: pages and the API load rows by id all day."""
    return select(model).where(model.id == bindparam("id"))  # type: ignore[attr-defined]


def get_or_404(model: type[T], object_id: object) -> T:
    """Load one scoped row by id through the scoped query path (never `Session.get`'s identity map)."""
    try:
        object_id = int(object_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        abort(404)
    found = db.session.scalar(_by_id(model), {"id": object_id})
    if found is None:
        abort(404)
    return found


def all_tenants(statement):
    """Mark a statement as deliberately cross-tenant (platform admin, pairing by code)."""
    return statement.execution_options(all_tenants=True)


# --- below the ORM: Core statements on tenant-owned tables ----------------------------------------

REGION = "tenant_id"  # the bind parameter every regional statement takes
REGIONAL: list = []  # every statement `regional` built: `tests/foundation/test_regional.py` walks them
StatementT = TypeVar("StatementT", Select, Insert, Update, Delete)


def _owned(statement) -> bool:
    owned = _owned_tables()
    return any(table in owned for table in find_tables(statement, include_joins=True, include_crud=True))


@functools.cache
def _owned_tables() -> frozenset:
    return frozenset(
        mapper.local_table for mapper in db.Model.registry.mappers if issubclass(mapper.class_, TenantScoped)
    )


def regional(statement: StatementT, table: Table | None = None) -> StatementT:
    """A Core statement on tenant-owned tables, bound to one region (`:tenant_id`).

    With `table`, adds `table.tenant_id = :tenant_id` to its WHERE: the one place where such a filter
    is written. Without, the statement binds `:tenant_id` itself (an INSERT's values, a join's ON).
    Either way it is registered, and `_guard` refuses to run it with no region given.
    """
    # An UPDATE reserves its columns' names for its SET clause: there the region is `:region`.
    name = "region" if isinstance(statement, Update) else REGION
    if table is not None:
        statement = statement.where(table.c.tenant_id == bindparam(name))  # type: ignore[union-attr]
    if name not in statement.compile().binds:
        raise TenantNotSet(f"a regional statement must bind :{name}")
    statement = statement.execution_options(regional=name)
    REGIONAL.append(statement)
    return statement


@event.listens_for(Engine, "before_execute")
def _guard(connection, statement, multiparams, params, execution_options) -> None:
    """Refuse a Core statement on tenant-owned tables unless it is `regional` and given a region, or
    marked `all_tenants`. ORM statements are scoped by `_scope_query`, the ORM's own flush by
    `_stamp_tenant`; text() is not used on tenant-owned tables."""
    if not isinstance(statement, (Select, Insert, Update, Delete)):
        return
    if statement._propagate_attrs.get("compile_state_plugin") == "orm":
        return
    if "compiled_cache" in execution_options:  # the ORM's flush, rows stamped by `_stamp_tenant`
        return
    options = statement._execution_options
    if options.get("all_tenants") or execution_options.get("all_tenants"):
        return
    region = options.get("regional")
    if region:
        for row in multiparams or [params]:
            if row.get(region) is None:
                raise TenantNotSet("a regional statement run without a region")
        return
    if _owned(statement):
        raise TenantNotSet("Core SQL on tenant-owned tables must be built by tenants.scoping.regional")
