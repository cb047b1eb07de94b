"""Staff pages on a phone (390 px, an iPhone 12–15): nothing scrolls the page sideways, and the
navigation collapses behind «Меню». Every staff GET page of the URL map is visited as each role that
may open it, so a new page is covered without a new test."""

from __future__ import annotations

import re

import pytest

from server.accounts.models import Role
from server.accounts.services import find_user
from server.extensions import db
from tests.browser import needs_chromium, shot, sign_in

pytestmark = needs_chromium
WIDTH = 390
SKIPPED = re.compile(r"^/(api|static|kiosk)|/t/<|/e/<|\.pdf|attendance\.|/schools/find|/events/open|/privacy")


def _staff_paths(app, ids: dict[str, int]) -> list[str]:
    """Every GET page under /<tenant>/ with real ids: which id an `object_id` is depends on the page."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or "<tenant>" not in rule.rule or SKIPPED.search(rule.rule):
            continue
        path = rule.rule.replace("<tenant>", "yaroslavl")
        kind = next((k for k in ("municipalit", "school", "venue", "event") if k in rule.rule), "event")
        path = re.sub(r"<int:(object_id|event_id)>", str(ids[kind]), path)
        if "<" in path:  # another kind of id (a person, a letter, a key): the crawl opens those
            continue
        paths.append(path)
    return sorted(set(paths))


@pytest.mark.slow
def test_no_staff_page_scrolls_sideways_at_390_px_and_the_menu_collapses(app, world, live_server, browser):
    municipality = world.municipality(world.a, "Гаврилов-Ямский муниципальный округ")
    school = world.school(world.a, municipality, "Средняя общеобразовательная школа № 33 имени Героя")
    venue = world.venue(world.a, "Ярославский колледж промышленных технологий и транспорта")
    event = world.event(world.a, venue_id=venue, quotas=[(municipality, 10)],
                        title="День открытых дверей: Железнодорожный транспорт и логистика")  # fmt: skip
    world.class_group(world.a, event, school_id=school, label="8А")
    ids = {"municipalit": municipality, "school": school, "venue": venue, "event": event}
    people = {
        Role.COORDINATOR: {},
        Role.MUNICIPAL: {"municipality_id": municipality},
        Role.SCHOOL: {"school_id": school},
        Role.VENUE: {"venue_id": venue},
    }
    paths = _staff_paths(app, ids)
    assert len(paths) > 15
    seen, too_wide = 0, []
    for role, scope in people.items():
        email, _ = world.user(world.a, role, **scope)
        context = browser.new_context(viewport={"width": WIDTH, "height": 844})
        page = context.new_page()
        sign_in(page, live_server, email)
        for path in paths:
            response = page.goto(live_server + path)
            if response.status != 200 or "/login" in page.url:
                continue
            seen += 1
            width = page.evaluate("document.scrollingElement.scrollWidth")
            if width > WIDTH:
                too_wide.append(f"{role.value} {path}: {width}px")
        # The menu: links hidden until «Меню» is pressed, then there.
        page.goto(f"{live_server}/yaroslavl/live")
        assert page.is_hidden("#main-nav")
        page.click(".nav-toggle")
        assert page.is_visible("#main-nav a")
        assert page.get_attribute(".nav-toggle", "aria-expanded") == "true"
        if role is Role.COORDINATOR:
            shot(page, "phone-staff-menu")
            page.goto(f"{live_server}/yaroslavl/venues")
            shot(page, "phone-staff-venues")
        context.close()
    # The platform operator's pages (/admin/…), as the operator.
    email, _ = world.user(None, None)
    with app.app_context():
        find_user(email).is_platform_admin = True
        db.session.commit()
    context = browser.new_context(viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    sign_in(page, live_server, email)
    admin_paths = _admin_paths(app, world.a.id)
    assert len(admin_paths) >= 4
    for path in admin_paths:
        response = page.goto(live_server + path)
        assert response.status == 200, path
        seen += 1
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > WIDTH:
            too_wide.append(f"platform admin {path}: {width}px")
    context.close()
    assert seen > 30
    assert not too_wide, too_wide


def _admin_paths(app, region_id: int) -> list[str]:
    """The operator's GET pages with the region's id; pages of one letter or file are the crawl's."""
    paths = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith("/admin"):
            continue
        path = rule.rule.replace("<int:tenant_id>", str(region_id))
        if "<" not in path and not path.endswith((".csv", ".html")):
            paths.add(path)
    return sorted(paths)
