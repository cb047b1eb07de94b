"""API v1: attendance of an event (SPEC) and the attendance summary of a period, scoped per role."""

from __future__ import annotations

from flask import g, jsonify, request

from server.accounts.auth import STAFF, api_principal, api_roles
from server.accounts.models import Role
from server.api import api_blueprint, documented
from server.catalog.models import Event
from server.database import utcnow
from server.reports.participants import Filters
from server.reports.scope import scope_of
from server.reports.services import event_attendance
from server.reports.summary import attendance_summary, period, summary_json
from tenants.scoping import get_or_404

bp = api_blueprint("reports_api", __name__)


@bp.get("/<tenant>/events/<int:event_id>/attendance")
@documented("Посещаемость события: всего, по муниципалитетам и школам")
@api_roles(Role.COORDINATOR)
def attendance(event_id: int):
    return jsonify(event_attendance(get_or_404(Event, event_id)))


@bp.get("/<tenant>/reports/attendance")
@documented(
    "Сводка посещаемости за период в охвате роли: по муниципалитетам → школам → классам и по "
    "площадкам → событиям",
    query={
        "from": "первый день периода, ГГГГ-ММ-ДД (по умолчанию начало учебного года)",
        "to": "последний день периода, ГГГГ-ММ-ДД (по умолчанию сегодня)",
        "programme": "open_day или trial (по умолчанию все)",
    },
)
@api_roles(*STAFF)
def attendance_summary_api():
    scope = scope_of(api_principal())
    now = utcnow()
    filters = period(Filters.parse(request.args), g.tenant.tz, now)
    return jsonify(summary_json(attendance_summary(scope, filters, g.tenant.tz, now)))
