"""What the live stream says: snapshots of counts from the database, and one message per admission.

A snapshot is always computed from the database for one scope (the region, or the municipality,
school or venue a user is limited to) and one day; `checkin` messages only move it forward between
snapshots. The dashboard never holds a number the database does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select

from server.accounts.models import Membership, Role, User
from server.catalog.models import (
    PROGRAMME_LABELS,
    Event,
    EventFormat,
    EventQuota,
    Municipality,
    Programme,
    ProgrammeKind,
    School,
    Venue,
)
from server.checkins.counts import admitted
from server.checkins.models import Checkin, ScanResult
from server.database import Work
from server.extensions import db
from server.live.publish import municipality_room, outbox, queue, school_room, tenant_room, venue_room
from server.tickets.models import Student, Ticket, TicketStatus
from tenants.models import Tenant

LAG_MINUTES = 30  # an in-person event with nobody admitted this long after its start is flagged
BUCKET_SECONDS = 600  # arrivals chart: per 10 minutes
FEED_SIZE = 25
SEEN_WINDOW = timedelta(minutes=10)  # admissions a fresh snapshot already counts (client dedup)


class ScopeKind(StrEnum):
    REGION = "region"
    MUNICIPALITY = "municipality"
    SCHOOL = "school"
    VENUE = "venue"


@dataclass(frozen=True)
class LiveScope:
    """What one dashboard may see: the whole region, or one municipality, school or venue of it."""

    tenant_id: int
    kind: ScopeKind
    object_id: int | None = None
    label: str = ""

    @property
    def room(self) -> str:
        if self.kind is ScopeKind.MUNICIPALITY:
            return municipality_room(self.tenant_id, self.object_id)
        if self.kind is ScopeKind.SCHOOL:
            return school_room(self.tenant_id, self.object_id)
        if self.kind is ScopeKind.VENUE:
            return venue_room(self.tenant_id, self.object_id)
        return tenant_room(self.tenant_id)


@dataclass(frozen=True)
class Filters:
    day: date
    programme: ProgrammeKind | None = None

    @classmethod
    def parse(cls, tenant: Tenant, day: str | None, programme: str | None, now: datetime) -> Filters:
        """Lenient: a bad date means today (in the region), a bad programme means all programmes."""
        try:
            wanted_day = date.fromisoformat(day) if day else None
        except (TypeError, ValueError):
            wanted_day = None
        if wanted_day is not None and not 2000 <= wanted_day.year <= 2100:
            wanted_day = None  # year 1 or 9999: the day's bounds in UTC would overflow
        try:
            kind = ProgrammeKind(programme) if programme else None
        except ValueError:
            kind = None
        return cls(wanted_day or now.astimezone(tenant.tz).date(), kind)


def scope_for(user: User, membership: Membership | None, tenant: Tenant) -> LiveScope | None:
    """The scope a user's role in this region gives on the dashboard; None if it gives none."""
    if user.is_platform_admin and membership is None:
        return LiveScope(tenant.id, ScopeKind.REGION, None, tenant.name)
    if membership is None or membership.tenant_id != tenant.id:
        return None
    narrowing = {
        Role.MUNICIPAL: (ScopeKind.MUNICIPALITY, membership.municipality_id, Municipality),
        Role.SCHOOL: (ScopeKind.SCHOOL, membership.school_id, School),
        Role.VENUE: (ScopeKind.VENUE, membership.venue_id, Venue),
    }
    if membership.role is Role.COORDINATOR:
        return LiveScope(tenant.id, ScopeKind.REGION, None, tenant.name)
    kind, object_id, model = narrowing[membership.role]
    if object_id is None:
        return None
    found = db.session.scalar(select(model).where(model.id == object_id))
    return LiveScope(tenant.id, kind, object_id, found.name if found else "")


# --- the checkin message -------------------------------------------------------------------------


@admitted.connect
def announce_checkin(work: Work, **values: Any) -> None:
    """Queue the `checkin` message of an admission in its unit of work's outbox; sent after commit,
    to its rooms only: the region's, and the narrower rooms of the ticket's municipality, school and
    venue, so a municipal or school dashboard receives its own admissions and nobody else's."""
    tenant_id = values.pop("tenant_id")
    payload = {"id": values.pop("checkin_id"), **values, "at": values["at"].isoformat()}
    queue(
        "checkin",
        payload,
        (
            tenant_room(tenant_id),
            municipality_room(tenant_id, values["municipality_id"]),
            school_room(tenant_id, values["school_id"]),
            venue_room(tenant_id, values["venue_id"]),
        ),
        outbox(work),
    )


# --- snapshots -----------------------------------------------------------------------------------


def _day_bounds(tenant: Tenant, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=tenant.tz).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tenant.tz).astimezone(UTC)


def _admitted(scope: LiveScope):
    """Admitted check-ins joined to their ticket, narrowed to the scope."""
    query = select().select_from(Checkin).join(Ticket, Ticket.id == Checkin.ticket_id)
    query = query.where(Checkin.result == ScanResult.OK)
    return _narrow_tickets(query, scope)


def _registered(scope: LiveScope):
    query = select().select_from(Ticket).where(Ticket.status == TicketStatus.ACTIVE)
    return _narrow_tickets(query, scope)


def _narrow_tickets(query, scope: LiveScope):
    """Tickets (with their student) limited to the scope; every count goes through here."""
    query = query.join(Student, Student.id == Ticket.student_id)
    if scope.kind is ScopeKind.MUNICIPALITY:
        return query.where(Ticket.municipality_id == scope.object_id)
    if scope.kind is ScopeKind.SCHOOL:
        return query.where(Student.school_id == scope.object_id)
    if scope.kind is ScopeKind.VENUE:
        query = query.join(Event, Event.id == Ticket.event_id)
        return query.where(Event.venue_id == scope.object_id)
    return query


def _grouped(query, key, event_ids: Iterable[int]) -> dict[int, int]:
    rows = db.session.execute(
        query.add_columns(key, func.count()).where(Ticket.event_id.in_(list(event_ids))).group_by(key)
    )
    return {row[0]: row[1] for row in rows}


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return int(_as_utc(moment).timestamp() * 1000)


def snapshot(scope: LiveScope, tenant: Tenant, filters: Filters, now: datetime) -> dict:
    """Counts for one scope and day, straight from the database (runs inside `tenant_scope`)."""
    day_start, day_end = _day_bounds(tenant, filters.day)
    query = (
        select(Event, Venue.name, Programme.kind, Programme.checkin_opens_minutes)
        .join(Venue, Venue.id == Event.venue_id)
        .join(Programme, Programme.id == Event.programme_id)
        .where(Event.starts_at >= day_start, Event.starts_at < day_end)
        .order_by(Event.starts_at, Event.id)
    )
    if filters.programme:
        query = query.where(Programme.kind == filters.programme)
    if scope.kind is ScopeKind.VENUE:
        query = query.where(Event.venue_id == scope.object_id)
    rows = db.session.execute(query).all()
    ids = [row[0].id for row in rows]

    admitted = _grouped(_admitted(scope), Checkin.event_id, ids)
    if scope.kind in (ScopeKind.REGION, ScopeKind.VENUE):
        registered = {row[0].id: row[0].registered for row in rows}
    else:
        registered = _grouped(_registered(scope), Ticket.event_id, ids)
    quotas = _scope_quotas(scope, ids)
    if scope.kind in (ScopeKind.MUNICIPALITY, ScopeKind.SCHOOL):
        # a school or municipality watches the events its students go to, not the whole region
        rows = [r for r in rows if registered.get(r[0].id) or admitted.get(r[0].id) or quotas.get(r[0].id)]
        ids = [row[0].id for row in rows]

    events = []
    for event, venue_name, kind, opens_minutes in rows:
        events.append(
            {
                "id": event.id,
                "title": event.title,
                "venue_id": event.venue_id,
                "venue": venue_name,
                "programme": kind.value,
                "format": event.format.value,
                "starts_at": _ms(event.starts_at),
                "ends_at": _ms(event.ends_at),
                "opens_at": _ms(event.starts_at - timedelta(minutes=opens_minutes)),
                "capacity": event.capacity,
                "registered": registered.get(event.id, 0),
                "quota": quotas.get(event.id),
                "checked_in": admitted.get(event.id, 0),
            }
        )
    for item in events:
        item["lagging"] = is_lagging(item, now)

    total_registered = sum(e["registered"] for e in events)
    total_admitted = sum(e["checked_in"] for e in events)
    return {
        "scope": {"kind": scope.kind.value, "id": scope.object_id, "label": scope.label},
        "tenant": {"slug": tenant.slug, "name": tenant.name, "timezone": tenant.timezone},
        "filters": {
            "date": filters.day.isoformat(),
            "programme": filters.programme.value if filters.programme else None,
        },
        "now": _ms(now),
        "totals": {
            "events": len(events),
            "capacity": sum(e["capacity"] for e in events),
            "registered": total_registered,
            "checked_in": total_admitted,
            "percent": percent(total_admitted, total_registered),
        },
        "events": events,
        "breakdown": _breakdown(scope, ids),
        "buckets": _buckets(scope, ids, events),
        "feed": _feed(scope, ids),
        "seen": _recently_admitted(scope, now),
    }


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def is_lagging(event: dict, now: datetime) -> bool:
    """In person, people expected, started more than LAG_MINUTES ago, and nobody admitted yet."""
    started_for = _ms(now) - event["starts_at"]
    return (
        event["format"] == EventFormat.IN_PERSON.value
        and event["registered"] > 0
        and event["checked_in"] == 0
        and started_for >= LAG_MINUTES * 60_000
    )


def _scope_quotas(scope: LiveScope, ids: list[int]) -> dict[int, int]:
    """A municipality sees its own quota per event; others see none (capacity is their ceiling)."""
    if scope.kind is not ScopeKind.MUNICIPALITY or not ids:
        return {}
    rows = db.session.execute(
        select(EventQuota.event_id, EventQuota.seats).where(
            EventQuota.event_id.in_(ids), EventQuota.municipality_id == scope.object_id
        )
    )
    return dict(rows.all())


def _breakdown(scope: LiveScope, ids: list[int]) -> dict:
    """Region and venue: by municipality, against quotas. Municipality: by school. School: none."""
    if scope.kind is ScopeKind.SCHOOL or not ids:
        return {"kind": None, "rows": []}
    if scope.kind is ScopeKind.MUNICIPALITY:
        registered = _grouped(_registered(scope), Student.school_id, ids)
        admitted = _grouped(_admitted(scope), Student.school_id, ids)
        names = _names(School, set(registered) | set(admitted))
        quota_seats: dict[int, int] = {}
        kind = "school"
    else:
        registered = _grouped(_registered(scope), Ticket.municipality_id, ids)
        admitted = _grouped(_admitted(scope), Ticket.municipality_id, ids)
        quota_seats = dict(
            db.session.execute(
                select(EventQuota.municipality_id, func.sum(EventQuota.seats))
                .where(EventQuota.event_id.in_(ids))
                .group_by(EventQuota.municipality_id)
            ).all()
        )
        if scope.kind is ScopeKind.VENUE:
            quota_seats = {}
        names = _names(Municipality, set(registered) | set(admitted) | set(quota_seats))
        kind = "municipality"
    rows = [
        {
            "id": object_id,
            "name": name,
            "quota": int(quota_seats[object_id]) if object_id in quota_seats else None,
            "registered": registered.get(object_id, 0),
            "checked_in": admitted.get(object_id, 0),
        }
        for object_id, name in names.items()
    ]
    rows.sort(key=lambda r: r["name"])
    return {"kind": kind, "rows": rows}


def _names(model, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


def _buckets(scope: LiveScope, ids: list[int], events: list[dict]) -> list[dict]:
    """Arrivals per 10 minutes over the day's check-in hours: [{t: epoch ms, n}] with no gaps."""
    if not events:
        return []
    step = BUCKET_SECONDS * 1000
    counts: dict[int, int] = {}
    for (scanned_at,) in db.session.execute(
        _admitted(scope).add_columns(Checkin.scanned_at).where(Checkin.event_id.in_(ids))
    ):
        key = _ms(scanned_at) // step * step
        counts[key] = counts.get(key, 0) + 1
    first = min([e["opens_at"] for e in events] + list(counts)) // step * step
    last = max([e["ends_at"] - 1 for e in events] + list(counts)) // step * step
    return [{"t": t, "n": counts.get(t, 0)} for t in range(first, last + step, step)]


def _feed(scope: LiveScope, ids: list[int]) -> list[dict]:
    if not ids:
        return []
    rows = db.session.execute(
        _admitted(scope)
        .join(School, School.id == Student.school_id)
        .add_columns(Checkin.id, Checkin.event_id, Checkin.scanned_at, Checkin.method, Student, School.name)
        .where(Checkin.event_id.in_(ids))
        .order_by(Checkin.scanned_at.desc(), Checkin.id.desc())
        .limit(FEED_SIZE)
    )
    return [
        {
            "id": checkin_id,
            "event_id": event_id,
            "at": _ms(scanned_at),
            "method": method.value,
            "short_name": student.short_name,
            "grade": student.grade,
            "school": school_name,
        }
        for checkin_id, event_id, scanned_at, method, student, school_name in rows
    ]


def _recently_admitted(scope: LiveScope, now: datetime) -> list[int]:
    """Ids a snapshot already counts, so a `checkin` racing it is not counted twice by the page."""
    rows = db.session.scalars(
        _admitted(scope).add_columns(Checkin.id).where(Checkin.created_at >= now - SEEN_WINDOW).limit(5000)
    )
    return list(rows)


def programme_choices() -> list[tuple[str, str]]:
    kinds = db.session.scalars(select(Programme.kind).order_by(Programme.kind))
    return [(kind.value, PROGRAMME_LABELS[kind]) for kind in kinds]
