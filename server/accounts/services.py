"""Users, memberships and API tokens: the rules the CLI, pages and API share."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cache

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from server.accounts.models import ApiToken, Membership, Role, User
from server.accounts.passwords import set_password
from server.audit.services import record
from server.database import utcnow
from server.errors import Conflict, Invalid, NotFound
from server.extensions import db
from server.security import new_token, token_hash
from tenants.models import Tenant
from tenants.scoping import tenant_scope

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TOKEN_DAYS = 365


def normal_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normal_email(email)))


@cache
def _decoy_hash(method: str) -> str:
    """A hash made the way real ones are, so checking against it costs what a real check costs."""
    return generate_password_hash("decoy-password-never-matches", method=method)


def authenticate(email: str, password: str) -> User | None:
    """The user whose password this is, or None; equally slow whether or not the address exists."""
    user = find_user(email)
    if user is None or not user.active or not user.password_hash:
        check_password_hash(_decoy_hash(current_app.config["PASSWORD_METHOD"]), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def create_user(
    email: str,
    *,
    password: str | None = None,
    full_name: str = "",
    tenant: Tenant | None = None,
    role: Role | None = None,
    municipality_id: int | None = None,
    school_id: int | None = None,
    venue_id: int | None = None,
    platform_admin: bool = False,
) -> User:
    """Create a user (or reuse one by e-mail) and give them a role in a region."""
    email = normal_email(email)
    if not EMAIL.match(email):
        raise Invalid("Некорректный адрес электронной почты.", code="invalid_email")
    user = find_user(email)
    if user is None:
        user = User(email=email, full_name=full_name, is_platform_admin=platform_admin)
        db.session.add(user)
    if password:
        set_password(user, password)
    if tenant is not None and role is not None:
        grant(user, tenant, role, municipality_id=municipality_id, school_id=school_id, venue_id=venue_id)
    db.session.flush()
    return user


def grant(
    user: User,
    tenant: Tenant,
    role: Role,
    *,
    municipality_id: int | None = None,
    school_id: int | None = None,
    venue_id: int | None = None,
    actor_id: int | None = None,
) -> Membership:
    """Give a user one role in one region; a role narrower than the region must say which part."""
    needs = {Role.MUNICIPAL: municipality_id, Role.SCHOOL: school_id, Role.VENUE: venue_id}
    if role in needs and needs[role] is None:
        raise Invalid(f"Для роли «{role.value}» нужно указать, к чему она относится.", code="scope_required")
    with tenant_scope(tenant):
        if user.id is not None:
            existing = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
            if existing is not None:
                raise Conflict("У пользователя уже есть роль в этом регионе.", code="membership_exists")
        membership = Membership(
            tenant_id=tenant.id,
            user=user,
            role=role,
            municipality_id=municipality_id,
            school_id=school_id,
            venue_id=venue_id,
        )
        db.session.add(membership)
        db.session.flush()
        record(
            "user.role_granted",
            "membership",
            membership.id,
            user_id=actor_id,
            target_user_id=user.id,
            role=role.value,
        )
        db.session.flush()  # stamped with this region while it is in scope
    return membership


def membership_in(user: User, tenant: Tenant) -> Membership | None:
    """The user's active role in a region; a deactivated membership lets nobody in."""
    with tenant_scope(tenant):
        return db.session.scalar(
            select(Membership).where(Membership.user_id == user.id, Membership.deactivated_at.is_(None))
        )


def issue_api_token(email: str, name: str = "", days: int | None = None) -> str:
    """A new bearer token for a user; the plain token is returned once and never stored."""
    user = find_user(email)
    if user is None:
        raise NotFound("Пользователь не найден.", code="user_not_found")
    return create_api_token(user, name, days)


def create_api_token(user: User, name: str = "", days: int | None = None) -> str:
    """A named token that expires after `days` (none: never); shown once, stored as a hash."""
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        raise Invalid(f"Срок действия токена — от 1 до {MAX_TOKEN_DAYS} дней.", code="invalid_expiry")
    token = new_token("pk")
    expires_at = utcnow() + timedelta(days=days) if days else None
    db.session.add(
        ApiToken(
            user=user,
            token_hash=token_hash(token),
            prefix=token[:8],
            name=(name or "").strip()[:100],
            expires_at=expires_at,
        )
    )
    db.session.flush()
    return token


def user_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
        )
    )


def revoke_api_token(token_id: int, user: User | None = None) -> ApiToken:
    """Revoke one token (only one of `user`'s, when given); the next request with it gets 401."""
    query = select(ApiToken).where(ApiToken.id == token_id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    row = db.session.scalar(query)
    if row is None:
        raise NotFound("Токен не найден.", code="token_not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = utcnow()
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now  # a busy integration does not write on every call
    return row.user
