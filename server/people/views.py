"""«Пользователи» of a region: who is invited, active, last seen; invite, change role, deactivate."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from server.accounts.auth import page_principal, roles_required
from server.accounts.forms import InviteForm, RoleForm, role_choices
from server.accounts.models import ROLE_LABELS, Role
from server.catalog.models import Municipality, School, Venue
from server.catalog.services import list_municipalities, list_schools, list_venues
from server.errors import DomainError
from server.extensions import db
from server.people import services as people

bp = Blueprint("people", __name__, url_prefix="/<tenant>/people")
MANAGERS = (Role.COORDINATOR, Role.MUNICIPAL)


def _id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _fill_choices(form, principal) -> None:
    """The roles and scopes this principal may hand out."""
    empty = [("", "—")]
    if principal.is_(Role.COORDINATOR):
        form.role.choices = role_choices(tuple(Role))
        form.municipality_id.choices = empty + [(str(m.id), m.name) for m in list_municipalities()]
        form.venue_id.choices = empty + [(str(v.id), v.name) for v in list_venues()]
    else:
        form.role.choices = role_choices((Role.SCHOOL,))
        form.municipality_id.choices = empty
        form.venue_id.choices = empty
    form.school_id.choices = empty + [
        (str(s.id), f"{s.name} ({s.municipality.name})") for s in list_schools(principal)
    ]


def _scope(form) -> people.Scope:
    return people.Scope(
        municipality_id=_id(form.municipality_id.data),
        school_id=_id(form.school_id.data),
        venue_id=_id(form.venue_id.data),
    )


def _names() -> dict[str, dict[int, str]]:
    """Scope ids to names for the list (three small queries, not one per row)."""
    return {
        "municipality_id": {m.id: m.name for m in db.session.scalars(db.select(Municipality))},
        "school_id": {s.id: s.name for s in db.session.scalars(db.select(School))},
        "venue_id": {v.id: v.name for v in db.session.scalars(db.select(Venue))},
    }


@bp.route("", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def index():
    principal = page_principal()
    form = InviteForm()
    _fill_choices(form, principal)
    status = 200
    if form.validate_on_submit():
        try:
            people.invite(
                principal,
                form.email.data,
                full_name=form.full_name.data or "",
                role=Role(form.role.data),
                scope=_scope(form),
            )
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            status = 422
        else:
            flash(_("Приглашение отправлено на %(email)s.", email=form.email.data.strip().lower()), "success")
            return redirect(url_for(".index"))
    elif request.method == "POST":
        status = 422
    return render_template(
        "accounts/people.html",
        form=form,
        members=people.people(principal),
        names=_names(),
        role_labels=ROLE_LABELS,
        scope_of=people.SCOPE_OF,
    ), status


@bp.route("/<int:membership_id>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit(membership_id: int):
    principal = page_principal()
    membership = people.managed_membership(principal, membership_id)
    form = RoleForm(
        data={
            "role": membership.role.value,
            "municipality_id": str(membership.municipality_id or ""),
            "school_id": str(membership.school_id or ""),
            "venue_id": str(membership.venue_id or ""),
        }
        if request.method == "GET"
        else None
    )
    _fill_choices(form, principal)
    status = 200
    if form.validate_on_submit():
        try:
            people.change_role(principal, membership, Role(form.role.data), _scope(form))
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            status = 422
        else:
            flash(_("Роль изменена."), "success")
            return redirect(url_for(".index"))
    elif request.method == "POST":
        status = 422
    return render_template(
        "accounts/person.html", form=form, membership=membership, role_labels=ROLE_LABELS
    ), status


@bp.post("/<int:membership_id>/resend")
@roles_required(*MANAGERS)
def resend(membership_id: int):
    principal = page_principal()
    membership = people.managed_membership(principal, membership_id)
    people.resend(principal, membership)
    flash(_("Приглашение отправлено ещё раз; прежняя ссылка больше не действует."), "success")
    return redirect(url_for(".edit", membership_id=membership.id))


@bp.route("/<int:membership_id>/deactivate", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def deactivate(membership_id: int):
    """GET: a confirmation page; POST: access ends at the person's next request."""
    principal = page_principal()
    membership = people.managed_membership(principal, membership_id)
    if request.method == "GET":
        return render_template("accounts/deactivate.html", membership=membership, role_labels=ROLE_LABELS)
    people.deactivate(principal, membership)
    flash(_("Доступ %(email)s отключён.", email=membership.user.email), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:membership_id>/reactivate")
@roles_required(*MANAGERS)
def reactivate(membership_id: int):
    principal = page_principal()
    membership = people.managed_membership(principal, membership_id)
    people.reactivate(principal, membership)
    flash(_("Доступ %(email)s снова включён.", email=membership.user.email), "success")
    return redirect(url_for(".edit", membership_id=membership.id))
