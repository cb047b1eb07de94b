"""The open day's online parents' meeting: quotas per municipality, schools' connection points, and
each municipality's return to the region (the Ярославль letter, Приложения 1–2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.database import utcnow
from server.extensions import db
from tenants.models import TenantScoped, tenant_fk


class ParentMeeting(TenantScoped, db.Model):
    """One online meeting (an online event of the open day) and the deadline of the municipalities' forms."""

    __tablename__ = "parent_meetings"
    __scoped_args__ = (
        UniqueConstraint("tenant_id", "event_id"),
        tenant_fk("event_id", "events", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column()
    deadline: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event = relationship(
        "Event", primaryjoin="ParentMeeting.event_id == Event.id", foreign_keys="ParentMeeting.event_id"
    )


class MeetingQuota(TenantScoped, db.Model):
    """How many parents a municipality is to bring (Приложение 1), and when it submitted its form."""

    __tablename__ = "meeting_quotas"
    __scoped_args__ = (
        UniqueConstraint("tenant_id", "meeting_id", "municipality_id"),
        tenant_fk("meeting_id", "parent_meetings", ondelete="CASCADE"),
        tenant_fk("municipality_id", "municipalities"),
        CheckConstraint("parents >= 0", name="parents_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(index=True)
    municipality_id: Mapped[int] = mapped_column()
    parents: Mapped[int] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column()
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    municipality = relationship(
        "Municipality",
        primaryjoin="MeetingQuota.municipality_id == Municipality.id",
        foreign_keys="MeetingQuota.municipality_id",
    )


class ConnectionPoint(TenantScoped, db.Model):
    """A school's place where parents watch the meeting together, and how many came (Приложение 2)."""

    __tablename__ = "connection_points"
    __scoped_args__ = (
        UniqueConstraint("tenant_id", "meeting_id", "school_id", "place"),
        tenant_fk("meeting_id", "parent_meetings", ondelete="CASCADE"),
        tenant_fk("school_id", "schools"),
        CheckConstraint("parents >= 0", name="parents_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(index=True)
    school_id: Mapped[int] = mapped_column()
    place: Mapped[str] = mapped_column(String(300))
    responsible: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40), default="")
    parents: Mapped[int] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    school = relationship(
        "School",
        primaryjoin="ConnectionPoint.school_id == School.id",
        foreign_keys="ConnectionPoint.school_id",
    )
