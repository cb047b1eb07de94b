"""The parents' meeting form: the region sets quotas and a deadline, schools register connection points
with the parents present, each municipality submits its total to the region once, by the deadline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.catalog.models import Event, EventFormat, Municipality, School
from server.errors import Conflict, Invalid, NotFound
from server.extensions import db
from server.meetings.models import ConnectionPoint, MeetingQuota, ParentMeeting
from server.reports.services import russian_order


def create_meeting(event_id: int, deadline: datetime, quotas: dict[int, int]) -> ParentMeeting:
    """A meeting for an online event, with a parents' quota per municipality (Приложение 1)."""
    event = db.session.scalar(select(Event).where(Event.id == event_id))
    if event is None:
        raise NotFound("Событие не найдено.")
    if event.format is not EventFormat.ONLINE:
        raise Invalid("Родительское собрание проводится онлайн: выберите онлайн-событие.", code="not_online")
    if any(n < 0 for n in quotas.values()):
        raise Invalid("Квота не может быть отрицательной.", code="negative_quota")
    meeting = ParentMeeting(event_id=event.id, deadline=deadline)
    db.session.add(meeting)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("Для этого события форма собрания уже создана.", code="meeting_exists") from None
    known = set(db.session.scalars(select(Municipality.id).where(Municipality.id.in_(list(quotas)))))
    for municipality_id, parents in quotas.items():
        if municipality_id in known:
            db.session.add(
                MeetingQuota(meeting_id=meeting.id, municipality_id=municipality_id, parents=parents)
            )
    db.session.flush()
    return meeting


def quota_of(meeting: ParentMeeting, municipality_id: int) -> MeetingQuota | None:
    return db.session.scalar(
        select(MeetingQuota).where(
            MeetingQuota.meeting_id == meeting.id, MeetingQuota.municipality_id == municipality_id
        )
    )


def _check_open(meeting: ParentMeeting, school: School) -> None:
    quota = quota_of(meeting, school.municipality_id)
    if quota is not None and quota.submitted_at is not None:
        raise Conflict(
            "Муниципалитет уже сдал форму региону — изменения вносит муниципальный координатор "
            "через регионального оператора.",
            code="submitted",
        )


def _clean(text: str | None, what: str, limit: int) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise Invalid(f"Укажите {what}.", code="required")
    if len(text) > limit:
        raise Invalid(f"Поле «{what}» длиннее {limit} символов.", code="too_long")
    return text


def save_point(
    meeting: ParentMeeting, school: School, *, place: str, responsible: str, phone: str, parents: int | None,
    user_id: int | None, point: ConnectionPoint | None = None,
) -> ConnectionPoint:  # fmt: skip
    """Add or correct a school's connection point; refused once its municipality has submitted."""
    _check_open(meeting, school)
    if parents is None or parents < 0 or parents > 10_000:
        raise Invalid("Число родителей — целое число от 0 до 10 000.", code="parents")
    if point is None:
        point = ConnectionPoint(meeting_id=meeting.id, school_id=school.id, created_by_id=user_id)
        db.session.add(point)
    point.place = _clean(place, "место подключения (кабинет, зал)", 300)
    point.responsible = _clean(responsible, "ответственного", 200)
    point.phone = " ".join((phone or "").split())[:40]
    point.parents = parents
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("Такая точка подключения у школы уже есть.", code="point_exists") from None
    return point


def remove_point(meeting: ParentMeeting, point: ConnectionPoint) -> None:
    _check_open(meeting, point.school)
    db.session.delete(point)
    db.session.flush()


def submit(
    meeting: ParentMeeting, municipality_id: int, *, user_id: int | None, now: datetime
) -> MeetingQuota:
    """The municipality's form goes to the region, once; after the deadline it is marked late."""
    quota = quota_of(meeting, municipality_id)
    if quota is None:
        raise NotFound("Для вашего муниципалитета квота на собрание не задана.", code="no_quota")
    if quota.submitted_at is not None:
        raise Conflict("Форма уже сдана.", code="submitted")
    quota.submitted_at, quota.submitted_by_id = now, user_id
    db.session.flush()
    return quota


@dataclass
class MunicipalityStatus:
    id: int
    name: str
    quota: int
    points: int = 0
    parents: int = 0
    submitted_at: datetime | None = None
    late: bool = False
    schools: list[dict] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.submitted_at is None:
            return "не сдана"
        return "сдана после срока" if self.late else "сдана"


def points_of(meeting: ParentMeeting, *, municipality_id: int | None = None, school_id: int | None = None):
    query = (
        select(ConnectionPoint)
        .join(School, School.id == ConnectionPoint.school_id)
        .where(ConnectionPoint.meeting_id == meeting.id)
        .order_by(School.search_name, ConnectionPoint.place)
    )
    if municipality_id is not None:
        query = query.where(School.municipality_id == municipality_id)
    if school_id is not None:
        query = query.where(ConnectionPoint.school_id == school_id)
    return list(db.session.scalars(query))


def region_status(meeting: ParentMeeting, *, municipality_id: int | None = None) -> list[MunicipalityStatus]:
    """Every municipality with a quota: points, parents against the quota, and the form's status."""
    quotas = select(MeetingQuota).where(MeetingQuota.meeting_id == meeting.id)
    if municipality_id is not None:
        quotas = quotas.where(MeetingQuota.municipality_id == municipality_id)
    rows = {
        q.municipality_id: MunicipalityStatus(
            q.municipality_id,
            q.municipality.name,
            q.parents,
            submitted_at=q.submitted_at,
            late=q.submitted_at is not None and q.submitted_at > meeting.deadline,
        )  # fmt: skip
        for q in db.session.scalars(quotas)
    }
    totals = db.session.execute(
        select(School.municipality_id, func.count(ConnectionPoint.id), func.sum(ConnectionPoint.parents))
        .join(School, School.id == ConnectionPoint.school_id)
        .where(ConnectionPoint.meeting_id == meeting.id)
        .group_by(School.municipality_id)
    )
    for m_id, points, parents in totals:
        if m_id in rows:
            rows[m_id].points, rows[m_id].parents = points, int(parents or 0)
    return sorted(rows.values(), key=lambda r: russian_order(r.name))


def list_meetings() -> list[ParentMeeting]:
    return list(db.session.scalars(select(ParentMeeting).order_by(ParentMeeting.deadline.desc())))
