"""How the door says when a ticket's window opens: the time today, the day and time on another day."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from server.formatting import MONTHS, WEEKDAYS


def opening_words(opens: datetime, moment: datetime, timezone: str) -> str:
    """«в 09:00» today; «5 декабря (сб) в 09:00» on another day, so a family at the wrong door on the
    wrong day hears which day to come back, not only an hour that looks like today's."""
    zone = ZoneInfo(timezone)
    local_opens, local_now = opens.astimezone(zone), moment.astimezone(zone)
    if local_opens.date() == local_now.date():
        return f"в {local_opens:%H:%M}"
    day = f"{local_opens.day} {MONTHS[local_opens.month - 1]}"
    if local_opens.year != local_now.year:
        day += f" {local_opens.year}"
    return f"{day} ({WEEKDAYS[local_opens.weekday()]}) в {local_opens:%H:%M}"
