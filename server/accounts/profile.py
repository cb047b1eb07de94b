"""The signed-in person's own page: name, regions and roles, password, API tokens."""

from __future__ import annotations

from flask import Blueprint, after_this_request, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from sqlalchemy import select

from server.accounts import recovery, remember
from server.accounts.forms import ChangePasswordForm, ProfileForm, TokenForm
from server.accounts.models import ROLE_LABELS, Membership
from server.accounts.services import create_api_token, revoke_api_token, user_tokens
from server.database import utcnow
from server.errors import DomainError
from server.extensions import db
from tenants.scoping import all_tenants

bp = Blueprint("profile", __name__, url_prefix="/profile")


def _memberships() -> list[Membership]:
    query = select(Membership).where(Membership.user_id == current_user.id).order_by(Membership.id)
    return list(db.session.scalars(all_tenants(query)))


def _page(**forms):
    user = current_user._get_current_object()
    context = {
        "profile_form": ProfileForm(obj=user),
        "password_form": ChangePasswordForm(),
        "token_form": TokenForm(),
        "new_token": None,
        **forms,
    }
    return render_template(
        "accounts/profile.html",
        memberships=_memberships(),
        tokens=user_tokens(user),
        role_labels=ROLE_LABELS,
        now=utcnow(),
        **context,
    )


@bp.get("")
@login_required
def page():
    return _page()


@bp.post("/name")
@login_required
def save_name():
    form = ProfileForm()
    if form.validate_on_submit():
        current_user.full_name = (form.full_name.data or "").strip()[:200]
        flash(_("Сохранено."), "success")
        return redirect(url_for(".page"))
    return _page(profile_form=form), 422


@bp.post("/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            recovery.change_password(user, form.current.data, form.password.data)
        except DomainError as error:
            db.session.rollback()
            form.password.errors = [error.message]
        else:
            login_user(user)  # this browser carries on with the new session key; all others are out
            remember.forget_this_browser()

            @after_this_request
            def _cookie(response):
                return remember.set_cookie(response, None)

            flash(_("Пароль изменён. Все остальные входы завершены."), "success")
            return redirect(url_for(".page"))
    return _page(password_form=form), 422


@bp.post("/tokens")
@login_required
def create_token():
    form = TokenForm()
    if form.validate_on_submit():
        token = create_api_token(current_user._get_current_object(), form.name.data, form.days.data)
        # Shown once on this page, never put in the (signed, not encrypted) session cookie.
        return _page(new_token=token, token_form=TokenForm(formdata=None))
    return _page(token_form=form), 422


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    row = revoke_api_token(token_id, current_user._get_current_object())
    flash(_("Токен «%(name)s» отозван.", name=row.name or row.prefix), "success")
    return redirect(url_for(".page"))


@bp.after_request
def _no_store(response):
    """A page that may show a new token once must not sit in a cache."""
    response.headers["Cache-Control"] = "no-store"
    return response
