"""Staff pages: a school's events and tickets, class import, class sheets, quota split, season limits."""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from server.accounts.auth import page_principal, roles_required
from server.accounts.models import Role
from server.audit.services import record
from server.catalog import services as catalog
from server.catalog.models import FORMAT_LABELS, Event, Municipality, Programme, School
from server.confirmation import ask, confirmed
from server.database import end_reads, refusal_undone, utcnow
from server.downloads import download
from server.errors import DomainError, Invalid
from server.extensions import db
from server.formatting import datetime_ru
from server.security import body_limit
from server.tickets import importing, printing, quotas, rules, services
from server.tickets.models import ClassGroup, Student, Ticket, TicketStatus
from tenants.scoping import get_or_404

bp = Blueprint("staff", __name__)
REGISTRARS = (Role.COORDINATOR, Role.MUNICIPAL, Role.SCHOOL)


def _tickets_query(principal):
    """Tickets the principal may see: all, its municipality's, or its school's."""
    query = select(Ticket).join(Student, Student.id == Ticket.student_id)
    if principal.is_(Role.MUNICIPAL):
        query = query.where(Ticket.municipality_id == principal.membership.municipality_id)
    elif principal.is_(Role.SCHOOL):
        query = query.where(Student.school_id == principal.membership.school_id)
    return query


def _schools(principal) -> list[School]:
    return catalog.list_schools(principal)


@bp.get("/registrations")
@roles_required(*REGISTRARS)
def hub():
    principal = page_principal()
    events = list(db.session.scalars(catalog.events_query(upcoming_from=utcnow()).limit(200)))
    mine = dict(
        db.session.execute(
            _tickets_query(principal)
            .with_only_columns(Ticket.event_id, func.count())
            .where(Ticket.status == TicketStatus.ACTIVE)
            .group_by(Ticket.event_id)
        ).all()
    )
    return render_template("tickets/hub.html", events=events, mine=mine, format_labels=FORMAT_LABELS)


@bp.get("/events/<int:event_id>/tickets")
@roles_required(*REGISTRARS)
def event_tickets(event_id: int):
    principal = page_principal()
    event = get_or_404(Event, event_id)
    tickets = list(
        db.session.scalars(
            _tickets_query(principal)
            .where(Ticket.event_id == event.id)
            .order_by(Ticket.status, Student.grade, Student.last_name, Student.first_name)
        )
    )
    groups = list(
        db.session.scalars(
            select(ClassGroup)
            .where(
                ClassGroup.event_id == event.id, ClassGroup.school_id.in_([s.id for s in _schools(principal)])
            )
            .order_by(ClassGroup.label)
        )
    )
    return render_template(
        "tickets/event_tickets.html",
        event=event,
        tickets=tickets,
        groups=groups,
        active=TicketStatus.ACTIVE,
        format_labels=FORMAT_LABELS,
    )


@bp.route("/tickets/<int:ticket_id>/cancel", methods=["GET", "POST"])
@roles_required(*REGISTRARS)
def cancel_ticket(ticket_id: int):
    principal = page_principal()
    ticket = get_or_404(Ticket, ticket_id)
    if not services.may_manage(principal, ticket):
        abort(403)
    back = url_for(".event_tickets", event_id=ticket.event_id)
    if ticket.status != TicketStatus.ACTIVE:
        flash(_("Билет %(name)s уже отменён.", name=ticket.student.short_name), "info")
        return redirect(back)
    if not confirmed():
        event, student = ticket.event, ticket.student
        return ask(
            title=_("Отменить билет?"),
            question=_(
                "Билет перестанет действовать, место освободится. Вернуть его нельзя: чтобы ученик "
                "пришёл, его придётся записать заново, если места останутся."
            ),
            facts=[
                (_("Ученик"), _("%(name)s, %(grade)s класс", name=student.full_name, grade=student.grade)),
                (_("Школа"), student.school.name),
                (_("Событие"), f"{event.title}, {datetime_ru(event.starts_at)}"),
            ],
            button=_("Да, отменить билет"),
            back=back,
        )
    try:
        with refusal_undone():
            services.cancel(
                ticket, by=f"{principal.role.value}:{principal.user_id}", user_id=principal.user_id
            )
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"Билет {ticket.student.short_name} отменён, место освобождено.", "success")
    return redirect(back)


# --- class import ---------------------------------------------------------------------------------


def _import_school(principal, raw: str | None) -> School | None:
    if principal.is_(Role.SCHOOL):
        return db.session.scalar(select(School).where(School.id == principal.membership.school_id))
    if not raw or not raw.isdigit():
        return None
    allowed = {s.id: s for s in _schools(principal)}
    return allowed.get(int(raw))


@bp.route("/events/<int:event_id>/import", methods=["GET", "POST"])
@body_limit(importing.MAX_BYTES + 64 * 1024)  # the file and the form around it
@roles_required(*REGISTRARS)
def import_class(event_id: int):
    """Upload → preview with each row's problems → confirm → summary."""
    principal = page_principal()
    event = get_or_404(Event, event_id)
    context = {
        "event": event,
        "schools": _schools(principal),
        "today": utcnow().astimezone(g.tenant.tz).date().isoformat(),
        "format_labels": FORMAT_LABELS,
    }
    if request.method == "GET":
        return render_template("tickets/import.html", step="upload", **context)
    form = request.form
    school = _import_school(principal, form.get("school_id"))
    context.update(
        school=school,
        escort_name=(form.get("escort_name") or "").strip()[:200],
        consent_date=form.get("consent_date") or context["today"],
        consent_paper=bool(form.get("consent_paper")),
    )
    try:
        if school is None:
            raise Invalid("Выберите школу.", code="unknown_school")
        consent_date = date.fromisoformat(context["consent_date"])
        if not context["consent_paper"]:
            raise Invalid(
                "Отметьте, что согласия родителей собраны на бумаге: без них записать класс нельзя.",
                code="consent_required",
            )
        if form.get("step") == "confirm":
            rows = importing.confirmed_rows(form.get("rows"))
            with refusal_undone():
                result = importing.register_class(
                    event.id,
                    school.id,
                    rows,
                    consent_date=consent_date,
                    escort_name=context["escort_name"],
                    tz=g.tenant.tz,
                    principal=principal,
                    user_id=principal.user_id,
                )
            return render_template("tickets/import.html", step="done", result=result, **context)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise Invalid("Выберите файл со списком класса (CSV или XLSX).", code="no_file")
        data = upload.read(importing.MAX_BYTES + 1)
        end_reads()  # no write lock held while a file is parsed
        parsed = importing.parse_upload(upload.filename, data)
        rows = importing.preview_class(
            event.id, school.id, parsed.rows, consent_date=consent_date, tz=g.tenant.tz, principal=principal
        )
    except (DomainError, ValueError) as error:
        message = error.message if isinstance(error, DomainError) else "Проверьте дату сбора согласий."
        return render_template("tickets/import.html", step="upload", error=message, **context), 422
    rows_json = json.dumps([r.as_dict() for r in rows if r.ok], ensure_ascii=False)
    return render_template(
        "tickets/import.html",
        step="preview",
        rows=rows,
        notes=parsed.notes,
        rows_json=rows_json,
        valid=sum(r.ok for r in rows),
        **context,
    )


@bp.get("/groups/<int:group_id>/sheet.pdf")
@roles_required(*REGISTRARS)
def class_sheet(group_id: int):
    principal = page_principal()
    group = get_or_404(ClassGroup, group_id)
    if group.school_id not in {s.id for s in _schools(principal)}:
        abort(403)
    event = get_or_404(Event, group.event_id)
    school = db.session.scalar(select(School).where(School.id == group.school_id))
    tickets = list(
        db.session.scalars(
            select(Ticket)
            .join(Student, Student.id == Ticket.student_id)
            .where(Ticket.group_id == group.id, Ticket.status == TicketStatus.ACTIVE)
            .order_by(Student.last_name, Student.first_name)
        )
    )
    body = printing.class_sheet(group, event, school, tickets, g.tenant.tz)
    record("export.class_sheet", "class_group", group.id, user_id=principal.user_id, tickets=len(tickets))
    filename = f"Класс {group.label} — {school.name} — {event.title}.pdf"
    response = download(body, "application/pdf", filename, inline=True)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- quotas and season limits ---------------------------------------------------------------------


@bp.route("/events/<int:event_id>/school-quotas", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR, Role.MUNICIPAL)
def school_quotas(event_id: int):
    principal = page_principal()
    event = get_or_404(Event, event_id)
    try:
        municipality = quotas.municipality_for(principal, request.values.get("municipality_id", type=int))
    except DomainError:
        municipality = None
    error = None
    if request.method == "POST" and municipality is not None:
        wanted = {}
        for key, value in request.form.items():
            if key.startswith("school-"):
                value = value.strip()
                wanted[int(key[7:])] = int(value) if value.isdigit() else None
        try:
            with refusal_undone():
                quotas.set_school_quotas(event.id, municipality, wanted)
        except DomainError as exc:
            error = exc.message
        else:
            flash("Распределение квоты сохранено.", "success")
            return redirect(url_for(".school_quotas", event_id=event.id, municipality_id=municipality.id))
    split = quotas.split_of(event, municipality, utcnow()) if municipality else None
    municipalities = (
        list(db.session.scalars(select(Municipality).order_by(Municipality.name)))
        if principal.is_(Role.COORDINATOR)
        else []
    )
    return render_template(
        "tickets/school_quotas.html", event=event, split=split, error=error, municipalities=municipalities
    ), (422 if error else 200)


@bp.route("/programmes", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def programmes():
    """Season limits per programme, editable per region (blank = no limit)."""
    found = list(db.session.scalars(select(Programme).order_by(Programme.kind)))
    error = None
    if request.method == "POST":
        try:
            with refusal_undone():
                for programme in found:
                    limits = []
                    for field in ("season_limit", "season_in_person_limit"):
                        raw = (request.form.get(f"{field}-{programme.id}") or "").strip()
                        if raw and (not raw.isdigit() or not 0 <= int(raw) <= 100):
                            raise Invalid("Лимит — целое число от 0 до 100 или пусто (без лимита).")
                        limits.append(int(raw) if raw else None)
                    if limits[0] is not None and limits[1] is not None and limits[1] > limits[0]:
                        raise Invalid("Очных проб не может быть больше, чем проб всего.")
                    programme.season_limit, programme.season_in_person_limit = limits
        except DomainError as exc:
            error = exc.message
            found = list(db.session.scalars(select(Programme).order_by(Programme.kind)))
        else:
            flash("Лимиты сезона сохранены. Они действуют для новых записей.", "success")
            return redirect(url_for(".programmes"))
    season = rules.season_bounds(utcnow(), g.tenant.tz)
    return render_template("tickets/programmes.html", programmes=found, error=error, season=season), (
        422 if error else 200
    )
