"""People and their keys: users, their role in a region, API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.database import utcnow
from server.extensions import db
from tenants.models import Tenant, TenantScoped, tenant_fk


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    MUNICIPAL = "municipal"
    SCHOOL = "school"
    VENUE = "venue"


ROLE_LABELS = {
    Role.COORDINATOR: _l("Региональный координатор"),
    Role.MUNICIPAL: _l("Муниципальный координатор"),
    Role.SCHOOL: _l("Ответственный от школы"),
    Role.VENUE: _l("Сотрудник площадки"),
}


class User(UserMixin, db.Model):
    """A person who signs in. Platform admins are users with `is_platform_admin`."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_platform_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of every login session's id: a new value (password change, deactivation) ends them all.
    session_key: Mapped[str] = mapped_column(String(32), default="", server_default="")
    last_seen_at: Mapped[datetime | None] = mapped_column()
    password_changed_at: Mapped[datetime | None] = mapped_column()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_key}"

    @property
    def invited(self) -> bool:
        """Invited and not yet signed up: no password set."""
        return self.password_hash is None


class Membership(TenantScoped, db.Model):
    """A user's role in one region, narrowed to a municipality, school or venue where the role needs it."""

    __tablename__ = "memberships"
    __scoped_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        tenant_fk("municipality_id", "municipalities"),
        tenant_fk("school_id", "schools"),
        tenant_fk("venue_id", "venues"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    municipality_id: Mapped[int | None] = mapped_column()
    school_id: Mapped[int | None] = mapped_column()
    venue_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    # A deactivated membership keeps the row (and the audit trail) but lets nobody in.
    deactivated_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()
    tenant: Mapped[Tenant] = relationship()
    municipality = relationship(
        "Municipality",
        primaryjoin="Membership.municipality_id == Municipality.id",
        foreign_keys="Membership.municipality_id",
    )
    school = relationship(
        "School", primaryjoin="Membership.school_id == School.id", foreign_keys="Membership.school_id"
    )
    venue = relationship(
        "Venue", primaryjoin="Membership.venue_id == Venue.id", foreign_keys="Membership.venue_id"
    )


class ApiToken(db.Model):
    """A bearer token for integrations; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class RememberToken(db.Model):
    """One browser's «remember me»: a random secret of which only the hash is stored, so logout, a
    password change or a deactivation can take it back (a signed cookie alone could not be)."""

    __tablename__ = "remember_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()

    user: Mapped[User] = relationship()


class LinkPurpose(enum.StrEnum):
    INVITE = "invite"
    RESET = "reset"


class AccountLink(db.Model):
    """A one-time link sent by mail: an invitation to set a first password, or a password reset.

    Not tenant-scoped: a reset belongs to the person, and the link is opened before anyone knows the
    region. `tenant_id` only says which region an invitation came from (where to go after it).
    """

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(Enum(LinkPurpose, native_enum=False, length=10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(foreign_keys=[user_id])
