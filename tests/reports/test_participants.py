"""Who came: the named list with every status on event, venue and school pages, scoped per role."""

from __future__ import annotations

import re

from tests.conftest import login
from tests.reports.helpers import build, users


def _rows(html: str) -> list[str]:
    body = html.split('id="participants"', 1)[1].split("</table>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("<tr>")[2:]]


def _row(html: str, surname: str) -> str:
    found = [r for r in _rows(html) if r.startswith(surname)]
    assert len(found) == 1, (surname, _rows(html))
    return found[0]


def test_event_page_lists_every_status_with_time_and_kiosk(client, world):
    town = build(world)
    login(client, users(world, town)["coordinator"])
    html = client.get(f"/yaroslavl/events/{town.today}/participants").get_data(as_text=True)
    assert re.search(r"Семёнов Пётр Петрович .* пришёл в \d\d:\d\d, киоск «Вход 1»", _row(html, "Семёнов"))
    assert "пришёл" in _row(html, "Иванова") and "вручную" in _row(html, "Иванова")
    assert "ушёл с педагогом" in _row(html, "Кузнецов")
    assert "записан" in _row(html, "Петров")
    assert "отменён" in _row(html, "Орлова")
    assert "Сидоров" not in html  # another event
    past = client.get(f"/yaroslavl/events/{town.past}/participants").get_data(as_text=True)
    assert "не пришёл" in _row(past, "Сидоров")
    assert "киоск «Проходная»" in _row(past, "Ёлкина")


def test_surname_search_treats_yo_as_ye_and_ignores_case(client, world):
    town = build(world)
    login(client, users(world, town)["coordinator"])
    html = client.get("/yaroslavl/reports/participants?q=семенов").get_data(as_text=True)
    assert [r.split(" ")[0] for r in _rows(html)] == ["Семёнов"]  # and not region B's Семёнов
    html = client.get("/yaroslavl/reports/participants?q=ЕЛКИНА").get_data(as_text=True)
    assert [r.split(" ")[0] for r in _rows(html)] == ["Ёлкина"]


def test_filters_by_school_class_and_status(client, world):
    town = build(world)
    login(client, users(world, town)["coordinator"])
    html = client.get(f"/yaroslavl/reports/participants?school={town.lyceum_2}").get_data(as_text=True)
    assert sorted(r.split(" ")[0] for r in _rows(html)) == ["Кузнецов", "Орлова", "Сидоров"]
    html = client.get("/yaroslavl/reports/participants?status=no_show").get_data(as_text=True)
    assert [r.split(" ")[0] for r in _rows(html)] == ["Сидоров"]
    html = client.get("/yaroslavl/reports/participants?grade=10&status=left").get_data(as_text=True)
    assert [r.split(" ")[0] for r in _rows(html)] == ["Кузнецов"]


def test_venue_and_school_pages_hold_their_own_students(client, world):
    town = build(world)
    login(client, users(world, town)["coordinator"])
    venue = client.get(f"/yaroslavl/venues/{town.plant}/participants").get_data(as_text=True)
    assert sorted(r.split(" ")[0] for r in _rows(venue)) == ["Ёлкина", "Сидоров"]
    school = client.get(f"/yaroslavl/schools/{town.school_33}/participants").get_data(as_text=True)
    assert sorted(r.split(" ")[0] for r in _rows(school)) == ["Ёлкина", "Иванова", "Петров", "Семёнов"]


def test_each_role_sees_only_its_scope(client, world):
    town = build(world)
    logins = users(world, town)
    expected = {
        "coordinator": ["Ёлкина", "Иванова", "Кузнецов", "Орлова", "Петров", "Семёнов", "Сидоров"],
        "municipal": ["Кузнецов", "Орлова", "Сидоров"],
        "school": ["Ёлкина", "Иванова", "Петров", "Семёнов"],
        "venue": ["Ёлкина", "Сидоров"],
    }
    for role, surnames in expected.items():
        client.post("/logout")
        login(client, logins[role])
        html = client.get("/yaroslavl/reports/participants").get_data(as_text=True)
        assert sorted(r.split(" ")[0] for r in _rows(html)) == surnames, role
        # The streamed export holds the same students (and not region B's look-alike Семёнов).
        lines = client.get("/yaroslavl/reports/participants.csv").data.decode("utf-8-sig").splitlines()[1:-1]
        assert sorted(line.split(" ")[0] for line in lines) == surnames, role


def test_a_narrow_role_cannot_open_anothers_page(client, world):
    town = build(world)
    logins = users(world, town)
    login(client, logins["school"])
    assert client.get(f"/yaroslavl/schools/{town.lyceum_2}/participants").status_code == 404
    client.post("/logout")
    login(client, logins["venue"])
    assert client.get(f"/yaroslavl/venues/{town.college}/participants").status_code == 404
    assert client.get(f"/yaroslavl/events/{town.today}/participants").status_code == 404
    client.post("/logout")
    login(client, logins["municipal"])
    assert client.get(f"/yaroslavl/schools/{town.school_33}/participants").status_code == 404
    assert client.get("/irkutsk/reports/participants").status_code == 404
