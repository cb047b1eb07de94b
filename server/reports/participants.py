"""Who came: every registration in a scope with its status, for the lists, the exports and the API.

One query builds the rows for the page, the CSV/XLSX download and the streamed large export, so the
list a school sees and the file it downloads can never disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, and_, case, func, select, text, type_coerce

from server.catalog.models import (
    FORMAT_LABELS,
    Event,
    EventFormat,
    Municipality,
    Programme,
    ProgrammeKind,
    School,
    Venue,
)
from server.checkins.models import AdmissionMethod, Checkin, Kiosk, ScanResult
from server.extensions import db
from server.reports.scope import LiveScope, narrow
from server.text import normalise_name
from server.tickets.models import ClassGroup, Student, Ticket, TicketStatus


class Status(enum.StrEnum):
    REGISTERED = "registered"
    ADMITTED = "admitted"
    LEFT = "left"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    Status.REGISTERED: _l("записан"),
    Status.ADMITTED: _l("пришёл"),
    Status.LEFT: _l("ушёл с педагогом"),
    Status.NO_SHOW: _l("не пришёл"),
    Status.CANCELLED: _l("отменён"),
}
METHOD_LABELS = {
    AdmissionMethod.SCAN: _l("по QR"),
    AdmissionMethod.MANUAL: _l("вручную"),
    AdmissionMethod.GROUP: _l("по списку класса"),
    AdmissionMethod.ONLINE: _l("по ссылке трансляции"),
    AdmissionMethod.OFFLINE: _l("по QR без сети"),
}


@dataclass(frozen=True)
class Filters:
    """What a list or an export is narrowed to, beyond the role's scope. Empty means everything."""

    event_id: int | None = None
    venue_id: int | None = None
    school_id: int | None = None
    municipality_id: int | None = None
    grade: int | None = None
    class_label: str | None = None
    status: Status | None = None
    surname: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    programme: ProgrammeKind | None = None

    @classmethod
    def parse(cls, args, **fixed) -> Filters:
        """From query-string arguments; anything malformed is ignored rather than refused."""

        def number(name: str) -> int | None:
            raw = (args.get(name) or "").strip()
            return int(raw) if raw.isdigit() else None

        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(args.get(name) or "")
            except ValueError:
                return None

        def member(enum_type, name: str):
            try:
                return enum_type(args.get(name)) if args.get(name) else None
            except ValueError:
                return None

        values = {
            "event_id": number("event"),
            "venue_id": number("venue"),
            "school_id": number("school"),
            "municipality_id": number("municipality"),
            "grade": number("grade"),
            "class_label": (args.get("class") or "").strip()[:40] or None,
            "status": member(Status, "status"),
            "surname": (args.get("q") or "").strip()[:100] or None,
            "date_from": day("from"),
            "date_to": day("to"),
            "programme": member(ProgrammeKind, "programme"),
        }
        return cls(**(values | fixed))

    def as_args(self) -> dict[str, str]:
        """Back to query-string arguments: the export link of a filtered list carries its filters."""
        names = {
            "event_id": "event", "venue_id": "venue", "school_id": "school",
            "municipality_id": "municipality", "grade": "grade", "class_label": "class",
            "status": "status", "surname": "q", "date_from": "from", "date_to": "to",
            "programme": "programme",
        }  # fmt: skip
        out = {}
        for attr, name in names.items():
            value = getattr(self, attr)
            if value is not None:
                out[name] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    def audit(self) -> dict:
        """The filters as the audit log keeps them (a surname prefix is a search, not a person)."""
        return self.as_args()


def day_bounds(tz: ZoneInfo, start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Whole local days as UTC moments: [start 00:00, end+1 00:00)."""
    lower = datetime.combine(start, time.min, tzinfo=tz).astimezone(UTC) if start else None
    upper = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC) if end else None
    return lower, upper


@dataclass(slots=True)
class Participant:
    ticket_id: int
    last_name: str
    first_name: str
    middle_name: str
    grade: int
    class_label: str
    school_id: int
    school: str
    municipality_id: int
    municipality: str
    event_id: int
    event: str
    starts_at: datetime
    venue: str
    format: EventFormat
    status: Status
    admitted_at: datetime | None
    method: AdmissionMethod | None
    kiosk: str | None
    left_at: datetime | None = None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def format_label(self) -> str:
        return FORMAT_LABELS[self.format]

    @property
    def how(self) -> str:
        """«киоск „Вход 1“», «вручную», … — by what the student was admitted."""
        if self.admitted_at is None:
            return ""
        if self.method in (AdmissionMethod.SCAN, AdmissionMethod.OFFLINE) and self.kiosk:
            return f"киоск «{self.kiosk}»"
        return str(METHOD_LABELS.get(self.method, "")) if self.method else ""


def _status_expression(now: datetime):
    return case(
        (Ticket.status == TicketStatus.CANCELLED, Status.CANCELLED.value),
        (and_(Checkin.id.is_not(None), Ticket.left_at.is_not(None)), Status.LEFT.value),
        (Checkin.id.is_not(None), Status.ADMITTED.value),
        (Event.ends_at <= now, Status.NO_SHOW.value),
        else_=Status.REGISTERED.value,
    )


def _base(scope: LiveScope, filters: Filters, tz: ZoneInfo, now: datetime, columns):
    status = _status_expression(now)
    query = (
        select(*columns(status))
        .select_from(Ticket)
        .join(Student, Student.id == Ticket.student_id)
        .join(School, School.id == Student.school_id)
        .join(Municipality, Municipality.id == School.municipality_id)
        .join(Event, Event.id == Ticket.event_id)
        .join(Venue, Venue.id == Event.venue_id)
        .outerjoin(ClassGroup, ClassGroup.id == Ticket.group_id)
        .outerjoin(Checkin, and_(Checkin.ticket_id == Ticket.id, Checkin.result == ScanResult.OK))
        .outerjoin(Kiosk, Kiosk.id == Checkin.kiosk_id)
    )
    query = narrow(query, scope)
    simple = {
        Ticket.event_id: filters.event_id,
        Event.venue_id: filters.venue_id,
        Student.school_id: filters.school_id,
        School.municipality_id: filters.municipality_id,
        Student.grade: filters.grade,
        ClassGroup.label: filters.class_label,
    }
    for column, value in simple.items():
        if value is not None:
            query = query.where(column == value)
    if filters.status is not None:
        query = query.where(status == filters.status.value)
    if filters.surname:
        needle = normalise_name(filters.surname)
        query = query.where(Student.search_last_name.startswith(needle, autoescape=True))
    lower, upper = day_bounds(tz, filters.date_from, filters.date_to)
    if lower is not None:
        query = query.where(Event.starts_at >= lower)
    if upper is not None:
        query = query.where(Event.starts_at < upper)
    if filters.programme is not None:
        query = query.where(
            Event.programme_id.in_(select(Programme.id).where(Programme.kind == filters.programme))
        )
    return query, status


def _columns(status):
    return (
        Ticket.id, Student.last_name, Student.first_name, Student.middle_name, Student.grade,
        ClassGroup.label, School.id, School.name, Municipality.id, Municipality.name, Event.id,
        Event.title, Event.starts_at, Venue.name, Event.format, status, Checkin.scanned_at,
        Checkin.method, Kiosk.name, Ticket.left_at,
    )  # fmt: skip


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _participant(row) -> Participant:
    (ticket_id, last, first, middle, grade, label, school_id, school, municipality_id, municipality,
     event_id, event, starts_at, venue, fmt, status, admitted_at, method, kiosk, left_at) = row  # fmt: skip
    return Participant(
        ticket_id=ticket_id, last_name=last, first_name=first, middle_name=middle or "", grade=grade,
        class_label=label or str(grade), school_id=school_id, school=school,
        municipality_id=municipality_id, municipality=municipality, event_id=event_id, event=event,
        starts_at=_aware(starts_at), venue=venue, format=fmt, status=Status(status),
        admitted_at=_aware(admitted_at), method=method, kiosk=kiosk, left_at=_aware(left_at),
    )  # fmt: skip


def _bytewise(column):
    """Sort already-normalised text (lower case, ё→е) bytewise on PostgreSQL: Cyrillic UTF-8 byte
    order is the alphabet then, and it sorts 100,000 rows several times faster than a locale."""
    return column.collate("C") if db.session.get_bind().dialect.name == "postgresql" else column


def _in_list_order(query):
    return query.order_by(
        Event.starts_at, Event.id, _bytewise(School.search_name), Student.grade, ClassGroup.label,
        _bytewise(Student.search_last_name), Ticket.id,
    )  # fmt: skip


def participants_query(scope: LiveScope, filters: Filters, tz: ZoneInfo, now: datetime):
    return _in_list_order(_base(scope, filters, tz, now, _columns)[0])


def participants(
    scope: LiveScope, filters: Filters, tz: ZoneInfo, now: datetime, *, limit: int | None = None
) -> list[Participant]:
    """A page of the list (the whole of it when `limit` is None)."""
    query = participants_query(scope, filters, tz, now)
    if limit is not None:
        query = query.limit(limit)
    return [_participant(row) for row in db.session.execute(query)]


def _export_columns(status):
    # The moments as stored (naive UTC): the exports read them as UTC and convert each distinct one
    # once, instead of the column type making 200,000 aware copies first.
    return (
        Student.last_name, Student.first_name, Student.middle_name, Student.grade, ClassGroup.label,
        School.name, Municipality.name, Event.title, type_coerce(Event.starts_at, DateTime()), Venue.name,
        Event.format, status, type_coerce(Checkin.scanned_at, DateTime()), Checkin.method, Kiosk.name,
    )  # fmt: skip


def export_rows(
    scope: LiveScope, filters: Filters, tz: ZoneInfo, now: datetime, *, batch: int | None = None
) -> Iterator[tuple]:
    """The participants form's rows (`tables.PARTICIPANT_COLUMNS`) as plain tuples, in the list's order,
    fetched in batches over a server-side cursor: memory stays flat at any size. Only the columns the
    form shows are read, and every label is translated once per export, not once per row (100,000
    lazy strings took longer than the query)."""
    batch = batch or current_app.config.get("REPORTS_STREAM_BATCH", 5000)
    query = _in_list_order(_base(scope, filters, tz, now, _export_columns)[0])
    query = query.execution_options(yield_per=batch)
    if db.session.get_bind().dialect.name == "postgresql":
        # The sort of a whole region fits in memory instead of spilling to disk (this transaction only).
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    statuses = {s.value: str(label) for s, label in STATUS_LABELS.items()}
    methods = {m: str(label) for m, label in METHOD_LABELS.items()}
    formats = {f: str(label) for f, label in FORMAT_LABELS.items()}
    by_kiosk = (AdmissionMethod.SCAN, AdmissionMethod.OFFLINE)
    for partition in db.session.execute(query).partitions():
        for (last, first, middle, grade, label, school, municipality, event, starts_at, venue, fmt, status,
             admitted_at, method, kiosk) in partition:  # fmt: skip
            if admitted_at is None:
                how = ""
            elif kiosk and method in by_kiosk:
                how = f"киоск «{kiosk}»"
            else:
                how = methods.get(method, "")
            yield (
                f"{last} {first} {middle}" if middle else f"{last} {first}", label or str(grade), school,
                municipality, event, starts_at, venue, formats[fmt], admitted_at, how,
                statuses[status],
            )  # fmt: skip


def count_participants(scope: LiveScope, filters: Filters, tz: ZoneInfo, now: datetime) -> dict[str, int]:
    """How many rows, in total and per status: the list's header and the export's audit entry."""
    query, status = _base(scope, filters, tz, now, lambda status: (status, func.count()))
    counts = {Status(status): n for status, n in db.session.execute(query.group_by(status))}
    return {"total": sum(counts.values()), **{s.value: counts.get(s, 0) for s in Status}}
