"""Each role sees what it may; members get 403 beyond their role, strangers 404, anonymous 401/login."""

from __future__ import annotations

from server.accounts.models import Role
from tests.conftest import bearer, login


def test_anonymous_api_call_gets_a_json_401(client, world):
    response = client.get("/api/v1/yaroslavl/venues")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthenticated"


def test_revoked_or_unknown_token_is_401(client, world):
    response = client.get("/api/v1/yaroslavl/venues", headers=bearer("pk_not-a-real-token"))
    assert response.status_code == 401


def test_anonymous_page_visit_is_sent_to_login(client, world):
    response = client.get("/yaroslavl/venues")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_school_staff_cannot_manage_venues(client, world):
    school = world.school(world.a)
    email, token = world.user(world.a, Role.SCHOOL, school_id=school)
    assert client.get("/api/v1/yaroslavl/venues", headers=bearer(token)).status_code == 403
    login(client, email)
    assert client.get("/yaroslavl/venues").status_code == 403
    assert client.get("/yaroslavl/").status_code == 200


def test_municipal_coordinator_sees_and_adds_only_own_schools(client, world):
    own = world.municipality(world.a, "г. Рыбинск")
    other = world.municipality(world.a, "г. Ярославль")
    world.school(world.a, own, "Лицей № 2")
    world.school(world.a, other, "Гимназия № 2")
    _, token = world.user(world.a, Role.MUNICIPAL, municipality_id=own)
    listed = client.get("/api/v1/yaroslavl/schools", headers=bearer(token)).json
    assert [s["name"] for s in listed] == ["Лицей № 2"]
    refused = client.post(
        "/api/v1/yaroslavl/schools",
        headers=bearer(token),
        json={"name": "Школа № 9", "municipality_id": other},
    )
    assert refused.status_code == 403
    created = client.post(
        "/api/v1/yaroslavl/schools", headers=bearer(token), json={"name": "Школа № 9", "municipality_id": own}
    )
    assert created.status_code == 201 and created.json["municipality_id"] == own


def test_venue_staff_can_read_an_event_but_not_list_all(client, world):
    venue = world.venue(world.a)
    event = world.event(world.a, venue_id=venue)
    _, token = world.user(world.a, Role.VENUE, venue_id=venue)
    assert client.get(f"/api/v1/yaroslavl/events/{event}", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/yaroslavl/events", headers=bearer(token)).status_code == 403


def test_platform_admin_acts_as_coordinator_in_any_region(client, world):
    email, token = world.user(None, None)
    from server.accounts.models import User
    from server.extensions import db

    with world.app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        user.is_platform_admin = True
        db.session.commit()
    assert client.get("/api/v1/irkutsk/venues", headers=bearer(token)).status_code == 200


def test_login_with_wrong_password_says_so_in_russian(client, world):
    email, _ = world.user(world.a)
    page = client.post("/login", data={"email": email, "password": "wrong-password"})
    assert page.status_code == 200
    assert "Неверная почта или пароль" in page.get_data(as_text=True)


def test_login_does_not_redirect_off_site(client, world):
    email, _ = world.user(world.a)
    response = client.post(
        "/login?next=//evil.example/", data={"email": email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
