"""Every role's pages through the production server on the demo data: no server error, no English on a
Russian page, every download opens. Built from the URL map: a new GET route is crawled without a test."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from server.demo import DEMO_PASSWORD, PLATFORM_ADMIN
from tests.conftest import _wipe
from tests.crawl import Crawl, Ids, route_urls, text_of_values
from tests.production import ROOT, gunicorn, production_env, signed_in

PEOPLE = {
    "coordinator": "coordinator@yaroslavl.demo",
    "municipal": "municipal@yaroslavl.demo",
    "school": "school@yaroslavl.demo",
    "venue": "venue@yaroslavl.demo",
    "platform_admin": PLATFORM_ADMIN,
    "parent": None,
}
# What each person must reach (a crawl that sees only sign-in redirects would prove nothing).
MUST_OPEN = {
    "coordinator": {"catalog.events", "catalog.event_detail", "checkins.kiosk_list",
                    "tickets_views.staff.class_sheet", "reports.attendance_export", "live_views.dashboard"},
    "municipal": {"catalog.schools", "tickets_views.staff.hub", "tickets_views.staff.school_quotas"},
    "school": {"tickets_views.staff.hub", "tickets_views.staff.class_sheet"},
    "venue": {"venue.home", "live_views.dashboard"},  # their home, where /<region>/ sends them
    "platform_admin": {"public.home", "catalog.events", "checkins.kiosk_list"},
    "parent": {"tickets_views.open_events", "tickets_views.register", "tickets_views.ticket_page",
               "tickets_views.ticket_pdf", "tickets_views.ticket_ics"},
}  # fmt: skip


def _api_tokens(app) -> dict[str, str]:
    from server.accounts.services import issue_api_token
    from server.extensions import db

    with app.app_context():
        tokens = {role: issue_api_token(email) for role, email in PEOPLE.items() if email}
        db.session.commit()
    return tokens


@pytest.fixture
def demo(app, database_url):
    """`flask demo` on an empty database, as a new user runs it."""
    _wipe(app)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "demo"],
        cwd=ROOT,
        env=production_env(database_url),
        check=True,
        capture_output=True,
    )
    yield
    _wipe(app)


@pytest.mark.slow
def test_every_role_crawls_every_page_and_download_through_gunicorn(app, demo, database_url, tmp_path):
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as conn:
        region = conn.execute(text("SELECT id FROM tenants WHERE slug = 'yaroslavl'")).scalar_one()
        tokens = [t for (t,) in conn.execute(
            text("SELECT access_token FROM tickets WHERE tenant_id = :t ORDER BY id"), {"t": region}
        )]  # fmt: skip
    ids = Ids(engine, region, "yaroslavl", extra={"token": tokens[:1] + tokens[-1:]})
    ids.extra["access_token"] = ids.extra["token"]
    ids.extra["ext"] = ["csv", "xlsx"]  # the onboarding template
    ids.extra["mail_id"] = ids.ids("mail_outbox") or ["1"]  # the demo's letters, kept for the admin
    ids.extra["attachment_id"] = ids.ids("mail_attachments") or ["1"]
    ids.extra["meeting_id"] = ids.ids("parent_meetings") or ["1"]  # the demo holds no meeting form yet
    urls, unfilled = route_urls(app.url_map, ids)
    assert not unfilled, "\n".join(unfilled)
    data = text_of_values(engine)
    api_tokens = _api_tokens(app)
    engine.dispose()

    log = tmp_path / "gunicorn.log"
    with gunicorn(database_url, log) as base:

        def walk(role: str) -> Crawl:
            email = PEOPLE[role]
            session = signed_in(base, email, DEMO_PASSWORD) if email else requests.Session()
            return Crawl(base, session, app.url_map, data, api_tokens.get(role)).run(["/", *urls])

        with ThreadPoolExecutor(3) as pool:
            crawls = dict(zip(PEOPLE, pool.map(walk, PEOPLE), strict=True))

    report = [f"{role}: {f.status} {f.url} — {f.problem}" for role, c in crawls.items() for f in c.findings]
    assert not report, "\n".join(report) + "\n" + _tracebacks(log)
    for role, crawl in crawls.items():
        opened = {endpoint for endpoint, statuses in crawl.endpoints.items() if 200 in statuses}
        assert MUST_OPEN[role] <= opened, f"{role} never opened {MUST_OPEN[role] - opened}"
    files = {kind for crawl in crawls.values() for kind, n in crawl.opened.items() if n}
    assert {"application/pdf", "text/calendar", "text/csv"} <= files, files


def _tracebacks(log: Path) -> str:
    """The server's error log without gunicorn's own frames: where each 500 came from."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return "\n".join(line for line in lines if "site-packages" not in line)[-8000:]
