"""API v1: municipalities, schools, venues, events (SPEC's contract)."""

from __future__ import annotations

from datetime import datetime

from flask import g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from server.accounts.auth import STAFF, api_principal, api_roles
from server.accounts.models import Role
from server.api import api_blueprint, documented, parse_body
from server.catalog import services
from server.catalog.models import Event, Municipality, School, Venue
from server.extensions import db
from tenants.scoping import get_or_404

bp = api_blueprint("catalog_api", __name__)
COORDINATOR = (Role.COORDINATOR,)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MunicipalityIn(Strict):
    name: str = Field(min_length=1, max_length=200)


class SchoolIn(Strict):
    name: str = Field(min_length=1, max_length=300)
    municipality_id: int


class VenueIn(Strict):
    name: str = Field(min_length=1, max_length=300)
    address: str = Field(min_length=1, max_length=500)
    cluster: str | None = Field(default=None, max_length=200)


class QuotaIn(Strict):
    municipality_id: int
    seats: int = Field(ge=0)


class EventIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    programme: str = Field(pattern="^(open_day|trial)$")
    format: str = Field(pattern="^(in_person|online)$")
    venue_id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int = Field(ge=1, le=100_000)
    grade_min: int = Field(ge=1, le=11)
    grade_max: int = Field(ge=1, le=11)
    quotas: list[QuotaIn] = Field(default_factory=list)
    description: str = Field(default="", max_length=2000)
    broadcast_url: str | None = Field(default=None, max_length=500)
    quota_deadline: datetime | None = None


def municipality_json(m: Municipality) -> dict:
    return {"id": m.id, "name": m.name}


def school_json(s: School) -> dict:
    return {"id": s.id, "name": s.name, "municipality_id": s.municipality_id}


def venue_json(v: Venue) -> dict:
    return {"id": v.id, "name": v.name, "address": v.address, "cluster": v.cluster}


def event_json(e: Event, checked_in: int | None = None) -> dict:
    tz = g.tenant.tz
    data = {
        "id": e.id,
        "title": e.title,
        "programme": e.programme.kind.value,
        "format": e.format.value,
        "venue_id": e.venue_id,
        "starts_at": e.starts_at.astimezone(tz).isoformat(),
        "ends_at": e.ends_at.astimezone(tz).isoformat(),
        "capacity": e.capacity,
        "grade_min": e.grade_min,
        "grade_max": e.grade_max,
        "registered": e.registered,
        "seats_left": e.seats_left,
        "quotas": [
            {"municipality_id": q.municipality_id, "seats": q.seats, "used": q.used} for q in e.quotas
        ],
    }
    if checked_in is not None:
        data["checked_in"] = checked_in
    return data


@bp.get("/<tenant>/municipalities")
@documented("Муниципалитеты региона")
@api_roles(*COORDINATOR)
def list_municipalities():
    return jsonify([municipality_json(m) for m in services.list_municipalities()])


@bp.post("/<tenant>/municipalities")
@documented("Создать муниципалитет", body=MunicipalityIn, responses={201: "", 409: ""})
@api_roles(*COORDINATOR)
def create_municipality():
    body = parse_body(MunicipalityIn)
    return jsonify(municipality_json(services.create_municipality(body.name))), 201


@bp.get("/<tenant>/schools")
@documented("Школы (координатору — все, муниципальному — своего муниципалитета)")
@api_roles(Role.COORDINATOR, Role.MUNICIPAL)
def list_schools():
    found = services.list_schools(api_principal(), request.args.get("q"))
    return jsonify([school_json(s) for s in found])


@bp.post("/<tenant>/schools")
@documented("Создать школу", body=SchoolIn, responses={201: "", 409: ""})
@api_roles(Role.COORDINATOR, Role.MUNICIPAL)
def create_school():
    body = parse_body(SchoolIn)
    school = services.create_school(body.name, body.municipality_id, api_principal())
    return jsonify(school_json(school)), 201


@bp.get("/<tenant>/venues")
@documented("Площадки региона")
@api_roles(*COORDINATOR)
def list_venues():
    return jsonify([venue_json(v) for v in services.list_venues()])


@bp.post("/<tenant>/venues")
@documented("Создать площадку", body=VenueIn, responses={201: "", 409: ""})
@api_roles(*COORDINATOR)
def create_venue():
    body = parse_body(VenueIn)
    venue = services.save_venue(None, name=body.name, address=body.address, cluster=body.cluster)
    return jsonify(venue_json(venue)), 201


@bp.get("/<tenant>/events")
@documented("События региона")
@api_roles(*COORDINATOR)
def list_events():
    events = list(db.session.scalars(services.events_query(programme_kind=request.args.get("programme"))))
    counts = services.admitted_counts([e.id for e in events])
    return jsonify([event_json(e, counts.get(e.id, 0)) for e in events])


@bp.post("/<tenant>/events")
@documented("Создать событие", body=EventIn, responses={201: "", 409: ""})
@api_roles(*COORDINATOR)
def create_event():
    body = parse_body(EventIn)
    data = services.EventInput(
        **body.model_dump(exclude={"quotas"}),
        quotas=[(q.municipality_id, q.seats) for q in body.quotas],
    )
    event = services.save_event(None, data, g.tenant.tz)
    return jsonify(event_json(event, 0)), 201


@bp.get("/<tenant>/events/<int:event_id>")
@documented("Событие со счётчиками registered и checked_in")
@api_roles(*STAFF)
def get_event(event_id: int):
    event = get_or_404(Event, event_id)
    return jsonify(event_json(event, services.admitted_counts([event.id]).get(event.id, 0)))
