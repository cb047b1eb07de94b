"""The tenant (a region) and the mixin every tenant-owned model carries."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from server.database import utcnow
from server.extensions import db


class Tenant(db.Model):
    """A region (субъект РФ). Not tenant-scoped itself: it is the scope."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A suspended region keeps everything; its pages, API, kiosks and live stream refuse.
    suspended_at: Mapped[datetime | None] = mapped_column()
    # The personal-data operator families consent to (152-ФЗ): named in the consent text and the
    # privacy notice; set by the region's coordinator.
    operator_name: Mapped[str | None] = mapped_column(String(300))
    operator_address: Mapped[str | None] = mapped_column(String(500))
    operator_contact: Mapped[str | None] = mapped_column(String(300))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime | None) -> datetime | None:
        """A UTC moment as the region's wall-clock time."""
        return None if moment is None else moment.astimezone(self.tz)

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


# Parents that many concurrent writers point at: the region, an event (every ticket and scan), a school
# (every student). PostgreSQL checks a foreign key by key-share locking the parent row. Checked at once,
# that lock is held for the whole transaction, and a registration rush piled ~30 lockers on the event
# and tenant rows: every new locker rewrites the row's multixact, 12 % of all CPU in the registration
# benchmark. Checked at commit, the lock lasts for the commit only; the guarantee is the same.
SHARED_PARENTS = frozenset({"tenants", "events", "schools"})


def _checked(parent_table: str) -> dict:
    """When a foreign key to `parent_table` is checked: at commit for `SHARED_PARENTS`, else at once."""
    return {"deferrable": True, "initially": "DEFERRED"} if parent_table in SHARED_PARENTS else {}


class TenantScoped:
    """Mixin: a non-null tenant id, and `(tenant_id, id)` unique so children can point at it.

    That unique index leads with `tenant_id`, so it also serves every lookup by region (and the
    cascade from a deleted region): a second index on `tenant_id` alone would only be written to.

    Subclasses put extra table args in `__scoped_args__`; `tenant_fk` builds the composite foreign keys.
    The key to the tenant row is checked at commit (see `SHARED_PARENTS`).
    """

    __scoped_args__: tuple = ()

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE", **_checked("tenants")))

    @declared_attr.directive
    def __table_args__(cls) -> tuple:  # noqa: N805
        return (UniqueConstraint("tenant_id", "id"), *cls.__scoped_args__)


def tenant_fk(column: str, parent_table: str, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A foreign key on `(tenant_id, column)`: a child can only ever point at a parent of its own tenant."""
    return ForeignKeyConstraint(
        ["tenant_id", column],
        [f"{parent_table}.tenant_id", f"{parent_table}.id"],
        ondelete=ondelete,
        **_checked(parent_table),
    )
