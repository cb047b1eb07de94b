"""Downloadable attendance reports for the coordinator (CSV for Excel, XLSX)."""

from __future__ import annotations

from flask import Blueprint

from server.accounts.auth import roles_required
from server.accounts.models import Role
from server.catalog.models import Event
from server.downloads import download
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
    return download(render(report), mimetype, f"Посещаемость — {event.title}.{fmt}")
