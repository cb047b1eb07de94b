"""The addresses everyone arrives at, `/` and `/<region>/`: staff get their own pages there, families the
start page and a region's open events. Also the privacy notice, and the coordinator's form for the
region's operator. No account is needed except for that form."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from server.accounts.auth import page_principal, roles_required
from server.accounts.models import Role
from server.accounts.views import regions_page
from server.catalog.models import FORMAT_LABELS
from server.catalog.views import overview
from server.database import utcnow
from server.errors import DomainError
from server.extensions import db
from server.public import services
from server.tickets.consent import consent_text
from server.tickets.remembered import remembered_tokens
from server.tickets.services import ticket_by_token

bp = Blueprint("public", __name__)


def _my_tickets() -> list:
    found = [ticket_by_token(token) for token in remembered_tokens()]
    return [t for t in found if t is not None]


@bp.get("/")
def home():
    """`/`: a signed-in person's regions; for anyone else the one region's page, or the list of regions."""
    from tenants.services import list_tenants

    if current_user.is_authenticated:
        return regions_page()
    regions = list_tenants()
    if len(regions) == 1:
        return redirect(url_for("public.region_home", tenant=regions[0].slug))
    return render_template("public/start.html", regions=regions, body_class="public")


@bp.get("/<tenant>/")
def region_home():
    """`/<region>/`: the region's staff get their overview; everyone else, families first, its open
    events with filters, seats for their municipality, their tickets."""
    principal = page_principal()
    if principal is not None and principal.role is not None:
        return overview(principal)
    now = utcnow()
    filters = services.EventFilters.parse(request.args)
    return render_template(
        "public/region.html",
        events=services.open_events(filters, g.tenant.tz, now),
        filters=filters,
        municipalities=services.municipalities(),
        grades=services.GRADES,
        my_tickets=_my_tickets(),
        format_labels=FORMAT_LABELS,
        body_class="public",
    )


@bp.get("/<tenant>/privacy")
def privacy():
    region = services.region(g.tenant.id)
    return render_template(
        "public/privacy.html",
        region=region,
        consent=consent_text(region.operator_name, region.operator_address, g.tenant.name),
        body_class="public",
    )


@bp.route("/<tenant>/settings/operator", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def operator_settings():
    region = services.region(g.tenant.id)
    error, status = None, 200
    if request.method == "POST":
        try:
            services.save_operator(
                g.tenant.id,
                request.form.get("name", ""),
                request.form.get("address", ""),
                request.form.get("contact", ""),
                user_id=page_principal().user_id,
            )
        except DomainError as failure:
            db.session.rollback()
            error, status = failure.message, 422
        else:
            flash(_("Сохранено: согласие и страница о данных называют этого оператора."), "success")
            return redirect(url_for(".operator_settings"))
    form = request.form if request.method == "POST" else {
        "name": region.operator_name or "", "address": region.operator_address or "",
        "contact": region.operator_contact or "",
    }  # fmt: skip
    page = render_template(
        "public/operator_settings.html",
        form=form,
        error=error,
        consent=consent_text(region.operator_name, region.operator_address, g.tenant.name),
    )
    return page, status
