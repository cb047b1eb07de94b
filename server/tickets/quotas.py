"""Cascading quotas: a municipal coordinator splits its municipality's seats among its schools.

The coordinator's per-municipality quotas live on the event (`server.catalog`); here the next level
down. Changes happen under the event lock like every seat counter, so a split can never promise seats
that registrations are taking at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from server.accounts.auth import Principal
from server.accounts.models import Role
from server.catalog.models import Event, EventQuota, Municipality, School, SchoolQuota
from server.errors import Conflict, Forbidden, Invalid
from server.extensions import db
from server.tickets import rules


@dataclass
class SchoolRow:
    school: School
    seats: int | None
    used: int


@dataclass
class Split:
    event: Event
    municipality: Municipality
    quota: EventQuota | None
    rows: list[SchoolRow]
    quotas_apply: bool

    @property
    def assigned(self) -> int:
        return sum(r.seats or 0 for r in self.rows)


def municipality_for(principal: Principal, requested: int | None) -> Municipality:
    """A municipal coordinator works on its own municipality; the regional one picks any."""
    if principal.is_(Role.MUNICIPAL):
        municipality_id = principal.membership.municipality_id
    elif principal.is_(Role.COORDINATOR):
        municipality_id = requested
    else:
        raise Forbidden("Распределять квоту может муниципальный или региональный координатор.")
    found = None
    if municipality_id is not None:
        found = db.session.scalar(select(Municipality).where(Municipality.id == municipality_id))
    if found is None:
        raise Invalid("Выберите муниципалитет.", code="unknown_municipality")
    return found


def split_of(event: Event, municipality: Municipality, now: datetime) -> Split:
    quota = db.session.scalar(
        select(EventQuota).where(
            EventQuota.event_id == event.id, EventQuota.municipality_id == municipality.id
        )
    )
    schools = list(
        db.session.scalars(
            select(School).where(School.municipality_id == municipality.id).order_by(School.name)
        )
    )
    existing = {
        sq.school_id: sq
        for sq in db.session.scalars(select(SchoolQuota).where(SchoolQuota.event_id == event.id))
    }
    rows = [
        SchoolRow(
            s,
            existing[s.id].seats if s.id in existing else None,
            existing.get(s.id).used if s.id in existing else 0,
        )
        for s in schools
    ]
    return Split(event, municipality, quota, rows, rules.quotas_apply(event, now))


def set_school_quotas(event_id: int, municipality: Municipality, wanted: dict[int, int | None]) -> None:
    """Replace the split of one municipality's quota: `{school_id: seats or None (no own quota)}`."""
    event = rules.lock_event(event_id)
    quota = db.session.scalar(
        select(EventQuota)
        .where(EventQuota.event_id == event.id, EventQuota.municipality_id == municipality.id)
        .execution_options(populate_existing=True)
    )
    if quota is None:
        raise Conflict("У муниципалитета нет квоты на это событие — делить нечего.", code="no_quota")
    schools = {
        s.id: s for s in db.session.scalars(select(School).where(School.municipality_id == municipality.id))
    }
    current = {
        sq.school_id: sq
        for sq in db.session.scalars(
            select(SchoolQuota)
            .where(SchoolQuota.event_id == event.id, SchoolQuota.school_id.in_(list(schools)))
            .execution_options(populate_existing=True)
        )
    }
    total = 0
    for school_id, seats in wanted.items():
        if school_id not in schools:
            raise Invalid("Школа не из этого муниципалитета.", code="unknown_school")
        if seats is not None and seats < 0:
            raise Invalid("Число мест не может быть отрицательным.", code="invalid_quota")
        total += seats or 0
    if total > quota.seats:
        raise Invalid(
            f"Школам распределено {total} мест, а квота муниципалитета — {quota.seats}.",
            code="school_quotas_exceed",
        )
    for school_id, seats in wanted.items():
        existing = current.get(school_id)
        if seats is None:
            if existing is not None:
                if existing.used:
                    raise Conflict(
                        f"У школы «{schools[school_id].name}» уже {existing.used} записанных по её квоте — "
                        "квоту нельзя убрать, только уменьшить до этого числа.",
                        code="quota_in_use",
                    )
                db.session.delete(existing)
        elif existing is None:
            db.session.add(SchoolQuota(event_id=event.id, school_id=school_id, seats=seats, used=0))
        elif seats < existing.used:
            raise Conflict(
                f"У школы «{schools[school_id].name}» уже записано {existing.used} — меньше нельзя.",
                code="quota_below_used",
            )
        else:
            existing.seats = seats
    db.session.flush()
