"""A region's mail settings, and the fan-outs (runs) that write one message per family.

A run is the durable intent behind a bulk message — "remind the families of event 12 about the
20 April session" — written in the transaction of the change (or by the periodic job, once: its key is
unique) and fanned out by the worker into outbox rows with idempotent keys, so it can be repeated.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.database import utcnow
from server.extensions import db
from tenants.models import TenantScoped, tenant_fk

DEFAULT_REMINDER_TIME = time(18, 0)


class MailSettings(TenantScoped, db.Model):
    """What a region's families receive from: the sender's name, and when the day-before reminder goes."""

    __tablename__ = "mail_settings"
    __scoped_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_name: Mapped[str | None] = mapped_column(String(200))
    reminder_time: Mapped[str] = mapped_column(String(5), default="18:00")  # HH:MM, region's time

    @property
    def reminder_at(self) -> time:
        hours, minutes = self.reminder_time.split(":")
        return time(int(hours), int(minutes))


class RunStatus:
    PENDING = "pending"
    DONE = "done"


class MailRun(TenantScoped, db.Model):
    __tablename__ = "mail_runs"
    __scoped_args__ = (
        UniqueConstraint("tenant_id", "key"),
        tenant_fk("event_id", "events", ondelete="CASCADE"),
        Index("ix_mail_runs_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120))  # e.g. "reminder:12:2026-04-20"
    kind: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[int | None] = mapped_column(index=True)
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON: what the message must say
    status: Mapped[str] = mapped_column(String(10), default=RunStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column()
