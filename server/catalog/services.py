"""Reference data of a region: the one place that validates and writes it (pages, API, CLI, demo)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.accounts.auth import Principal
from server.accounts.models import Role
from server.catalog.models import (
    Event,
    EventFormat,
    EventQuota,
    Municipality,
    Programme,
    ProgrammeKind,
    School,
    Venue,
)
from server.errors import Conflict, Forbidden, Invalid
from server.extensions import db
from server.text import normalise_name


def _clean(text: str | None, what: str, max_len: int) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise Invalid(f"Укажите {what}.", code="required")
    if len(text) > max_len:
        raise Invalid(f"Слишком длинное значение: {what}.", code="too_long")
    return text


def _flush_unique(message: str) -> None:
    """Flush inside a savepoint so a duplicate name is a 409 for this call, not a broken request."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(message, code="duplicate") from None


def _one(model, object_id: int | None, what: str):
    found = None
    if object_id is not None:
        found = db.session.scalar(select(model).where(model.id == object_id))
    if found is None:
        raise Invalid(f"{what} не найден(а) в этом регионе.", code="unknown_reference")
    return found


# --- municipalities -------------------------------------------------------------------------------


def list_municipalities() -> list[Municipality]:
    return list(db.session.scalars(select(Municipality).order_by(Municipality.name)))


def create_municipality(name: str) -> Municipality:
    municipality = Municipality(name=_clean(name, "название муниципалитета", 200))
    db.session.add(municipality)
    _flush_unique("Муниципалитет с таким названием уже есть.")
    return municipality


def update_municipality(municipality: Municipality, name: str) -> Municipality:
    municipality.name = _clean(name, "название муниципалитета", 200)
    _flush_unique("Муниципалитет с таким названием уже есть.")
    return municipality


# --- schools --------------------------------------------------------------------------------------


def schools_query(principal: Principal | None = None, search: str | None = None):
    """Schools the principal may see: all for a coordinator, one municipality's for a municipal one."""
    query = select(School).order_by(School.name)
    if principal is not None and principal.is_(Role.MUNICIPAL):
        query = query.where(School.municipality_id == principal.membership.municipality_id)
    elif principal is not None and principal.is_(Role.SCHOOL):
        query = query.where(School.id == principal.membership.school_id)
    if search:
        needle = normalise_name(search).replace("\\", "").replace("%", "").replace("_", "")
        query = query.where(School.search_name.contains(needle))
    return query


def list_schools(principal: Principal | None = None, search: str | None = None, limit: int | None = None):
    return list(db.session.scalars(schools_query(principal, search).limit(limit)))


def create_school(name: str, municipality_id: int | None, principal: Principal | None = None) -> School:
    municipality = _one(Municipality, municipality_id, "Муниципалитет")
    if (
        principal is not None
        and principal.is_(Role.MUNICIPAL)
        and principal.membership.municipality_id != municipality.id
    ):
        raise Forbidden("Можно добавлять школы только своего муниципалитета.")
    school = School(name=_clean(name, "название школы", 300), municipality_id=municipality.id)
    db.session.add(school)
    _flush_unique("Школа с таким названием в этом муниципалитете уже есть.")
    return school


def update_school(school: School, name: str, municipality_id: int | None) -> School:
    school.municipality_id = _one(Municipality, municipality_id, "Муниципалитет").id
    school.name = _clean(name, "название школы", 300)
    _flush_unique("Школа с таким названием в этом муниципалитете уже есть.")
    return school


# --- venues ---------------------------------------------------------------------------------------


def list_venues() -> list[Venue]:
    return list(db.session.scalars(select(Venue).order_by(Venue.name)))


def save_venue(venue: Venue | None, *, name: str, address: str, cluster: str | None = None) -> Venue:
    venue = venue or Venue()
    venue.name = _clean(name, "название площадки", 300)
    venue.address = _clean(address, "адрес", 500)
    venue.cluster = " ".join((cluster or "").split()) or None
    db.session.add(venue)
    _flush_unique("Площадка с таким названием уже есть.")
    return venue


# --- programmes and events ------------------------------------------------------------------------


def programme(kind: ProgrammeKind | str) -> Programme:
    try:
        kind = ProgrammeKind(kind)
    except ValueError:
        raise Invalid("Программа должна быть open_day или trial.", code="invalid_programme") from None
    found = db.session.scalar(select(Programme).where(Programme.kind == kind))
    if found is None:
        raise Invalid("В регионе нет такой программы.", code="invalid_programme")
    return found


def as_utc(moment: datetime, tz: ZoneInfo) -> datetime:
    """Times without an offset are the region's wall-clock time."""
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


@dataclass
class EventInput:
    title: str
    programme: str
    format: str
    venue_id: int | None
    starts_at: datetime
    ends_at: datetime
    capacity: int
    grade_min: int
    grade_max: int
    quotas: list[tuple[int, int]] = field(default_factory=list)  # (municipality_id, seats)
    description: str = ""
    broadcast_url: str | None = None
    quota_deadline: datetime | None = None


def save_event(event: Event | None, data: EventInput, tz: ZoneInfo) -> Event:
    """Create or edit an event; every rule a coordinator can break is a Russian 422 here."""
    starts_at, ends_at = as_utc(data.starts_at, tz), as_utc(data.ends_at, tz)
    if ends_at <= starts_at:
        raise Invalid("Окончание должно быть позже начала.", code="invalid_times")
    if not 1 <= data.grade_min <= data.grade_max <= 11:
        raise Invalid("Классы: от 1 до 11, «с» не больше «по».", code="invalid_grades")
    if not 1 <= data.capacity <= 100_000:
        raise Invalid("Вместимость — от 1 до 100 000 мест.", code="invalid_capacity")
    try:
        event_format = EventFormat(data.format)
    except ValueError:
        raise Invalid("Формат: in_person или online.", code="invalid_format") from None
    if event is None:
        event = Event(registered=0)
    else:
        # Capacity and quotas are checked against counters that registrations change under this row's
        # lock (tickets.rules): take it and read them afresh, or a check passes on stale numbers.
        db.session.refresh(event, with_for_update={"key_share": True})
        fresh = select(EventQuota).where(EventQuota.event_id == event.id)
        db.session.scalars(fresh.execution_options(populate_existing=True)).all()
    if data.capacity < event.registered:
        raise Conflict(
            f"Уже зарегистрировано {event.registered}: вместимость не может быть меньше.",
            code="capacity_below_registered",
        )
    seen: set[int] = set()
    for municipality_id, seats in data.quotas:
        _one(Municipality, municipality_id, "Муниципалитет")
        if municipality_id in seen:
            raise Invalid("Квота для муниципалитета указана дважды.", code="duplicate_quota")
        if seats < 0:
            raise Invalid("Квота не может быть отрицательной.", code="invalid_quota")
        seen.add(municipality_id)
    if sum(seats for _, seats in data.quotas) > data.capacity:
        raise Invalid("Сумма квот больше вместимости события.", code="quotas_exceed_capacity")

    event.title = _clean(data.title, "название события", 300)
    event.programme_id = programme(data.programme).id
    event.venue_id = _one(Venue, data.venue_id, "Площадка").id
    event.format = event_format
    event.starts_at, event.ends_at = starts_at, ends_at
    event.capacity = data.capacity
    event.grade_min, event.grade_max = data.grade_min, data.grade_max
    event.description = (data.description or "").strip()
    event.broadcast_url = (data.broadcast_url or "").strip() or None
    event.quota_deadline = as_utc(data.quota_deadline, tz) if data.quota_deadline else None
    _set_quotas(event, dict(data.quotas))
    db.session.add(event)
    db.session.flush()
    return event


def _set_quotas(event: Event, wanted: dict[int, int]) -> None:
    current = {q.municipality_id: q for q in event.quotas}
    for municipality_id, quota in current.items():
        if municipality_id not in wanted:
            if quota.used:
                raise Conflict("По квоте уже есть регистрации — её нельзя удалить.", code="quota_in_use")
            event.quotas.remove(quota)
    for municipality_id, seats in wanted.items():
        quota = current.get(municipality_id)
        if quota is None:
            event.quotas.append(EventQuota(municipality_id=municipality_id, seats=seats, used=0))
        elif seats < quota.used:
            raise Conflict(f"Квота меньше уже занятых мест ({quota.used}).", code="quota_below_used")
        else:
            quota.seats = seats
    event.has_quotas = bool(wanted)


def events_query(*, programme_kind: str | None = None, upcoming_from: datetime | None = None):
    query = select(Event).order_by(Event.starts_at, Event.id)
    if programme_kind:
        query = query.join(Programme, Programme.id == Event.programme_id).where(
            Programme.kind == ProgrammeKind(programme_kind)
        )
    if upcoming_from is not None:
        query = query.where(Event.ends_at >= upcoming_from)
    return query


def admitted_counts(event_ids: list[int]) -> dict[int, int]:
    """Admitted per event of the current region, one query (O(1) per event: kept by admissions)."""
    from server.checkins.counts import totals
    from tenants.scoping import required_tenant_id

    return totals(required_tenant_id(), event_ids)
