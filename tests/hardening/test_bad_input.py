"""No 500 on bad input: ids past PostgreSQL's `integer`, NUL characters, year-1 datetimes, JSON nested
100,000 deep, unknown enum values, codes carrying huge ids, a newline in `next`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.database import utcnow
from server.extensions import db
from server.tickets import codes
from server.tickets.models import Ticket, TicketStatus
from tenants.scoping import tenant_scope
from tests.conftest import PASSWORD, bearer, login
from tests.kiosk.helpers import paired_kiosk
from tests.kiosk.test_checkins import _venue_of
from tests.tickets.helpers import region

BIG = 2**31


@pytest.fixture
def door(app, client, world):
    email, token = world.user(world.a)
    event = world.event(world.a)
    kiosk = paired_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    return {"email": email, "coordinator": bearer(token), "kiosk": kiosk, "event": event}


def _event(venue: int, starts: str, ends: str) -> dict:
    return {
        "title": "Проба",
        "programme": "trial",
        "format": "in_person",
        "venue_id": venue,
        "starts_at": starts,
        "ends_at": ends,
        "capacity": 5,
        "grade_min": 6,
        "grade_max": 11,
    }


def _api_requests(door, venue):
    coordinator, kiosk = door["coordinator"], door["kiosk"].headers
    offline = {"code": "X" * 125, "scan_id": "abcdefgh1", "scanned_at": "0001-01-01T00:00:00+05:00"}
    return {
        "event id past integer": ("get", f"/api/v1/yaroslavl/events/{BIG}", coordinator, None),
        "body id past integer": (
            "post",
            "/api/v1/yaroslavl/schools",
            coordinator,
            {"name": "Школа", "municipality_id": BIG},
        ),
        "NUL in a name": ("post", "/api/v1/yaroslavl/municipalities", coordinator, {"name": "А\x00Б"}),
        "unknown programme": ("get", "/api/v1/yaroslavl/events?programme=bogus", coordinator, None),
        "year 1": (
            "post",
            "/api/v1/yaroslavl/events",
            coordinator,
            _event(venue, "0001-01-01T00:00:00", "0001-01-01T02:00:00"),
        ),
        "year 1 with offset": (
            "post",
            "/api/v1/yaroslavl/events",
            coordinator,
            _event(venue, "0001-01-01T00:00:00+05:00", "0001-01-01T02:00:00+05:00"),
        ),
        "year 9999": (
            "post",
            "/api/v1/yaroslavl/events",
            coordinator,
            _event(venue, "9999-12-31T23:00:00-05:00", "9999-12-31T23:30:00-05:00"),
        ),
        "offline scan in year 1": ("post", "/api/v1/yaroslavl/checkins/bulk", kiosk, {"items": [offline]}),
        "manual ticket id past integer": (
            "post",
            "/api/v1/yaroslavl/kiosk/manual",
            kiosk,
            {"ticket_id": BIG},
        ),
    }


CASES = [
    "event id past integer",
    "body id past integer",
    "NUL in a name",
    "unknown programme",
    "year 1",
    "year 1 with offset",
    "year 9999",
    "offline scan in year 1",
    "manual ticket id past integer",
]


@pytest.mark.parametrize("case", CASES)
def test_the_api_answers_bad_input_in_the_specs_form(app, client, world, door, case):
    venue = _venue_of(app, world.a, door["event"])
    method, url, headers, body = _api_requests(door, venue)[case]

    response = getattr(client, method)(url, headers=headers, json=body)

    assert response.status_code in (404, 422), response.status_code
    assert set(response.get_json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize(
    ("path", "depth"),
    [
        ("/api/v1/yaroslavl/municipalities", 100_000),  # 200 KB: within the API's 256 KB, so parsed
        ("/api/v1/yaroslavl/checkins", 2_000),  # 4 KB: as deep as the door's bound lets a body be
    ],
)
def test_json_nested_past_the_parsers_depth_is_invalid_not_a_crash(client, door, path, depth):
    headers = door["kiosk"].headers if path.endswith("checkins") else door["coordinator"]
    deep = "[" * depth + "]" * depth

    response = client.post(path, headers=headers, data=deep, content_type="application/json")

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_json_nested_100000_deep_is_past_the_doors_bound_413_in_the_specs_form(client, door):
    """The door reads no more than a scan can be (4 KB): a bigger body is answered as the API answers
    one past its own route's bound, unread."""
    deep = "[" * 100_000 + "]" * 100_000

    response = client.post(
        "/api/v1/yaroslavl/checkins",
        headers=door["kiosk"].headers,
        data=deep,
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response.get_json()["error"] == {
        "code": "too_large",
        "message": "Слишком большой запрос: код и scan_id занимают меньше 4 КБ.",
    }


def test_a_code_carrying_an_id_past_integer_is_invalid_at_the_door(app, client, world, door):
    with app.app_context(), tenant_scope(world.a.id):
        key = codes.ensure_key(world.a.id)
        db.session.commit()
        header = codes._HEADER.pack(
            (codes.VERSION << 4) | codes.CodeKind.TICKET, key.key_id, world.a.id, BIG, BIG
        )
    forged = codes._b32encode(header + bytes(codes.SIGNATURE_BYTES))

    response = client.post("/api/v1/yaroslavl/checkins", json={"code": forged}, headers=door["kiosk"].headers)

    assert response.status_code == 200 and response.get_json()["result"] == "invalid"


@pytest.mark.parametrize(
    "path",
    [
        f"/yaroslavl/events/{BIG}",
        f"/yaroslavl/e/{BIG}",
        "/yaroslavl/live?programme=bogus&date=0001-01-01",
        "/yaroslavl/schools?q=%00",
        f"/yaroslavl/events/1/school-quotas?municipality_id={BIG}",
    ],
)
def test_pages_answer_bad_input_without_a_500(client, door, path):
    login(client, door["email"])

    response = client.get(path)

    assert response.status_code in (200, 404, 422)


@pytest.mark.parametrize("next_url", ["/%0a//evil.example", "/x%0d%0aSet-Cookie:a=b"])
def test_a_control_character_in_next_is_ignored(client, door, next_url):
    response = client.post(f"/login?next={next_url}", data={"email": door["email"], "password": PASSWORD})

    assert response.status_code == 302
    assert "evil" not in response.headers["Location"] and "Set-Cookie:a" not in response.headers["Location"]


def _public_form(world) -> tuple[int, dict]:
    from server.tickets.consent import CONSENT_VERSION

    event = world.event(world.a, starts_at=utcnow() + timedelta(days=2))
    form = {
        "last_name": "Лишняев",
        "first_name": "Ключ",
        "grade": "9",
        "school_id": str(world.school(world.a)),
        "guardian_name": "Лишняева Анна",
        "guardian_phone": "+7 900 111-22-33",
        "consent": "y",
        "consent_version": CONSENT_VERSION,
    }
    return event, form


def test_unexpected_form_keys_change_nothing(app, client, world):
    event, form = _public_form(world)
    unexpected = {"tenant_id": str(world.b.id), "status": "cancelled", "id": str(BIG), "csrf_token[]": "x"}

    done = client.post(f"/yaroslavl/e/{event}", data={**form, **unexpected})

    assert done.status_code == 302
    with region(app, world.a):
        ticket = db.session.scalar(select(Ticket))
        assert ticket is not None and ticket.status == TicketStatus.ACTIVE and ticket.id < BIG


@pytest.mark.parametrize(
    ("field", "said"),
    [("last_name", "только буквы, пробел и дефис"), ("guardian_name", "недопустимые символы")],
    ids=["student", "guardian"],
)
def test_a_nul_in_a_public_form_is_refused_in_russian_on_every_database(app, client, world, field, said):
    event, form = _public_form(world)

    page = client.post(f"/yaroslavl/e/{event}", data={**form, field: "Нуль\x00евой"})

    assert page.status_code == 422 and said in page.get_data(as_text=True)
    with region(app, world.a):
        assert db.session.scalar(select(Ticket)) is None
