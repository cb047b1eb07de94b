"""Template filters: every moment is stored in UTC and shown in the region's timezone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, g

MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
          "октября", "ноября", "декабря")  # fmt: skip
WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")


MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")  # fmt: skip
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _english() -> bool:
    """Pages asked for with `?lang=en` (the session keeps it) show English dates too."""
    from flask import has_request_context
    from flask_babel import get_locale

    return has_request_context() and str(get_locale()) == "en"


MOSCOW = ZoneInfo("Europe/Moscow")


def _outside_a_region() -> bool:
    from flask import has_app_context

    return not has_app_context() or g.get("tenant") is None


def local(moment: datetime | None) -> datetime | None:
    """In the region's time; outside a region (the operator's pages, the profile) in Moscow time,
    which `datetime_ru` and `time_ru` then say («МСК»): never UTC passed off as local time."""
    if moment is None:
        return moment
    return moment.astimezone(MOSCOW if _outside_a_region() else g.tenant.tz)


def _moscow_mark() -> str:
    if not _outside_a_region():
        return ""
    return " MSK" if _english() else " МСК"


def datetime_ru(moment: datetime | None) -> str:
    """«20 апреля, сб, 10:00» in the region's time."""
    moment = local(moment)
    if moment is None:
        return "—"
    if _english():
        return (
            f"{WEEKDAYS_EN[moment.weekday()]}, {MONTHS_EN[moment.month - 1]} {moment.day}, {moment:%H:%M}"
            + _moscow_mark()
        )
    return (
        f"{moment.day} {MONTHS[moment.month - 1]}, {WEEKDAYS[moment.weekday()]}, {moment:%H:%M}"
        + _moscow_mark()
    )


def time_ru(moment: datetime | None) -> str:
    moment = local(moment)
    return "—" if moment is None else f"{moment:%H:%M}{_moscow_mark()}"


def date_ru(moment: datetime | None) -> str:
    moment = local(moment)
    if moment is None:
        return "—"
    if _english():
        return f"{MONTHS_EN[moment.month - 1]} {moment.day}, {moment.year}"
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def zone_name(timezone: str) -> str:
    """«Иркутск (МСК+5)» rather than `Asia/Irkutsk`: how people in Russia name their time."""
    from zoneinfo import ZoneInfo

    from babel.dates import get_timezone_location

    english = _english()
    city = get_timezone_location(timezone, locale="en" if english else "ru", return_city=True)
    now = datetime.now(ZoneInfo("UTC"))
    hours = (
        now.astimezone(ZoneInfo(timezone)).utcoffset() - now.astimezone(ZoneInfo("Europe/Moscow")).utcoffset()
    )
    hours = int(hours.total_seconds() // 3600)
    moscow = "MSK" if english else "МСК"
    return f"{city} ({moscow}{hours:+d})" if hours else f"{city} ({moscow})"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        datetime_ru=datetime_ru, time_ru=time_ru, date_ru=date_ru, zone_name=zone_name
    )
