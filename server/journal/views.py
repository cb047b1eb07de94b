"""The coordinator's audit log page, with filters by kind of action, admission method and dates; and
the log of exports (who took which personal data out, in which scope, how many rows)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, g, render_template, request
from sqlalchemy import select

from server.accounts.auth import roles_required
from server.accounts.models import Role, User
from server.audit.models import AuditEntry
from server.catalog.services import list_municipalities, list_venues
from server.checkins.models import AdmissionMethod
from server.extensions import db
from server.journal import queries
from server.journal.queries import ADMISSION_LABELS, KINDS, audit_log
from server.reports.audit import EXPORT_ACTION, REPORT_LABELS

bp = Blueprint("audit", __name__, url_prefix="/<tenant>")


def _day(text: str | None) -> date | None:
    """A date from the filter form; anything unreadable is no filter (the form shows what applied)."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.get("/audit")
@roles_required(Role.COORDINATOR)
def log():
    kind = request.args.get("kind") or None
    if kind not in KINDS:
        kind = None
    method = request.args.get("method") or None
    method = AdmissionMethod(method) if method in AdmissionMethod._value2member_map_ else None
    since_day, until_day = _day(request.args.get("from")), _day(request.args.get("to"))
    tz = g.tenant.tz
    since = datetime.combine(since_day, time(0), tzinfo=tz) if since_day else None
    until = datetime.combine(until_day + timedelta(days=1), time(0), tzinfo=tz) if until_day else None
    lines = audit_log(kind, since=since, until=until, method=method if kind == "admissions" else None)
    html = render_template(
        "audit/log.html",
        lines=lines,
        kinds=KINDS,
        kind=kind,
        methods=ADMISSION_LABELS,
        method=method,
        since=since_day,
        until=until_day,
    )
    response = Response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the export log --------------------------------------------------------------------------------


@bp.get("/reports/exports")
@roles_required(Role.COORDINATOR)
def export_log():
    entries = db.session.execute(
        select(AuditEntry, User.email, User.full_name)
        .outerjoin(User, User.id == AuditEntry.actor_user_id)
        .where(AuditEntry.action == EXPORT_ACTION)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(500)
    ).all()
    names = {
        "municipality": {m.id: m.name for m in list_municipalities()},
        "venue": {v.id: v.name for v in list_venues()},
    }
    return render_template(
        "reports/exports.html",
        entries=entries,
        labels=REPORT_LABELS,
        names=names,
        detail_text=queries.detail_text,
        detail_value=queries.detail_value,
    )
