"""The coordinator's page for personal data: erasure on a written request, the erasures' record, the
tickets' signing keys (rotation), the paper consent form."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from server.accounts.auth import page_principal, roles_required
from server.accounts.models import Role
from server.audit.services import record
from server.downloads import download
from server.extensions import db, limiter
from server.privacy import forms, services
from server.privacy.models import REASON_LABELS, ErasureReason
from server.security import private
from server.tickets import codes
from server.tickets import services as tickets
from server.tickets.consent import CONSENT_VERSION, operator_of
from server.tickets.models import SigningKey, Student
from tenants.scoping import get_or_404

bp = Blueprint("privacy", __name__, url_prefix="/<tenant>")


@bp.get("/personal-data")
@roles_required(Role.COORDINATOR)
def overview():
    query = request.args.get("q", "").strip()[:100]
    found = services.find_students(query) if query else []
    keys = list(db.session.scalars(select(SigningKey).order_by(SigningKey.key_id.desc())))
    html = render_template(
        "privacy/overview.html",
        query=query,
        found=found,
        erasures=services.erasures(),
        reason_labels=REASON_LABELS,
        keys=keys,
        operator=operator_of(g.tenant.id),
    )
    return private(Response(html))


@bp.route("/personal-data/students/<int:student_id>/erase", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def erase_student(student_id: int):
    """A written request carried out: a confirmation page naming what goes, then the erasure."""
    student = get_or_404(Student, student_id)
    if student.erased_at is not None:
        abort(404)
    form = forms.ErasureForm()
    if form.validate_on_submit():
        erasure = services.erase_student(
            student.id,
            ErasureReason.WRITTEN_REQUEST,
            user_id=page_principal().user_id,
            reference=form.reference.data,
        )
        flash(
            f"Данные удалены (запись № {erasure.id}): отменено билетов — {erasure.tickets_cancelled}.",
            "success",
        )
        return redirect(url_for(".overview"))
    html = render_template(
        "privacy/erase.html",
        student=student,
        tickets=tickets.tickets_of_student(student.id),
        form=form,
    )
    return private(Response(html, status=422 if request.method == "POST" else 200))


@bp.route("/personal-data/keys/rotate", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
@limiter.limit("10 per hour", methods=["POST"])
def rotate_keys():
    """A new signing key for new tickets (confirmation first); tickets already issued keep working."""
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        key = codes.rotate_key(g.tenant.id)
        record("keys.rotated", "signing_key", key.id, user_id=page_principal().user_id, key_id=key.key_id)
        flash(f"Новый ключ № {key.key_id} подписывает новые билеты; выданные билеты действуют.", "success")
        return redirect(url_for(".overview"))
    return render_template("privacy/rotate.html", form=form), 422 if request.method == "POST" else 200


@bp.get("/consent-form.pdf")
@roles_required(Role.COORDINATOR, Role.MUNICIPAL, Role.SCHOOL)
def consent_form():
    """The printable consent form a school collects on paper: the current text, the region's operator."""
    from server.privacy.consent_form import consent_form_pdf

    operator = operator_of(g.tenant.id)
    body = consent_form_pdf(CONSENT_VERSION, operator, g.tenant.name)
    return download(body, "application/pdf", f"Согласие {CONSENT_VERSION}.pdf", inline=True)


@bp.route("/t/<token>/withdraw", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def ticket_withdraw(token: str):
    """Withdrawing consent: a confirmation page first, then the student's and guardian's data erased."""
    ticket = tickets.ticket_by_token(token)
    if ticket is None:
        abort(404)
    if request.method == "POST":
        if not request.form.get("confirm"):
            html = render_template(
                "tickets/message.html",
                title="Не получилось",
                message="Отметьте, что вы понимаете последствия отзыва.",
                back=url_for("tickets_views.ticket_page", token=token),
                body_class="public",
            )
            return private(Response(html, status=422))
        erasure = services.withdraw_consent(ticket)
        html = render_template(
            "tickets/message.html",
            title="Согласие отозвано",
            message=(
                f"Записи отменены: {erasure.tickets_cancelled}. Данные ученика и ваши контакты удалены; "
                "ссылка на билет больше не работает. Остались только обезличенные числа для отчёта."
            ),
            back=url_for("tickets_views.open_events"),
            body_class="public",
        )
        return private(Response(html))
    html = render_template(
        "tickets/withdraw.html",
        ticket=ticket,
        student=ticket.student,
        tickets=tickets.tickets_of_student(ticket.student_id),
        body_class="public",
    )
    return private(Response(html))
