"""The API speaks JSON in the SPEC's error form for every failure; OpenAPI describes the real routes."""

from __future__ import annotations

import pytest

from server.accounts.models import Role
from tests.conftest import bearer

BAD_BODIES = [
    ("not json", {"data": "name=Рыбинск", "content_type": "application/x-www-form-urlencoded"}),
    ("array", {"json": []}),
    ("empty object", {"json": {}}),
    ("wrong types", {"json": {"name": 5, "municipality_id": "x", "venue_id": [], "capacity": "много"}}),
    ("unknown field", {"json": {"name": "x", "hack": True}}),
    ("broken json", {"data": "{", "content_type": "application/json"}),
]


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/<tenant>") and "POST" in rule.methods:
            yield rule


@pytest.mark.parametrize("label,kwargs", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_input_to_every_post_endpoint_is_a_json_error(app, client, world, label, kwargs):
    _, token = world.user(world.a, Role.COORDINATOR)
    event = world.event(world.a)
    for rule in _post_rules(app):
        url = rule.rule.replace("<tenant>", "yaroslavl")
        for arg in rule.arguments - {"tenant"}:
            url = url.replace(f"<int:{arg}>", str(event)).replace(f"<{arg}>", "x")
        response = client.post(url, headers=bearer(token), **kwargs)
        assert 400 <= response.status_code < 500, (url, label, response.status_code)
        assert response.is_json, (url, label)
        error = response.json["error"]
        assert error["code"] and error["message"], (url, label)


def test_validation_error_names_the_field(client, world):
    _, token = world.user(world.a)
    response = client.post("/api/v1/yaroslavl/venues", headers=bearer(token), json={"name": "Колледж"})
    assert response.status_code == 422
    assert "address" in response.json["error"]["message"]


def test_event_rules_are_422_with_reasons(client, world):
    _, token = world.user(world.a)
    venue = world.venue(world.a)
    body = {
        "title": "ЕДОД",
        "programme": "open_day",
        "format": "in_person",
        "venue_id": venue,
        "starts_at": "2026-04-20T10:00:00",
        "ends_at": "2026-04-20T09:00:00",
        "capacity": 50,
        "grade_min": 8,
        "grade_max": 11,
    }
    response = client.post("/api/v1/yaroslavl/events", headers=bearer(token), json=body)
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid_times"


def test_event_is_created_in_region_time_and_read_back(client, world):
    _, token = world.user(world.b)
    venue = world.venue(world.b)
    municipality = world.municipality(world.b)
    body = {
        "title": "Профпроба «Сварщик»",
        "programme": "trial",
        "format": "in_person",
        "venue_id": venue,
        "starts_at": "2026-12-01T10:00:00",
        "ends_at": "2026-12-01T12:00:00",
        "capacity": 20,
        "grade_min": 6,
        "grade_max": 11,
        "quotas": [{"municipality_id": municipality, "seats": 5}],
    }
    created = client.post("/api/v1/irkutsk/events", headers=bearer(token), json=body)
    assert created.status_code == 201
    assert created.json["starts_at"] == "2026-12-01T10:00:00+08:00"  # Иркутск, UTC+8
    fetched = client.get(f"/api/v1/irkutsk/events/{created.json['id']}", headers=bearer(token)).json
    assert fetched["registered"] == 0 and fetched["checked_in"] == 0
    assert fetched["quotas"] == [{"municipality_id": municipality, "seats": 5, "used": 0}]


def test_duplicate_name_is_a_409(client, world):
    _, token = world.user(world.a)
    first = client.post(
        "/api/v1/yaroslavl/municipalities", headers=bearer(token), json={"name": "г. Рыбинск"}
    )
    second = client.post(
        "/api/v1/yaroslavl/municipalities", headers=bearer(token), json={"name": "г. Рыбинск"}
    )
    assert first.status_code == 201 and second.status_code == 409
    assert second.json["error"]["code"] == "duplicate"


def test_unknown_path_and_wrong_method_are_json(client, world):
    _, token = world.user(world.a)
    missing = client.get("/api/v1/yaroslavl/nothing-here", headers=bearer(token))
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = client.put("/api/v1/yaroslavl/venues", headers=bearer(token), json={})
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"


def test_openapi_documents_every_api_route(app, client, world):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.endswith("openapi.json"):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", "{" + arg + "}").replace(f"<{arg}>", "{" + arg + "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented
            operation = document["paths"][path][method.lower()]
            assert operation["summary"] != rule.endpoint, f"{rule.endpoint} lacks @documented"


def test_openapi_request_bodies_match_validation(client, world):
    document = client.get("/api/v1/openapi.json").json
    schema = document["components"]["schemas"]["EventIn"]
    assert {"title", "programme", "venue_id", "starts_at", "capacity"} <= set(schema["required"])
