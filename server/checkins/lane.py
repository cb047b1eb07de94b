"""The door's scan answered below Flask: a kiosk's `POST /api/v1/<region>/checkins`, the busiest request.

A scan is one or two short statements, yet Flask's request round trip (the request context, every
extension's hooks, routing, the response object) was a third of its CPU: measured in-process on
PostgreSQL, 2.4–2.8 ms per scan through Flask against 1.7–1.8 ms here. So this WSGI middleware
answers the common scan itself, under an app context, with the door's services (`scan_at_door`, which
ends in `admit_scanned` as the Flask view does). On PostgreSQL it runs them on a connection of its
own, from a pool of autocommit connections, not in a session (`checkins.work.lane_work`).

The Flask view (`api.checkin`) stays the endpoint's one full implementation. Whatever the lane is not
sure of goes there with its body intact — no kiosk token, a body that does not validate, an unknown
region, an unknown, revoked or other region's kiosk — and is answered exactly as documented (401, 404,
422). The lane writes nothing before it knows the kiosk may scan here; only its kiosk's "last seen" time,
as the view does too, and it keeps that.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from werkzeug.http import HTTP_STATUS_CODES

from server.accounts.auth import kiosk_seen_every, kiosk_token
from server.api import error_body
from server.api.errors import CODES
from server.checkins import services
from server.checkins.api import CheckinIn
from server.checkins.work import DoorWork, lane_work
from server.errors import DomainError
from server.security import SECURITY_HEADERS
from tenants.resolution import load_tenant

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("propusk")

_PATH = re.compile(r"/api/v1/([^/]+)/checkins")
MAX_BODY = 4096  # a code (≤ 300 characters) and a scan id; anything bigger is the view's to refuse


class ScanLane:
    """WSGI middleware: a paired kiosk's scan is answered here, every other request by `wsgi_app`."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        scan = _kiosk_scan(environ)
        if scan is None:
            return self.wsgi_app(environ, start_response)
        slug, token, body = scan
        with self.app.app_context():
            answered = _answer(slug, token, body)
            if answered is not None:
                status, payload = answered
                encoded = self.app.json.dumps(payload).encode()
        if answered is None:
            environ["wsgi.input"] = io.BytesIO(body)  # the view reads it again
            return self.wsgi_app(environ, start_response)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(encoded)))]
        start_response(f"{status} {HTTP_STATUS_CODES[status]}", headers + list(SECURITY_HEADERS))
        return [encoded]


def _kiosk_scan(environ: dict[str, Any]) -> tuple[str, str, bytes] | None:
    """(region slug, kiosk token, JSON body) of a kiosk's scan request, or None for anything else."""
    if environ.get("REQUEST_METHOD") != "POST":
        return None
    path = _PATH.fullmatch(environ.get("PATH_INFO", ""))
    if path is None:
        return None
    token = kiosk_token(environ.get("HTTP_AUTHORIZATION"))
    content_type = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    length = environ.get("CONTENT_LENGTH") or ""
    if token is None or content_type != "application/json" or not length.isdigit():
        return None
    if not 0 < int(length) <= MAX_BODY:
        return None
    return path.group(1), token, environ["wsgi.input"].read(int(length))


def _answer(slug: str, token: str, body: bytes) -> tuple[int, dict[str, Any]] | None:
    """The response status and body for a scan, committed; None to leave the request to the view."""
    try:
        with lane_work() as work:
            answer = _admit(slug, token, body, work)
    except DomainError as error:
        return error.status, error_body(error.code, error.message, **error.details)
    except Exception:
        log.exception("unhandled error on POST /api/v1/<tenant>/checkins")  # no path: no tokens in logs
        return 500, error_body(*CODES[500])
    return None if answer is None else (200, answer.as_json())


def _admit(slug: str, token: str, body: bytes, work: DoorWork) -> services.Admission | None:
    """What the view does for a scan it can admit; None where the view must answer (and nothing written)."""
    try:
        data = CheckinIn.model_validate_json(body)
    except ValidationError:
        return None
    tenant = load_tenant(slug)
    if tenant is None:
        return None
    return services.scan_at_door(token, data.code, tenant.id, data.scan_id, kiosk_seen_every(), work)
