"""Venue staff's home, «Моя площадка сегодня»: their venue's day, and a kiosk for their own door."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request

from server.accounts.auth import page_principal, roles_required
from server.accounts.models import Role
from server.catalog.models import FORMAT_LABELS
from server.checkins import kiosks
from server.checkins.venue_day import venue_day
from server.checkins.views import _pairing
from server.database import utcnow
from server.errors import DomainError
from server.extensions import db

bp = Blueprint("venue", __name__, url_prefix="/<tenant>")


def _page(pairing: dict | None = None, error: str | None = None, status: int = 200):
    principal = page_principal()
    day = venue_day(principal.membership.venue_id, g.tenant.id) if principal.membership.venue_id else None
    if day is None:
        abort(403)  # a venue role not yet tied to a venue sees nothing rather than everything
    page = render_template(
        "checkins/venue_home.html",
        day=day,
        pairing=pairing,
        error=error,
        now_local=utcnow(),
        format_labels=FORMAT_LABELS,
    )
    return page, status


@bp.get("/venue")
@roles_required(Role.VENUE)
def home():
    return _page()


@bp.post("/venue/kiosks")
@roles_required(Role.VENUE)
def new_kiosk():
    """Venue staff pair the tablets at their own door; the venue is theirs, never chosen in the form."""
    principal = page_principal()
    try:
        kiosk, code = kiosks.create_kiosk(
            principal.membership.venue_id, request.form.get("name", ""), user_id=principal.user_id
        )
    except DomainError as error:
        db.session.rollback()
        return _page(error=error.message, status=422)
    return _page(pairing=_pairing(kiosk, code))
