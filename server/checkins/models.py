"""Kiosks at the door and the append-only log of every scan they make."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.database import utcnow
from server.extensions import db
from tenants.models import TenantScoped, tenant_fk


class ScanResult(enum.StrEnum):
    OK = "ok"
    ALREADY_CHECKED_IN = "already_checked_in"
    CANCELLED = "cancelled"
    WRONG_VENUE = "wrong_venue"
    OUTSIDE_WINDOW = "outside_window"
    INVALID = "invalid"


class AdmissionMethod(enum.StrEnum):
    SCAN = "scan"
    MANUAL = "manual"  # found by surname, admitted by a named member of staff
    GROUP = "group"  # ticked on a class checklist after the escort QR
    ONLINE = "online"  # opened the personal join link of an online event
    OFFLINE = "offline"  # admitted by a kiosk without network, synced later


class Kiosk(TenantScoped, db.Model):
    """A device paired to one venue. Pairing code and token are stored only as hashes."""

    __tablename__ = "kiosks"
    __scoped_args__ = (tenant_fk("venue_id", "venues"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    pairing_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pairing_expires_at: Mapped[datetime | None] = mapped_column()
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    paired_at: Mapped[datetime | None] = mapped_column()
    last_seen_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    venue = relationship("Venue", primaryjoin="Kiosk.venue_id == Venue.id", foreign_keys="Kiosk.venue_id")


class Checkin(TenantScoped, db.Model):
    """Every scan, admitted or refused, with its reason. "Once" is the partial unique index below."""

    __tablename__ = "checkins"
    __scoped_args__ = (
        tenant_fk("ticket_id", "tickets"),
        tenant_fk("event_id", "events"),
        tenant_fk("kiosk_id", "kiosks"),
        UniqueConstraint("tenant_id", "kiosk_id", "scan_id"),
        Index(
            "uq_checkins_admitted_once",
            "tenant_id",
            "ticket_id",
            unique=True,
            # The enum column stores member names: 'OK', not the value 'ok'.
            sqlite_where=db.text("result = 'OK'"),
            postgresql_where=db.text("result = 'OK'"),
        ),
        Index("ix_checkins_event_created", "tenant_id", "event_id", "created_at"),
        Index("ix_checkins_kiosk_created", "tenant_id", "kiosk_id", "created_at"),
        # Admitted per event (counters on every kiosk screen and live message): an index-only count.
        Index(
            "ix_checkins_admitted_event",
            "tenant_id",
            "event_id",
            sqlite_where=db.text("result = 'OK'"),
            postgresql_where=db.text("result = 'OK'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(index=True)
    event_id: Mapped[int | None] = mapped_column()
    kiosk_id: Mapped[int | None] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    result: Mapped[ScanResult] = mapped_column(Enum(ScanResult, native_enum=False, length=24))
    method: Mapped[AdmissionMethod] = mapped_column(
        Enum(AdmissionMethod, native_enum=False, length=10), default=AdmissionMethod.SCAN
    )
    scan_id: Mapped[str | None] = mapped_column(String(64))
    scanned_at: Mapped[datetime] = mapped_column()  # the device's moment (offline scans arrive later)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    conflict: Mapped[bool] = mapped_column(default=False)  # admitted offline at two doors
    # The answer given at the door, word for word: a replayed scan_id gets exactly this back.
    message: Mapped[str | None] = mapped_column(String(300))

    ticket = relationship(
        "Ticket", primaryjoin="Checkin.ticket_id == Ticket.id", foreign_keys="Checkin.ticket_id"
    )
    kiosk = relationship("Kiosk", primaryjoin="Checkin.kiosk_id == Kiosk.id", foreign_keys="Checkin.kiosk_id")
