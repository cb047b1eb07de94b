"""Template filters: every moment is stored in UTC and shown in the region's timezone."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, g

MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
          "октября", "ноября", "декабря")  # fmt: skip
WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")


def local(moment: datetime | None) -> datetime | None:
    tenant = g.get("tenant")
    if moment is None or tenant is None:
        return moment
    return moment.astimezone(tenant.tz)


def datetime_ru(moment: datetime | None) -> str:
    """«20 апреля, сб, 10:00» in the region's time."""
    moment = local(moment)
    if moment is None:
        return "—"
    return f"{moment.day} {MONTHS[moment.month - 1]}, {WEEKDAYS[moment.weekday()]}, {moment:%H:%M}"


def time_ru(moment: datetime | None) -> str:
    moment = local(moment)
    return "—" if moment is None else f"{moment:%H:%M}"


def date_ru(moment: datetime | None) -> str:
    moment = local(moment)
    return "—" if moment is None else f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(datetime_ru=datetime_ru, time_ru=time_ru, date_ru=date_ru)
