"""Platform admin: create a region from the federal registry, see every region's size and activity,
suspend and resume a region. Every action is recorded in the region's own audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from server.accounts.auth import Principal
from server.accounts.models import Membership, Role, User
from server.audit.services import record
from server.catalog.models import Event, Municipality, School, Venue
from server.checkins.models import Checkin, Kiosk, ScanResult
from server.database import utcnow
from server.errors import Invalid
from server.extensions import db
from server.people.services import Scope, invite
from server.tickets.models import Ticket
from tenants.models import Tenant
from tenants.registry import Region, regions
from tenants.resolution import forget_tenants
from tenants.scoping import all_tenants, tenant_scope
from tenants.services import create_tenant

ACTIVE_DAYS = 7


@dataclass
class RegionFacts:
    """What the platform admin's list shows of one region: its size and how alive it is."""

    tenant: Tenant
    counts: dict[str, int] = field(default_factory=dict)
    last_seen: datetime | None = None
    last_checkin: datetime | None = None

    def __getitem__(self, key: str) -> int:
        return self.counts.get(key, 0)


def _grouped(statement) -> dict[int, object]:
    return dict(db.session.execute(all_tenants(statement)).all())


def _count(model, *where) -> dict[int, object]:
    """Rows of a tenant-owned table per region."""
    return _grouped(select(model.tenant_id, func.count()).where(*where).group_by(model.tenant_id))


def region_facts() -> list[RegionFacts]:
    """Every region with its counts, in a fixed handful of grouped queries (not one per region)."""
    tenants = list(db.session.scalars(select(Tenant).order_by(Tenant.name)))
    since = utcnow() - timedelta(days=ACTIVE_DAYS)
    counted = {
        "municipalities": _count(Municipality),
        "schools": _count(School),
        "venues": _count(Venue),
        "events": _count(Event),
        "tickets": _count(Ticket),
        "kiosks": _count(Kiosk, Kiosk.revoked_at.is_(None)),
        "users": _count(Membership, Membership.deactivated_at.is_(None)),
        "tickets_week": _count(Ticket, Ticket.created_at > since),
        "checkins_week": _count(Checkin, Checkin.created_at > since, Checkin.result == ScanResult.OK),
    }
    last_seen = _grouped(
        select(Membership.tenant_id, func.max(User.last_seen_at))
        .join(User, User.id == Membership.user_id)
        .group_by(Membership.tenant_id)
    )
    last_checkin = _grouped(
        select(Checkin.tenant_id, func.max(Checkin.created_at)).group_by(Checkin.tenant_id)
    )
    return [
        RegionFacts(
            tenant,
            {name: int(values.get(tenant.id, 0)) for name, values in counted.items()},
            _aware(last_seen.get(tenant.id)),
            _aware(last_checkin.get(tenant.id)),
        )
        for tenant in tenants
    ]


def _aware(moment):
    """Aggregates bypass the UTC column type: give them back their zone."""
    from datetime import UTC

    if isinstance(moment, str):  # SQLite returns MAX() of a datetime column as text
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def free_registry_entries() -> list[Region]:
    """Registry subjects that are not a region here yet, by name."""
    taken = set(db.session.scalars(select(Tenant.slug)))
    return sorted((r for r in regions().values() if r.slug not in taken), key=lambda r: r.name)


def parse_emails(text: str) -> list[str]:
    emails = [part.strip().lower() for part in (text or "").replace(",", "\n").replace(";", "\n").split()]
    return list(dict.fromkeys(e for e in emails if e))


def create_region(
    admin: User, slug: str, *, name: str | None, timezone: str | None, coordinators: list[str]
) -> Tenant:
    """A region from the registry (name and zone filled in unless given) with its first coordinators
    invited by mail."""
    if len(coordinators) > 20:
        raise Invalid("За раз можно пригласить до 20 координаторов.", code="too_many")
    tenant = create_tenant(slug, name=name or None, timezone=timezone or None)
    with tenant_scope(tenant.id):
        record("region.create", "tenant", tenant.id, user_id=admin.id)
        for email in coordinators:
            invite_coordinator(admin, tenant, email)
    return tenant


def invite_coordinator(admin: User, tenant: Tenant, email: str) -> Membership:
    with tenant_scope(tenant.id):
        return invite(Principal(user=admin), email, role=Role.COORDINATOR, scope=Scope())


def coordinators(tenant: Tenant) -> list[Membership]:
    with tenant_scope(tenant.id):
        return list(
            db.session.scalars(
                select(Membership)
                .where(Membership.role == Role.COORDINATOR)
                .join(User, User.id == Membership.user_id)
                .order_by(User.email)
            )
        )


def suspend(admin: User, tenant: Tenant) -> None:
    """Pages, API, kiosks and live stream of the region refuse from now on; nothing is deleted."""
    if tenant.suspended_at is None:
        tenant.suspended_at = utcnow()
        with tenant_scope(tenant.id):
            record("region.suspend", "tenant", tenant.id, user_id=admin.id)
    forget_tenants()


def resume(admin: User, tenant: Tenant) -> None:
    if tenant.suspended_at is not None:
        tenant.suspended_at = None
        with tenant_scope(tenant.id):
            record("region.resume", "tenant", tenant.id, user_id=admin.id)
    forget_tenants()
