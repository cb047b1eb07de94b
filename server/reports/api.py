"""API v1: attendance of an event (SPEC)."""

from __future__ import annotations

from flask import jsonify

from server.accounts.auth import api_roles
from server.accounts.models import Role
from server.api import api_blueprint, documented
from server.catalog.models import Event
from server.reports.services import event_attendance
from tenants.scoping import get_or_404

bp = api_blueprint("reports_api", __name__)


@bp.get("/<tenant>/events/<int:event_id>/attendance")
@documented("Посещаемость события: всего, по муниципалитетам и школам")
@api_roles(Role.COORDINATOR)
def attendance(event_id: int):
    return jsonify(event_attendance(get_or_404(Event, event_id)))
