"""Sign in, sign out, forgotten passwords, invitations, and the start page that sends each person to
their region."""

from __future__ import annotations

import hashlib
import logging
import re
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from server.accounts import recovery, remember
from server.accounts.forms import AcceptInvitationForm, ForgotForm, LoginForm, NewPasswordForm
from server.accounts.links import valid_link
from server.accounts.models import LinkPurpose, Membership, User
from server.accounts.services import authenticate, find_user, normal_email
from server.accounts.tasks import send_reset_link
from server.errors import DomainError
from server.extensions import db, limiter
from tenants.models import Tenant
from tenants.scoping import all_tenants

bp = Blueprint("accounts", __name__)
log = logging.getLogger("propusk")

# Control characters, spaces and backslashes: browsers drop or reinterpret them, which turns
# `/\t/evil.example` into `//evil.example`, another site.
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


def safe_next(target: str | None) -> str | None:
    """Only a path of this site: a login link must never bounce people to another one."""
    if not target or _UNSAFE_IN_PATH.search(target) or not target.isprintable():
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _account_key() -> str:
    """The rate-limit key of the account a login names (hashed: no addresses in the limiter store)."""
    email = normal_email(request.form.get("email", ""))
    return "login:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _reset_client_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


def _failed(response) -> bool:
    return response.status_code != 302


def my_regions() -> list[Tenant]:
    if current_user.is_platform_admin:
        return list(db.session.scalars(select(Tenant).order_by(Tenant.name)))
    query = (
        select(Tenant)
        .join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.user_id == current_user.id, Membership.deactivated_at.is_(None))
        .order_by(Tenant.name)
    )
    return list(db.session.scalars(all_tenants(query)))


def sign_in(user: User, remember_me: bool) -> None:
    """Log the user in on this browser; «remember me» gets a new token, any old one is dropped."""
    login_user(user)
    token = remember.remember(user) if remember_me else None
    if token is None:
        remember.forget_this_browser()

    @after_this_request
    def _cookie(response):
        if token is not None or request.cookies.get(remember.COOKIE):
            remember.set_cookie(response, token)
        return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"],
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_failed,
    scope="login-account",
)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            sign_in(user, form.remember.data)
            log.info("login ok: user %s", user.id)
            return redirect(safe_next(request.args.get("next")) or url_for("public.home"))
        known = find_user(form.email.data)
        log.warning(
            "login failed: %s from %s",
            f"user {known.id}" if known else "unknown account",
            request.remote_addr,
        )
        flash(_("Неверная почта или пароль."), "error")
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    remember.forget_this_browser()
    logout_user()

    @after_this_request
    def _cookie(response):
        return remember.set_cookie(response, None)

    flash(_("Вы вышли из системы."), "info")
    return redirect(url_for("accounts.login"))


def regions_page():
    """`/` for someone signed in (`public.home` owns the address): their region, or the list of them."""
    regions = my_regions()
    if len(regions) == 1 and not current_user.is_platform_admin:
        return redirect(url_for("public.region_home", tenant=regions[0].slug))
    return render_template("accounts/regions.html", regions=regions)


# --- forgotten password ---------------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_client_limit, methods=["POST"])
def forgot_password():
    form = ForgotForm()
    if form.validate_on_submit():
        # The worker finds the account and writes the letter: this request costs the same either way.
        send_reset_link(normal_email(form.email.data))
        return render_template("accounts/forgot_sent.html")
    return render_template("accounts/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_client_limit, methods=["POST"])
def reset_password(token: str):
    link = valid_link(token, LinkPurpose.RESET)
    if link is None:
        return render_template("accounts/link_invalid.html"), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = recovery.reset_password(token, form.password.data)
        except DomainError as error:
            db.session.rollback()
            form.password.errors = [error.message]
        else:
            sign_in(user, remember_me=False)
            flash(_("Пароль изменён. Все прежние входы завершены."), "success")
            return redirect(url_for("public.home"))
    return render_template("accounts/reset.html", form=form, email=link.user.email)


# --- invitations ----------------------------------------------------------------------------------


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_client_limit, methods=["POST"])
def accept_invitation(token: str):
    link = valid_link(token, LinkPurpose.INVITE)
    if link is None:
        return render_template("accounts/link_invalid.html", invitation=True), 410
    form = AcceptInvitationForm()
    if request.method == "GET":
        form.full_name.data = link.user.full_name
    if form.validate_on_submit():
        try:
            link = recovery.accept_invitation(token, form.password.data, form.full_name.data or "")
        except DomainError as error:
            db.session.rollback()
            form.password.errors = [error.message]
        else:
            sign_in(link.user, remember_me=False)
            flash(_("Добро пожаловать! Пароль задан, вы вошли."), "success")
            return redirect(url_for("public.home"))
    return render_template("accounts/accept.html", form=form, email=link.user.email)
