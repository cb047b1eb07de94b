"""The real kiosk page in headless Chromium: pairing, wedge scans with their colours, the offline path.

Screenshots of each screen: docs/screenshots/kiosk-*.png with UPDATE_SCREENSHOTS=1 (see tests/browser.py).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from server.checkins.models import AdmissionMethod, Checkin, ScanResult
from server.extensions import db
from tenants.scoping import tenant_scope
from tests.browser import ARGS, CHROMIUM, needs_chromium, shot, sign_in
from tests.kiosk.helpers import create_kiosk
from tests.kiosk.test_checkins import _venue_of

pytestmark = needs_chromium


def _shot(page, name: str) -> None:
    shot(page, f"kiosk-{name}")


def _scan(page, code: str, expected: str) -> None:
    """A wedge scanner: the code typed fast into whatever has focus, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#screen-result[data-result='{expected}']:not([hidden])", timeout=10_000)


def _dismiss(page) -> None:
    page.click("#screen-result")
    page.wait_for_selector("#screen-result", state="hidden")


def _wait_text(page, selector: str, predicate, timeout: float = 15.0) -> str:
    """Poll a text from Python: the kiosk's CSP (rightly) forbids the eval behind wait_for_function."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        text = page.inner_text(selector)
        if predicate(text) or time.monotonic() > deadline:
            assert predicate(text), f"{selector}: {text!r}"
            return text
        page.wait_for_timeout(100)


def _pair(page, live_server: str, code: str) -> None:
    page.goto(f"{live_server}/kiosk")
    page.wait_for_selector("#screen-pair:not([hidden])")
    page.fill("#pair-code", code)
    page.click("#pair-form button[type=submit]")
    page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    page.wait_for_selector("body[data-bundle='ready']", timeout=10_000)


def test_pair_then_green_amber_red(app, client, world, live_server, browser):
    school = world.school(world.a, name="Средняя школа № 12")
    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    _, code = world.ticket(world.a, event, school_id=school, last_name="Соколова", first_name="Дарья")
    created = create_kiosk(client, world, world.a, venue, "Главный вход")
    page = browser.new_page(viewport={"width": 1280, "height": 800})

    page.goto(f"{live_server}/kiosk")
    page.wait_for_selector("#screen-pair:not([hidden])")
    page.fill("#pair-code", created["pairing_code"])
    _shot(page, "pair")
    page.click("#pair-form button[type=submit]")
    page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    page.wait_for_selector(".k-event")
    assert "прошли 0 из 1" in page.inner_text("#events")
    _shot(page, "ready")

    _scan(page, code, "ok")
    assert page.inner_text("#result-title") == "ПРОХОДИТЕ"
    assert page.inner_text("#result-name") == "Соколова Д. П."
    assert "Средняя школа № 12" in page.inner_text("#result-details")
    _shot(page, "ok")
    _dismiss(page)
    assert page.inner_text("#admitted-today") == "1"

    _scan(page, code, "already_checked_in")
    assert "Уже прошёл в" in page.inner_text("#result-message")
    assert "Главный вход" in page.inner_text("#result-message")
    _shot(page, "already")
    _dismiss(page)

    forged = code[:-4] + ("AAAA" if not code.endswith("AAAA") else "BBBB")
    _scan(page, forged, "invalid")
    assert page.inner_text("#result-title") == "НЕ ПРОХОДИТ"
    assert page.inner_text("#result-message") == "Билет недействителен"
    _shot(page, "invalid")
    # Ready again by itself, focus back on the invisible wedge input.
    page.wait_for_selector("#screen-result", state="hidden", timeout=8_000)
    assert page.evaluate("document.activeElement.id") == "wedge"


def test_offline_admissions_queue_on_the_device_and_sync_exactly_once(
    app, client, world, live_server, browser
):
    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    tickets = [world.ticket(world.a, event, last_name=n) for n in ("Орлов", "Зайцева", "Волков")]
    created = create_kiosk(client, world, world.a, venue, "Вход со двора")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _pair(page, live_server, created["pairing_code"])
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    context.set_offline(True)
    for _, code in tickets:
        _scan(page, code, "ok")
        _dismiss(page)
    _scan(page, tickets[0][1], "already_checked_in")  # never twice on this device
    assert "на этом входе" in page.inner_text("#result-message")
    _dismiss(page)
    assert page.inner_text("#net-status") == "нет сети — 3 в очереди"
    # The counter and the event's row tell the same story, offline and after the sync.
    assert page.inner_text("#admitted-today") == "3"
    assert "прошли 3 из 3" in page.inner_text("#events")
    _shot(page, "offline")
    page.reload()  # the service worker serves the kiosk with no network
    page.wait_for_selector("#screen-ready:not([hidden])")
    _wait_text(page, "#net-status", lambda t: "3 в очереди" in t)
    _scan(page, tickets[1][1], "already_checked_in")
    _dismiss(page)

    context.set_offline(False)
    _wait_text(page, "#net-status", lambda t: t == "на связи", timeout=20)
    _wait_text(page, "#events", lambda t: "прошли 3 из 3" in t, timeout=3)
    assert page.inner_text("#admitted-today") == "3"

    with app.app_context(), tenant_scope(world.a.id):
        rows = db.session.scalars(select(Checkin).order_by(Checkin.id)).all()
        assert sorted(r.ticket_id for r in rows) == sorted(t for t, _ in tickets)
        assert {(r.result, r.method) for r in rows} == {(ScanResult.OK, AdmissionMethod.OFFLINE)}
    context.close()


def test_class_checklist_and_manual_search_screens(app, client, world, live_server, browser):
    event = world.event(world.a)
    venue = _venue_of(app, world.a, event)
    school = world.school(world.a, name="Лицей № 2")
    group_id, escort, ticket_ids = world.class_group(world.a, event, school_id=school, size=4, label="8Б")
    world.ticket(world.a, event, last_name="Кузнецова", first_name="Ольга")
    created = create_kiosk(client, world, world.a, venue, "Главный вход")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    _pair(page, live_server, created["pairing_code"])

    page.keyboard.type(escort)
    page.keyboard.press("Enter")
    page.wait_for_selector("#screen-group:not([hidden])")
    assert page.inner_text("#group-title") == "8Б · Лицей № 2"
    boxes = page.locator("#group-list input[type=checkbox]")
    assert boxes.count() == 4
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("#group-admit")
    _wait_text(page, "#group-summary", lambda t: t.startswith("Впущено: 2"))
    _shot(page, "group")
    page.click("#group-admit")  # nobody ticked: admit all the rest
    page.wait_for_selector("#group-list .k-badge-in >> nth=3")
    assert page.locator(".k-badge-in").count() == 4
    page.click("#screen-group [data-close]")

    page.click("#btn-search")
    page.fill("#search-input", "кузн")
    page.wait_for_selector("#search-results .k-row")
    _shot(page, "search")
    page.click("#search-results .k-row button")
    page.wait_for_selector("#screen-result[data-result='ok']:not([hidden])")
    assert page.inner_text("#result-name") == "Кузнецова О. П."

    with app.app_context(), tenant_scope(world.a.id):
        methods = sorted(m.value for m in db.session.scalars(select(Checkin.method)))
    assert methods == ["group"] * 4 + ["manual"]


def test_coordinator_creates_kiosk_and_tablet_pairs_from_the_qr_link(
    app, client, world, live_server, browser
):
    venue = world.venue(world.a, name="Ярославский градостроительный колледж")
    world.event(world.a, venue_id=venue)
    email, _ = world.user(world.a)
    desk = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(desk, live_server, email)
    desk.goto(f"{live_server}/yaroslavl/kiosks")
    desk.select_option("select[name=venue_id]", str(venue))
    desk.fill("input[name=name]", "Главный вход")
    desk.click("form:has(select[name=venue_id]) button[type=submit]")
    desk.wait_for_selector(".kiosk-pairing svg")
    _shot(desk, "coordinator")
    link = desk.locator(".kiosk-pairing a").inner_text()
    code = desk.inner_text("[data-pairing-code]")

    tablet = browser.new_page(viewport={"width": 1024, "height": 768})
    tablet.goto(f"{live_server}/kiosk#pair={code}")  # what the QR holds (link + code)
    tablet.wait_for_selector("body[data-ready='1']", timeout=10_000)

    assert link.endswith("/kiosk")
    assert tablet.inner_text("#venue-name") == "Ярославский градостроительный колледж"
    assert "#pair" not in tablet.url  # the code leaves the address bar
    desk.goto(f"{live_server}/yaroslavl/kiosks")
    assert "работает" in desk.inner_text("table")


def _qr_video(path: Path, text: str) -> None:
    """A Y4M clip of a QR code held in front of the camera (Chromium's fake webcam plays it)."""
    import qrcode
    from PIL import Image

    qr = qrcode.make(text, box_size=6, border=4).convert("L")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(qr, ((640 - qr.width) // 2, (480 - qr.height) // 2))
    ycbcr = Image.merge("RGB", [frame] * 3).convert("YCbCr")
    y, cb, cr = ycbcr.split()
    planes = y.tobytes() + cb.resize((320, 240)).tobytes() + cr.resize((320, 240)).tobytes()
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            out.write(b"FRAME\n" + planes)


def test_camera_reads_the_ticket_qr(app, client, world, live_server, tmp_path):
    from playwright.sync_api import sync_playwright

    event = world.event(world.a)
    _, code = world.ticket(world.a, event, last_name="Камерова", first_name="Вера")
    created = create_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    clip = tmp_path / "qr.y4m"
    _qr_video(clip, code)
    camera_args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS + camera_args)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        _pair(page, live_server, created["pairing_code"])
        page.click("#btn-camera")
        page.wait_for_selector("#screen-result[data-result='ok']:not([hidden])", timeout=15_000)
        assert page.inner_text("#result-name") == "Камерова В. П."
        browser.close()


def test_a_camera_that_cannot_start_is_a_calm_note_not_a_refusal(app, client, world, live_server, browser):
    """No camera or no permission is the device's trouble: never the red «НЕ ПРОХОДИТ» screen."""
    event = world.event(world.a)
    created = create_kiosk(client, world, world.a, _venue_of(app, world.a, event))
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _pair(page, live_server, created["pairing_code"])
    page.click("#btn-camera")
    page.wait_for_selector("#camera-notice:not([hidden])", timeout=10_000)
    note = page.inner_text("#camera-notice")
    assert note.startswith(("Нет доступа к камере", "Камера не найдена", "Камера не включилась")), note
    assert "найти по фамилии" in note or "найдите по фамилии" in note
    assert page.is_hidden("#screen-result")
    _shot(page, "camera-denied")
    context.close()
