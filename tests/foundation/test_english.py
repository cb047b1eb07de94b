"""`?lang=en` is complete: every page a role can open reads in English — labels, dates, messages, the
consent text. Cyrillic is allowed only in data (names of the region, places, events and people)."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

from sqlalchemy import select

from server.accounts.models import Role
from server.database import utcnow
from server.extensions import db
from tenants.scoping import tenant_scope
from tests.conftest import login
from tests.foundation.test_phone_width import _staff_paths

CYRILLIC = re.compile(r"[А-Яа-яЁё][А-Яа-яЁё\w .,:;«»\"'()№–—-]*")


class _Text(HTMLParser):
    """What a reader sees: text outside script/style, and the labels of controls."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "aria-label", "title", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _russian_left(html: str, data: list[str]) -> list[str]:
    parser = _Text()
    parser.feed(html)
    text = "\n".join(parser.parts)
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return [m.group(0).strip() for m in CYRILLIC.finditer(text)]


def _data(app, region) -> list[str]:
    """Every name the region's data holds: those stay as they were typed."""
    from server.catalog.models import Event, Municipality, Programme, School, Venue
    from server.onboarding.services import TEMPLATE_HEADER
    from server.tickets.importing import OPTIONAL, REQUIRED
    from server.tickets.models import ClassGroup, Consent, Student
    from tenants.models import Tenant

    # A class list's and a school list's column names are Russian by contract: the page names them as
    # the file must.
    values = [title.capitalize() for title in (*REQUIRED, *OPTIONAL)] + TEMPLATE_HEADER
    with app.app_context():
        values += [t.name for t in db.session.scalars(select(Tenant))]
    with app.app_context(), tenant_scope(region.id):
        columns = (Municipality.name, School.name, Venue.name, Venue.address, Venue.cluster, Event.title,
                   Programme.title, ClassGroup.label, ClassGroup.escort_name,
                   Consent.guardian_name)  # fmt: skip
        for column in columns:
            values += [v for v in db.session.scalars(select(column)) if v]
        for student in db.session.scalars(select(Student)):
            values += [student.full_name, student.short_name, student.last_name]
    return values


def test_english_pages_have_no_russian_outside_data(app, world):
    municipality = world.municipality(world.a, "Рыбинский район")
    school = world.school(world.a, municipality, "Школа № 33")
    venue = world.venue(world.a, "Колледж связи")
    event = world.event(world.a, venue_id=venue, quotas=[(municipality, 10)], title="ЕДОД связистов")
    world.event(world.a, venue_id=venue, programme="trial", format="online", grades=(6, 11),
                starts_at=utcnow() + timedelta(days=3), title="Проба онлайн",
                broadcast_url="https://example.org/live")  # fmt: skip
    world.class_group(world.a, event, school_id=school, label="8А")
    _, token = world.ticket(world.a, event, school_id=school, last_name="Смирнова")
    with world.app.app_context(), tenant_scope(world.a.id):
        from server.tickets.models import Ticket

        access = db.session.scalar(select(Ticket.access_token).where(Ticket.code == token))
    ids = {"municipalit": municipality, "school": school, "venue": venue, "event": event}
    staff_paths = _staff_paths(app, ids)
    public_paths = ["/", "/login", "/yaroslavl/", "/yaroslavl/events/open", f"/yaroslavl/e/{event}",
                    f"/yaroslavl/t/{access}", "/yaroslavl/privacy"]  # fmt: skip
    people = {
        None: None,
        Role.COORDINATOR: {},
        Role.MUNICIPAL: {"municipality_id": municipality},
        Role.SCHOOL: {"school_id": school},
        Role.VENUE: {"venue_id": venue},
    }
    data = _data(app, world.a)
    found: dict[str, list[str]] = {}
    seen = 0
    for role, scope in people.items():
        client = app.test_client()
        client.get("/login?lang=en")
        if role is not None:
            email, _ = world.user(world.a, role, **scope)
            login(client, email)
        for path in public_paths if role is None else staff_paths:
            page = client.get(path)
            if page.status_code != 200 or page.mimetype != "text/html":
                continue
            seen += 1
            left = _russian_left(page.get_data(as_text=True), data)
            if left:
                found[f"{role.value if role else 'public'} {path}"] = left
    assert seen > 35
    assert not found, "\n".join(f"{page}: {words[:8]}" for page, words in found.items())
