"""Fixtures: an app on the real database (SQLite file by default, PostgreSQL when DATABASE_URL is set),
two regions in every test, and factories that commit real rows.

Factories work in their own app context and return plain ids, so a test never shares a session (or an
identity map) with the requests it makes — just like two real clients.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import text

from bench.common import letters as _letters  # one spelling of numbers as Cyrillic names
from server import create_app
from server.accounts.models import Role
from server.accounts.services import create_user, issue_api_token
from server.catalog import services as catalog
from server.database import utcnow
from server.extensions import db
from tenants.scoping import tenant_scope
from tenants.services import create_tenant
from tests import log_scan

PASSWORD = "correct-horse-battery"
POSTGRES = (os.environ.get("DATABASE_URL") or "").startswith(("postgres", "postgresql"))
REDIS_URL = os.environ.get("REDIS_URL") or None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if POSTGRES:
        return os.environ["DATABASE_URL"]
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'propusk.sqlite'}"


def reset_schema(app) -> None:
    """An empty database, then the real migrations: every test run proves `flask db upgrade`."""
    from flask_migrate import upgrade

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": database_url})
    reset_schema(app)
    return app


def _wipe(app) -> None:
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))
        db.session.remove()


@dataclass
class Region:
    id: int
    slug: str


class World:
    """Factories over the real database. Every test starts with two regions: `a` and `b`."""

    def __init__(self, app) -> None:
        self.app = app
        self._n = count(1)
        self.a = self.region("yaroslavl")
        self.b = self.region("irkutsk")

    def region(self, slug: str) -> Region:
        with self.app.app_context():
            tenant = create_tenant(slug)
            db.session.commit()
            return Region(tenant.id, tenant.slug)

    def into_its_day(self, minutes: int) -> Region:
        """A region whose day began at least `minutes` ago (Yaroslavl, or Irkutsk five hours ahead in
        Yaroslavl's first hours): for a test about an event that started that long ago, today."""
        from tenants.models import Tenant

        now = utcnow()
        for region in (self.a, self.b):
            with self.app.app_context():
                local = now.astimezone(db.session.get(Tenant, region.id).tz)
            if local.hour * 60 + local.minute >= minutes:
                return region
        raise AssertionError("no region is that far into its day")

    def _started_today(self, region: Region) -> datetime:
        """Half an hour ago, but not before the region's midnight: an event of "today" on its
        dashboard whatever the hour the suite runs (Irkutsk's day begins at 16:00 UTC)."""
        from tenants.models import Tenant

        with self.app.app_context():
            tz = db.session.get(Tenant, region.id).tz
        now = utcnow()
        midnight = datetime.combine(now.astimezone(tz).date(), datetime.min.time(), tzinfo=tz)
        return max(now - timedelta(minutes=30), midnight.astimezone(UTC))

    def _commit(self, fn, region: Region):
        with self.app.app_context(), tenant_scope(region.id):
            result = fn()
            db.session.flush()
            value = result.id if hasattr(result, "id") else result
            db.session.commit()
            return value

    def municipality(self, region: Region, name: str | None = None) -> int:
        return self._commit(
            lambda: catalog.create_municipality(name or f"Муниципалитет {next(self._n)}"), region
        )

    def school(self, region: Region, municipality_id: int | None = None, name: str | None = None) -> int:
        municipality_id = municipality_id or self.municipality(region)
        return self._commit(
            lambda: catalog.create_school(name or f"Школа № {next(self._n)}", municipality_id), region
        )

    def venue(self, region: Region, name: str | None = None) -> int:
        return self._commit(
            lambda: catalog.save_venue(
                None, name=name or f"Колледж {next(self._n)}", address="ул. Советская, 1", cluster=None
            ),
            region,
        )

    def event(
        self,
        region: Region,
        *,
        venue_id: int | None = None,
        programme: str = "open_day",
        format: str = "in_person",
        starts_at: datetime | None = None,
        hours: float = 3,
        capacity: int = 30,
        grades: tuple[int, int] = (8, 11),
        quotas: list[tuple[int, int]] | None = None,
        broadcast_url: str | None = None,
        title: str | None = None,
    ) -> int:
        venue_id = venue_id or self.venue(region)
        starts_at = starts_at or self._started_today(region)
        data = catalog.EventInput(
            title=title or f"Событие {next(self._n)}",
            programme=programme,
            format=format,
            venue_id=venue_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            capacity=capacity,
            grade_min=grades[0],
            grade_max=grades[1],
            quotas=quotas or [],
            broadcast_url=broadcast_url,
        )

        def make():
            from tenants.models import Tenant

            return catalog.save_event(None, data, db.session.get(Tenant, region.id).tz)

        return self._commit(make, region)

    def user(self, region: Region | None, role: Role | None = Role.COORDINATOR, **scope) -> tuple[str, str]:
        """A user with a role in `region`; returns (email, API token). Password is PASSWORD."""
        email = f"user{next(self._n)}@example.ru"
        with self.app.app_context():
            from tenants.models import Tenant

            tenant = db.session.get(Tenant, region.id) if region else None
            create_user(email, password=PASSWORD, tenant=tenant, role=role, **scope)
            token = issue_api_token(email)
            db.session.commit()
        return email, token

    def ticket(
        self,
        region: Region,
        event_id: int,
        *,
        school_id: int | None = None,
        last_name: str | None = None,
        first_name: str = "Иван",
        grade: int = 9,
    ) -> tuple[int, str]:
        """An active ticket for a new student through the real registration service (every rule holds);
        returns (ticket id, QR code). An event that has already ended is registered "while it was open"."""
        from datetime import timedelta as _td

        from server.tickets import services as tickets
        from tenants.models import Tenant

        school_id = school_id or self.school(region)
        last_name = last_name or f"Иванов{_letters(next(self._n))}"
        with self.app.app_context(), tenant_scope(region.id):
            event = tickets.find_event(event_id)
            now = min(utcnow(), event.ends_at - _td(minutes=1))
            ticket = tickets.register(
                event,
                tickets.Registration(
                    student=tickets.StudentInput(
                        last_name=last_name,
                        first_name=first_name,
                        middle_name="Петрович",
                        grade=grade,
                        school_id=school_id,
                    ),
                    guardian_name="Иванова Мария Петровна",
                    guardian_phone="+7 900 123-45-67",
                    consent=True,
                ),
                db.session.get(Tenant, region.id).tz,
                now=now,
            )
            result = ticket.id, ticket.code
            db.session.commit()
            return result

    def class_group(
        self,
        region: Region,
        event_id: int,
        *,
        school_id: int | None = None,
        size: int = 3,
        label: str = "8А",
        grade: int = 8,
    ) -> tuple[int, str, list[int]]:
        """A class registered from a list (paper consent), as a school does it; returns
        (class group id, the teacher's escort code, the students' ticket ids)."""
        from server.tickets import importing
        from tenants.models import Tenant

        school_id = school_id or self.school(region)
        with self.app.app_context(), tenant_scope(region.id):
            rows = [
                importing.Row(
                    line=i + 2,
                    last_name=f"Ученик{_letters(next(self._n))}",
                    first_name="Мария",
                    middle_name="Ивановна",
                    class_label=label,
                    grade=grade,
                    guardian="Ученикова Ольга Петровна",
                )
                for i in range(size)
            ]
            result = importing.register_class(
                event_id,
                school_id,
                rows,
                consent_date=utcnow().date(),
                escort_name="Петрова Анна Сергеевна",
                tz=db.session.get(Tenant, region.id).tz,
            )
            group = result.groups[0]
            value = group.id, importing.escort_code(group), [t.id for t in result.tickets]
            db.session.commit()
            return value


@pytest.fixture
def world(app):
    _wipe(app)
    log_scan.start()
    yield World(app)
    log_scan.remember_personal_data(app)
    _wipe(app)


@pytest.fixture
def client(app, world):
    return app.test_client()


@pytest.fixture
def runner(app, world):
    return app.test_cli_runner()


@pytest.fixture
def make_app(app, world):
    """Another app on the test database with some settings changed, e.g. `make_app(RATELIMIT_ENABLED=True)`.

    Each app binds the one `socketio` extension to a Socket.IO server of its own; the session app's
    is given back afterwards, or the live tests that follow would emit into a server that no
    dashboard is connected to.
    """
    from server import jobs
    from server.extensions import socketio

    bound = ("server", "async_mode", "sockio_mw", "manage_session", "server_options")
    saved = {name: getattr(socketio, name) for name in bound}
    queue_saved = (jobs._app, jobs.huey.storage, jobs.huey._immediate, jobs.huey.name)

    def make(**overrides):
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        return create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url, **overrides})

    yield make
    for name, value in saved.items():
        setattr(socketio, name, value)
    jobs._app, jobs.huey.storage, jobs.huey._immediate, jobs.huey.name = queue_saved


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def browser():
    """Debian's headless Chromium, driven by Playwright (modules opt in with `tests.browser`)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app, world):
    """The real app over HTTP on a free loopback port (threaded Werkzeug, WebSockets included)."""
    import time

    import requests
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    for _ in range(100):
        try:
            requests.get(f"{url}/login", timeout=0.5)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    yield url
    server.shutdown()
    thread.join(timeout=5)


# --- the whole run's logs hold nothing personal (tests/log_scan.py) ----------------------------------


def pytest_configure(config):
    log_scan.start()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    log_scan.collect_sections(item.nodeid, outcome.get_result())


def pytest_runtest_setup(item):
    log_scan.now_running(item.nodeid)


def pytest_sessionfinish(session, exitstatus):
    leaks = log_scan.leaks()
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "personal data of the test data found in logs or output", red=True)
            for where, kind in leaks[:50]:
                reporter.write_line(f"{kind}: {where}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
