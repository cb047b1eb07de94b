"""Open events for families, with the seats that apply to their municipality; the region's operator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from server.audit.services import record
from server.catalog.models import Event, EventFormat, Municipality, Programme, ProgrammeKind
from server.errors import Invalid
from server.extensions import db
from server.tickets import rules
from tenants.models import Tenant

GRADES = range(1, 12)


@dataclass(frozen=True)
class EventFilters:
    """What a family narrows the list by; anything unreadable means "any"."""

    municipality_id: int | None = None
    day: date | None = None
    grade: int | None = None
    programme: ProgrammeKind | None = None
    format: EventFormat | None = None

    @classmethod
    def parse(cls, args) -> EventFilters:
        def number(name: str) -> int | None:
            value = (args.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        try:
            day = date.fromisoformat(args.get("date") or "")
        except ValueError:
            day = None
        programme = args.get("programme")
        format_ = args.get("format")
        grade = number("grade")
        return cls(
            municipality_id=number("municipality"),
            day=day,
            grade=grade if grade in GRADES else None,
            programme=ProgrammeKind(programme) if programme in {k.value for k in ProgrammeKind} else None,
            format=EventFormat(format_) if format_ in {f.value for f in EventFormat} else None,
        )

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.municipality_id, self.day, self.grade, self.programme,
                                            self.format))  # fmt: skip


@dataclass
class OpenEvent:
    event: Event
    seats: int  # for a family of the chosen municipality, where quotas apply
    for_municipality: bool  # whether `seats` is that municipality's figure


def open_events(filters: EventFilters, tz, now: datetime, limit: int = 200) -> list[OpenEvent]:
    """Events not yet over, narrowed by the filters, each with the seats a family can still take."""
    query = (
        select(Event)
        .join(Programme, Programme.id == Event.programme_id)
        .where(Event.ends_at >= now)
        .options(joinedload(Event.venue), joinedload(Event.programme))
        .order_by(Event.starts_at, Event.id)
    )
    if filters.day is not None:
        start = datetime.combine(filters.day, time(0), tzinfo=tz)
        query = query.where(Event.starts_at < start + timedelta(days=1), Event.ends_at > start)
    if filters.grade is not None:
        query = query.where(Event.grade_min <= filters.grade, Event.grade_max >= filters.grade)
    if filters.programme is not None:
        query = query.where(Programme.kind == filters.programme)
    if filters.format is not None:
        query = query.where(Event.format == filters.format)
    events = db.session.scalars(query.limit(limit)).unique().all()
    return [_with_seats(event, filters.municipality_id, now) for event in events]


def _with_seats(event: Event, municipality_id: int | None, now: datetime) -> OpenEvent:
    if not event.has_quotas or not rules.quotas_apply(event, now):
        return OpenEvent(event, event.seats_left, False)
    if municipality_id is None:
        return OpenEvent(event, event.seats_left, False)
    # No school has a quota of its own here: id 0 reads the municipality's share as a family sees it.
    found = rules.availability(event, municipality_id, 0, now)
    return OpenEvent(event, found.seats, True)


def municipalities() -> list[Municipality]:
    return list(db.session.scalars(select(Municipality).order_by(Municipality.name)))


# --- the region's operator ------------------------------------------------------------------------


def region(tenant_id: int) -> Tenant:
    return db.session.get(Tenant, tenant_id)


def save_operator(tenant_id: int, name: str, address: str, contact: str, *, user_id: int | None) -> Tenant:
    """The operator the consent text names; all three are needed, as 152-ФЗ asks for them."""
    values = {"name": " ".join((name or "").split()), "address": " ".join((address or "").split()),
              "contact": " ".join((contact or "").split())}  # fmt: skip
    limits = {"name": 300, "address": 500, "contact": 300}
    labels = {"name": "название оператора", "address": "адрес оператора", "contact": "контакт для обращений"}
    for key, value in values.items():
        if not value:
            raise Invalid(f"Укажите {labels[key]}.", code="required", field=key)
        if len(value) > limits[key]:
            raise Invalid(f"Слишком длинное значение: {labels[key]}.", code="too_long", field=key)
    tenant = region(tenant_id)
    tenant.operator_name = values["name"]
    tenant.operator_address = values["address"]
    tenant.operator_contact = values["contact"]
    record("region.operator", "tenant", tenant.id, user_id=user_id)
    return tenant
