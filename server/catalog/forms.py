"""Page forms for the region's reference data; the rules themselves live in services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional

REQUIRED = "Обязательное поле."


class MunicipalityForm(FlaskForm):
    name = StringField("Название", validators=[DataRequired(REQUIRED), Length(max=200)])


class SchoolForm(FlaskForm):
    name = StringField("Название школы", validators=[DataRequired(REQUIRED), Length(max=300)])
    municipality_id = SelectField("Муниципалитет", coerce=int, validators=[DataRequired(REQUIRED)])


class VenueForm(FlaskForm):
    name = StringField("Название", validators=[DataRequired(REQUIRED), Length(max=300)])
    address = StringField("Адрес", validators=[DataRequired(REQUIRED), Length(max=500)])
    cluster = StringField("Кластер / отрасль", validators=[Optional(), Length(max=200)])


class EventForm(FlaskForm):
    title = StringField("Название", validators=[DataRequired(REQUIRED), Length(max=300)])
    programme = SelectField(
        "Программа",
        choices=[
            SelectChoice("open_day", "День открытых дверей (ЕДОД)"),
            SelectChoice("trial", "Профессиональная проба"),
        ],
    )
    format = SelectField(
        "Формат", choices=[SelectChoice("in_person", "Очно"), SelectChoice("online", "Онлайн")]
    )
    venue_id = SelectField("Площадка", coerce=int, validators=[DataRequired(REQUIRED)])
    starts_at = DateTimeLocalField("Начало", validators=[DataRequired("Укажите дату и время начала.")])
    ends_at = DateTimeLocalField("Окончание", validators=[DataRequired("Укажите дату и время окончания.")])
    capacity = IntegerField(
        "Мест", validators=[DataRequired(REQUIRED), NumberRange(1, 100_000, "От 1 до 100 000.")]
    )
    grade_min = IntegerField("Классы с", default=8, validators=[NumberRange(1, 11, "От 1 до 11.")])
    grade_max = IntegerField("по", default=11, validators=[NumberRange(1, 11, "От 1 до 11.")])
    description = TextAreaField("Описание", validators=[Optional(), Length(max=2000)])
    broadcast_url = StringField(
        "Ссылка на трансляцию (для онлайн)",
        validators=[Optional(), URL(message="Некорректная ссылка."), Length(max=500)],
    )
    quota_deadline = DateTimeLocalField("Квоты действуют до", validators=[Optional()])
