"""The record of every erasure of a student's and guardian's personal data: what, when, on whose request.

It names no one (the student's id points at a row whose names are gone) and is kept for
`ERASURE_RECORD_YEARS`, then removed by the retention purge.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.database import utcnow
from server.extensions import db
from tenants.models import TenantScoped

ERASURE_RECORD_YEARS = 3


class ErasureReason(enum.StrEnum):
    WITHDRAWAL = "withdrawal"  # the guardian withdrew consent on the ticket page
    WRITTEN_REQUEST = "written_request"  # a written request, carried out by a coordinator
    RETENTION = "retention"  # the season's data reached the end of its retention period


class Erasure(TenantScoped, db.Model):
    __tablename__ = "erasures"
    __scoped_args__ = (Index("ix_erasures_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int | None] = mapped_column()
    reason: Mapped[ErasureReason] = mapped_column(Enum(ErasureReason, native_enum=False, length=20))
    # The request as the operator files it («заявление вх. № 15 от 02.12.2026»); no names.
    reference: Mapped[str] = mapped_column(String(200), default="")
    tickets_cancelled: Mapped[int] = mapped_column(default=0)
    tickets_erased: Mapped[int] = mapped_column(default=0)
    consents_erased: Mapped[int] = mapped_column(default=0)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    keep_until: Mapped[datetime] = mapped_column()


REASON_LABELS = {
    ErasureReason.WITHDRAWAL: _l("отзыв согласия родителем на странице билета"),
    ErasureReason.WRITTEN_REQUEST: _l("письменное заявление"),
    ErasureReason.RETENTION: _l("истёк срок хранения"),
}
