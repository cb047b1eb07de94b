"""Page forms for the region's reference data; the rules themselves live in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

REQUIRED = _l("Обязательное поле.")


class MunicipalityForm(FlaskForm):
    name = StringField(_l("Название"), validators=[DataRequired(REQUIRED), Length(max=200)])


class SchoolForm(FlaskForm):
    name = StringField(_l("Название школы"), validators=[DataRequired(REQUIRED), Length(max=300)])
    municipality_id = SelectField(_l("Муниципалитет"), coerce=int, validators=[DataRequired(REQUIRED)])


class VenueForm(FlaskForm):
    name = StringField(_l("Название"), validators=[DataRequired(REQUIRED), Length(max=300)])
    address = StringField(_l("Адрес"), validators=[DataRequired(REQUIRED), Length(max=500)])
    cluster = StringField(_l("Кластер / отрасль"), validators=[Optional(), Length(max=200)])


class EventForm(FlaskForm):
    title = StringField(_l("Название"), validators=[DataRequired(REQUIRED), Length(max=300)])
    programme = SelectField(
        _l("Программа"),
        choices=[
            SelectChoice("open_day", _l("День открытых дверей (ЕДОД)")),
            SelectChoice("trial", _l("Профессиональная проба")),
        ],
    )
    format = SelectField(
        _l("Формат"), choices=[SelectChoice("in_person", _l("Очно")), SelectChoice("online", _l("Онлайн"))]
    )
    venue_id = SelectField(_l("Площадка"), coerce=int, validators=[DataRequired(REQUIRED)])
    starts_at = DateTimeLocalField(
        _l("Начало"), validators=[DataRequired(_l("Укажите дату и время начала."))]
    )
    ends_at = DateTimeLocalField(
        _l("Окончание"), validators=[DataRequired(_l("Укажите дату и время окончания."))]
    )
    capacity = IntegerField(
        _l("Мест"), validators=[DataRequired(REQUIRED), NumberRange(1, 100_000, _l("От 1 до 100 000."))]
    )
    grade_min = IntegerField(_l("Классы с"), default=8, validators=[NumberRange(1, 11, _l("От 1 до 11."))])
    grade_max = IntegerField(_l("по"), default=11, validators=[NumberRange(1, 11, _l("От 1 до 11."))])
    description = TextAreaField(_l("Описание"), validators=[Optional(), Length(max=2000)])
    broadcast_url = StringField(
        _l("Ссылка на трансляцию (для онлайн)"),
        validators=[Optional(), URL(message=_l("Некорректная ссылка.")), Length(max=500)],
    )
    quota_deadline = DateTimeLocalField(_l("Квоты действуют до"), validators=[Optional()])
