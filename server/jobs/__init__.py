"""The job queue: one Huey instance, configured by the app that runs it.

Storage follows the deployment shape: a SQLite file in `instance/` on the embedded default (no extra
server), Redis when REDIS_URL is set, in-memory *immediate* mode in tests (a task runs where it is
enqueued) unless the test config sets HUEY_IMMEDIATE = False. Tasks are declared at import time with
`app_task`/`region_task` (or `huey.periodic_task(crontab(...))` wrapped by `app_task`); the process
that runs them is `flask worker` (server/jobs/cli.py), or a thread of `scripts/run.sh`'s worker.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

__all__ = ["app_task", "crontab", "huey", "init_app", "periodic_task", "region_task", "run_in_app"]

log = logging.getLogger("propusk.jobs")

# Storage is chosen in init_app; until then (imports, tools) tasks would go to memory, never lost silently
# in production because create_app always configures it before anything is enqueued.
huey = Huey("propusk", storage_class=MemoryStorage, utc=True, results=False)

_app: Flask | None = None


def init_app(app: Flask) -> None:
    """Point the queue at this app's storage and remember the app the tasks run in."""
    global _app
    _app = app
    immediate = app.config.get("HUEY_IMMEDIATE")
    if immediate is None:
        immediate = bool(app.config.get("TESTING"))
    name = app.config.get("HUEY_NAME") or "propusk"
    redis_url = app.config.get("HUEY_REDIS_URL") or app.config.get("REDIS_URL")
    huey.name = name
    if redis_url:
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"url": redis_url}
    else:
        path = app.config.get("HUEY_SQLITE_PATH") or str(Path(app.instance_path) / "huey.sqlite")
        huey.storage_class, huey.storage_kwargs = SqliteStorage, {"filename": path}
    huey._immediate = bool(immediate)
    huey.storage = huey.create_storage()


def current_app_for_jobs() -> Flask:
    if _app is None:
        raise RuntimeError("server.jobs used before create_app() configured it")
    return _app


def run_in_app(fn: Callable[..., Any], *args: Any, tenant_id: int | None = None, **kwargs: Any) -> Any:
    """Run `fn` in a fresh app context (its own session), in a region's scope if given; one commit.

    Like a request: commit on success, rollback on error, the session removed either way. A fresh
    context even when the caller has one (immediate mode runs tasks inside the caller's commit hook):
    the task never shares the caller's transaction.
    """
    from server.extensions import db
    from tenants.scoping import tenant_scope

    # The caller's app when there is one (immediate mode runs tasks where they are enqueued), else the
    # worker's.
    app = current_app._get_current_object() if has_app_context() else current_app_for_jobs()
    with app.app_context():
        try:
            if tenant_id is None:
                result = fn(*args, **kwargs)
            else:
                with tenant_scope(tenant_id):
                    result = fn(*args, **kwargs)
            db.session.commit()
            return result
        except BaseException:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


def app_task(**task_options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`huey.task(...)`, run inside an app context with one commit (see `run_in_app`)."""

    def wrap(fn: Callable[..., Any]):
        @functools.wraps(fn)
        def inside(*args: Any, **kwargs: Any) -> Any:
            return run_in_app(fn, *args, **kwargs)

        return huey.task(**task_options)(inside)

    return wrap


def region_task(**task_options: Any) -> Callable[[Callable[..., Any]], Any]:
    """A task whose first argument is a region id: it runs in that region's `tenant_scope`."""

    def wrap(fn: Callable[..., Any]):
        @functools.wraps(fn)
        def inside(tenant_id: int, *args: Any, **kwargs: Any) -> Any:
            return run_in_app(fn, tenant_id, *args, tenant_id=tenant_id, **kwargs)

        return huey.task(**task_options)(inside)

    return wrap


def periodic_task(schedule: Callable[..., bool], **task_options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`huey.periodic_task(crontab(...))` run inside an app context (not a region: it visits them)."""

    def wrap(fn: Callable[..., Any]):
        @functools.wraps(fn)
        def inside() -> Any:
            return run_in_app(fn)

        return huey.periodic_task(schedule, **task_options)(inside)

    return wrap
