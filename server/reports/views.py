"""Downloadable attendance reports for the coordinator (CSV for Excel, XLSX)."""

from __future__ import annotations

from flask import Blueprint, Response

from server.accounts.auth import page_principal, roles_required
from server.accounts.models import Role
from server.audit.services import record
from server.catalog.models import Event
from server.reports.exports import attendance_csv, attendance_xlsx
from server.reports.services import event_attendance
from tenants.scoping import get_or_404

bp = Blueprint("reports", __name__, url_prefix="/<tenant>")

FORMATS = {
    "csv": ("text/csv; charset=utf-8", attendance_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", attendance_xlsx),
}


@bp.get("/events/<int:event_id>/attendance.<any(csv, xlsx):fmt>")
@roles_required(Role.COORDINATOR)
def attendance_export(event_id: int, fmt: str):
    event = get_or_404(Event, event_id)
    report = event_attendance(event) | {"title": event.title}
    mimetype, render = FORMATS[fmt]
    record("export.attendance", "event", event.id, user_id=page_principal().user_id, format=fmt)
    return Response(
        render(report),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="attendance-{event.id}.{fmt}"'},
    )
