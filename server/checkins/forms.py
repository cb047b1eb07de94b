"""The coordinator's kiosk form; the rules live in `kiosks.create_kiosk`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

REQUIRED = _l("Обязательное поле.")


class KioskForm(FlaskForm):
    venue_id = SelectField(_l("Площадка"), coerce=int, validators=[DataRequired(REQUIRED)])
    name = StringField(_l("Название киоска"), validators=[DataRequired(REQUIRED), Length(max=100)])
