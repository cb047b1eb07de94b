"""Sessions and tokens: a server-side «remember me», sessions that end, API tokens that expire and are
revoked from the profile page and the CLI."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from server.accounts.models import ApiToken, RememberToken
from server.accounts.remember import COOKIE
from server.database import utcnow
from server.extensions import db
from tests.conftest import PASSWORD, bearer, login


def _remember_login(client, email: str):
    return client.post("/login", data={"email": email, "password": PASSWORD, "remember": "y"})


def _cookie_header(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "="))


def _remember_rows(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(RememberToken)).all())


def test_remember_cookie_is_random_lax_httponly_and_at_most_30_days(client, world):
    email, _ = world.user(world.a)
    header = _cookie_header(_remember_login(client, email))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    max_age = int(re.search(r"Max-Age=(\d+)", header).group(1))
    assert 0 < max_age <= 30 * 86400
    value = header.split(";")[0].split("=", 1)[1]
    assert len(value) >= 40 and email.split("@")[0] not in value


def test_remembered_browser_comes_back_without_its_session(app, client, world):
    email, _ = world.user(world.a)
    _remember_login(client, email)
    token = client.get_cookie(COOKIE).value
    fresh = app.test_client()  # a new browser session: only the remember cookie
    fresh.set_cookie(COOKIE, token)
    assert fresh.get("/yaroslavl/events").status_code == 200
    assert fresh.get("/yaroslavl/venues").status_code == 200  # the session it got carries on


def test_remember_token_is_rotated_at_login_and_cleared_at_logout(app, client, world):
    email, _ = world.user(world.a)
    _remember_login(client, email)
    first = client.get_cookie(COOKIE).value
    _remember_login(client, email)
    second = client.get_cookie(COOKIE).value
    assert first != second and _remember_rows(app) == 1
    stale = app.test_client()
    stale.set_cookie(COOKIE, first)
    assert stale.get("/yaroslavl/events").status_code == 302  # the old token is gone

    response = client.post("/logout")
    assert f"{COOKIE}=;" in _cookie_header(response)
    assert _remember_rows(app) == 0
    replay = app.test_client()
    replay.set_cookie(COOKIE, second)  # a copy of the cookie taken before logout
    assert replay.get("/yaroslavl/events").status_code == 302


def test_an_expired_remember_token_is_refused(app, client, world):
    email, _ = world.user(world.a)
    _remember_login(client, email)
    token = client.get_cookie(COOKIE).value
    with app.app_context():
        db.session.execute(update(RememberToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    other = app.test_client()
    other.set_cookie(COOKIE, token)
    assert other.get("/yaroslavl/events").status_code == 302


def test_password_change_ends_every_other_session_and_remember_cookie(app, client, world):
    email, _ = world.user(world.a)
    login(client, email)
    laptop = app.test_client()
    _remember_login(laptop, email)
    remembered = laptop.get_cookie(COOKIE).value
    new = "another-long-passphrase-7"
    response = client.post("/profile/password", data={"current": PASSWORD, "password": new, "confirm": new})
    assert response.status_code == 302
    assert client.get("/yaroslavl/events").status_code == 200  # this browser carries on
    assert laptop.get("/yaroslavl/events").status_code == 302  # the other one is out
    stolen = app.test_client()
    stolen.set_cookie(COOKIE, remembered)
    assert stolen.get("/yaroslavl/events").status_code == 302
    assert login(app.test_client(), email, new).status_code == 302


def test_change_password_needs_the_current_one_and_a_good_new_one(client, world):
    email, _ = world.user(world.a)
    login(client, email)
    wrong = client.post(
        "/profile/password", data={"current": "nope", "password": "x" * 12, "confirm": "x" * 12}
    )
    assert wrong.status_code == 422 and "Текущий пароль введён неверно" in wrong.get_data(as_text=True)
    common = client.post(
        "/profile/password", data={"current": PASSWORD, "password": "1234567890", "confirm": "1234567890"}
    )
    assert common.status_code == 422 and "слишком распространён" in common.get_data(as_text=True)


# --- API tokens -----------------------------------------------------------------------------------


def test_tokens_are_created_named_with_expiry_listed_and_revoked_from_the_profile(app, client, world):
    email, _ = world.user(world.a)
    login(client, email)
    page = client.post("/profile/tokens", data={"name": "Выгрузка", "days": "30"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    token = re.search(r'class="new-token">(pk_[^<]+)<', text).group(1)
    assert "Выгрузка" in text
    assert client.get("/api/v1/yaroslavl/venues", headers=bearer(token)).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.name == "Выгрузка"))
        assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)
        row_id = row.id
    assert token not in client.get("/profile").get_data(as_text=True)  # shown once only
    assert client.post(f"/profile/tokens/{row_id}/revoke").status_code == 302
    refused = client.get("/api/v1/yaroslavl/venues", headers=bearer(token))
    assert refused.status_code == 401 and refused.json["error"]["code"] == "invalid_token"


def test_nobody_revokes_another_persons_token(app, client, world):
    email, _ = world.user(world.a)
    _, victim_token = world.user(world.a)
    with app.app_context():
        from server.security import token_hash

        victim_id = db.session.scalar(
            select(ApiToken.id).where(ApiToken.token_hash == token_hash(victim_token))
        )
    login(client, email)
    assert client.post(f"/profile/tokens/{victim_id}/revoke").status_code == 404
    assert client.get("/api/v1/yaroslavl/venues", headers=bearer(victim_token)).status_code == 200


def test_an_expired_token_is_refused(app, client, world):
    _, token = world.user(world.a)
    with app.app_context():
        db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert client.get("/api/v1/yaroslavl/venues", headers=bearer(token)).status_code == 401


def test_cli_lists_and_revokes_tokens(app, runner, client, world):
    email, token = world.user(world.a)
    listed = runner.invoke(args=["tokens", "list", email])
    assert listed.exit_code == 0 and token[:8] in listed.output and token not in listed.output
    token_id = re.search(r"^(\d+)\s", listed.output, re.M).group(1)
    revoked = runner.invoke(args=["tokens", "revoke", token_id])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/yaroslavl/venues", headers=bearer(token)).status_code == 401
    created = runner.invoke(args=["tokens", "create", email, "--name", "ci", "--days", "7"])
    assert created.exit_code == 0
    assert client.get("/api/v1/yaroslavl/venues", headers=bearer(created.output.strip())).status_code == 200


def test_cli_deactivates_a_user_everywhere(app, runner, client, world):
    email, token = world.user(world.a)
    login(client, email)
    result = runner.invoke(args=["users", "deactivate", email])
    assert result.exit_code == 0, result.output
    assert client.get("/yaroslavl/events").status_code == 302
    assert client.get("/api/v1/yaroslavl/venues", headers=bearer(token)).status_code == 401
    assert login(app.test_client(), email).status_code == 200  # the form again: no way in


def test_cli_sets_a_role_with_its_scope(app, runner, client, world):
    municipality = world.municipality(world.a, "г. Рыбинск")
    email, token = world.user(world.a)
    result = runner.invoke(
        args=[
            "users",
            "set-role",
            email,
            "--tenant",
            "yaroslavl",
            "--role",
            "municipal",
            "--municipality",
            "г. Рыбинск",
        ]
    )
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/yaroslavl/venues", headers=bearer(token)).status_code == 403
    assert client.get("/api/v1/yaroslavl/schools", headers=bearer(token)).status_code == 200
    missing = runner.invoke(args=["users", "set-role", email, "--tenant", "yaroslavl", "--role", "school"])
    assert missing.exit_code != 0 and municipality
