"""Who asked for a report by e-mail, and how often. The scope is the subscriber's role at send time."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.database import utcnow
from server.extensions import db
from tenants.models import TenantScoped


class Frequency(enum.StrEnum):
    DAILY = "daily"  # the day's summary, in the evening of every day that had events
    WEEKLY = "weekly"  # the last seven days, on Monday morning, through the season


class ReportSubscription(TenantScoped, db.Model):
    __tablename__ = "report_subscriptions"
    __scoped_args__ = (UniqueConstraint("tenant_id", "user_id", "frequency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    frequency: Mapped[Frequency] = mapped_column(Enum(Frequency, native_enum=False, length=10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User")
