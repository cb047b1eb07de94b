"""The live attendance dashboard page; its numbers arrive over Socket.IO `/live`."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request

from server.accounts.auth import STAFF, page_principal, roles_required
from server.database import utcnow
from server.live.services import Filters, programme_choices, scope_for, snapshot

bp = Blueprint("live_views", __name__, url_prefix="/<tenant>")


@bp.get("/live")
@roles_required(*STAFF)
def dashboard():
    """The first snapshot is rendered into the page, so it shows numbers before the socket is up."""
    principal = page_principal()
    scope = scope_for(principal.user, principal.membership, g.tenant)
    if scope is None:  # e.g. a municipal coordinator not yet tied to a municipality
        abort(403)
    now = utcnow()
    filters = Filters.parse(g.tenant, request.args.get("date"), request.args.get("programme"), now)
    return render_template(
        "live/dashboard.html",
        scope=scope,
        filters=filters,
        programmes=programme_choices(),
        initial=snapshot(scope, g.tenant, filters, now),
    )
