"""People in a region: invite with a role and a scope, change it, resend, deactivate. All audited.

A coordinator manages everyone in the region. A municipal coordinator manages school staff of its own
municipality's schools only. Nobody manages themselves (no locking yourself out, no raising yourself).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from server.accounts.auth import Principal
from server.accounts.letters import send_access_notice, send_invitation
from server.accounts.links import issue_link, retire_links
from server.accounts.models import LinkPurpose, Membership, Role, User
from server.accounts.passwords import end_sessions
from server.accounts.services import EMAIL, find_user, grant, normal_email
from server.audit.services import record
from server.catalog.models import Municipality, School, Venue
from server.database import utcnow
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.extensions import db
from tenants.models import Tenant
from tenants.scoping import all_tenants, required_tenant_id

SCOPE_OF = {Role.MUNICIPAL: "municipality_id", Role.SCHOOL: "school_id", Role.VENUE: "venue_id"}
_SCOPE_MODEL = {"municipality_id": Municipality, "school_id": School, "venue_id": Venue}


@dataclass
class Scope:
    """Which part of the region a role covers: only the field the role needs is kept."""

    municipality_id: int | None = None
    school_id: int | None = None
    venue_id: int | None = None

    def for_role(self, role: Role) -> dict[str, int | None]:
        wanted = SCOPE_OF.get(role)
        values = {"municipality_id": None, "school_id": None, "venue_id": None}
        if wanted is not None:
            values[wanted] = getattr(self, wanted)
        return values


def _check_scope(role: Role, scope: Scope) -> dict[str, int | None]:
    """The scope ids for the role, each one checked to exist in this region."""
    values = scope.for_role(role)
    wanted = SCOPE_OF.get(role)
    if wanted is not None:
        object_id = values[wanted]
        model = _SCOPE_MODEL[wanted]
        if object_id is None or db.session.scalar(select(model.id).where(model.id == object_id)) is None:
            what = {"municipality_id": "муниципалитет", "school_id": "школу", "venue_id": "площадку"}
            raise Invalid(f"Для этой роли выберите {what[wanted]}.", code="scope_required")
    return values


def _school_municipality(school_id: int | None) -> int | None:
    if school_id is None:
        return None
    return db.session.scalar(select(School.municipality_id).where(School.id == school_id))


def may_assign(principal: Principal, role: Role, values: dict[str, int | None]) -> bool:
    """May this principal give this role with this scope? Municipal: school staff of its own schools."""
    if principal.is_(Role.COORDINATOR):
        return True
    if principal.is_(Role.MUNICIPAL):
        own = principal.membership.municipality_id
        return role is Role.SCHOOL and _school_municipality(values["school_id"]) == own
    return False


def may_manage(principal: Principal, membership: Membership) -> bool:
    if membership.user_id == principal.user_id:
        return False
    return may_assign(
        principal,
        membership.role,
        {
            "municipality_id": membership.municipality_id,
            "school_id": membership.school_id,
            "venue_id": membership.venue_id,
        },
    )


def people(principal: Principal) -> list[Membership]:
    """The memberships this principal sees on the people page."""
    query = (
        select(Membership)
        .options(joinedload(Membership.user))
        .join(User, User.id == Membership.user_id)
        .order_by(Membership.deactivated_at.is_not(None), User.email)
    )
    if principal.is_(Role.MUNICIPAL):
        own_schools = select(School.id).where(School.municipality_id == principal.membership.municipality_id)
        query = query.where(Membership.role == Role.SCHOOL, Membership.school_id.in_(own_schools))
    elif not principal.is_(Role.COORDINATOR):
        return []
    return list(db.session.scalars(query).unique())


def managed_membership(principal: Principal, membership_id: int) -> Membership:
    """One membership of this region the principal may manage; 404 otherwise (no hint it exists)."""
    membership = db.session.scalar(select(Membership).where(Membership.id == membership_id))
    if membership is None or not may_manage(principal, membership):
        raise NotFound("Пользователь не найден.", code="user_not_found")
    return membership


def _inviter(principal: Principal) -> str:
    user = principal.user
    return (user.full_name or user.email) if user else "Администратор платформы"


def _tenant() -> Tenant:
    return db.session.get(Tenant, required_tenant_id())


def invite(principal: Principal, email: str, *, full_name: str = "", role: Role, scope: Scope) -> Membership:
    """Give a person a role in this region and send them a one-time link to set a password
    (or, when they already have one, a notice). Re-inviting someone already here is refused."""
    email = normal_email(email)
    if not EMAIL.match(email):
        raise Invalid("Некорректный адрес электронной почты.", code="invalid_email")
    values = _check_scope(role, scope)
    if not may_assign(principal, role, values):
        raise Forbidden("Вы можете приглашать только сотрудников школ своего муниципалитета.")
    tenant = _tenant()
    user = find_user(email)
    if user is None:
        user = User(email=email, full_name=(full_name or "").strip()[:200])
        db.session.add(user)
        db.session.flush()
    elif not user.active:
        raise Conflict(
            "Учётная запись с этим адресом отключена. Обратитесь к администратору платформы.",
            code="user_inactive",
        )
    existing = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
    if existing is not None:
        raise Conflict(
            "Этот человек уже есть в списке региона: измените его роль на его странице.",
            code="membership_exists",
        )
    membership = grant(user, tenant, role, **values)
    _send(principal, membership, tenant)
    record(
        "user.invite",
        "membership",
        membership.id,
        user_id=principal.user_id,
        member_user_id=user.id,
        role=role.value,
        **{k: v for k, v in values.items() if v is not None},
    )
    return membership


def _send(principal: Principal, membership: Membership, tenant: Tenant) -> None:
    user = membership.user
    if user.invited:
        token = issue_link(user, LinkPurpose.INVITE, tenant_id=tenant.id, created_by_id=principal.user_id)
        send_invitation(
            user,
            region_name=tenant.name,
            tenant_id=tenant.id,
            role=membership.role,
            token=token,
            inviter=_inviter(principal),
        )
    else:
        send_access_notice(
            user,
            region_name=tenant.name,
            tenant_id=tenant.id,
            role=membership.role,
            membership_id=membership.id,
            inviter=_inviter(principal),
        )


def resend(principal: Principal, membership: Membership) -> None:
    """A fresh invitation link (the old one stops working) for someone who has not signed up yet."""
    if not membership.user.invited:
        raise Conflict("Этот человек уже задал пароль и может войти.", code="already_active")
    if membership.deactivated_at is not None:
        raise Conflict("Доступ отключён: сначала включите его.", code="deactivated")
    _send(principal, membership, _tenant())
    record("user.invite_resend", "membership", membership.id, user_id=principal.user_id)


def change_role(principal: Principal, membership: Membership, role: Role, scope: Scope) -> None:
    """A new role or scope, in force from the person's next request (the role is read every time)."""
    values = _check_scope(role, scope)
    if not may_assign(principal, role, values):
        raise Forbidden("Вы можете назначать только сотрудников школ своего муниципалитета.")
    before = {"role": membership.role.value, **_scope_values(membership)}
    membership.role = role
    for key, value in values.items():
        setattr(membership, key, value)
    after = {"role": role.value, **values}
    if before != after:
        record(
            "user.change_role",
            "membership",
            membership.id,
            user_id=principal.user_id,
            before=before,
            after=after,
        )


def _scope_values(membership: Membership) -> dict[str, int | None]:
    return {key: getattr(membership, key) for key in ("municipality_id", "school_id", "venue_id")}


def deactivate(principal: Principal, membership: Membership) -> None:
    """Take the person's access to this region away at their next request: sessions, «remember me»
    and API tokens all pass through the membership check. Someone with no other region left is
    switched off entirely, and every session of theirs ends."""
    if membership.deactivated_at is not None:
        return
    membership.deactivated_at = utcnow()
    user = membership.user
    retire_links(user, LinkPurpose.INVITE)
    others = db.session.scalar(
        all_tenants(
            select(Membership.id).where(
                Membership.user_id == user.id,
                Membership.id != membership.id,
                Membership.deactivated_at.is_(None),
            )
        ).limit(1)
    )
    if others is None and not user.is_platform_admin:
        user.active = False
        end_sessions(user)
    record("user.deactivate", "membership", membership.id, user_id=principal.user_id)


def reactivate(principal: Principal, membership: Membership) -> None:
    if membership.deactivated_at is None:
        return
    membership.deactivated_at = None
    membership.user.active = True
    record("user.reactivate", "membership", membership.id, user_id=principal.user_id)
