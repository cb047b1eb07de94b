"""Coordinator pages: the region's home, and create/edit/list of its reference data."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from server.accounts.auth import STAFF, page_principal, roles_required
from server.accounts.models import Role
from server.catalog import services
from server.catalog.forms import EventForm, MunicipalityForm, SchoolForm, VenueForm
from server.catalog.models import FORMAT_LABELS, Event, Municipality, School, Venue
from server.database import refusal_undone, utcnow
from server.errors import DomainError, Invalid
from server.extensions import db
from tenants.scoping import get_or_404

bp = Blueprint("catalog", __name__, url_prefix="/<tenant>")
COORDINATOR = Role.COORDINATOR


def _saved(form, action) -> bool:
    """Run a service on a valid form; a refusal lands on the form as a Russian message."""
    if not form.validate_on_submit():
        return False
    try:
        with refusal_undone():
            action()
    except DomainError as error:
        form.form_errors.append(error.message)
        return False
    return True


def overview(principal):
    """`/<region>/` for the region's staff (`public.region_home` owns the address): upcoming events with
    their counts; venue staff go to their venue's day."""
    if principal.is_(Role.VENUE):
        return redirect(url_for("venue.home"))
    now = utcnow()
    programme_kind = request.args.get("programme") or None
    if programme_kind not in (None, "open_day", "trial"):
        programme_kind = None
    events = list(
        db.session.scalars(services.events_query(programme_kind=programme_kind, upcoming_from=now).limit(100))
    )
    counts = services.admitted_counts([e.id for e in events])
    return render_template(
        "catalog/home.html",
        events=events,
        counts=counts,
        venues=services.list_venues(),
        programme_kind=programme_kind,
        format_labels=FORMAT_LABELS,
    )


# --- municipalities -------------------------------------------------------------------------------


@bp.route("/municipalities", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def municipalities():
    form = MunicipalityForm()
    if _saved(form, lambda: services.create_municipality(form.name.data)):
        flash(f"Муниципалитет «{form.name.data}» добавлен.", "success")
        return redirect(url_for(".municipalities"))
    return render_template(
        "catalog/municipalities.html",
        form=form,
        municipalities=services.list_municipalities(include_archived=True),
    )


@bp.route("/municipalities/<int:object_id>", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def edit_municipality(object_id: int):
    municipality = get_or_404(Municipality, object_id)
    form = MunicipalityForm(obj=municipality)
    if _saved(form, lambda: services.update_municipality(municipality, form.name.data)):
        flash("Сохранено.", "success")
        return redirect(url_for(".municipalities"))
    return render_template(
        "catalog/edit.html",
        form=form,
        title="Муниципалитет",
        back=url_for(".municipalities"),
        item=municipality,
        kind="municipalities",
    )


# --- schools --------------------------------------------------------------------------------------


def _school_form(obj=None) -> SchoolForm:
    form = SchoolForm(obj=obj)
    principal = page_principal()
    municipalities = services.list_municipalities()
    if principal.is_(Role.MUNICIPAL):
        municipalities = [m for m in municipalities if m.id == principal.membership.municipality_id]
    form.municipality_id.choices = [SelectChoice(m.id, m.name) for m in municipalities]
    return form


@bp.route("/schools", methods=["GET", "POST"])
@roles_required(COORDINATOR, Role.MUNICIPAL)
def schools():
    form = _school_form()
    principal = page_principal()
    if _saved(form, lambda: services.create_school(form.name.data, form.municipality_id.data, principal)):
        flash(f"Школа «{form.name.data}» добавлена.", "success")
        return redirect(url_for(".schools"))
    search = request.args.get("q", "").strip()
    return render_template(
        "catalog/schools.html",
        form=form,
        schools=services.list_schools(principal, search, include_archived=True),
        search=search,
    )


@bp.route("/schools/<int:object_id>", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def edit_school(object_id: int):
    school = get_or_404(School, object_id)
    form = _school_form(school)
    if _saved(form, lambda: services.update_school(school, form.name.data, form.municipality_id.data)):
        flash("Сохранено.", "success")
        return redirect(url_for(".schools"))
    return render_template(
        "catalog/edit.html", form=form, title="Школа", back=url_for(".schools"), item=school, kind="schools"
    )


# --- venues ---------------------------------------------------------------------------------------


@bp.route("/venues", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def venues():
    form = VenueForm()
    if _saved(
        form,
        lambda: services.save_venue(
            None, name=form.name.data, address=form.address.data, cluster=form.cluster.data
        ),
    ):
        flash(f"Площадка «{form.name.data}» добавлена.", "success")
        return redirect(url_for(".venues"))
    return render_template(
        "catalog/venues.html", form=form, venues=services.list_venues(include_archived=True)
    )


@bp.route("/venues/<int:object_id>", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def edit_venue(object_id: int):
    venue = get_or_404(Venue, object_id)
    form = VenueForm(obj=venue)
    if _saved(
        form,
        lambda: services.save_venue(
            venue, name=form.name.data, address=form.address.data, cluster=form.cluster.data
        ),
    ):
        flash("Сохранено.", "success")
        return redirect(url_for(".venues"))
    return render_template(
        "catalog/edit.html", form=form, title="Площадка", back=url_for(".venues"), item=venue, kind="venues"
    )


# --- events ---------------------------------------------------------------------------------------


def _event_form(event: Event | None) -> EventForm:
    form = EventForm(obj=None)
    venues = services.list_venues()
    if event is not None and event.venue.archived:  # its own venue stays choosable
        venues.append(event.venue)
    form.venue_id.choices = [SelectChoice(v.id, v.name) for v in venues]
    if event is not None and request.method == "GET":
        tz = g.tenant.tz
        form.title.data, form.programme.data = event.title, event.programme.kind.value
        form.format.data, form.venue_id.data = event.format.value, event.venue_id
        form.starts_at.data = event.starts_at.astimezone(tz).replace(tzinfo=None)
        form.ends_at.data = event.ends_at.astimezone(tz).replace(tzinfo=None)
        form.capacity.data, form.grade_min.data, form.grade_max.data = (
            event.capacity,
            event.grade_min,
            event.grade_max,
        )
        form.description.data, form.broadcast_url.data = event.description, event.broadcast_url
        if event.quota_deadline:
            form.quota_deadline.data = event.quota_deadline.astimezone(tz).replace(tzinfo=None)
    return form


def _quota_rows(event: Event | None) -> list[tuple[Municipality, str]]:
    current = {q.municipality_id: q.seats for q in event.quotas} if event else {}
    rows = []
    for municipality in services.list_municipalities(include_archived=True):
        if municipality.archived and municipality.id not in current:
            continue
        if request.method == "POST":
            value = request.form.get(f"quota-{municipality.id}", "").strip()
        else:
            value = str(current.get(municipality.id, ""))
        rows.append((municipality, value))
    return rows


def _quotas_from(rows) -> list[tuple[int, int]]:
    quotas = []
    for municipality, value in rows:
        if value == "":
            continue
        if not value.isdigit():
            raise Invalid(f"Квота для «{municipality.name}» должна быть целым числом.")
        quotas.append((municipality.id, int(value)))
    return quotas


def _save_event_from(form: EventForm, event: Event | None, rows) -> Event:
    data = services.EventInput(
        title=form.title.data,
        programme=form.programme.data,
        format=form.format.data,
        venue_id=form.venue_id.data,
        starts_at=form.starts_at.data,
        ends_at=form.ends_at.data,
        capacity=form.capacity.data,
        grade_min=form.grade_min.data,
        grade_max=form.grade_max.data,
        quotas=_quotas_from(rows),
        description=form.description.data or "",
        broadcast_url=form.broadcast_url.data,
        quota_deadline=form.quota_deadline.data,
    )
    return services.save_event(event, data, g.tenant.tz)


@bp.get("/events")
@roles_required(COORDINATOR)
def events():
    archive = request.args.get("archive") == "1"
    all_events = list(db.session.scalars(services.events_query(archived=archive)))
    counts = services.admitted_counts([e.id for e in all_events])
    return render_template(
        "catalog/events.html", events=all_events, counts=counts, format_labels=FORMAT_LABELS, archive=archive
    )


@bp.route("/events/new", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def new_event():
    return _event_page(None)


@bp.route("/events/<int:object_id>/edit", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def edit_event(object_id: int):
    return _event_page(get_or_404(Event, object_id))


def _event_page(event: Event | None):
    form, rows = _event_form(event), _quota_rows(event)
    saved: list[Event] = []
    if _saved(form, lambda: saved.append(_save_event_from(form, event, rows))):
        flash(_("Событие сохранено."), "success")
        return redirect(url_for(".event_detail", object_id=saved[0].id))
    return render_template("catalog/event_form.html", form=form, event=event, quota_rows=rows)


@bp.get("/events/<int:object_id>")
@roles_required(*STAFF)
def event_detail(object_id: int):
    event = get_or_404(Event, object_id)
    checked_in = services.admitted_counts([event.id]).get(event.id, 0)
    return render_template(
        "catalog/event.html", event=event, checked_in=checked_in, format_labels=FORMAT_LABELS
    )


# --- archive --------------------------------------------------------------------------------------

_ARCHIVE_PAGES = {
    "municipalities": ".edit_municipality",
    "schools": ".edit_school",
    "venues": ".edit_venue",
    "events": ".event_detail",
}


@bp.post("/<any(municipalities, schools, venues, events):kind>/<int:object_id>/archive")
@roles_required(COORDINATOR)
def archive(kind: str, object_id: int):
    """Into the archive or back (`archived=0`); the page it was done from shows the result."""
    found = get_or_404(services.ARCHIVABLE[kind], object_id)
    archived = request.form.get("archived", "1") == "1"
    services.set_archived(found, archived, user_id=page_principal().user_id)
    if archived:
        flash(_("В архиве: в формах и списках для семей не предлагается, история сохранена."), "success")
    else:
        flash(_("Возвращено из архива."), "success")
    return redirect(url_for(_ARCHIVE_PAGES[kind], object_id=object_id))
