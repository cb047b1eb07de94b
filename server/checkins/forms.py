"""The coordinator's kiosk form; the rules live in `kiosks.create_kiosk`."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

REQUIRED = "Обязательное поле."


class KioskForm(FlaskForm):
    venue_id = SelectField("Площадка", coerce=int, validators=[DataRequired(REQUIRED)])
    name = StringField("Название киоска", validators=[DataRequired(REQUIRED), Length(max=100)])
