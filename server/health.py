"""`GET /healthz` for the proxy and the orchestrator: 200 when this process can serve, else 503.

Serving needs the database reachable and its schema at the migrations' head (a process started
before `flask db upgrade` finished, or after a rollback, must be taken out of rotation). It says
nothing else: no versions, no error text.
"""

from __future__ import annotations

import functools
import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from server.extensions import db, limiter

bp = Blueprint("health", __name__)
log = logging.getLogger("propusk")


@functools.cache
def _heads(directory: str) -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def check() -> tuple[bool, bool]:
    """(database reachable, migrations current)."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    except Exception:
        log.warning("healthz: database unreachable or not migrated", exc_info=False)
        return False, False
    return True, current == set(_heads(current_app.extensions["migrate"].directory))


@bp.get("/healthz")
@limiter.exempt
def healthz():
    reachable, current = check()
    ok = reachable and current
    body = {
        "status": "ok" if ok else "unavailable",
        "database": "ok" if reachable else "unreachable",
        "migrations": "current" if current else ("behind" if reachable else "unknown"),
    }
    return jsonify(body), 200 if ok else 503
