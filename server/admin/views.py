"""Platform admin pages (`/admin/regions`): regions, their first coordinators, suspension."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from server.accounts.models import ROLE_LABELS
from server.admin import services
from server.errors import DomainError
from server.extensions import db
from server.formatting import zone_name
from tenants.models import Tenant
from tenants.registry import time_zones

bp = Blueprint("admin", __name__, url_prefix="/admin")


class RegionForm(FlaskForm):
    slug = SelectField(_l("Субъект РФ"), validators=[DataRequired(_l("Выберите субъект."))])
    name = StringField(_l("Название"), validators=[Optional(), Length(max=200)])
    # the service names an unknown zone in Russian (the choice list is what the page offers)
    timezone = SelectField(_l("Часовой пояс"), validators=[Optional()], validate_choice=False)
    coordinators = TextAreaField(
        _l("Первые координаторы: адреса почты, по одному в строке"), validators=[Length(max=5000)]
    )


class CoordinatorForm(FlaskForm):
    email = EmailField(
        _l("Электронная почта"),
        validators=[DataRequired(_l("Укажите почту.")), Email(_l("Некорректный адрес.")), Length(max=254)],
    )


@bp.before_request
@login_required
def _platform_admin_only():
    """Strangers are told nothing: a 404, as for another region's pages."""
    if not current_user.is_platform_admin:
        abort(404)


def _tenant(tenant_id: int) -> Tenant:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        abort(404)
    return tenant


@bp.get("/")
def index():
    return redirect(url_for(".regions"))


@bp.get("/regions")
def regions():
    return render_template("admin/regions.html", facts=services.region_facts())


@bp.route("/regions/new", methods=["GET", "POST"])
def new_region():
    form = RegionForm()
    entries = services.free_registry_entries()
    form.slug.choices = [("", "—")] + [(r.slug, f"{r.code} · {r.name}") for r in entries]
    form.timezone.choices = [("", _("как в справочнике"))] + [(z, zone_name(z)) for z in time_zones()]
    if request.method == "GET" and request.args.get("slug"):
        chosen = next((r for r in entries if r.slug == request.args["slug"]), None)
        if chosen is not None:
            form.slug.data, form.name.data, form.timezone.data = chosen.slug, chosen.name, chosen.timezone
    status = 200
    if form.validate_on_submit():
        try:
            tenant = services.create_region(
                current_user._get_current_object(),
                form.slug.data,
                name=form.name.data,
                timezone=form.timezone.data,
                coordinators=services.parse_emails(form.coordinators.data),
            )
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            status = 422
        else:
            flash(_("Регион «%(name)s» создан.", name=tenant.name), "success")
            return redirect(url_for(".region", tenant_id=tenant.id))
    elif request.method == "POST":
        status = 422
    return render_template("admin/new_region.html", form=form, entries=entries), status


@bp.route("/regions/<int:tenant_id>", methods=["GET", "POST"])
def region(tenant_id: int):
    tenant = _tenant(tenant_id)
    form = CoordinatorForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.invite_coordinator(current_user._get_current_object(), tenant, form.email.data)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            status = 422
        else:
            flash(_("Приглашение отправлено."), "success")
            return redirect(url_for(".region", tenant_id=tenant.id))
    elif request.method == "POST":
        status = 422
    facts = next(f for f in services.region_facts() if f.tenant.id == tenant.id)
    return render_template(
        "admin/region.html",
        region=tenant,
        facts=facts,
        form=form,
        coordinators=services.coordinators(tenant),
        role_labels=ROLE_LABELS,
    ), status


@bp.route("/regions/<int:tenant_id>/suspend", methods=["GET", "POST"])
def suspend(tenant_id: int):
    """GET: what suspension means, and a confirmation; POST: suspend."""
    tenant = _tenant(tenant_id)
    if request.method == "GET":
        return render_template("admin/suspend.html", region=tenant)
    services.suspend(current_user._get_current_object(), tenant)
    flash(_("Работа региона «%(name)s» приостановлена.", name=tenant.name), "success")
    return redirect(url_for(".region", tenant_id=tenant.id))


@bp.post("/regions/<int:tenant_id>/resume")
def resume(tenant_id: int):
    tenant = _tenant(tenant_id)
    services.resume(current_user._get_current_object(), tenant)
    flash(_("Работа региона «%(name)s» возобновлена.", name=tenant.name), "success")
    return redirect(url_for(".region", tenant_id=tenant.id))
