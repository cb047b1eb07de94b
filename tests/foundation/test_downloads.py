"""Downloads keep their Russian names through the production server: an ASCII `filename=` and the real
name in `filename*=UTF-8''…` (RFC 6266/5987). Gunicorn refused the class sheet of «8А» with a 500."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
import requests
from sqlalchemy import select

from server.downloads import content_disposition
from server.extensions import db
from server.tickets.models import Ticket
from tests.conftest import PASSWORD
from tests.production import gunicorn, signed_in
from tests.tickets.helpers import region


def _real_name(header: str) -> str:
    return unquote(re.search(r"filename\*=UTF-8''([^;\s]+)", header).group(1))


def test_a_russian_name_gets_an_ascii_fallback_and_the_real_name():
    header = content_disposition("Класс 8А — Школа № 33.pdf", inline=True)
    assert header.isascii()
    assert header.startswith('inline; filename="Klass 8A Shkola 33.pdf"; ')
    assert _real_name(header) == "Класс 8А — Школа № 33.pdf"
    assert content_disposition("report.csv") == 'attachment; filename="report.csv"'
    # a title can hold what no file system or header quote allows
    assert _real_name(content_disposition('Проба «Сварщик»: 6/7 "А".pdf')) == "Проба «Сварщик» 6 7 А.pdf"


@pytest.mark.slow
def test_class_sheet_ticket_calendar_and_export_download_under_gunicorn_with_russian_names(
    app, world, database_url
):
    municipality = world.municipality(world.a, "г. Ярославль")
    school = world.school(world.a, municipality, "Средняя школа № 33")
    event = world.event(world.a, title="День открытых дверей: Железнодорожный транспорт")
    group, _, _ = world.class_group(world.a, event, school_id=school, label="8А")
    ticket, _ = world.ticket(world.a, event, school_id=school)
    with region(app, world.a):
        token = db.session.scalar(select(Ticket.access_token).where(Ticket.id == ticket))
    email, _ = world.user(world.a)

    with gunicorn(database_url) as base:
        staff = signed_in(base, email, PASSWORD)
        downloads = {
            "class sheet": staff.get(f"{base}/yaroslavl/groups/{group}/sheet.pdf", timeout=60),
            "export": staff.get(f"{base}/yaroslavl/events/{event}/attendance.xlsx", timeout=60),
            "ticket": requests.get(f"{base}/yaroslavl/t/{token}/ticket.pdf", timeout=60),
            "calendar": requests.get(f"{base}/yaroslavl/t/{token}/event.ics", timeout=60),
        }
    for what, response in downloads.items():
        assert response.status_code == 200, what
    names = {what: _real_name(r.headers["Content-Disposition"]) for what, r in downloads.items()}
    assert names == {
        "class sheet": "Класс 8А — Средняя школа № 33 — День открытых дверей Железнодорожный транспорт.pdf",
        "export": "Посещаемость — День открытых дверей Железнодорожный транспорт.xlsx",
        "ticket": "Билет — День открытых дверей Железнодорожный транспорт.pdf",
        "calendar": "День открытых дверей Железнодорожный транспорт.ics",
    }
    sheet = downloads["class sheet"].headers["Content-Disposition"]
    assert sheet.startswith('inline; filename="Klass 8A Srednyaya shkola 33 Den otkrytykh dverey ')
