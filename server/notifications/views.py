"""Pages: the coordinator's mail per event and settings, cancelling an event, the school's undelivered
mail; and for families «Найти мой билет» and the one-click decline."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from server.accounts.auth import page_principal, roles_required
from server.accounts.models import Role
from server.catalog.models import Event
from server.database import utcnow
from server.errors import DomainError
from server.extensions import csrf, limiter
from server.notifications import services
from tenants.scoping import get_or_404

bp = Blueprint("notifications", __name__, url_prefix="/<tenant>")


@bp.get("/mail")
@roles_required(Role.COORDINATOR)
def overview():
    return render_template(
        "notifications/overview.html",
        settings=services.mail_settings(),
        week=services.region_mail_counts(utcnow() - timedelta(days=7)),
        undelivered=services.undelivered(limit=50),
        rate=current_app.config["MAIL_RATE_PER_MINUTE"],
    )


@bp.post("/mail/settings")
@roles_required(Role.COORDINATOR)
def save_settings():
    try:
        services.save_mail_settings(
            sender_name=request.form.get("sender_name", ""),
            reminder_time=request.form.get("reminder_time", ""),
            user_id=page_principal().user_id,
        )
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for(".overview")), 303
    flash(_("Настройки писем сохранены."), "success")
    return redirect(url_for(".overview"))


@bp.get("/events/<int:event_id>/mail")
@roles_required(Role.COORDINATOR)
def event_mail(event_id: int):
    event = get_or_404(Event, event_id)
    return render_template(
        "notifications/event_mail.html",
        event=event,
        counts=services.event_mail_counts(event.id),
        undelivered=services.undelivered(event_id=event.id),
    )


@bp.route("/events/<int:event_id>/cancel", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def cancel_event(event_id: int):
    """A real confirmation page first: cancelling cannot be undone and mails every family."""
    event = get_or_404(Event, event_id)
    if request.method == "POST":
        try:
            cancelled = services.cancel_event(
                event, reason=request.form.get("reason", ""), user_id=page_principal().user_id
            )
        except DomainError as error:
            flash(error.message, "error")
            return redirect(url_for(".cancel_event", event_id=event.id)), 303
        flash(_("Событие отменено. Билетов отменено: %(n)s; семьи получат письмо.", n=cancelled), "success")
        return redirect(url_for(".event_mail", event_id=event.id))
    return render_template("notifications/cancel_event.html", event=event, ended=event.ends_at <= utcnow())


@bp.get("/mail/undelivered")
@roles_required(Role.SCHOOL, Role.MUNICIPAL, Role.COORDINATOR)
def school_undelivered():
    """Addresses our letters did not reach — a school sees only its own students'."""
    principal = page_principal()
    school_id = (
        principal.membership.school_id if principal.is_(Role.SCHOOL) and principal.membership else None
    )
    if principal.is_(Role.SCHOOL) and school_id is None:
        rows = []
    elif principal.is_(Role.MUNICIPAL):
        rows = services.undelivered(municipality_id=principal.membership.municipality_id)
    else:
        rows = services.undelivered(school_id=school_id)
    return render_template("notifications/undelivered.html", rows=rows)


@bp.route("/find-ticket", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["FIND_TICKET_RATE_LIMIT"], methods=["POST"])
def find_ticket():
    """The same answer whether or not the address is known: the page never tells who is registered."""
    sent_to = None
    error = None
    if request.method == "POST":
        address = request.form.get("email", "")
        try:
            services.find_my_tickets(address)
            sent_to = address.strip()
        except DomainError as refused:
            error = refused.message
    return render_template(
        "notifications/find_ticket.html", sent_to=sent_to, error=error, body_class="public"
    )


@bp.route("/mail/decline/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the authority; mail clients POST here for RFC 8058 one-click
def decline(token: str):
    from server.notifications.messages import read_decline_token

    read = read_decline_token(token)
    if read is None:
        return render_template("notifications/decline.html", invalid=True, body_class="public"), 404
    if request.method == "POST":
        done = services.decline(token)
        if done is None:
            return render_template("notifications/decline.html", invalid=True, body_class="public"), 404
        return render_template("notifications/decline.html", declined=done[1], body_class="public")
    from server.notifications.messages import PREFERENCES

    return render_template("notifications/decline.html", what=PREFERENCES[read[2]], body_class="public")
