"""The CLI of the SPEC, configuration from the environment, migrations and the Russian/English interface."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from server import create_app
from server.config import normalise_database_url
from tests.conftest import POSTGRES, _wipe, bearer

ROOT = Path(__file__).resolve().parents[2]


def test_tenants_create_fills_name_and_timezone_from_the_registry(runner):
    result = runner.invoke(args=["tenants", "create", "kamchatka"])
    assert result.exit_code == 0, result.output
    assert "Камчатский край" in result.output and "Asia/Kamchatka" in result.output


def test_tenants_create_refuses_an_unknown_slug_without_details(runner):
    result = runner.invoke(args=["tenants", "create", "atlantis"])
    assert result.exit_code != 0 and "укажите --name и --timezone" in result.output


def test_users_and_tokens_from_the_cli_open_the_api(runner, client):
    created = runner.invoke(
        args=["users", "create", "ops@yar.ru", "--tenant", "yaroslavl", "--role", "coordinator"]
    )
    assert created.exit_code == 0, created.output
    assert "Пароль:" in created.output
    token = runner.invoke(args=["tokens", "create", "ops@yar.ru"]).output.strip()
    assert token.startswith("pk_")
    assert client.get("/api/v1/yaroslavl/venues", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/irkutsk/venues", headers=bearer(token)).status_code == 404


def test_demo_builds_two_regions_and_prints_logins(app, runner, client):
    _wipe(app)  # the demo builds its regions itself (and leaves existing ones alone)
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "coordinator@yaroslavl.demo" in result.output and "coordinator@irkutsk.demo" in result.output
    assert re.search(r"venue@irkutsk\.demo +Сотрудник площадки", result.output)
    login = client.post(
        "/login", data={"email": "coordinator@yaroslavl.demo", "password": "propusk-demo-2026"}
    )
    assert login.status_code == 302
    home = client.get("/yaroslavl/").get_data(as_text=True)
    for cluster in (
        "Железнодорожный транспорт",
        "Биофармацевтическое производство",
        "Машиностроение",
        "Педагогика",
    ):
        assert cluster in home
    again = runner.invoke(args=["demo"])  # idempotent
    assert again.exit_code == 0


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_plain_postgresql_urls_are_driven_by_psycopg3():
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_english_is_the_second_locale(client):
    russian = client.get("/login").get_data(as_text=True)
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Вход для сотрудников" in russian
    assert "Staff sign-in" in english and "Вход для сотрудников" not in english


def test_forms_need_a_csrf_token(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/login", data={"email": "a@b.ru", "password": "x" * 12})
    assert response.status_code == 400
    assert "Страница устарела" in response.get_data(as_text=True)


def test_pages_send_a_strict_content_security_policy(client):
    policy = client.get("/login").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def _flask(args, database_url, check=True):
    env = {**os.environ, "DATABASE_URL": database_url, "PROPUSK_ENV": "development"}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


def test_migrations_build_the_schema_the_models_describe(tmp_path):
    """`flask db upgrade` on an empty database, then `flask db check`: models and migrations agree."""
    if POSTGRES:
        import psycopg

        admin = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS propusk_migrations_check")
            conn.execute("CREATE DATABASE propusk_migrations_check")
        url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/propusk_migrations_check"
    else:
        url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    _flask(["db", "upgrade"], url)
    check = _flask(["db", "check"], url, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    # The app starts on the upgraded database and serves the login page.
    started = _flask(["routes"], url)
    assert "/login" in started.stdout
