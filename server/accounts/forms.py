"""The accounts' forms: sign in, passwords, profile, tokens, invitations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange, Optional

from server.accounts.models import ROLE_LABELS, Role


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Электронная почта"),
        validators=[DataRequired(_l("Укажите почту.")), Email(_l("Некорректный адрес."))],
    )
    password = PasswordField(_l("Пароль"), validators=[DataRequired(_l("Введите пароль.")), Length(max=200)])
    remember = BooleanField(_l("Запомнить меня на этом устройстве (30 дней)"))


class ForgotForm(FlaskForm):
    email = EmailField(
        _l("Электронная почта"),
        validators=[DataRequired(_l("Укажите почту.")), Email(_l("Некорректный адрес.")), Length(max=254)],
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Новый пароль"), validators=[DataRequired(_l("Введите пароль.")), Length(max=200)]
    )
    confirm = PasswordField(
        _l("Пароль ещё раз"),
        validators=[DataRequired(_l("Повторите пароль.")), EqualTo("password", _l("Пароли не совпадают."))],
    )


class AcceptInvitationForm(NewPasswordForm):
    full_name = StringField(_l("Фамилия, имя, отчество"), validators=[Optional(), Length(max=200)])


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Текущий пароль"), validators=[DataRequired(_l("Введите текущий пароль.")), Length(max=200)]
    )


class ProfileForm(FlaskForm):
    full_name = StringField(_l("Фамилия, имя, отчество"), validators=[Optional(), Length(max=200)])


class TokenForm(FlaskForm):
    name = StringField(
        _l("Назначение токена"), validators=[DataRequired(_l("Назовите токен.")), Length(max=100)]
    )
    days = IntegerField(
        _l("Срок действия, дней"),
        default=90,
        validators=[DataRequired(_l("Укажите срок.")), NumberRange(1, 365, _l("От 1 до 365 дней."))],
    )


def role_choices(roles: tuple[Role, ...]) -> list[tuple[str, str]]:
    return [(role.value, ROLE_LABELS[role]) for role in roles]


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Электронная почта"),
        validators=[DataRequired(_l("Укажите почту.")), Email(_l("Некорректный адрес.")), Length(max=254)],
    )
    full_name = StringField(_l("ФИО (необязательно)"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Роль"))
    municipality_id = SelectField(_l("Муниципалитет"), coerce=str, validate_choice=False)
    school_id = SelectField(_l("Школа"), coerce=str, validate_choice=False)
    venue_id = SelectField(_l("Площадка"), coerce=str, validate_choice=False)


class RoleForm(FlaskForm):
    role = SelectField(_l("Роль"))
    municipality_id = SelectField(_l("Муниципалитет"), coerce=str, validate_choice=False)
    school_id = SelectField(_l("Школа"), coerce=str, validate_choice=False)
    venue_id = SelectField(_l("Площадка"), coerce=str, validate_choice=False)
