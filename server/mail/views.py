"""«Отправленные письма»: the platform admin reads the outbox (on the embedded default, the mail itself)."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from server.downloads import download
from server.extensions import db
from server.mail.models import MailAttachment, MailStatus, OutgoingMail
from server.mail.services import outbox_rows

bp = Blueprint("mail", __name__, url_prefix="/admin/mail")

STATUS_LABELS = {
    MailStatus.PENDING.value: _l("в очереди"),
    MailStatus.SENDING.value: _l("отправляется"),
    MailStatus.SENT.value: _l("отправлено"),
    MailStatus.FAILED.value: _l("не удалось"),
    MailStatus.BOUNCED.value: _l("адрес отклонён"),
    MailStatus.DECLINED.value: _l("получатель отказался"),
}


# What each kind of letter is, as the outbox names it (the stored kind is a code).
KIND_LABELS = {
    "confirmation": _l("подтверждение записи"),
    "ticket_cancelled": _l("билет отменён"),
    "ticket_moved": _l("билет перенесён"),
    "reminder": _l("напоминание о событии"),
    "event_changed": _l("событие изменилось"),
    "event_cancelled": _l("событие отменено"),
    "find_ticket": _l("ссылка на билет"),
    "class_sheet": _l("список класса для школы"),
    "school_summary": _l("итоги для школы"),
    "account_invitation": _l("приглашение в систему"),
    "password_reset": _l("восстановление пароля"),
    "report_daily": _l("сводка за день"),
    "report_weekly": _l("сводка за неделю"),
}


@bp.context_processor
def _labels():
    return {"status_labels": STATUS_LABELS, "kind_labels": KIND_LABELS}


def _platform_admin_only() -> None:
    if not current_user.is_platform_admin:
        abort(404)


@bp.get("/")
@login_required
def outbox():
    _platform_admin_only()
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in MailStatus}:
        status = None
    return render_template(
        "mail_admin/outbox.html", mails=outbox_rows(status=status), status=status, statuses=list(MailStatus)
    )


def _mail_or_404(mail_id: int) -> OutgoingMail:
    mail = db.session.get(OutgoingMail, mail_id)
    if mail is None:
        abort(404)
    return mail


@bp.get("/<int:mail_id>")
@login_required
def message(mail_id: int):
    _platform_admin_only()
    return render_template("mail_admin/message.html", mail=_mail_or_404(mail_id))


@bp.get("/<int:mail_id>/html")
@login_required
def message_html(mail_id: int):
    """The HTML part on its own, sandboxed: no script, no form, no request to anywhere."""
    _platform_admin_only()
    mail = _mail_or_404(mail_id)
    if not mail.body_html:
        abort(404)
    response = make_response(mail.body_html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.get("/<int:mail_id>/attachments/<int:attachment_id>")
@login_required
def attachment(mail_id: int, attachment_id: int):
    _platform_admin_only()
    found = db.session.get(MailAttachment, attachment_id)
    if found is None or found.mail_id != mail_id:
        abort(404)
    return download(found.content, found.mimetype, found.filename)
