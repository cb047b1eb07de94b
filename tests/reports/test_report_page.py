"""The attendance report for a period, per role, and the API that must give the page's numbers."""

from __future__ import annotations

import re

import pytest

from tests.conftest import bearer, login
from tests.reports.helpers import build, users

# registered (active), admitted, no-shows, cancelled in each role's scope (see helpers.build)
EXPECTED = {
    "coordinator": {"registered": 6, "checked_in": 4, "no_show": 1, "cancelled": 1},
    "municipal": {"registered": 2, "checked_in": 1, "no_show": 1, "cancelled": 1},
    "school": {"registered": 4, "checked_in": 3, "no_show": 0, "cancelled": 0},
    "venue": {"registered": 2, "checked_in": 1, "no_show": 1, "cancelled": 0},
}


def _figure(html: str, name: str) -> int:
    return int(re.search(rf'data-figure="{name}">(\d+)<', html).group(1))


def _names(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<tr class=\"level-1\"[^>]*><td>(.*?)</td>", body)
    ]


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_gets_its_scope_on_the_page_and_in_the_api(client, world, role):
    town = build(world)
    email = users(world, town)[role]
    login(client, email)
    html = client.get("/yaroslavl/reports/attendance").get_data(as_text=True)
    for name, value in EXPECTED[role].items():
        if name != "cancelled":
            assert _figure(html, name) == value, (role, name)
    from server.accounts.services import issue_api_token

    with world.app.app_context():
        from server.extensions import db

        token = issue_api_token(email)
        db.session.commit()
    api = client.get("/api/v1/yaroslavl/reports/attendance", headers=bearer(token)).json
    assert {k: api[k] for k in EXPECTED[role]} == EXPECTED[role]
    assert api["checked_in"] == _figure(html, "checked_in")
    assert api["unique_checked_in"] == _figure(html, "unique_checked_in")
    municipalities = [m["name"] for m in api["by_municipality"]]
    assert municipalities == _names(html, "by-municipality")
    assert "Чужое событие" not in html and "irkutsk" not in str(api)


def test_region_sees_municipality_school_class_and_venue_event(client, world):
    town = build(world)
    login(client, users(world, town)["coordinator"])
    html = client.get("/yaroslavl/reports/attendance").get_data(as_text=True)
    assert _names(html, "by-municipality") == ["г. Рыбинск", "г. Ярославль"]
    assert _names(html, "by-venue") == ["Завод «Автодизель»", "Ярославский колледж"]
    rybinsk = html.split(f'data-municipality="{town.rybinsk}"', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'<td class="num">([^<]*)</td>', rybinsk)[:4] == ["1 / 10", "2", "1", "1"]
    assert "Лицей № 2" in html and "10 класс" in html and "9 класс" in html
    assert 'id="chart-arrivals"' in html and "vendor/chart.js/chart.umd.min.js" in html
    assert "<script>" not in html  # nothing inline (CSP); the data block is JSON


def test_programme_and_period_narrow_the_report(client, world):
    town = build(world)
    trial = world.event(world.a, venue_id=town.college, programme="trial", title="Проба: повар")
    world.ticket(world.a, trial, school_id=town.school_33, last_name="Пробин", grade=8)
    _, token = world.user(world.a)
    everything = client.get("/api/v1/yaroslavl/reports/attendance", headers=bearer(token)).json
    trials = client.get("/api/v1/yaroslavl/reports/attendance?programme=trial", headers=bearer(token)).json
    assert everything["registered"] == 7 and trials["registered"] == 1
    long_ago = client.get(
        "/api/v1/yaroslavl/reports/attendance?from=2020-01-01&to=2020-12-31", headers=bearer(token)
    ).json
    assert long_ago["registered"] == 0 and long_ago["by_venue"] == []


def test_event_attendance_api_matches_the_summary(client, world):
    town = build(world)
    _, token = world.user(world.a)
    event = client.get(f"/api/v1/yaroslavl/events/{town.today}/attendance", headers=bearer(token)).json
    summary = client.get("/api/v1/yaroslavl/reports/attendance", headers=bearer(token)).json
    college = next(v for v in summary["by_venue"] if v["name"] == "Ярославский колледж")
    row = next(e for e in college["items"] if e["event_id"] == town.today)
    assert (event["registered"], event["checked_in"]) == (row["registered"], row["checked_in"]) == (4, 3)


def test_both_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "get" in paths["/api/v1/{tenant}/events/{event_id}/attendance"]
    summary = paths["/api/v1/{tenant}/reports/attendance"]["get"]
    assert {p["name"] for p in summary["parameters"] if p["in"] == "query"} == {"from", "to", "programme"}
