"""Sign in, sign out, and the start page that sends each person to their region."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from server.accounts.models import Membership
from server.accounts.services import authenticate
from server.extensions import db, limiter
from tenants.models import Tenant
from tenants.scoping import all_tenants

bp = Blueprint("accounts", __name__)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Электронная почта"),
        validators=[DataRequired(_l("Укажите почту.")), Email(_l("Некорректный адрес."))],
    )
    password = PasswordField(_l("Пароль"), validators=[DataRequired(_l("Введите пароль.")), Length(max=200)])
    remember = BooleanField(_l("Запомнить меня на этом устройстве"))


def _safe_next(target: str | None) -> str | None:
    """Only local paths: a login link must not bounce people to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def my_regions() -> list[Tenant]:
    if current_user.is_platform_admin:
        return list(db.session.scalars(select(Tenant).order_by(Tenant.name)))
    query = (
        select(Tenant)
        .join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.user_id == current_user.id)
        .order_by(Tenant.name)
    )
    return list(db.session.scalars(all_tenants(query)))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or url_for("accounts.home"))
        flash(_("Неверная почта или пароль."), "error")
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("Вы вышли из системы."), "info")
    return redirect(url_for("accounts.login"))


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        from server.public.views import start_page

        return start_page()
    regions = my_regions()
    if len(regions) == 1:
        return redirect(url_for("catalog.region_home", tenant=regions[0].slug))
    return render_template("accounts/regions.html", regions=regions)
