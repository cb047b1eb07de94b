"""The report pages in Chromium for every role: charts drawn by the vendored Chart.js, no CSP errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.database import utcnow
from tests.browser import needs_chromium, shot, sign_in
from tests.reports.helpers import build, users

pytestmark = needs_chromium


def _meeting(world, town) -> None:
    """A parents' meeting with quotas, so its pages have something to show."""
    from server.extensions import db
    from server.meetings import services
    from tenants.scoping import tenant_scope

    event = world.event(world.a, format="online", title="Родительское собрание ЕДОД",
                        starts_at=utcnow() + timedelta(days=2))  # fmt: skip
    with world.app.app_context(), tenant_scope(world.a.id):
        services.create_meeting(event, utcnow() + timedelta(days=1), {town.yaroslavl: 60, town.rybinsk: 40})
        db.session.commit()


@pytest.mark.slow
@pytest.mark.parametrize("role", ["coordinator", "municipal", "school", "venue"])
def test_every_role_sees_its_report_pages(app, world, live_server, browser, role):
    town = build(world)
    _meeting(world, town)
    email = users(world, town)[role]
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, live_server, email)

    page.goto(f"{live_server}/yaroslavl/reports/attendance")
    page.wait_for_function(
        "window.Chart && Chart.getChart('chart-turnout') && Chart.getChart('chart-arrivals')"
    )
    bars = page.evaluate("Chart.getChart('chart-turnout').data.datasets[1].data")
    assert sum(bars) == int(page.inner_text("[data-figure=checked_in]"))
    shot(page, f"reports-attendance-{role}")

    page.goto(f"{live_server}/yaroslavl/reports/participants")
    assert page.locator("#participants tbody tr").count() >= 2
    page.fill("input[name=q]", "ЁЛКИНА" if role in ("coordinator", "school", "venue") else "кузнецов")
    page.click(".report-filters button")
    assert page.locator("#participants tbody tr").count() == 1
    shot(page, f"reports-participants-{role}")

    if role != "venue":
        page.goto(f"{live_server}/yaroslavl/reports/season")
        assert page.locator("h1").inner_text().startswith("Профессиональные пробы")
        page.goto(f"{live_server}/yaroslavl/parents-meetings/")
        page.click("#meetings a")
        page.wait_for_selector("#meeting-status")
        shot(page, f"reports-meeting-{role}")
    if role == "coordinator":
        page.goto(f"{live_server}/yaroslavl/events/{town.today}/participants")
        shot(page, "reports-event-who-came")
        page.goto(f"{live_server}/yaroslavl/reports/exports")
        shot(page, "reports-export-log")
    assert problems == []
