"""Secrets we hand out and store only as hashes (API tokens, kiosk tokens, pairing codes), and the
security headers every response carries."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import TypeVar

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
    "media-src 'self' data: blob:; connect-src 'self' ws: wss:; worker-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# On every response (pages, API, and the door's scans answered below Flask: `checkins.lane`).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
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
