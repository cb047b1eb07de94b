"""Public pages: the region's open events, registration for one event, and the ticket page (no account).

The ticket page lives at an unguessable URL (`Ticket.access_token`); staff pages are in `staff_views`.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, EmailField, HiddenField, SelectChoice, SelectField, StringField, TelField
from wtforms.validators import Length, Optional

from server.catalog import services as catalog
from server.catalog.models import FORMAT_LABELS, Event
from server.database import refusal_undone, utcnow
from server.downloads import download
from server.errors import DomainError
from server.extensions import db, limiter
from server.security import private
from server.tickets import calendar, links, pdf, printing, qr, services
from server.tickets.consent import CONSENT_VERSION, consent_text
from server.tickets.consent import text_of as consent_text_of
from server.tickets.models import CONSENT_METHOD_LABELS, Consent, Ticket, TicketStatus
from server.tickets.pdf import JOIN_HOW, JOIN_LABEL
from server.tickets.remembered import remember_ticket
from server.tickets.staff_views import bp as staff_bp
from tenants.models import Tenant

bp = Blueprint("tickets_views", __name__, url_prefix="/<tenant>")
bp.register_blueprint(staff_bp)


class RegistrationForm(FlaskForm):
    last_name = StringField(_l("Фамилия ученика"), validators=[Length(max=100)])
    first_name = StringField(_l("Имя"), validators=[Length(max=100)])
    middle_name = StringField(_l("Отчество (если есть)"), validators=[Optional(), Length(max=100)])
    grade = SelectField(_l("Класс"), coerce=int)
    school = StringField(_l("Школа"), validators=[Length(max=300)])
    school_id = HiddenField()
    guardian_name = StringField(_l("ФИО родителя (законного представителя)"), validators=[Length(max=200)])
    guardian_phone = TelField(_l("Телефон родителя"), validators=[Optional(), Length(max=40)])
    guardian_email = EmailField(_l("E-mail родителя"), validators=[Optional(), Length(max=254)])
    consent = BooleanField(_l("Я родитель (законный представитель) и даю согласие на обработку данных"))
    consent_version = HiddenField(default=CONSENT_VERSION)


def _open_events(limit: int = 200) -> list[Event]:
    query = catalog.events_query(upcoming_from=utcnow()).where(Event.cancelled_at.is_(None))
    return list(db.session.scalars(query.limit(limit)))


@bp.get("/events/open")
def open_events():
    """Upcoming events with seats left: where a parent starts."""
    events = _open_events()
    return render_template(
        "tickets/open_events.html", events=events, format_labels=FORMAT_LABELS, body_class="public"
    )


@bp.get("/schools/find")
@limiter.limit("120 per minute")
def find_schools():
    """Typeahead: schools whose name contains the typed text (case-insensitive, ё = е)."""
    query = request.args.get("q", "").strip()
    if len(query) < 2:
        return jsonify([])
    found = catalog.list_schools(search=query, limit=15)
    return jsonify([{"id": s.id, "name": s.name, "municipality": s.municipality.name} for s in found])


def _resolve_school(form: RegistrationForm) -> tuple[int | None, list]:
    """The chosen school id; without JavaScript, the typed name is matched on the server."""
    chosen = [v for v in request.form.getlist("school_id") if v.isdigit()]
    if chosen:
        return int(chosen[-1]), []
    typed = (form.school.data or "").strip()
    if len(typed) < 2:
        return None, []
    found = catalog.list_schools(search=typed, limit=20)
    if len(found) == 1:
        return found[0].id, []
    return None, found


@bp.route("/e/<int:event_id>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REGISTRATION_RATE_LIMIT"], methods=["POST"])
def register(event_id: int):
    event = db.session.scalar(select(Event).where(Event.id == event_id))
    if event is None:
        abort(404)
    form = RegistrationForm()
    form.grade.choices = [
        SelectChoice(grade, gettext("%(grade)s класс", grade=grade))
        for grade in range(event.grade_min, event.grade_max + 1)
    ]
    refusal, status, candidates = None, 200, []
    if request.method == "POST" and form.validate_on_submit():
        school_id, candidates = _resolve_school(form)
        data = services.Registration(
            student=services.StudentInput(
                last_name=form.last_name.data,
                first_name=form.first_name.data,
                middle_name=form.middle_name.data or "",
                grade=form.grade.data,
                school_id=school_id,
            ),
            guardian_name=form.guardian_name.data,
            guardian_phone=form.guardian_phone.data,
            guardian_email=form.guardian_email.data,
            consent=bool(form.consent.data),
            consent_version=form.consent_version.data or "",
        )
        try:
            if school_id is None and candidates:
                raise DomainError("Уточните школу: выберите её из списка ниже.", code="choose_school")
            with refusal_undone():
                ticket = services.register(event, data, g.tenant.tz)
        except DomainError as error:
            refusal, status = error, (error.status if error.status >= 400 else 422)
        else:
            return redirect(url_for(".ticket_page", token=ticket.access_token, new=1))
    elif request.method == "POST":
        refusal, status = DomainError("Проверьте поля формы."), 422
    now = utcnow()
    operator = db.session.get(Tenant, g.tenant.id)
    response = render_template(
        "tickets/register.html",
        event=event,
        form=form,
        refusal=refusal,
        candidates=candidates,
        closed=event.ends_at <= now or event.archived,
        consent_text=consent_text(operator.operator_name, operator.operator_address, g.tenant.name),
        consent_version=CONSENT_VERSION,
        format_labels=FORMAT_LABELS,
        body_class="public",
    )
    return response, status


# --- the ticket -----------------------------------------------------------------------------------


def _ticket(token: str) -> Ticket:
    ticket = services.ticket_by_token(token)
    if ticket is None:
        abort(404)
    return ticket


@bp.get("/t/<token>")
def ticket_page(token: str):
    ticket = _ticket(token)
    remember_ticket(token)
    successor = db.session.scalar(select(Ticket).where(Ticket.replaces_id == ticket.id))
    alternatives = []
    if ticket.status == TicketStatus.ACTIVE and request.args.get("move"):
        alternatives = [
            e
            for e in _open_events()
            if e.programme_id == ticket.event.programme_id and e.id != ticket.event_id and e.seats_left > 0
        ]
    html = render_template(
        "tickets/ticket.html",
        ticket=ticket,
        event=ticket.event,
        student=ticket.student,
        successor=successor,
        alternatives=alternatives,
        just_registered=bool(request.args.get("new")),
        consent=_consent_of(ticket),
        method_labels=CONSENT_METHOD_LABELS,
        format_labels=FORMAT_LABELS,
        active=ticket.status == TicketStatus.ACTIVE,
        ended=ticket.event.ends_at <= utcnow(),
        join_url=links.join_url(ticket),
        body_class="public",
    )
    return private(Response(html))


def _active_code(token: str) -> str:
    ticket = _ticket(token)
    if ticket.status != TicketStatus.ACTIVE or not ticket.code:
        abort(404)
    return ticket.code


@bp.get("/t/<token>/qr.png")
def ticket_png(token: str):
    return private(Response(qr.png(_active_code(token)), mimetype="image/png"))


@bp.get("/t/<token>/qr.svg")
def ticket_svg(token: str):
    return private(Response(qr.svg(_active_code(token)), mimetype="image/svg+xml"))


@bp.get("/t/<token>/ticket.pdf")
def ticket_pdf(token: str):
    ticket = _ticket(token)
    if ticket.status != TicketStatus.ACTIVE:
        abort(404)
    body = pdf.ticket_pdf(printing.card_of(ticket), g.tenant.tz)
    response = download(body, "application/pdf", f"Билет — {ticket.event.title}.pdf", inline=True)
    return private(response)


@bp.get("/t/<token>/event.ics")
def ticket_ics(token: str):
    ticket = _ticket(token)
    event = ticket.event
    page, join = links.ticket_url(ticket), links.join_url(ticket)
    description = f"{JOIN_LABEL}: {join}\n{JOIN_HOW}\nБилет: {page}" if join else f"Билет: {page}"
    body = calendar.ics(
        uid=f"ticket-{ticket.id}-{g.tenant.slug}@propusk",
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        location=join or f"{event.venue.name}, {event.venue.address}",
        url=join or page,
        description=description,
    )
    response = download(body, "text/calendar", f"{event.title}.ics")
    return private(response)


def _refused(error: DomainError, token: str):
    html = render_template(
        "tickets/message.html",
        title="Не получилось",
        message=error.message,
        back=url_for(".ticket_page", token=token),
        body_class="public",
    )
    return private(Response(html, status=error.status))


@bp.post("/t/<token>/cancel")
def ticket_cancel(token: str):
    ticket = _ticket(token)
    try:
        with refusal_undone():
            services.cancel(ticket, by="guardian")
    except DomainError as error:
        return _refused(error, token)
    html = render_template(
        "tickets/message.html",
        title="Запись отменена",
        message="Место освобождено, билет больше не действует. Спасибо, что предупредили!",
        back=url_for(".ticket_page", token=token),
        body_class="public",
    )
    return private(Response(html))


def _consent_of(ticket: Ticket) -> Consent | None:
    return db.session.scalar(select(Consent).where(Consent.id == ticket.consent_id))


@bp.get("/t/<token>/consent")
def ticket_consent(token: str):
    """The consent as it was given: its text in that version, the operator then named, who, when, how."""
    ticket = _ticket(token)
    consent = _consent_of(ticket)
    if consent is None or consent.erased_at is not None:
        abort(404)
    html = render_template(
        "tickets/consent.html",
        ticket=ticket,
        consent=consent,
        text=consent_text_of(consent.text_version, consent.operator_name, g.tenant.name),
        method_labels=CONSENT_METHOD_LABELS,
        body_class="public",
    )
    return private(Response(html))


@bp.post("/t/<token>/move")
def ticket_move(token: str):
    ticket = _ticket(token)
    try:
        with refusal_undone():
            new_ticket = services.change_event(
                ticket, request.form.get("event_id", 0, type=int), g.tenant.tz, by="guardian"
            )
    except DomainError as error:
        return _refused(error, token)
    return redirect(url_for(".ticket_page", token=new_ticket.access_token, new=1))
