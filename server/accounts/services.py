"""Users, memberships and API tokens: the rules the CLI, pages and API share."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from server.accounts.models import ApiToken, Membership, Role, User
from server.audit.services import record
from server.database import utcnow
from server.errors import Conflict, Invalid, NotFound
from server.extensions import db
from server.security import new_token, token_hash
from tenants.models import Tenant
from tenants.scoping import tenant_scope

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"Пароль должен быть не короче {MIN_PASSWORD} символов.", code="weak_password")
    user.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_METHOD"])


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    if user is None or not user.active or not user.password_hash:
        # Spend the same time as a real check so response time does not reveal which e-mails exist.
        check_password_hash(generate_password_hash("x", method="pbkdf2:sha256:1"), password)
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
    email = email.strip().lower()
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
    with tenant_scope(tenant):
        return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


def issue_api_token(email: str, name: str = "") -> str:
    """A new bearer token for a user; the plain token is returned once and never stored."""
    user = find_user(email)
    if user is None:
        raise NotFound("Пользователь не найден.", code="user_not_found")
    token = new_token("pk")
    db.session.add(ApiToken(user=user, token_hash=token_hash(token), prefix=token[:8], name=name))
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user
