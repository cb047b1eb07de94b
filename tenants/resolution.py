"""The tenant comes from the URL (`/<tenant>/…`, `/api/v1/<tenant>/…`). It selects, never authorises."""

from __future__ import annotations

from flask import Flask, abort, g
from sqlalchemy import select

from server.extensions import db
from tenants.models import Tenant
from tenants.scoping import set_tenant


def load_tenant(slug: str) -> Tenant | None:
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


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
        set_tenant(tenant)

    @app.url_defaults
    def _push_tenant(endpoint, values) -> None:
        if "tenant" in values or g.get("tenant") is None:
            return
        if app.url_map.is_endpoint_expecting(endpoint, "tenant"):
            values["tenant"] = g.tenant.slug
