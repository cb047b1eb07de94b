"""Propusk: QR tickets and live check-in for regional career-guidance events."""

from __future__ import annotations

import logging
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, request, session
from sqlalchemy import event

from server import concurrency, formatting, logs
from server import config as config_module
from server.database import unit_of_work
from server.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio
from server.security import DatabaseId, SecureTransport, limit_body, page_headers
from server.sessions import CookieSessions

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: str | dict[str, Any] | None = None) -> Flask:
    """Build the app. `config` is a config name (`development`, `test`, `production`) or overrides."""
    app = Propusk(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    overrides = config if isinstance(config, dict) else {}
    name = config if isinstance(config, str) else overrides.pop("ENV_NAME", None)
    app.config.from_object(config_module.load(name))
    app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = config_module.normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.setdefault("pool_size", app.config["DATABASE_POOL_SIZE"])
        options.setdefault("max_overflow", app.config["DATABASE_MAX_OVERFLOW"])
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set: refusing to start outside development and tests.")
    _check_key_encryption_key(app)
    Path(app.instance_path).mkdir(exist_ok=True)
    app.session_interface = CookieSessions()
    app.url_map.converters["int"] = DatabaseId  # before any route is added

    _init_database(app)
    from server import door

    door.mount(app)  # the kiosks' scan: the door answers it, not Flask (server/door/app.py)
    concurrency.init_app(app)  # before Socket.IO wraps the app: its own requests stay unbounded
    app.before_request(limit_body)  # before CSRF's hook reads a form
    _init_extensions(app)
    app.wsgi_app = SecureTransport(app.wsgi_app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _register_blueprints(app)
    _init_jobs(app)
    _install_request_edges(app)
    formatting.init_app(app)
    _register_cli(app)
    logging.getLogger("propusk").setLevel(logging.INFO)
    logs.install()
    return app


def _check_key_encryption_key(app: Flask) -> None:
    """Tickets' signing keys are sealed with it: no start without a real one outside development."""
    from server.tickets.sealing import DEVELOPMENT_KEY, parse_keys

    setting = app.config.get("KEY_ENCRYPTION_KEY")
    keys = parse_keys(setting)
    if not keys:
        raise RuntimeError("KEY_ENCRYPTION_KEY is not set: refusing to start outside development and tests.")
    if not (app.debug or app.testing) and parse_keys(DEVELOPMENT_KEY)[0] in keys:
        raise RuntimeError("KEY_ENCRYPTION_KEY is the public development key: set a real one.")


def _init_database(app: Flask) -> None:
    import server.models  # noqa: F401  (every model registered before mappers configure)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _tune_sqlite(db.engine)


def _tune_sqlite(engine) -> None:
    """Foreign keys on; and every transaction takes the write lock up front (BEGIN IMMEDIATE).

    SQLite has no SELECT … FOR UPDATE: serialising writers is what keeps capacity, quotas and season
    limits exact when two registrations race in the embedded default.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _init_extensions(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Войдите, чтобы продолжить."
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    # No cors_allowed_origins: the library's default accepts only our own origin, so another site
    # cannot open a socket with a coordinator's session cookie. SOCKETIO_CORS_ORIGINS widens it.
    cors = (
        {"cors_allowed_origins": app.config["SOCKETIO_CORS_ORIGINS"]}
        if app.config.get("SOCKETIO_CORS_ORIGINS")
        else {}
    )
    # Before the first `init_app`: Flask-SocketIO keeps a handler for every later app's server only
    # if it was declared while no server existed; declared after, it goes to that one server alone
    # and every other app in the process (tests, the worker) would refuse every `/live` connection.
    import server.live.sockets  # noqa: F401  (the /live namespace)
    from server.live.publish import client_manager

    queue = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    manager = client_manager(queue)
    socketio.init_app(
        app,
        **({"client_manager": manager} if manager is not None else {"message_queue": queue}),
        async_mode="threading",
        logger=False,
        engineio_logger=False,
        **cors,
    )
    from server.live import guard

    guard.install(app, socketio.server)


def _init_jobs(app: Flask) -> None:
    """The queue's storage for this app, and every module that declares tasks (web and worker alike)."""
    from server import jobs

    jobs.init_app(app)
    for module in TASK_MODULES:
        import_module(module)


TASK_MODULES = (
    "server.mail.tasks",
    "server.notifications.runs",
    "server.notifications.jobs",
    "server.accounts.tasks",
    "server.privacy.tasks",
    "server.reports.scheduled",
)


def _select_locale() -> str:
    if not has_request_context():  # the worker writing mail: families read Russian
        return "ru"
    wanted = request.args.get("lang")
    if wanted in ("ru", "en"):
        session["lang"] = wanted
    return session.get("lang", "ru")


BLUEPRINTS = (
    "server.accounts.views",
    "server.accounts.profile",
    "server.people.views",
    "server.admin.views",
    "server.onboarding.views",
    "server.catalog.views",
    "server.catalog.api",
    "server.tickets.views",
    "server.tickets.api",
    "server.checkins.api",
    "server.checkins.views",
    "server.checkins.venue_views",
    "kiosk.views",
    "server.live.views",
    "server.reports.views",
    "server.reports.api",
    "server.meetings.views",
    "server.api.openapi",
    "server.mail.views",
    "server.notifications.views",
    "server.privacy.views",
    "server.journal.views",
    "server.health",
    "server.public.views",
)


def _register_blueprints(app: Flask) -> None:
    """Each capability module exposes `bp` (the Socket.IO handlers are imported in `_init_extensions`)."""
    import server.catalog.services  # noqa: F401  (a new region's programmes: tenants.services.created)
    import server.checkins.services  # noqa: F401  (a used ticket is not cancelled: server.signals)
    import server.live.publish  # noqa: F401  (after-commit emitter)
    import server.notifications.hooks  # noqa: F401  (mail on events' and tickets' changes: server.signals)
    from server.api.errors import install as install_error_handlers
    from tenants import resolution

    resolution.init_app(app)
    for module in BLUEPRINTS:
        app.register_blueprint(import_module(module).bp)
    install_error_handlers(app)


class Propusk(Flask):
    """Flask with the request edge's unit of work around every view."""

    def dispatch_request(self) -> Any:
        """One commit per request: the view's writes commit when it returns, and roll back when it
        raises (a domain error, or any other); what waited for the commit (live messages) then goes."""
        with unit_of_work():
            return super().dispatch_request()


def _install_request_edges(app: Flask) -> None:
    """Security headers on every response, and what every template may use."""

    app.after_request(page_headers)

    @app.context_processor
    def _template_globals():
        from server.accounts.auth import page_principal

        return {"tenant": g.get("tenant"), "principal": page_principal()}


def _register_cli(app: Flask) -> None:
    from server.accounts.cli import tokens_cli
    from server.demo import demo_command
    from server.jobs.cli import worker_command
    from server.people.cli import users_cli
    from server.privacy.cli import privacy_cli
    from server.tickets.cli import keys_cli
    from tenants.cli import tenants_cli

    commands = (tenants_cli, users_cli, tokens_cli, demo_command, worker_command, privacy_cli, keys_cli)
    for command in commands:
        app.cli.add_command(command)
