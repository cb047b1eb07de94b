"""Bodies are bounded before they are read: 413, in the SPEC's JSON under /api/; the class list upload
has its own bigger limit."""

from __future__ import annotations

from tests.conftest import bearer
from tests.tickets.test_import import _preview, _school_client


def test_an_oversized_json_body_is_refused_with_413_in_the_specs_form(client, world):
    _, token = world.user(world.a)
    big = {"name": "г. Углич", "padding": "я" * 400_000}

    response = client.post("/api/v1/yaroslavl/municipalities", json=big, headers=bearer(token))

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_the_class_list_upload_takes_up_to_its_own_limit_and_no_more(app, world):
    client, _, event = _school_client(app, world)
    header = "Фамилия;Имя;Отчество;Класс\n".encode()
    one_mb = header + b"\n" * (1024 * 1024)  # under the upload's 2 MB: read and judged by the importer
    five_mb = header + b"\n" * (5 * 1024 * 1024)

    within = _preview(client, event, one_mb, "class.csv")
    beyond = _preview(client, event, five_mb, "class.csv")

    assert within.status_code == 422 and "учеников нет" in within.get_data(as_text=True)
    assert beyond.status_code == 413 and "Слишком большой запрос" in beyond.get_data(as_text=True)
