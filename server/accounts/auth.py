"""Who is asking, and may they: sessions for pages, bearer tokens for the API and kiosks.

A principal is resolved once per request and cached in `g`. The tenant in the URL selects a region;
only a membership (or a kiosk paired there) lets anyone in. Strangers to a region get 404, not 403,
so that region B's objects cannot even be confirmed to exist by region A.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import TypeVar

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import current_user, login_user

from server.accounts.models import Membership, Role, User
from server.accounts.services import membership_in, user_for_token
from server.database import utcnow
from server.errors import DomainError
from server.extensions import db, login_manager
from server.security import same


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    message = "Нужен действующий токен доступа (Authorization: Bearer …)."


@dataclass
class Principal:
    """A signed-in user with their role in the current region, or a paired kiosk."""

    user: User | None = None
    membership: Membership | None = None
    kiosk: object | None = None  # server.checkins.kiosks.DoorKiosk

    @property
    def role(self) -> Role | None:
        if self.user is not None and self.user.is_platform_admin:
            return Role.COORDINATOR
        return self.membership.role if self.membership else None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    def is_(self, *roles: Role) -> bool:
        return self.role in roles


LAST_SEEN_EVERY = timedelta(minutes=5)


def _seen(user: User) -> User:
    """Note when the person was last here, for the coordinator's list (not on every request)."""
    now = utcnow()
    if user.last_seen_at is None or now - user.last_seen_at > LAST_SEEN_EVERY:
        user.last_seen_at = now
    return user


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The session holds `<user id>:<session key>`; a new key (password change, deactivation) ends
    every session made with the old one."""
    raw_id, _, key = (session_id or "").partition(":")
    user = db.session.get(User, int(raw_id)) if raw_id.isdigit() else None
    if user is None or not user.active or not same(user.session_key or "", key):
        return None
    return _seen(user)


@login_manager.request_loader
def _load_remembered(_request) -> User | None:
    """No session: a valid «remember me» token signs the browser in again (a non-fresh session)."""
    from server.accounts.remember import remembered_user

    user = remembered_user()
    if user is None:
        return None
    login_user(user, fresh=False)  # the session's id and protection marks, as at a login
    return _seen(user)


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    scheme, _, token = (header or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def kiosk_token(header: str | None) -> str | None:
    """The bearer token when it is a kiosk's (`kk_…`)."""
    token = bearer_token(header)
    return token if token and token.startswith("kk_") else None


def _bearer() -> str | None:
    return bearer_token(request.headers.get("Authorization"))


def _principal_for(user: User) -> Principal:
    membership = membership_in(user, g.tenant) if g.get("tenant") is not None else None
    return Principal(user=user, membership=membership)


def kiosk_seen_every() -> timedelta:
    """How often a kiosk's "last seen" is written: the coordinator's list, not every scan."""
    return timedelta(seconds=current_app.config.get("KIOSK_SEEN_EVERY_SECONDS", 60))


KioskLoader = TypeVar("KioskLoader", bound=Callable[[str, timedelta], object | None])
_kiosks: Callable[[str, timedelta], object | None] | None = None


def kiosk_loader(loader: KioskLoader) -> KioskLoader:
    """Register how a kiosk token is read, as Flask-Login's `user_loader`: the door's package does it,
    since accounts sits below it and does not know kiosks."""
    global _kiosks
    _kiosks = loader
    return loader


def kiosk_bearer() -> str | None:
    return kiosk_token(request.headers.get("Authorization"))


def _kiosk_principal(kiosk) -> Principal:
    if kiosk is None:
        raise Unauthenticated("Киоск не найден или отозван.", code="kiosk_revoked")
    return Principal(kiosk=kiosk)


def api_principal() -> Principal:
    """The bearer of this API request: a user token or a kiosk token. Raises 401 when neither."""
    if "principal" in g:
        return g.principal
    token = _bearer()
    if not token:
        raise Unauthenticated()
    if token.startswith("kk_"):
        assert _kiosks is not None, "no kiosk loader registered (server.checkins.kiosks)"
        principal = _kiosk_principal(_kiosks(token, kiosk_seen_every()))
    else:
        user = user_for_token(token)
        if user is None:
            raise Unauthenticated("Токен недействителен или отозван.", code="invalid_token")
        principal = _principal_for(user)
    g.principal = principal
    return principal


def admit_kiosk(kiosk) -> None:
    """Make a kiosk that a view read by its token itself (the door's scan reads it with the ticket) this
    request's principal, with the answers `api_roles(kiosk=True)` gives: 401 for an unknown or revoked
    token, 404 for another region's kiosk."""
    principal = g.principal = _kiosk_principal(kiosk)
    check_access(principal, (), kiosk=True)


def page_principal() -> Principal | None:
    if not current_user.is_authenticated:
        return None
    if "principal" not in g:
        g.principal = _principal_for(current_user._get_current_object())
    return g.principal


def check_access(principal: Principal, roles: tuple[Role, ...], kiosk: bool) -> None:
    """404 for strangers to the region, 403 for members whose role does not reach."""
    tenant = g.get("tenant")
    if principal.kiosk is not None:
        if not kiosk or tenant is None or principal.kiosk.tenant_id != tenant.id:
            abort(404)
        return
    if tenant is not None and principal.role is None:
        abort(404)
    if roles and principal.role not in roles:
        abort(403)


def roles_required(*roles: Role) -> Callable:
    """Page guard: sign in first, then be a member of this region with one of these roles."""

    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            principal = page_principal()
            if principal is None:
                return redirect(url_for("accounts.login", next=request.full_path))
            check_access(principal, roles, kiosk=False)
            return view(*args, **kwargs)

        return guarded

    return wrap


def api_roles(*roles: Role, kiosk: bool = False) -> Callable:
    """API guard: a valid bearer token of this region with one of these roles (or its kiosk)."""

    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            check_access(api_principal(), roles, kiosk=kiosk)
            return view(*args, **kwargs)

        return guarded

    return wrap


STAFF = (Role.COORDINATOR, Role.MUNICIPAL, Role.SCHOOL, Role.VENUE)
