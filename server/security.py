"""Secrets we hand out and store only as hashes (API tokens, kiosk tokens, pairing codes), and the
security headers every response carries."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import TypeVar

from werkzeug.routing import IntegerConverter

V = TypeVar("V", bound=Callable)


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """SHA-256 is enough: tokens carry 256 random bits, so no slow hash is needed to resist guessing."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# On every response (pages, API, and the kiosks' scans answered by the door app: `server.door`).
# `connect-src 'self'` covers our own ws:/wss: (CSP Level 3); no other host's sockets.
# `no-store`: pages and JSON carry children's names; only static files may be cached (`page_headers`).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(self)"),
)


def body_limit(max_bytes: int) -> Callable[[V], V]:
    """Let one view accept a bigger body than `MAX_CONTENT_LENGTH` (a class list upload).

    Applied by `limit_body` before anything reads the body (CSRF reads the form first).
    """

    def mark(view: V) -> V:
        view.max_body = max_bytes  # type: ignore[attr-defined]
        return view

    return mark


def limit_body() -> None:
    """`before_request`: the route's own body limit, else the app's; a bigger body is a 413."""
    from flask import current_app, request

    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_body", None)
    if limit is not None:
        request.max_content_length = limit


HSTS = "max-age=31536000; includeSubDomains"


def page_headers(response):
    """`after_request`: the security headers; only static files may be cached."""
    from flask import request

    static = (request.endpoint or "").rpartition(".")[2] == "static"
    for name, value in SECURITY_HEADERS:
        if not (static and name == "Cache-Control"):
            response.headers.setdefault(name, value)
    return response


class SecureTransport:
    """WSGI middleware: over HTTPS, HSTS on every response and `Secure` on every cookie.

    At the WSGI edge because Flask writes the session cookie, and Flask-Login the remember cookie,
    after every `after_request` of ours. Behind a proxy, HTTPS is known from `X-Forwarded-Proto` once
    `TRUSTED_PROXIES` is set (ProxyFix runs first). Production must still set SESSION_COOKIE_SECURE=1,
    so that a cookie is never sent over plain HTTP by a browser that was sent there.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secured(status, headers, exc_info=None):
            headers = [
                (name, value + "; Secure")
                if name.lower() == "set-cookie" and "; secure" not in value.lower()
                else (name, value)
                for name, value in headers
            ]
            if not any(name.lower() == "strict-transport-security" for name, _ in headers):
                headers.append(("Strict-Transport-Security", HSTS))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, secured)


class DatabaseId(IntegerConverter):
    """`<int:…>` in every route: a database id, 1 … 2³¹−1. A bigger number is a 404 like any unknown
    id, not a query PostgreSQL refuses (its `integer` ends there) and a 500."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("min", 0)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def private(response):
    """A page reached by a secret link (a ticket's): never cached, never indexed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
