"""API v1 of the door: kiosks and pairing, check-ins (SPEC), and what the kiosk page needs.

The kiosk page is a static shell that talks to these endpoints with its bearer token (`kk_…`), so a
revoked kiosk is refused at its very next request, whatever the page still holds.
"""

from __future__ import annotations

from datetime import datetime
from functools import wraps

from flask import current_app, g, jsonify, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.accounts.auth import (
    admit_kiosk,
    api_principal,
    api_roles,
    check_access,
    kiosk_bearer,
    kiosk_seen_every,
    kiosk_token,
)
from server.accounts.models import Role
from server.accounts.services import membership_in
from server.api import api_blueprint, documented, parse_body
from server.catalog.services import admitted_counts
from server.checkins import groups, kiosks, offline, services, today
from server.errors import NotFound
from server.extensions import limiter
from server.security import token_hash

bp = api_blueprint("checkins_api", __name__)

SCAN_ID = Field(default=None, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class KioskIn(Strict):
    venue_id: int
    name: str = Field(min_length=1, max_length=100)


class PairIn(Strict):
    pairing_code: str = Field(min_length=1, max_length=40)


class CheckinIn(Strict):
    code: str = Field(min_length=1, max_length=300)
    scan_id: str | None = SCAN_ID


class OfflineScanIn(Strict):
    code: str = Field(min_length=1, max_length=300)
    scan_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    scanned_at: datetime

    @field_validator("scanned_at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        """A device's clock, not year 1 or 9999 (their conversions to UTC overflow)."""
        if not 2000 <= value.year <= 2100:
            raise ValueError("время скана вне 2000–2100 годов")
        return value


class BulkIn(Strict):
    items: list[OfflineScanIn] = Field(max_length=500)


class ManualIn(Strict):
    ticket_id: int
    scan_id: str | None = SCAN_ID


class EscortIn(Strict):
    code: str = Field(min_length=1, max_length=300)


class TicketsIn(Strict):
    ticket_ids: list[int] = Field(min_length=1, max_length=200)


def _require_kiosk() -> None:
    """A paired kiosk of this region, nothing else: a user token is not a door (404, like a stranger)."""
    principal = api_principal()
    check_access(principal, (), kiosk=True)
    if principal.kiosk is None:
        raise NotFound("Этот адрес только для киосков.", code="kiosk_only")


def kiosk_endpoint(view):
    """Mark a view as a kiosk's: it answers a paired kiosk's token only, and carries no rate limit."""
    view.kiosk_only = True
    return view


def kiosk_only(view):
    """A kiosk endpoint behind `_require_kiosk`."""

    @wraps(view)
    def guarded(*args, **kwargs):
        _require_kiosk()
        return view(*args, **kwargs)

    return kiosk_endpoint(guarded)


@limiter.request_filter
def _kiosk_endpoint() -> bool:
    """Kiosk endpoints answer nothing but a paired kiosk's 256-bit token and carry no rate limit, so
    the limiter's bookkeeping is skipped on them: the door's scan is the busiest request there is.
    The search by surname is the exception (`per_kiosk_limit`): it reads names."""
    view = current_app.view_functions.get(request.endpoint)
    return getattr(view, "kiosk_only", False) and not getattr(view, "per_kiosk_limit", False)


def _kiosk_key() -> str:
    """Rate-limit key of a kiosk: its token's hash (one kiosk, wherever it connects from)."""
    token = kiosk_token(request.headers.get("Authorization"))
    return f"kiosk:{token_hash(token)}" if token else f"addr:{get_remote_address()}"


def _kiosk():
    return api_principal().kiosk


# --- kiosks (coordinator) -------------------------------------------------------------------------


@bp.post("/<tenant>/kiosks")
@api_roles(Role.COORDINATOR)
@documented(
    "Create a kiosk for a venue; returns its one-time pairing code",
    body=KioskIn,
    responses={201: "created", 404: "venue not found"},
)
def create_kiosk():
    data = parse_body(KioskIn)
    kiosk, code = kiosks.create_kiosk(data.venue_id, data.name, user_id=api_principal().user_id)
    return jsonify({**kiosks.kiosk_json(kiosk), "pairing_code": code}), 201


@bp.get("/<tenant>/kiosks")
@api_roles(Role.COORDINATOR)
@documented("The region's kiosks with last seen time")
def list_kiosks():
    return jsonify(items=[kiosks.kiosk_json(k) for k in kiosks.list_kiosks()])


@bp.post("/<tenant>/kiosks/<int:kiosk_id>/revoke")
@api_roles(Role.COORDINATOR)
@documented("Revoke a kiosk: its token is refused from its next request", responses={404: "not found"})
def revoke_kiosk(kiosk_id: int):
    kiosk = kiosks.get_kiosk(kiosk_id)
    kiosks.revoke_kiosk(kiosk, user_id=api_principal().user_id)
    return jsonify(kiosks.kiosk_json(kiosk))


@bp.post("/kiosk/pair")
@limiter.limit(lambda: current_app.config["KIOSK_PAIR_RATE_LIMIT"])
@documented(
    "Pair a device with a one-time code; returns the kiosk's bearer token",
    body=PairIn,
    auth="public",
    responses={200: "paired", 404: "unknown, used or expired code"},
)
def pair():
    data = parse_body(PairIn)
    pairing = kiosks.pair_kiosk(data.pairing_code)
    kiosk = pairing.kiosk
    return jsonify(
        token=pairing.token,
        tenant={
            "slug": pairing.tenant.slug,
            "name": pairing.tenant.name,
            "timezone": pairing.tenant.timezone,
        },
        venue={"id": kiosk.venue.id, "name": kiosk.venue.name, "address": kiosk.venue.address},
        kiosk={"id": kiosk.id, "name": kiosk.name},
    )


# --- check-ins (kiosk) ----------------------------------------------------------------------------


@bp.post("/<tenant>/checkins")
@kiosk_endpoint
@documented(
    "Admit a scanned code: result ok | already_checked_in | cancelled | wrong_venue | outside_window | "
    "invalid; a replayed scan_id returns the first answer",
    body=CheckinIn,
    responses={200: "the door's answer", 401: "kiosk unknown or revoked"},
)
def checkin():
    """The busiest request: its kiosk (by token) and the scanned ticket are read in one query.

    A paired kiosk's well-formed scan is answered below Flask by `checkins.lane` with the same
    services; this view answers everything the lane leaves to it (401, 404, 422) and documents it.
    """
    token = kiosk_bearer()
    if token is None:
        _require_kiosk()  # answers 401, or 404 for a user's token, as every kiosk endpoint does
    data = parse_body(CheckinIn)
    scanned = services.read_scan(token, data.code, g.tenant.id, kiosk_seen_every())
    admit_kiosk(scanned.kiosk)
    return jsonify(services.admit_scanned(scanned, scan_id=data.scan_id).as_json())


@bp.post("/<tenant>/checkins/bulk")
@kiosk_only
@documented(
    "Sync scans made offline, with their device times and scan ids (replay-safe)",
    body=BulkIn,
    responses={200: "one answer per item"},
)
def checkin_bulk():
    data = parse_body(BulkIn)
    items = [item.model_dump() for item in data.items]
    return jsonify(results=services.sync_offline(_kiosk(), items))


# --- what the kiosk page needs --------------------------------------------------------------------


@bp.get("/<tenant>/kiosk/today")
@kiosk_only
@documented("The kiosk, its venue, today's events there with counts, admissions today")
def kiosk_today():
    kiosk = _kiosk()
    events = today.todays_events(kiosk)
    counts = admitted_counts([e.id for e in events])
    venue_total, by_kiosk = today.admitted_today(kiosk)
    return jsonify(
        kiosk={"id": kiosk.id, "name": kiosk.name},
        venue={"id": kiosk.venue_id, "name": kiosks.venue_name(kiosk)},
        tenant={"slug": g.tenant.slug, "name": g.tenant.name, "timezone": g.tenant.timezone},
        admitted_today=venue_total,
        admitted_by_kiosk=by_kiosk,
        events=[
            {
                "id": e.id,
                "title": e.title,
                "format": e.format.value,
                "starts_at": e.starts_at.isoformat(),
                "ends_at": e.ends_at.isoformat(),
                "opens_at": services.checkin_window(e)[0].isoformat(),
                "registered": e.registered,
                "checked_in": counts.get(e.id, 0),
            }
            for e in events
        ],
    )


@bp.get("/<tenant>/kiosk/offline")
@kiosk_only
@documented("Today's tickets (hashed, sealed), cancellations and public keys for offline admission")
def kiosk_offline():
    return jsonify(offline.offline_bundle(_kiosk()))


@bp.get("/<tenant>/kiosk/search")
@kiosk_only
@limiter.limit(lambda: current_app.config["KIOSK_SEARCH_RATE_LIMIT"], key_func=_kiosk_key)
@documented(
    "Today's registrations at the venue by surname, short names (≥ 3 letters; rate-limited, audited)",
    responses={429: "too many searches from this kiosk"},
)
def kiosk_search():
    return jsonify(items=today.find_registrations(_kiosk(), request.args.get("q", "")))


kiosk_search.per_kiosk_limit = True  # type: ignore[attr-defined]


@bp.post("/<tenant>/kiosk/manual")
@kiosk_only
@documented("Admit a registration found by surname; audited as manual", body=ManualIn)
def kiosk_manual():
    data = parse_body(ManualIn)
    principal = api_principal()
    answer = services.admit_manually(
        data.ticket_id, principal.kiosk, user_id=_signed_in_staff_id(), scan_id=data.scan_id
    )
    return jsonify(answer.as_json())


def _signed_in_staff_id() -> int | None:
    """Who stands at the kiosk, when they signed in on that browser: attribution for the audit only.

    The request is authorised by the kiosk's bearer token (no CSRF exposure); the session merely
    names the member of staff of this region, if any.
    """
    if not current_user.is_authenticated:
        return None
    membership = membership_in(current_user._get_current_object(), g.tenant)
    return current_user.id if membership is not None else None


@bp.post("/<tenant>/kiosk/groups/open")
@kiosk_only
@documented("Open a class checklist from the teacher's escort QR", body=EscortIn, responses={404: ""})
def kiosk_group_open():
    data = parse_body(EscortIn)
    return jsonify(groups.open_group(data.code, _kiosk()).as_json())


@bp.get("/<tenant>/kiosk/groups/<int:group_id>")
@kiosk_only
@documented("A class checklist with who is admitted and who left")
def kiosk_group(group_id: int):
    return jsonify(groups.group_sheet(group_id, _kiosk()).as_json())


@bp.post("/<tenant>/kiosk/groups/<int:group_id>/admit")
@kiosk_only
@documented("Admit the ticked children of a class, each as its own check-in", body=TicketsIn)
def kiosk_group_admit(group_id: int):
    data = parse_body(TicketsIn)
    kiosk = _kiosk()
    results = groups.admit_group(group_id, data.ticket_ids, kiosk)
    return jsonify(results=results, **groups.group_sheet(group_id, kiosk).as_json())


@bp.post("/<tenant>/kiosk/groups/<int:group_id>/left")
@kiosk_only
@documented("Mark children of a class as left with the teacher", body=TicketsIn)
def kiosk_group_left(group_id: int):
    data = parse_body(TicketsIn)
    kiosk = _kiosk()
    marked = groups.mark_left(group_id, data.ticket_ids, kiosk)
    return jsonify(marked=marked, **groups.group_sheet(group_id, kiosk).as_json())
