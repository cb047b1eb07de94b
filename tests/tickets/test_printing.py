"""The QR stays small and decodable, the PDFs embed a Cyrillic font, the class sheet names no child first."""

from __future__ import annotations

import io
import re
import subprocess
import zlib

from PIL import Image
from sqlalchemy import select

from server.accounts.models import Role
from server.extensions import db
from server.tickets import codes, qr
from server.tickets.models import Ticket
from tests.conftest import login
from tests.crawl import parse_ics
from tests.tickets.helpers import region


def _token(app, world, ticket_id):
    with region(app, world.a):
        return db.session.scalar(select(Ticket.access_token).where(Ticket.id == ticket_id))


def test_qr_is_version_7_or_lower_at_level_m_and_renders_png_and_svg(app, client, world):
    event = world.event(world.a)
    ticket_id, code = world.ticket(world.a, event)
    assert len(code) == codes.CODE_LENGTH and qr.version(code) <= 7
    token = _token(app, world, ticket_id)
    png = client.get(f"/yaroslavl/t/{token}/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    image = Image.open(io.BytesIO(png.data))
    modules = len(qr.matrix(code))
    assert image.size == (modules * 8, modules * 8)
    assert image.getpixel((0, 0)) != 0  # quiet zone is white
    svg = client.get(f"/yaroslavl/t/{token}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and svg.data.startswith(b"<svg")


def test_qr_decodes_back_to_the_code(app, world):
    """Decode with the vendored jsQR through node, when node is there (CI has it)."""
    import shutil
    from pathlib import Path

    import pytest

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    event = world.event(world.a)
    _, code = world.ticket(world.a, event)
    image = Image.open(io.BytesIO(qr.png(code, box=4))).convert("RGBA")
    root = Path(__file__).resolve().parents[2]
    script = (
        f"const jsQR=require({str(root / 'static/vendor/jsqr/jsQR.js')!r});"
        "const b=require('fs').readFileSync(0);"
        f"const r=jsQR(new Uint8ClampedArray(b),{image.size[0]},{image.size[1]});"
        "process.stdout.write(r?r.data:'');"
    )
    out = subprocess.run([node, "-e", script], input=image.tobytes(), capture_output=True, timeout=30)
    assert out.stdout.decode() == code


def _fonts(pdf: bytes) -> set[str]:
    return set(re.findall(rb"/BaseFont\s*/([A-Za-z+\-]+)", pdf))


def test_ticket_pdf_and_calendar(app, client, world):
    event = world.event(world.a)
    ticket_id, _ = world.ticket(world.a, event, last_name="Ёлкина", first_name="Мария")
    token = _token(app, world, ticket_id)
    pdf = client.get(f"/yaroslavl/t/{token}/ticket.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert any(b"DejaVu" in f for f in _fonts(pdf.data))
    ics = client.get(f"/yaroslavl/t/{token}/event.ics").get_data(as_text=True)
    assert ics.startswith("BEGIN:VCALENDAR") and "DTSTART:" in ics and "ул. Советская\\, 1" in ics
    assert f"/yaroslavl/t/{token}" in ics.replace("\r\n ", "")


def test_class_sheet_starts_with_the_escort_code_and_has_a_page_per_eight_tickets(app, client, world):
    event = world.event(world.a)
    school = world.school(world.a)
    group_id, escort, tickets = world.class_group(world.a, event, school_id=school, size=10)
    assert len(tickets) == 10
    with region(app, world.a):
        payload = codes.verify(escort, world.a.id, codes.CodeKind.ESCORT)
        assert payload.object_id == group_id and payload.event_id == event
    email, _ = world.user(world.a, Role.SCHOOL, school_id=school)
    login(client, email)
    sheet = client.get(f"/yaroslavl/groups/{group_id}/sheet.pdf")
    assert sheet.status_code == 200
    assert len(re.findall(rb"/Type\s*/Page\b", sheet.data)) == 3  # escort page + 8 + 2
    other_email, _ = world.user(world.a, Role.SCHOOL, school_id=world.school(world.a))
    other = app.test_client()
    login(other, other_email)
    assert other.get(f"/yaroslavl/groups/{group_id}/sheet.pdf").status_code == 403


def test_class_sheet_first_page_names_no_child():
    """Render the escort page alone and look at its text: no student's name on it."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from server.tickets import pdf

    escort = pdf.EscortCard(
        code="A" * codes.CODE_LENGTH,
        school="Школа № 1",
        class_label="8А",
        escort_name="Петрова А. С.",
        students=2,
        event_title="День открытых дверей",
        starts_at=datetime(2026, 4, 20, 7, tzinfo=UTC),
        ends_at=datetime(2026, 4, 20, 10, tzinfo=UTC),
        venue="Колледж",
        address="ул. Ленина, 1",
    )
    only_escort = pdf.class_sheet_pdf(escort, [], ZoneInfo("Europe/Moscow"))
    assert len(re.findall(rb"/Type\s*/Page\b", only_escort)) == 1
    streams = b"".join(
        zlib.decompress(m)
        for m in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", only_escort, re.S)
        if m[:2] in (b"x\x9c", b"x\xda")
    )
    assert b"Tj" in streams or b"TJ" in streams


def _pdf_text(body: bytes) -> str:
    run = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, timeout=30, check=True)
    return " ".join(run.stdout.decode().split())


def test_an_online_ticket_gives_the_personal_join_link_on_the_page_in_the_pdf_and_the_calendar(
    app, client, world
):
    event = world.event(world.a, format="online", broadcast_url="https://vk.com/video-1_2")
    token = _token(app, world, world.ticket(world.a, event)[0])
    join = f"http://localhost/yaroslavl/t/{token}/join"

    page = client.get(f"/yaroslavl/t/{token}").get_data(as_text=True)
    pdf = _pdf_text(client.get(f"/yaroslavl/t/{token}/ticket.pdf").data)
    ics = parse_ics(client.get(f"/yaroslavl/t/{token}/event.ics").get_data(as_text=True))[0]

    assert "Подключиться к трансляции" in page and join in page
    assert f'action="/yaroslavl/t/{token}/join"' in page
    assert "Покажите этот код на входе" not in page and "qr.svg" not in page
    assert f"Подключиться к трансляции: {join}" in pdf and "Покажите QR-код на входе" not in pdf
    assert ics["URL"] == join and ics["LOCATION"] == join
    assert ics["DESCRIPTION"].startswith(f"Подключиться к трансляции: {join}\n")
    assert "vk.com" not in page + pdf + str(ics)  # the broadcast only behind the button


def test_an_in_person_ticket_still_shows_the_code_for_the_door(app, client, world):
    token = _token(app, world, world.ticket(world.a, world.event(world.a))[0])
    page = client.get(f"/yaroslavl/t/{token}").get_data(as_text=True)
    pdf = _pdf_text(client.get(f"/yaroslavl/t/{token}/ticket.pdf").data)
    assert "Покажите этот код на входе" in page and "Подключиться к трансляции" not in page
    assert "Покажите QR-код на входе" in pdf and "/join" not in pdf
