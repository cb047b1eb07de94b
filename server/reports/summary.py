"""The figures the ministry asks for: attendance for a date range and programme, and the trials season.

Every figure comes from one grouped query over the same rows as the participants list
(`participants._base`), narrowed to the role's scope, so the page, its files and the API agree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import case, distinct, func, select

from server.catalog.models import (
    FORMAT_LABELS,
    Event,
    EventFormat,
    EventQuota,
    Municipality,
    Programme,
    ProgrammeKind,
    School,
    Venue,
)
from server.checkins.models import Checkin
from server.extensions import db
from server.reports.participants import Filters, Status, _base
from server.reports.scope import LiveScope, ScopeKind
from server.reports.services import russian_order
from server.tickets.models import ClassGroup, Student, Ticket
from server.tickets.rules import season_bounds


@dataclass
class Figures:
    registered: int = 0  # active tickets
    admitted: int = 0
    no_show: int = 0
    cancelled: int = 0
    quota: int | None = None
    quota_used: int | None = None

    def add(self, other: Figures) -> None:
        self.registered += other.registered
        self.admitted += other.admitted
        self.no_show += other.no_show
        self.cancelled += other.cancelled

    @property
    def turnout(self) -> float:
        """Admitted per registered, in per cent, one decimal."""
        return round(100 * self.admitted / self.registered, 1) if self.registered else 0.0

    def as_dict(self) -> dict:
        return {
            "registered": self.registered,
            "checked_in": self.admitted,
            "no_show": self.no_show,
            "cancelled": self.cancelled,
            "quota": self.quota,
            "quota_used": self.quota_used,
            "turnout": self.turnout,
        }


@dataclass
class Node:
    id: int | str
    name: str
    figures: Figures = field(default_factory=Figures)
    children: list[Node] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def as_dict(self, key: str, child_key: str | None = None, grandchild_key: str | None = None) -> dict:
        out = {key: self.id, "name": self.name, **self.figures.as_dict(), **self.extra}
        if child_key is not None:
            out["items"] = [c.as_dict(child_key, grandchild_key) for c in self.children]
        return out


def _counts(status):
    admitted = status.in_((Status.ADMITTED.value, Status.LEFT.value))
    return (
        func.sum(case((status != Status.CANCELLED.value, 1), else_=0)),
        func.sum(case((admitted, 1), else_=0)),
        func.sum(case((status == Status.NO_SHOW.value, 1), else_=0)),
        func.sum(case((status == Status.CANCELLED.value, 1), else_=0)),
    )


def _figures(row) -> Figures:
    return Figures(*(int(v or 0) for v in row))


def _grouped(scope, filters, tz, now, keys) -> list[tuple]:
    query, _ = _base(scope, filters, tz, now, lambda status: (*keys, *_counts(status)))
    return list(db.session.execute(query.group_by(*keys)))


def _event_ids(scope, filters, tz, now) -> list[int]:
    query, _ = _base(scope, filters, tz, now, lambda status: (Ticket.event_id,))
    return list(db.session.scalars(query.distinct()))


def _quotas(scope: LiveScope, event_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Seats and used per municipality over the events (municipal quotas)."""
    if not event_ids:
        return {}
    query = (
        select(EventQuota.municipality_id, func.sum(EventQuota.seats), func.sum(EventQuota.used))
        .where(EventQuota.event_id.in_(event_ids))
        .group_by(EventQuota.municipality_id)
    )
    if scope.kind is ScopeKind.MUNICIPALITY:
        query = query.where(EventQuota.municipality_id == scope.object_id)
    return {m: (int(s or 0), int(u or 0)) for m, s, u in db.session.execute(query)}


def _unique(scope, filters, tz, now) -> dict[str, int]:
    def columns(status):
        admitted = status.in_((Status.ADMITTED.value, Status.LEFT.value))
        return (
            func.count(distinct(case((status != Status.CANCELLED.value, Student.id)))),
            func.count(distinct(case((admitted, Student.id)))),
        )

    query, _ = _base(scope, filters, tz, now, columns)
    registered, admitted = db.session.execute(query).one()
    return {"unique_registered": int(registered or 0), "unique_checked_in": int(admitted or 0)}


def _arrivals(scope, filters, tz, now) -> dict:
    """Admissions over time: per hour when the range is one day, else per day (the region's time)."""
    query, _ = _base(scope, filters, tz, now, lambda status: (Checkin.scanned_at,))
    query = query.where(Checkin.id.is_not(None)).execution_options(yield_per=5000)
    one_day = filters.date_from is not None and filters.date_from == filters.date_to
    buckets: dict[str, int] = defaultdict(int)
    for (moment,) in db.session.execute(query):
        local = (moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))).astimezone(tz)
        buckets[f"{local:%H}:00" if one_day else f"{local:%d.%m}"] += 1
    labels = sorted(buckets, key=lambda k: (k[3:], k[:2]) if not one_day else k)
    return {"labels": labels, "values": [buckets[k] for k in labels], "per": "hour" if one_day else "day"}


def attendance_summary(scope: LiveScope, filters: Filters, tz: ZoneInfo, now: datetime) -> dict:
    """Registered, admitted, no-shows and quota use by municipality → school → class and by venue →
    event; unique students against visits; the data of both charts."""
    municipalities: dict[int, Node] = {}
    schools: dict[int, Node] = {}
    rows = _grouped(
        scope, filters, tz, now,
        (Municipality.id, Municipality.name, School.id, School.name, ClassGroup.label, Student.grade),
    )  # fmt: skip
    classes: dict[tuple[int, str], Node] = {}
    for m_id, m_name, s_id, s_name, label, grade, *counts in rows:
        figures = _figures(counts)
        municipality = municipalities.setdefault(m_id, Node(m_id, m_name))
        school = schools.get(s_id)
        if school is None:
            school = schools[s_id] = Node(s_id, s_name)
            municipality.children.append(school)
        class_label = label or gettext("%(grade)s класс", grade=grade)
        node = classes.get((s_id, class_label))
        if node is None:
            node = classes[(s_id, class_label)] = Node(class_label, class_label)
            school.children.append(node)
        node.figures.add(figures)
        school.figures.add(figures)
        municipality.figures.add(figures)
    event_ids = _event_ids(scope, filters, tz, now)
    for m_id, (seats, used) in _quotas(scope, event_ids).items():
        if m_id in municipalities:
            municipalities[m_id].figures.quota, municipalities[m_id].figures.quota_used = seats, used
    for municipality in municipalities.values():
        municipality.children.sort(key=lambda n: russian_order(n.name))
        for school in municipality.children:
            school.children.sort(key=lambda n: russian_order(str(n.name)))

    venues: dict[int, Node] = {}
    event_rows = _grouped(
        scope, filters, tz, now,
        (Venue.id, Venue.name, Event.id, Event.title, Event.starts_at, Event.format, Event.capacity),
    )  # fmt: skip
    for v_id, v_name, e_id, title, starts_at, fmt, capacity, *counts in event_rows:
        figures = _figures(counts)
        venue = venues.setdefault(v_id, Node(v_id, v_name))
        figures.quota = capacity if scope.kind in (ScopeKind.REGION, ScopeKind.VENUE) else None
        extra = {"starts_at": starts_at, "format": FORMAT_LABELS[EventFormat(fmt)]}
        venue.children.append(Node(e_id, title, figures, extra=extra))
        venue.figures.add(figures)
    for venue in venues.values():
        venue.children.sort(key=lambda n: (n.extra["starts_at"], n.id))

    total = Figures()
    for municipality in municipalities.values():
        total.add(municipality.figures)
    by_municipality = sorted(municipalities.values(), key=lambda n: russian_order(n.name))
    by_venue = sorted(venues.values(), key=lambda n: russian_order(n.name))
    return {
        "scope": {"kind": scope.kind.value, "id": scope.object_id, "label": scope.label},
        "filters": filters.as_args(),
        "total": total,
        "events": len(event_ids),
        **_unique(scope, filters, tz, now),
        "by_municipality": by_municipality,
        "by_venue": by_venue,
        "arrivals": _arrivals(scope, filters, tz, now),
        "turnout": {
            "labels": [m.name for m in by_municipality],
            "registered": [m.figures.registered for m in by_municipality],
            "checked_in": [m.figures.admitted for m in by_municipality],
        },
    }


def summary_json(summary: dict) -> dict:
    """The summary as the API gives it (the page renders the very same numbers)."""
    return {
        "scope": summary["scope"],
        "filters": summary["filters"],
        **summary["total"].as_dict(),
        "events": summary["events"],
        "unique_registered": summary["unique_registered"],
        "unique_checked_in": summary["unique_checked_in"],
        "by_municipality": [
            m.as_dict("municipality_id", "school_id", "class") for m in summary["by_municipality"]
        ],
        "by_venue": [
            {**v.as_dict("venue_id"), "items": [_event_json(e) for e in v.children]}
            for v in summary["by_venue"]
        ],
    }


def _event_json(node: Node) -> dict:
    out = node.as_dict("event_id")
    out["starts_at"] = node.extra["starts_at"].isoformat()
    out["capacity"] = out.pop("quota")
    out.pop("quota_used")
    return out


# --- the trials season ---------------------------------------------------------------------------


@dataclass
class SeasonRow:
    student_id: int
    full_name: str
    grade: int
    school: str
    municipality: str
    trials: int
    in_person: int
    online: int
    attended: int
    limit: int | None
    in_person_limit: int | None

    @property
    def verdict(self) -> str:
        over = (self.limit is not None and self.trials > self.limit) or (
            self.in_person_limit is not None and self.in_person > self.in_person_limit
        )
        full = self.limit is not None and self.trials >= self.limit
        return "сверх лимита" if over else ("лимит исчерпан" if full else "в пределах лимита")


def season_of(day: date | None, tz: ZoneInfo, now: datetime) -> tuple[date, date]:
    """The school year holding `day` (today by default) as its first and last day."""
    moment = datetime.combine(day, datetime.min.time(), tzinfo=tz) if day else now
    start, end = season_bounds(moment, tz)
    return start.date(), (end - timedelta(days=1)).date()


def period(parsed: Filters, tz: ZoneInfo, now: datetime) -> Filters:
    """A report period: the given days and programme; by default from 1 September to today."""
    first, _ = season_of(None, tz, now)
    return Filters(
        date_from=parsed.date_from or first,
        date_to=parsed.date_to or now.astimezone(tz).date(),
        programme=parsed.programme,
    )


def trials_season(scope: LiveScope, filters: Filters, tz: ZoneInfo, now: datetime) -> dict:
    """Per student: trials taken this season, in person and online, attended, against the 4/1 limits;
    per school and municipality: totals. Cancelled registrations do not count (as in the rule)."""
    first, last = season_of(filters.date_from, tz, now)
    season = Filters(
        school_id=filters.school_id, municipality_id=filters.municipality_id,
        date_from=first, date_to=last, programme=ProgrammeKind.TRIAL,
    )  # fmt: skip
    programme = db.session.scalar(select(Programme).where(Programme.kind == ProgrammeKind.TRIAL))
    limit = programme.season_limit if programme else None
    in_person_limit = programme.season_in_person_limit if programme else None

    def columns(status):
        active = status != Status.CANCELLED.value
        admitted = status.in_((Status.ADMITTED.value, Status.LEFT.value))
        return (
            Student.id, Student.last_name, Student.first_name, Student.middle_name, Student.grade,
            School.id, School.name, Municipality.id, Municipality.name,
            func.sum(case((active, 1), else_=0)),
            func.sum(case((active & (Event.format == EventFormat.IN_PERSON), 1), else_=0)),
            func.sum(case((active & (Event.format == EventFormat.ONLINE), 1), else_=0)),
            func.sum(case((admitted, 1), else_=0)),
        )  # fmt: skip

    query, _ = _base(scope, season, tz, now, columns)
    query = query.group_by(
        Student.id, Student.last_name, Student.first_name, Student.middle_name, Student.grade,
        School.id, School.name, Municipality.id, Municipality.name,
    )  # fmt: skip
    students: list[SeasonRow] = []
    schools: dict[int, dict] = {}
    municipalities: dict[int, dict] = {}
    for sid, last_name, first_name, middle, grade, sc_id, sc_name, m_id, m_name, *n in db.session.execute(
        query
    ):
        trials, in_person, online, attended = (int(v or 0) for v in n)
        if trials == 0:
            continue
        name = " ".join(p for p in (last_name, first_name, middle) if p)
        row = SeasonRow(sid, name, grade, sc_name, m_name, trials, in_person, online, attended,
                        limit, in_person_limit)  # fmt: skip
        students.append(row)
        for bucket, key, label in ((schools, sc_id, sc_name), (municipalities, m_id, m_name)):
            totals = bucket.setdefault(
                key,
                {"name": label, "municipality": m_name, "students": 0, "trials": 0, "in_person": 0,
                 "online": 0, "attended": 0, "at_limit": 0},
            )  # fmt: skip
            totals["students"] += 1
            totals["trials"] += trials
            totals["in_person"] += in_person
            totals["online"] += online
            totals["attended"] += attended
            totals["at_limit"] += int(limit is not None and trials >= limit)
    students.sort(key=lambda r: (russian_order(r.municipality), russian_order(r.school), r.grade,
                                 russian_order(r.full_name)))  # fmt: skip
    return {
        "season": (first, last),
        "limit": limit,
        "in_person_limit": in_person_limit,
        "students": students,
        "schools": sorted(
            schools.values(), key=lambda r: (russian_order(r["municipality"]), russian_order(r["name"]))
        ),  # fmt: skip
        "municipalities": sorted(municipalities.values(), key=lambda r: russian_order(r["name"])),
    }
