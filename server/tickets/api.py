"""API v1: registrations (public, rate-limited; or under a staff token) and ticket cancellation."""

from __future__ import annotations

from flask import abort, current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from server.accounts.auth import api_principal, api_roles
from server.accounts.models import Role
from server.api import api_blueprint, documented, parse_body
from server.catalog.models import Event
from server.errors import Forbidden
from server.extensions import limiter
from server.tickets import services
from server.tickets.consent import CONSENT_VERSION
from server.tickets.links import ticket_url
from server.tickets.models import ConsentMethod, Ticket
from tenants.scoping import get_or_404

bp = api_blueprint("tickets_api", __name__)
REGISTRARS = (Role.COORDINATOR, Role.MUNICIPAL, Role.SCHOOL)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StudentIn(Strict):
    last_name: str = Field(min_length=1, max_length=100)
    first_name: str = Field(min_length=1, max_length=100)
    middle_name: str | None = Field(default=None, max_length=100)
    grade: int = Field(ge=1, le=11)
    school_id: int


class GuardianIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)


class RegistrationIn(Strict):
    student: StudentIn
    guardian: GuardianIn
    consent: bool
    consent_version: str = CONSENT_VERSION


def _has_bearer() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


@bp.post("/<tenant>/events/<int:event_id>/registrations")
@documented(
    "Записать ученика на событие (публично, с ограничением частоты; или под токеном школы/координатора)",
    body=RegistrationIn,
    auth="public",
    responses={201: "билет", 409: "мест нет / квота / лимит сезона / уже записан", 422: "неверные данные"},
)
@limiter.limit(lambda: current_app.config["REGISTRATION_RATE_LIMIT"], exempt_when=_has_bearer)
def register(event_id: int):
    principal = None
    if _has_bearer():
        principal = api_principal()
        if principal.kiosk is not None or principal.role is None:
            abort(404)
        if principal.role not in REGISTRARS:
            raise Forbidden("Записывать учеников могут школа, муниципальный и региональный координатор.")
    event = get_or_404(Event, event_id)  # another region's (or no) event: 404 before anything else
    body = parse_body(RegistrationIn)
    data = services.Registration(
        student=services.StudentInput(
            last_name=body.student.last_name,
            first_name=body.student.first_name,
            middle_name=body.student.middle_name or "",
            grade=body.student.grade,
            school_id=body.student.school_id,
        ),
        guardian_name=body.guardian.name,
        guardian_phone=body.guardian.phone,
        guardian_email=body.guardian.email,
        consent=body.consent,
        consent_version=body.consent_version,
        consent_method=ConsentMethod.API if principal else ConsentMethod.ONLINE,
        source="api" if principal else "public",
        registered_by_id=principal.user_id if principal else None,
    )
    ticket = services.register(event, data, g.tenant.tz, principal=principal)
    return jsonify(
        ticket={
            "id": ticket.id,
            "code": ticket.code,
            "url": ticket_url(ticket),
            "event_id": ticket.event_id,
            "status": ticket.status.value,
        }
    ), 201


@bp.delete("/<tenant>/tickets/<int:ticket_id>")
@documented("Отменить билет (место освобождается, код больше не пропускает)", responses={200: "", 409: ""})
@api_roles(Role.COORDINATOR, Role.MUNICIPAL, Role.SCHOOL)
def cancel(ticket_id: int):
    principal = api_principal()
    ticket = get_or_404(Ticket, ticket_id)
    if not services.may_manage(principal, ticket):
        raise Forbidden("Отменять можно только билеты учеников своей школы или муниципалитета.")
    ticket = services.cancel(
        ticket, by=f"{principal.role.value}:{principal.user_id}", user_id=principal.user_id
    )
    return jsonify(
        id=ticket.id,
        status=ticket.status.value,
        cancelled_at=ticket.cancelled_at.isoformat() if ticket.cancelled_at else None,
    )
