"""The region's reference data: municipalities, schools, venues, programmes, events and quotas."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Enum, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from server.extensions import db
from server.text import school_search_text
from tenants.models import TenantScoped, tenant_fk


class ProgrammeKind(enum.StrEnum):
    OPEN_DAY = "open_day"
    TRIAL = "trial"


class EventFormat(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


PROGRAMME_LABELS = {
    ProgrammeKind.OPEN_DAY: "Единый день открытых дверей «Профессионалитета»",
    ProgrammeKind.TRIAL: "Профессиональные пробы «Билет в будущее»",
}
FORMAT_LABELS = {EventFormat.IN_PERSON: _l("Очно"), EventFormat.ONLINE: _l("Онлайн")}


class Archivable:
    """Reference data that is retired, never deleted: tickets, check-ins and reports keep pointing at
    it, while forms, lists for families and the typeahead stop offering it."""

    archived_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class Municipality(Archivable, TenantScoped, db.Model):
    __tablename__ = "municipalities"
    __scoped_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class School(Archivable, TenantScoped, db.Model):
    __tablename__ = "schools"
    __scoped_args__ = (
        UniqueConstraint("tenant_id", "municipality_id", "name"),
        tenant_fk("municipality_id", "municipalities"),
        Index("ix_schools_tenant_inn", "tenant_id", "inn", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str | None] = mapped_column(String(200))
    # ИНН: what a re-import matches a school by when its name was written differently.
    inn: Mapped[str | None] = mapped_column(String(12))
    # Its words lower-cased, ё→е, with the usual abbreviations (server.text.school_search_text): what
    # the typeahead matches word by word, on any database.
    search_name: Mapped[str] = mapped_column(String(300), index=True)

    municipality: Mapped[Municipality] = relationship(
        primaryjoin="School.municipality_id == Municipality.id",
        foreign_keys="School.municipality_id",
    )

    @validates("name")
    def _keep_search_name(self, key: str, name: str) -> str:
        self.search_name = school_search_text(name)
        return name


class Venue(Archivable, TenantScoped, db.Model):
    """A college (ПОО), enterprise, ЦОПП or cluster site."""

    __tablename__ = "venues"
    __scoped_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(500))
    cluster: Mapped[str | None] = mapped_column(String(200))


class Programme(TenantScoped, db.Model):
    """Open day or trials in one region, with that region's season rules."""

    __tablename__ = "programmes"
    __scoped_args__ = (UniqueConstraint("tenant_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ProgrammeKind] = mapped_column(Enum(ProgrammeKind, native_enum=False, length=20))
    title: Mapped[str] = mapped_column(String(200))
    season_limit: Mapped[int | None] = mapped_column()
    season_in_person_limit: Mapped[int | None] = mapped_column()
    checkin_opens_minutes: Mapped[int] = mapped_column(default=60)


class Event(Archivable, TenantScoped, db.Model):
    """One session at a venue. `registered` is kept by the ticket service in the same transaction."""

    __tablename__ = "events"
    __scoped_args__ = (
        tenant_fk("programme_id", "programmes"),
        tenant_fk("venue_id", "venues"),
        CheckConstraint("capacity >= 0", name="capacity_non_negative"),
        CheckConstraint("registered >= 0 AND registered <= capacity", name="registered_within"),
        CheckConstraint("grade_min >= 1 AND grade_min <= grade_max AND grade_max <= 11", name="grades"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(index=True)
    venue_id: Mapped[int] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(300))
    format: Mapped[EventFormat] = mapped_column(Enum(EventFormat, native_enum=False, length=20))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column()
    capacity: Mapped[int] = mapped_column()
    registered: Mapped[int] = mapped_column(default=0)
    grade_min: Mapped[int] = mapped_column()
    grade_max: Mapped[int] = mapped_column()
    description: Mapped[str] = mapped_column(String(2000), default="")
    broadcast_url: Mapped[str | None] = mapped_column(String(500))
    quota_deadline: Mapped[datetime | None] = mapped_column()
    # Whether any municipality has a quota here: read with the seat under the event's lock, so the
    # registrations of an event without quotas (most) skip reading them (see tickets.rules).
    has_quotas: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Cancelled by the coordinator (server.notifications.services.cancel_event): families are told.
    cancelled_at: Mapped[datetime | None] = mapped_column()

    programme: Mapped[Programme] = relationship(
        primaryjoin="Event.programme_id == Programme.id", foreign_keys="Event.programme_id"
    )
    venue: Mapped[Venue] = relationship(
        primaryjoin="Event.venue_id == Venue.id", foreign_keys="Event.venue_id"
    )
    quotas: Mapped[list[EventQuota]] = relationship(
        primaryjoin="Event.id == EventQuota.event_id",
        foreign_keys="EventQuota.event_id",
        cascade="all, delete-orphan",
        order_by="EventQuota.id",
    )

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.registered, 0)


class EventQuota(TenantScoped, db.Model):
    """Seats of an event reserved for one municipality's schools; `used` moves with its tickets."""

    __tablename__ = "event_quotas"
    __scoped_args__ = (
        UniqueConstraint("tenant_id", "event_id", "municipality_id"),
        tenant_fk("event_id", "events", ondelete="CASCADE"),
        tenant_fk("municipality_id", "municipalities"),
        CheckConstraint("used >= 0 AND used <= seats", name="used_within"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(index=True)
    municipality_id: Mapped[int] = mapped_column()
    seats: Mapped[int] = mapped_column()
    used: Mapped[int] = mapped_column(default=0)

    municipality: Mapped[Municipality] = relationship(
        primaryjoin="EventQuota.municipality_id == Municipality.id",
        foreign_keys="EventQuota.municipality_id",
    )


class SchoolQuota(TenantScoped, db.Model):
    """A municipal coordinator's split of its municipality's quota among its schools."""

    __tablename__ = "school_quotas"
    __scoped_args__ = (
        UniqueConstraint("tenant_id", "event_id", "school_id"),
        tenant_fk("event_id", "events", ondelete="CASCADE"),
        tenant_fk("school_id", "schools"),
        CheckConstraint("used >= 0 AND used <= seats", name="used_within"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(index=True)
    school_id: Mapped[int] = mapped_column()
    seats: Mapped[int] = mapped_column()
    used: Mapped[int] = mapped_column(default=0)


class AdmissionCount(TenantScoped, db.Model):
    """Admitted per event, kept by the door in the admitting transaction (`server.checkins.counts`): an
    O(1) count for every list, live message and kiosk screen, where counting check-in rows grows with
    the day.

    Split into shards (a kiosk's own row at the door; one of `LINK_SHARDS` for admissions without a
    kiosk) so that doors admitting at once never wait on each other's row lock. The event's count is
    the sum of its shards, and always equals its admitted check-in rows (tests hold it to that).
    """

    __tablename__ = "admission_counts"
    __scoped_args__ = (
        tenant_fk("event_id", "events", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "event_id", "shard"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column()
    shard: Mapped[int] = mapped_column()
    admitted: Mapped[int] = mapped_column(default=0)
