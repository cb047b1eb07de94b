"""Russian that reads right: plurals by Babel's rules, the region's time by its Russian name, no
library's English reasons, and API messages a kiosk or an integration can show as they are."""

from __future__ import annotations

import re

from server.accounts.models import Role
from tests.conftest import bearer, login


def _label(html: str, name: str) -> str:
    return re.search(rf"data-{name}-label>([^<]+)<", html).group(1)


def test_counts_take_the_russian_plural_forms(client, world):
    email, _ = world.user(world.a, Role.COORDINATOR)
    login(client, email)
    expected = {1: "площадка", 2: "площадки", 5: "площадок", 21: "площадка"}
    made = 0
    for count, word in expected.items():
        while made < count:
            world.venue(world.a)
            made += 1
        assert _label(client.get("/yaroslavl/").get_data(as_text=True), "venues") == word
    world.event(world.a)
    assert _label(client.get("/yaroslavl/").get_data(as_text=True), "events") == "ближайшее событие"
    world.event(world.a)
    assert _label(client.get("/yaroslavl/").get_data(as_text=True), "events") == "ближайших события"
    english = client.get("/yaroslavl/?lang=en").get_data(as_text=True)
    assert _label(english, "events") == "upcoming events" and _label(english, "venues") == "venues"


def test_the_regions_time_is_named_in_russian(client, world):
    email, _ = world.user(world.a, Role.COORDINATOR)
    login(client, email)
    html = client.get("/yaroslavl/").get_data(as_text=True)
    assert "Москва (МСК)" in html and "Europe/Moscow" not in html
    other, _ = world.user(world.b, Role.COORDINATOR)
    login(client, other)
    assert "Иркутск (МСК+5)" in client.get("/irkutsk/").get_data(as_text=True)


def test_api_validation_reasons_are_russian_not_pydantics(client, world):
    paired = client.post("/api/v1/kiosk/pair", json={"pairing_code": ""})
    message = paired.get_json()["error"]["message"]
    assert paired.status_code == 422 and "should" not in message
    assert message == "Поле «pairing_code»: не может быть пустым"

    event = world.event(world.a)
    _, token = world.user(world.a, Role.COORDINATOR)
    wrong = client.post(
        f"/api/v1/yaroslavl/events/{event}/registrations",
        json={"student": {"last_name": "Иванов", "first_name": "Иван", "grade": "девятый", "school_id": 1},
              "guardian": {"name": "Иванова"}, "consent": True},
        headers=bearer(token),
    )  # fmt: skip
    body = wrong.get_json()["error"]
    assert wrong.status_code == 422 and body["message"] == "Поле «student.grade»: нужно целое число"
    assert not re.search(r"[A-Za-z]{4,}", body["message"].split("»")[-1])
