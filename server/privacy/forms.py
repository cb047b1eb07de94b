"""Forms of the coordinator's personal-data page; the rules live in `privacy.services`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

CONFIRM = _l("Отметьте, что вы понимаете: это действие нельзя отменить.")


class ConfirmForm(FlaskForm):
    confirm = BooleanField(
        _l("Я понимаю, что это действие нельзя отменить"), validators=[DataRequired(CONFIRM)]
    )


class ErasureForm(ConfirmForm):
    reference = StringField(
        _l("Заявление (номер и дата регистрации, без ФИО)"),
        validators=[DataRequired(_l("Укажите номер и дату заявления.")), Length(max=200)],
    )
