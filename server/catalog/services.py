"""Reference data of a region: the one place that validates and writes it (pages, API, CLI, demo)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server import signals
from server.accounts.auth import Principal
from server.accounts.models import Role
from server.audit.services import record as audit
from server.catalog.models import (
    PROGRAMME_LABELS,
    AdmissionCount,
    Archivable,
    Event,
    EventFormat,
    EventQuota,
    Municipality,
    Programme,
    ProgrammeKind,
    School,
    Venue,
)
from server.database import utcnow
from server.errors import Conflict, Forbidden, Invalid
from server.extensions import db
from server.signals import EventShape
from server.text import school_query_words
from tenants.models import Tenant
from tenants.services import created as tenant_created


def _clean(text: str | None, what: str, max_len: int) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise Invalid(f"Укажите {what}.", code="required")
    if len(text) > max_len:
        raise Invalid(f"Слишком длинное значение: {what}.", code="too_long")
    if not text.isprintable():  # a NUL or another control character: PostgreSQL refuses NUL anyway
        raise Invalid(f"Недопустимые символы: {what}.", code="invalid_characters")
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


def _by_name(model, include_archived: bool):
    """By name; archived rows last when they are wanted, left out when they are not."""
    if include_archived:
        return select(model).order_by(model.archived_at.is_not(None), model.name)
    return select(model).where(model.archived_at.is_(None)).order_by(model.name)


def list_municipalities(include_archived: bool = False) -> list[Municipality]:
    return list(db.session.scalars(_by_name(Municipality, include_archived)))


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


def schools_query(
    principal: Principal | None = None, search: str | None = None, include_archived: bool = False
):
    """Schools the principal may see: all for a coordinator, one municipality's for a municipal one."""
    query = _by_name(School, include_archived)
    if principal is not None and principal.is_(Role.MUNICIPAL):
        query = query.where(School.municipality_id == principal.membership.municipality_id)
    elif principal is not None and principal.is_(Role.SCHOOL):
        query = query.where(School.id == principal.membership.school_id)
    for word in school_query_words(search or ""):  # word by word, in any order, each a word's start
        query = query.where(School.search_name.contains(" " + word))
    return query


def list_schools(
    principal: Principal | None = None,
    search: str | None = None,
    limit: int | None = None,
    include_archived: bool = False,
):
    return list(db.session.scalars(schools_query(principal, search, include_archived).limit(limit)))


def create_school(name: str, municipality_id: int | None, principal: Principal | None = None) -> School:
    municipality = _not_archived(_one(Municipality, municipality_id, "Муниципалитет"))
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
    municipality = _one(Municipality, municipality_id, "Муниципалитет")
    if municipality.id != school.municipality_id:
        _not_archived(municipality)
    school.municipality_id = municipality.id
    school.name = _clean(name, "название школы", 300)
    _flush_unique("Школа с таким названием в этом муниципалитете уже есть.")
    return school


# --- archive --------------------------------------------------------------------------------------

ARCHIVABLE: dict[str, type[Archivable]] = {
    "municipalities": Municipality,
    "schools": School,
    "venues": Venue,
    "events": Event,
}


def _not_archived(found):
    if found.archived_at is not None:
        raise Invalid(f"«{found.name}» в архиве: сначала верните из архива.", code="archived")
    return found


def set_archived(found: Archivable, archived: bool, *, user_id: int | None = None) -> None:
    """Retire reference data or bring it back; nothing of its history is touched."""
    if found.archived == archived:
        return
    found.archived_at = utcnow() if archived else None
    action = "archive" if archived else "restore"
    audit(f"catalog.{action}", found.__tablename__, found.id, user_id=user_id)
    db.session.flush()


# --- venues ---------------------------------------------------------------------------------------


def list_venues(include_archived: bool = False) -> list[Venue]:
    return list(db.session.scalars(_by_name(Venue, include_archived)))


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


YEARS = range(2000, 2101)  # events happen in these; a year 1 or 9999 only overflows conversions


def as_utc(moment: datetime, tz: ZoneInfo) -> datetime:
    """Times without an offset are the region's wall-clock time."""
    if moment.year not in YEARS:
        raise Invalid("Проверьте даты: год должен быть между 2000 и 2100.", code="invalid_times")
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
    before = None
    if event is None:
        event = Event(registered=0)
    else:
        before = EventShape(event.starts_at, event.ends_at, event.venue_id, str(event.format))
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
    quota_deadline = as_utc(data.quota_deadline, tz) if data.quota_deadline else None
    if quota_deadline is not None and quota_deadline != event.quota_deadline:  # a kept one may pass
        if quota_deadline <= utcnow():
            raise Invalid(
                "Срок квот уже прошёл: укажите дату и время в будущем или оставьте поле пустым.",
                code="quota_deadline_past",
            )
        if quota_deadline > starts_at:
            raise Invalid("Срок квот должен наступить до начала события.", code="quota_deadline_late")
    venue = _one(Venue, data.venue_id, "Площадка")
    if venue.id != event.venue_id:
        _not_archived(venue)

    event.title = _clean(data.title, "название события", 300)
    event.programme_id = programme(data.programme).id
    event.venue_id = venue.id
    event.format = event_format
    event.starts_at, event.ends_at = starts_at, ends_at
    event.capacity = data.capacity
    event.grade_min, event.grade_max = data.grade_min, data.grade_max
    event.description = (data.description or "").strip()
    event.broadcast_url = broadcast_link(data.broadcast_url)
    event.quota_deadline = quota_deadline
    _set_quotas(event, dict(data.quotas))
    db.session.add(event)
    db.session.flush()
    if before is not None:
        signals.event_edited.send(event, before=before)  # families are told of a new time or place
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


def events_query(
    *,
    programme_kind: str | None = None,
    upcoming_from: datetime | None = None,
    archived: bool = False,
):
    """Events in time order: the current ones, or (`archived`) the archive."""
    query = select(Event).order_by(Event.starts_at, Event.id)
    query = query.where(Event.archived_at.is_not(None) if archived else Event.archived_at.is_(None))
    if programme_kind:
        if programme_kind not in ProgrammeKind._value2member_map_:
            raise Invalid("Неизвестная программа: open_day или trial.", code="unknown_programme")
        query = query.join(Programme, Programme.id == Event.programme_id).where(
            Programme.kind == ProgrammeKind(programme_kind)
        )
    if upcoming_from is not None:
        query = query.where(Event.ends_at >= upcoming_from)
    return query


DEFAULT_TRIALS_PER_SEASON = 4
DEFAULT_IN_PERSON_TRIALS_PER_SEASON = 1


@tenant_created.connect
def _programmes(tenant: Tenant, **_) -> None:
    """A new region runs both programmes, trials with the season limits of «Билет в будущее»."""
    db.session.add_all(
        [
            Programme(kind=ProgrammeKind.OPEN_DAY, title=PROGRAMME_LABELS[ProgrammeKind.OPEN_DAY]),
            Programme(
                kind=ProgrammeKind.TRIAL,
                title=PROGRAMME_LABELS[ProgrammeKind.TRIAL],
                season_limit=DEFAULT_TRIALS_PER_SEASON,
                season_in_person_limit=DEFAULT_IN_PERSON_TRIALS_PER_SEASON,
            ),
        ]
    )


def admitted_counts(event_ids: list[int]) -> dict[int, int]:
    """Admitted per event of the current region, one query: the sum of each event's count shards."""
    if not event_ids:
        return {}
    query = (
        select(AdmissionCount.event_id, func.sum(AdmissionCount.admitted))
        .where(AdmissionCount.event_id.in_(event_ids))
        .group_by(AdmissionCount.event_id)
    )
    return {event_id: int(total) for event_id, total in db.session.execute(query)}


def broadcast_link(url: str | None) -> str | None:
    """A broadcast link is an `https:` address of some host, nothing else: the ticket's join link
    forwards every student to it, so `javascript:`, `data:` or plain `http:` never get there."""
    url = (url or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() or ord(c) < 32 for c in url):
        raise Invalid(
            "Ссылка на трансляцию должна начинаться с https:// — например, https://vk.com/video…",
            code="invalid_broadcast_url",
        )
    return url
