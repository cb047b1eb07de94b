"""People and their keys: users, their role in a region, API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

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

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active


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

    user: Mapped[User] = relationship()
