"""The outbox of outgoing mail, its attachments, and the addresses we must not write to.

Not `TenantScoped`: the worker and the platform admin read it across regions, and platform mail has
no region. Pages that show one region's mail bind `required_tenant_id()` themselves (services.py).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.database import utcnow
from server.extensions import db


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the worker (next_attempt_at: not before)
    SENDING = "sending"  # claimed by one worker
    SENT = "sent"  # handed to the SMTP server, or kept (embedded default: no MAIL_URL)
    FAILED = "failed"  # gave up after MAIL_MAX_ATTEMPTS transient failures
    BOUNCED = "bounced"  # the address was refused or is invalid: never retried
    DECLINED = "declined"  # the recipient declined this kind of message: never sent


class OutgoingMail(db.Model):
    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("ix_mail_outbox_due", "status", "next_attempt_at"),
        Index("ix_mail_outbox_event", "tenant_id", "event_id", "kind"),
        Index("ix_mail_outbox_region_sent", "tenant_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # idempotency: one message per key
    kind: Mapped[str] = mapped_column(String(40))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column()  # for the coordinator's per-event counts
    school_id: Mapped[int | None] = mapped_column(index=True)  # failed addresses shown to the school
    to_address: Mapped[str] = mapped_column(String(320))
    to_name: Mapped[str | None] = mapped_column(String(200))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MailStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    delivered_via: Mapped[str | None] = mapped_column(String(10))  # "smtp" or "kept"
    error: Mapped[str | None] = mapped_column(String(200))  # a code and a class, never an address
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    attachments: Mapped[list[MailAttachment]] = relationship(
        back_populates="mail", cascade="all, delete-orphan", order_by="MailAttachment.id"
    )

    @property
    def message_id(self) -> str:
        """The same Message-ID on every attempt: a receiver that sees a retry can tell it is one."""
        import hashlib

        return f"<{hashlib.sha256(self.key.encode()).hexdigest()[:32]}@propusk>"


class MailAttachment(db.Model):
    __tablename__ = "mail_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail_outbox.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    mimetype: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    mail: Mapped[OutgoingMail] = relationship(back_populates="attachments")


class MailSuppression(db.Model):
    """An address we do not write to: bounced (every kind, every region) or declined (one kind, one region).

    `scope` is `*` for a bounce, or `<tenant id>:<kind>` for a decline — one unique key for both, which
    a nullable region column could not give (NULLs are distinct in a unique index).
    """

    __tablename__ = "mail_suppressions"
    __table_args__ = (UniqueConstraint("address", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    scope: Mapped[str] = mapped_column(String(60))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(20))  # bounced | invalid | declined
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    BOUNCE_SCOPE = "*"

    @staticmethod
    def decline_scope(tenant_id: int, kind: str) -> str:
        return f"{tenant_id}:{kind}"


class MailRateSlot(db.Model):
    """The next moment a region may send (epoch seconds): each send reserves the slot after it.

    One conditional UPDATE per message spaces a region's mail at MAIL_RATE_PER_MINUTE on every worker
    at once; a message whose slot is later is scheduled for it, not polled.
    """

    __tablename__ = "mail_rate_slots"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    next_slot: Mapped[float] = mapped_column(Float, default=0.0)
