"""Report pages and downloads: who came, attendance for a period, the trials season, the export log.

Every page and file is narrowed to the viewer's scope (`server.reports.scope`); every download is
audited before its first byte leaves (who, when, what, in which scope, how many rows).
"""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from server.accounts.auth import STAFF, page_principal, roles_required
from server.accounts.models import Role
from server.catalog.models import Event, School, Venue
from server.catalog.services import schools_query
from server.database import utcnow
from server.downloads import content_disposition
from server.extensions import db, limiter
from server.reports import exports, services, tables
from server.reports.audit import record_export
from server.reports.models import Frequency
from server.reports.participants import (
    STATUS_LABELS,
    Filters,
    Status,
    count_participants,
    export_rows,
    participants,
)
from server.reports.scheduled import set_subscriptions, subscriptions_of
from server.reports.scope import ScopeKind, scope_of
from server.reports.summary import attendance_summary, period, trials_season
from tenants.scoping import get_or_404, required_tenant_id, tenant_scope

bp = Blueprint("reports", __name__, url_prefix="/<tenant>")
PAGE_ROWS = 500
EXPORT_LIMIT = "30 per minute"


def download_response(chunks, fmt: str, filename: str) -> Response:
    """A streamed file. Its body is produced after the request's session is gone (Flask gives the
    generator a fresh app context), so the region is scoped again around it."""
    mimetype = exports.CSV_MIMETYPE if fmt == "csv" else exports.XLSX_MIMETYPE
    tenant_id = required_tenant_id()

    def body():
        with tenant_scope(tenant_id):
            yield from chunks

    response = Response(stream_with_context(body()), content_type=mimetype)
    response.headers["Content-Disposition"] = content_disposition(f"{filename}.{fmt}")
    response.headers["Cache-Control"] = "no-store"
    return response


def table_files(fmt: str, sheets: list[exports.Table]):
    """CSV holds the first sheet (the main form); XLSX holds them all."""
    tz = g.tenant.tz
    return exports.csv_stream(sheets[0], tz) if fmt == "csv" else exports.xlsx_stream(sheets, tz)


# --- the event report the coordinator already had ---------------------------------------------------


@bp.get("/events/<int:event_id>/attendance.<any(csv, xlsx):fmt>")
@roles_required(Role.COORDINATOR)
@limiter.limit(EXPORT_LIMIT)
def attendance_export(event_id: int, fmt: str):
    event = get_or_404(Event, event_id)
    report = services.event_attendance(event) | {"title": event.title}
    table = services.event_table(report)
    record_export("event_attendance", fmt, scope_of(page_principal()), {"event": event.id},
                  rows=1 + len(report["by_municipality"]) + len(report["by_school"]))  # fmt: skip
    chunks = (
        exports.csv_stream(table, g.tenant.tz) if fmt == "csv" else exports.xlsx_stream([table], g.tenant.tz)
    )
    return download_response(chunks, fmt, f"Посещаемость — {event.title[:60]}")


# --- who came --------------------------------------------------------------------------------------


def _fixed_object(kind: str, object_id: int):
    """The event, venue or school a list is about, if the viewer's scope reaches it (else 404)."""
    scope = scope_of(page_principal())
    model = {"event": Event, "venue": Venue, "school": School}[kind]
    found = get_or_404(model, object_id)
    if kind == "venue" and scope.kind is ScopeKind.VENUE and found.id != scope.object_id:
        abort(404)
    if kind == "school" and scope.kind is ScopeKind.SCHOOL and found.id != scope.object_id:
        abort(404)
    if kind == "school" and scope.kind is ScopeKind.MUNICIPALITY and found.municipality_id != scope.object_id:
        abort(404)
    if kind == "event" and scope.kind is ScopeKind.VENUE and found.venue_id != scope.object_id:
        abort(404)
    return found


def _participants_page(title: str, fixed: dict, subject=None):
    principal = page_principal()
    scope = scope_of(principal)
    filters = Filters.parse(request.args, **fixed)
    now = utcnow()
    rows = participants(scope, filters, g.tenant.tz, now, limit=PAGE_ROWS)
    counts = count_participants(scope, filters, g.tenant.tz, now)
    schools = list(db.session.scalars(schools_query(principal).limit(500)))
    return render_template(
        "reports/participants.html",
        title=title,
        subject=subject,
        fixed=fixed,
        filters=filters,
        rows=rows,
        counts=counts,
        page_rows=PAGE_ROWS,
        statuses=STATUS_LABELS,
        schools=schools if "school_id" not in fixed and not principal.is_(Role.VENUE) else [],
        export_args=filters.as_args(),
    )


@bp.get("/reports/participants")
@roles_required(*STAFF)
def participants_list():
    return _participants_page(_("Кто пришёл"), {})


@bp.get("/events/<int:object_id>/participants")
@roles_required(*STAFF)
def event_participants(object_id: int):
    event = _fixed_object("event", object_id)
    return _participants_page(event.title, {"event_id": event.id}, event)


@bp.get("/venues/<int:object_id>/participants")
@roles_required(*STAFF)
def venue_participants(object_id: int):
    venue = _fixed_object("venue", object_id)
    return _participants_page(venue.name, {"venue_id": venue.id}, venue)


@bp.get("/schools/<int:object_id>/participants")
@roles_required(*STAFF)
def school_participants(object_id: int):
    school = _fixed_object("school", object_id)
    return _participants_page(school.name, {"school_id": school.id}, school)


@bp.get("/reports/participants.<any(csv, xlsx):fmt>")
@roles_required(*STAFF)
@limiter.limit(EXPORT_LIMIT)
def participants_export(fmt: str):
    scope = scope_of(page_principal())
    filters = Filters.parse(request.args)
    tz, now = g.tenant.tz, utcnow()
    rows = count_participants(scope, filters, tz, now)["total"]
    # Committed at the request edge, before the body below is produced: the entry exists first.
    record_export("participants", fmt, scope, filters.audit(), rows=rows)

    def chunks():
        table = tables.participants_table(export_rows(scope, filters, tz, now))
        yield from table_files(fmt, [table])

    return download_response(chunks(), fmt, f"Участники {now.astimezone(tz):%Y-%m-%d}")


# --- attendance for a period -----------------------------------------------------------------------


def _period_filters() -> Filters:
    return period(Filters.parse(request.args), g.tenant.tz, utcnow())


@bp.get("/reports/attendance")
@roles_required(*STAFF)
def attendance_report():
    scope = scope_of(page_principal())
    filters = _period_filters()
    summary = attendance_summary(scope, filters, g.tenant.tz, utcnow())
    return render_template(
        "reports/attendance.html",
        summary=summary,
        filters=filters,
        chart_data={
            "arrivals": summary["arrivals"],
            "turnout": summary["turnout"],
            "labels": {"registered": _("Записано"), "checked_in": _("Пришли")},
        },
    )


@bp.get("/reports/attendance.<any(csv, xlsx):fmt>")
@roles_required(*STAFF)
@limiter.limit(EXPORT_LIMIT)
def attendance_report_export(fmt: str):
    scope = scope_of(page_principal())
    filters = _period_filters()
    tz = g.tenant.tz
    summary = attendance_summary(scope, filters, tz, utcnow())
    sheets = [tables.summary_table(summary), tables.venues_table(summary)]
    rows = sum(
        1 + len(m.children) + sum(len(s.children) for s in m.children) for m in summary["by_municipality"]
    )
    record_export("attendance_summary", fmt, scope, filters.audit(), rows=rows)
    return download_response(
        table_files(fmt, sheets), fmt, f"Сводка {filters.date_from:%d.%m.%Y}–{filters.date_to:%d.%m.%Y}"
    )


# --- the trials season -----------------------------------------------------------------------------


def _season_filters() -> Filters:
    filters = Filters.parse(request.args)
    return Filters(school_id=filters.school_id, municipality_id=filters.municipality_id,
                   date_from=filters.date_from)  # fmt: skip


@bp.get("/reports/season")
@roles_required(Role.COORDINATOR, Role.MUNICIPAL, Role.SCHOOL)
def season_report():
    scope = scope_of(page_principal())
    filters = _season_filters()
    season = trials_season(scope, filters, g.tenant.tz, utcnow())
    return render_template("reports/season.html", season=season, filters=filters, rows=PAGE_ROWS)


@bp.get("/reports/season.<any(csv, xlsx):fmt>")
@roles_required(Role.COORDINATOR, Role.MUNICIPAL, Role.SCHOOL)
@limiter.limit(EXPORT_LIMIT)
def season_export(fmt: str):
    scope = scope_of(page_principal())
    filters = _season_filters()
    tz = g.tenant.tz
    season = trials_season(scope, filters, tz, utcnow())
    sheets = tables.season_tables(season)
    record_export("trials_season", fmt, scope, filters.audit(), rows=len(season["students"]))
    first, last = season["season"]
    return download_response(table_files(fmt, sheets), fmt, f"Профпробы {first.year}-{last.year}")


def _statuses() -> list[tuple[str, str]]:
    return [(s.value, STATUS_LABELS[s]) for s in Status]


@bp.app_template_global()
def report_statuses() -> list[tuple[str, str]]:
    return _statuses()


@bp.app_template_filter()
def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


# --- reports by e-mail -----------------------------------------------------------------------------


@bp.route("/reports/subscriptions", methods=["GET", "POST"])
@roles_required(*STAFF)
def subscriptions():
    principal = page_principal()
    if request.method == "POST":
        wanted = {f for f in Frequency if request.form.get(f.value) == "on"}
        set_subscriptions(principal.user_id, wanted)
        flash(_("Рассылка сохранена."), "success")
        return redirect(url_for(".subscriptions"))
    return render_template(
        "reports/subscriptions.html", held=subscriptions_of(principal.user_id), scope=scope_of(principal)
    )
