"""Students, their guardians' consent, class groups and the tickets they hold."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.database import utcnow
from server.extensions import db
from tenants.models import TenantScoped, tenant_fk


class TicketStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class ConsentMethod(enum.StrEnum):
    ONLINE = "online"  # ticked by the guardian on the registration page
    PAPER = "paper"  # collected on paper by the school, recorded by its staff
    API = "api"  # asserted by an integration under its token


CONSENT_METHOD_LABELS = {
    ConsentMethod.ONLINE: _l("отмечено родителем при записи на сайте"),
    ConsentMethod.PAPER: _l("подписано на бумаге, собрано школой"),
    ConsentMethod.API: _l("передано информационной системой"),
}


ERASED_NAME = "(данные удалены)"  # what lists show for a student whose names were erased


def short_name(last_name: str, first_name: str | None, middle_name: str | None) -> str:
    """«Иванов И. И.» — all a door or a dashboard needs."""
    initials = " ".join(f"{part[0]}." for part in (first_name, middle_name) if part)
    return f"{last_name} {initials}".strip()


class Student(TenantScoped, db.Model):
    """One student. The same school + normalised full name + grade is the same student (season limits)."""

    __tablename__ = "students"
    __scoped_args__ = (
        UniqueConstraint("tenant_id", "school_id", "identity_name", "grade"),
        tenant_fk("school_id", "schools"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(index=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    grade: Mapped[int] = mapped_column()
    identity_name: Mapped[str] = mapped_column(String(320))
    search_last_name: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the names were erased (withdrawal, written request, retention): school and grade stay,
    # so the anonymous counts by school and municipality do not change.
    erased_at: Mapped[datetime | None] = mapped_column()

    school = relationship(
        "School", primaryjoin="Student.school_id == School.id", foreign_keys="Student.school_id"
    )

    @property
    def short_name(self) -> str:
        if self.erased_at is not None:
            return ERASED_NAME
        return short_name(self.last_name, self.first_name, self.middle_name)

    @property
    def full_name(self) -> str:
        if self.erased_at is not None:
            return ERASED_NAME
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


class Consent(TenantScoped, db.Model):
    """Согласие на обработку персональных данных: who gave it, when, which text, how."""

    __tablename__ = "consents"
    __scoped_args__ = (tenant_fk("student_id", "students"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(index=True)
    guardian_name: Mapped[str] = mapped_column(String(200))
    guardian_phone: Mapped[str | None] = mapped_column(String(40))
    guardian_email: Mapped[str | None] = mapped_column(String(254))
    text_version: Mapped[str] = mapped_column(String(20))
    method: Mapped[ConsentMethod] = mapped_column(Enum(ConsentMethod, native_enum=False, length=10))
    given_at: Mapped[datetime] = mapped_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The operator named in the text when it was given (the text is `consent.text_of(version, ...)`).
    operator_name: Mapped[str | None] = mapped_column(String(300))
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    erased_at: Mapped[datetime | None] = mapped_column()  # guardian's name and contacts removed


class ClassGroup(TenantScoped, db.Model):
    """A class a school brings to one event: the unit of the class sheet and of group admission."""

    __tablename__ = "class_groups"
    __scoped_args__ = (
        tenant_fk("event_id", "events", ondelete="CASCADE"),
        tenant_fk("school_id", "schools"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(index=True)
    school_id: Mapped[int] = mapped_column(index=True)
    label: Mapped[str] = mapped_column(String(40))  # «8А»
    escort_name: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ticket(TenantScoped, db.Model):
    """One registration. `code` is the signed opaque payload the QR holds; `access_token` opens its page."""

    __tablename__ = "tickets"
    __scoped_args__ = (
        tenant_fk("event_id", "events"),
        tenant_fk("student_id", "students"),
        tenant_fk("consent_id", "consents"),
        tenant_fk("group_id", "class_groups", ondelete="SET NULL"),
        tenant_fk("replaces_id", "tickets"),
        # A student holds at most one active ticket per event. The enum column stores member NAMES.
        Index(
            "uq_tickets_active_student_event",
            "tenant_id",
            "event_id",
            "student_id",
            unique=True,
            sqlite_where=db.text("status = 'ACTIVE'"),
            postgresql_where=db.text("status = 'ACTIVE'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(index=True)
    student_id: Mapped[int] = mapped_column(index=True)
    consent_id: Mapped[int] = mapped_column()
    group_id: Mapped[int | None] = mapped_column(index=True)
    municipality_id: Mapped[int] = mapped_column()  # frozen at registration: quota accounting
    status: Mapped[TicketStatus] = mapped_column(
        Enum(TicketStatus, native_enum=False, length=10), default=TicketStatus.ACTIVE
    )
    code: Mapped[str | None] = mapped_column(String(128), unique=True)  # 125 chars of base32
    access_token: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(20), default="public")
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    replaces_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column()
    cancelled_by: Mapped[str | None] = mapped_column(String(100))
    left_at: Mapped[datetime | None] = mapped_column()  # marked as left with the teacher
    # Which counters this ticket took a seat from, so a cancellation gives back exactly those.
    in_quota: Mapped[bool] = mapped_column(default=False)
    in_school_quota: Mapped[bool] = mapped_column(default=False)

    event = relationship("Event", primaryjoin="Ticket.event_id == Event.id", foreign_keys="Ticket.event_id")
    student: Mapped[Student] = relationship(
        primaryjoin="Ticket.student_id == Student.id", foreign_keys="Ticket.student_id"
    )


class SigningKey(TenantScoped, db.Model):
    """A tenant's Ed25519 key for ticket codes. Kiosks verify offline with the public half; rotatable."""

    __tablename__ = "signing_keys"
    __scoped_args__ = (UniqueConstraint("tenant_id", "key_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column()
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_key: Mapped[bytes] = mapped_column(LargeBinary(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()
