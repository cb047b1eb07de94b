"""The WSGI app that alone answers `POST /api/v1/<region>/checkins`, mounted in front of Flask.

Everything about the scan request is here, once: its region (from the path), its kiosk (the bearer
token), its body, its unit of work, its errors in the SPEC's JSON form, the log line of a failure
and the security headers. Flask never sees the request; the Flask rule of the same path
(`server.checkins.api.checkin`) only documents it and answers 500 if the door is not mounted.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine
from werkzeug.http import HTTP_STATUS_CODES

from server.accounts.auth import Unauthenticated, bearer_token, kiosk_seen_every
from server.accounts.services import user_for_token
from server.api import error_body, validated
from server.api.errors import CODES
from server.checkins.api import CheckinIn
from server.database import unit_of_work
from server.door.scan import ForeignKiosk, UnknownKiosk, scan_at_door
from server.errors import DomainError, NotFound
from server.security import SECURITY_HEADERS
from tenants.resolution import load_tenant

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("propusk")

PATH = re.compile(r"/api/v1/([^/]+)/checkins")
MAX_BODY = 4096  # a code (≤ 300 characters) and a scan id
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class DoorMount:
    """Sends `POST /api/v1/<region>/checkins` to the door, everything else to `wsgi_app`."""

    def __init__(self, door: DoorApp, wsgi_app: WSGIApp) -> None:
        self.door = door
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            path = PATH.fullmatch(environ.get("PATH_INFO", ""))
            if path is not None:
                return self.door(environ, start_response, path.group(1))
        return self.wsgi_app(environ, start_response)


def mount(app: Flask) -> None:
    """Put the door in front of the app's WSGI stack (inside the request bound, like every request)."""
    app.wsgi_app = DoorMount(DoorApp(app), app.wsgi_app)  # type: ignore[method-assign]


class DoorApp:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.engine = _door_engine(app)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any], slug: str
    ) -> Iterable[bytes]:
        with self.app.app_context():
            status, body = self.answer(slug, environ)
            encoded = self.app.json.dumps(body).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(encoded)))]
        start_response(f"{status} {HTTP_STATUS_CODES[status]}", headers + list(SECURITY_HEADERS))
        return [encoded]

    def answer(self, slug: str, environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The scan's status and JSON body; what it wrote is committed, or rolled back on any error."""
        try:
            token = _kiosk_token(environ)
            data = _body(environ)
            tenant = load_tenant(slug)
            if tenant is None:
                raise NotFound()
            with unit_of_work(self.engine) as work:
                answer = scan_at_door(token, data.code, tenant.id, data.scan_id, kiosk_seen_every(), work)
        except UnknownKiosk:
            return 401, error_body("kiosk_revoked", "Киоск не найден или отозван.")
        except ForeignKiosk:
            return 404, error_body(*CODES[404])
        except DomainError as error:
            return error.status, error_body(error.code, error.message, **error.details)
        except Exception:
            log.exception("unhandled error on POST /api/v1/<tenant>/checkins")  # no path: no tokens
            return 500, error_body(*CODES[500])
        return 200, answer.as_json()


class TooLarge(DomainError):
    status = 413
    code = CODES[413][0]
    message = "Слишком большой запрос: код и scan_id занимают меньше 4 КБ."


def _kiosk_token(environ: dict[str, Any]) -> str:
    token = bearer_token(environ.get("HTTP_AUTHORIZATION"))
    if token is None:
        raise Unauthenticated()
    if not token.startswith("kk_"):  # off the scan's path: answered as every kiosk endpoint answers it
        if user_for_token(token) is None:
            raise Unauthenticated("Токен недействителен или отозван.", code="invalid_token")
        raise NotFound("Этот адрес только для киосков.", code="kiosk_only")
    return token


def _body(environ: dict[str, Any]) -> CheckinIn:
    """The scan's JSON body, validated; a 422 in the SPEC's form otherwise."""
    content_type = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    length = environ.get("CONTENT_LENGTH") or ""
    if content_type != "application/json" or not length.isdigit():
        return validated(CheckinIn, None)
    if int(length) > MAX_BODY:  # past the route's bound, like any API request past its own: 413, unread
        raise TooLarge()
    raw = environ["wsgi.input"].read(int(length))
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested past Python's recursion limit
        payload = None
    return validated(CheckinIn, payload)


def _door_engine(app: Flask) -> Engine | None:
    """PostgreSQL: the door's own small pool, whose connections carry no session. SQLite: None, the
    scan runs in the session (a second connection would wait for the session's write lock)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        return None
    return create_engine(
        url,
        pool_size=app.config["DATABASE_POOL_SIZE"],
        max_overflow=app.config["DATABASE_MAX_OVERFLOW"],
        pool_pre_ping=bool(app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping")),
        hide_parameters=True,  # like the main engine: no values in a database error
    )
