"""Reference data is archived, never deleted: forms and families stop seeing it, its history stays.
And the event form: a quota deadline in the past is refused, saving returns to the event."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.audit.models import AuditEntry
from server.database import utcnow
from server.extensions import db
from server.tickets.consent import CONSENT_VERSION
from server.tickets.models import Ticket
from tests.conftest import login
from tests.tickets.helpers import region


def _archive(client, kind: str, object_id: int, archived: str = "1"):
    return client.post(f"/yaroslavl/{kind}/{object_id}/archive", data={"archived": archived})


def test_archived_event_venue_school_and_municipality_leave_forms_and_lists_but_keep_their_history(
    app, client, world
):
    municipality = world.municipality(world.a, "Угличский муниципальный район")
    school = world.school(world.a, municipality, "Отрадновская средняя школа")
    venue = world.venue(world.a, "Угличский аграрно-политехнический колледж")
    soon = utcnow() + timedelta(days=2)
    event = world.event(world.a, venue_id=venue, title="Профпроба «Агроном»", starts_at=soon)
    ticket_id, _ = world.ticket(world.a, event, school_id=school)
    with region(app, world.a):
        token = db.session.scalar(select(Ticket.access_token).where(Ticket.id == ticket_id))
    email, _ = world.user(world.a)
    login(client, email)

    answers = [_archive(client, kind, object_id) for kind, object_id in (
        ("events", event), ("venues", venue), ("schools", school), ("municipalities", municipality),
    )]  # fmt: skip

    assert [a.status_code for a in answers] == [302] * 4
    assert answers[0].headers["Location"] == f"/yaroslavl/events/{event}"
    # gone from what families and forms offer
    assert "Агроном" not in client.get("/yaroslavl/events/open").get_data(as_text=True)
    assert "Агроном" not in client.get("/yaroslavl/events").get_data(as_text=True)
    assert client.get("/yaroslavl/schools/find?q=отрадновская").json == []
    new_event = client.get("/yaroslavl/events/new").get_data(as_text=True)
    assert "Угличский аграрно" not in new_event and "Угличский муниципальный" not in new_event
    assert "Угличский муниципальный" not in client.get("/yaroslavl/schools").get_data(as_text=True).split(
        "<select", 1
    )[1]
    other_school = str(world.school(world.a))
    refused = client.post(
        f"/yaroslavl/e/{event}",
        data={"last_name": "Петров", "first_name": "Пётр", "grade": "9", "school_id": other_school,
              "guardian_name": "Петрова Анна", "guardian_phone": "+7 900 000-00-00", "consent": "y",
              "consent_version": CONSENT_VERSION},
    )  # fmt: skip
    assert refused.status_code == 409 and "Событие в архиве" in refused.get_data(as_text=True)
    # the coordinator still finds it, marked, and its history stays
    archive = client.get("/yaroslavl/events?archive=1").get_data(as_text=True)
    assert "Агроном" in archive
    assert "в архиве" in client.get("/yaroslavl/venues").get_data(as_text=True)
    assert "в архиве" in client.get(f"/yaroslavl/events/{event}").get_data(as_text=True)
    ticket_page = client.get(f"/yaroslavl/t/{token}")
    assert ticket_page.status_code == 200 and "Агроном" in ticket_page.get_data(as_text=True)
    assert client.get(f"/yaroslavl/events/{event}/attendance.csv").status_code == 200
    with region(app, world.a):
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert [a for a in actions if a.startswith("catalog.")][-4:] == ["catalog.archive"] * 4

    _archive(client, "events", event, archived="0")
    assert "Агроном" in client.get("/yaroslavl/events/open").get_data(as_text=True)


def _event_form(venue: int, **changes: str) -> dict:
    start = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT10:00")
    form = {
        "title": "ЕДОД", "programme": "open_day", "format": "in_person", "venue_id": venue,
        "starts_at": start, "ends_at": start.replace("T10", "T14"), "capacity": "50",
        "grade_min": "8", "grade_max": "11",
    }  # fmt: skip
    return form | changes


def test_a_quota_deadline_in_the_past_is_refused_with_a_message(client, world):
    venue = world.venue(world.a)
    email, _ = world.user(world.a)
    login(client, email)
    yesterday = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    answer = client.post("/yaroslavl/events/new", data=_event_form(venue, quota_deadline=yesterday))
    assert answer.status_code == 200
    assert "Срок квот уже прошёл" in answer.get_data(as_text=True)
    late = (utcnow() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    after_start = client.post("/yaroslavl/events/new", data=_event_form(venue, quota_deadline=late))
    assert "Срок квот должен наступить до начала события" in after_start.get_data(as_text=True)
    assert "ЕДОД" not in client.get("/yaroslavl/events").get_data(as_text=True).split("</h1>", 1)[1]


def test_saving_an_event_returns_to_that_event(client, world):
    venue = world.venue(world.a)
    event = world.event(world.a, venue_id=venue, starts_at=utcnow() + timedelta(days=3))
    email, _ = world.user(world.a)
    login(client, email)
    saved = client.post(f"/yaroslavl/events/{event}/edit", data=_event_form(venue, title="ЕДОД: Ростов"))
    assert saved.status_code == 302 and saved.headers["Location"] == f"/yaroslavl/events/{event}"
    created = client.post("/yaroslavl/events/new", data=_event_form(venue, title="ЕДОД: Углич"))
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "ЕДОД: Углич" in page and "Событие сохранено" in page
