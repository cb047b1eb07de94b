"""Parents' meeting pages: the region's statuses, a municipality's form, a school's connection points."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from server.accounts.auth import page_principal, roles_required
from server.accounts.models import Role
from server.catalog.models import Event, EventFormat, School
from server.catalog.services import as_utc, list_municipalities, schools_query
from server.database import utcnow
from server.errors import DomainError, Invalid
from server.extensions import db, limiter
from server.meetings import services
from server.meetings.models import ConnectionPoint, ParentMeeting
from server.reports import exports, tables
from server.reports.audit import record_export
from server.reports.scope import scope_of
from server.reports.views import download_response, table_files
from tenants.scoping import get_or_404

bp = Blueprint("meetings", __name__, url_prefix="/<tenant>/parents-meetings")
MEMBERS = (Role.COORDINATOR, Role.MUNICIPAL, Role.SCHOOL)


def _refused(error: DomainError) -> None:
    db.session.rollback()
    flash(error.message, "error")


@bp.get("/")
@roles_required(*MEMBERS)
def index():
    events = []
    if page_principal().is_(Role.COORDINATOR):
        events = list(
            db.session.scalars(
                select(Event)
                .where(Event.format == EventFormat.ONLINE)
                .order_by(Event.starts_at.desc())
                .limit(100)
            )
        )
    return render_template(
        "meetings/index.html",
        meetings=services.list_meetings(),
        events=events,
        municipalities=list_municipalities(),
    )


@bp.post("/")
@roles_required(Role.COORDINATOR)
def create():
    try:
        event_id = int(request.form.get("event_id") or 0)
        try:
            deadline = datetime.fromisoformat(request.form.get("deadline") or "")
        except ValueError:
            raise Invalid("Укажите срок сдачи форм: дату и время.", code="deadline") from None
        quotas = {}
        for municipality in list_municipalities():
            raw = (request.form.get(f"quota-{municipality.id}") or "").strip()
            if raw:
                if not raw.isdigit():
                    raise Invalid(f"Квота для «{municipality.name}» должна быть целым числом.")
                quotas[municipality.id] = int(raw)
        meeting = services.create_meeting(event_id, as_utc(deadline, g.tenant.tz), quotas)
    except DomainError as error:
        _refused(error)
        return redirect(url_for(".index"))
    flash("Форма родительского собрания создана.", "success")
    return redirect(url_for(".meeting", meeting_id=meeting.id))


def _my_school(principal) -> School | None:
    if principal.is_(Role.SCHOOL):
        return db.session.scalar(select(School).where(School.id == principal.membership.school_id))
    return None


@bp.get("/<int:meeting_id>")
@roles_required(*MEMBERS)
def meeting(meeting_id: int):
    principal = page_principal()
    found = get_or_404(ParentMeeting, meeting_id)
    school = _my_school(principal)
    municipality_id = (
        principal.membership.municipality_id
        if principal.is_(Role.MUNICIPAL)
        else (school.municipality_id if school else None)
    )
    statuses = services.region_status(found, municipality_id=municipality_id)
    points = services.points_of(
        found, municipality_id=municipality_id if principal.is_(Role.MUNICIPAL) else None,
        school_id=school.id if school else None,
    )  # fmt: skip
    schools = list(db.session.scalars(schools_query(principal).limit(500)))
    return render_template(
        "meetings/meeting.html",
        meeting=found,
        statuses=statuses,
        points=points,
        schools=schools,
        now=utcnow(),
        totals={
            "quota": sum(s.quota for s in statuses),
            "points": sum(s.points for s in statuses),
            "parents": sum(s.parents for s in statuses),
            "submitted": sum(1 for s in statuses if s.submitted_at),
        },
    )


def _school_for_point(principal, raw: str | None) -> School:
    """A school's staff register their own school; a municipal coordinator one of its schools."""
    if principal.is_(Role.SCHOOL):
        return _my_school(principal)
    school = db.session.scalar(schools_query(principal).where(School.id == int(raw or 0)))
    if school is None:
        abort(404)
    return school


@bp.post("/<int:meeting_id>/points")
@roles_required(*MEMBERS)
@limiter.limit("120 per minute")
def add_point(meeting_id: int):
    principal = page_principal()
    found = get_or_404(ParentMeeting, meeting_id)
    school = _school_for_point(principal, request.form.get("school_id"))
    raw, form = (request.form.get("parents") or "").strip(), request.form
    try:
        services.save_point(
            found, school, place=form.get("place", ""), responsible=form.get("responsible", ""),
            phone=form.get("phone", ""), parents=int(raw) if raw.isdigit() else None,
            user_id=principal.user_id,
        )  # fmt: skip
    except DomainError as error:
        _refused(error)
    else:
        flash(f"Точка подключения «{request.form.get('place', '').strip()}» сохранена.", "success")
    return redirect(url_for(".meeting", meeting_id=found.id))


@bp.post("/<int:meeting_id>/points/<int:point_id>/delete")
@roles_required(*MEMBERS)
def delete_point(meeting_id: int, point_id: int):
    principal = page_principal()
    found = get_or_404(ParentMeeting, meeting_id)
    point = get_or_404(ConnectionPoint, point_id)
    if (
        point.meeting_id != found.id
        or db.session.scalar(schools_query(principal).where(School.id == point.school_id)) is None
    ):
        abort(404)
    try:
        services.remove_point(found, point)
    except DomainError as error:
        _refused(error)
    else:
        flash("Точка подключения удалена.", "success")
    return redirect(url_for(".meeting", meeting_id=found.id))


@bp.route("/<int:meeting_id>/submit", methods=["GET", "POST"])
@roles_required(*MEMBERS)
def submit(meeting_id: int):
    """A confirmation page first: a submitted form cannot be taken back."""
    principal = page_principal()
    found = get_or_404(ParentMeeting, meeting_id)  # another region's meeting: 404 before any 403
    if not principal.is_(Role.MUNICIPAL):
        abort(403)
    municipality_id = principal.membership.municipality_id
    if request.method == "GET":
        status = services.region_status(found, municipality_id=municipality_id)
        if not status:
            abort(404)
        return render_template("meetings/submit.html", meeting=found, status=status[0])
    try:
        services.submit(found, municipality_id, user_id=principal.user_id, now=utcnow())
    except DomainError as error:
        _refused(error)
    else:
        flash("Форма сдана региональному оператору.", "success")
    return redirect(url_for(".meeting", meeting_id=found.id))


FORM_COLUMNS = [
    tables.MUNICIPALITY,
    tables.SCHOOL,
    exports.Column("Место подключения", 30),
    exports.Column("Ответственный", 30),
    exports.Column("Телефон", 18),
    exports.Column("Родителей", 11, exports.Kind.INT),
]


@bp.get("/<int:meeting_id>/form.<any(csv, xlsx):fmt>")
@roles_required(*MEMBERS)
@limiter.limit("30 per minute")
def form_export(meeting_id: int, fmt: str):
    """Приложение 2: the participants of the parents' meeting, by connection point."""
    principal = page_principal()
    found = get_or_404(ParentMeeting, meeting_id)
    school = _my_school(principal)
    points = services.points_of(
        found,
        municipality_id=principal.membership.municipality_id if principal.is_(Role.MUNICIPAL) else None,
        school_id=school.id if school else None,
    )
    rows = [
        (p.school.municipality.name, p.school.name, p.place, p.responsible, p.phone, p.parents)
        for p in points
    ]
    record_export("parents_meeting", fmt, scope_of(principal), {"meeting": found.id}, rows=len(rows))
    table = exports.Table("Родительское собрание", FORM_COLUMNS, rows)
    return download_response(
        table_files(fmt, [table]), fmt, f"Родительское собрание {found.event.title[:50]}"
    )
