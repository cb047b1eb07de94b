"""Nothing that cannot be undone happens on one click: staff lists link to a question page first."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.accounts.models import Role
from server.checkins.models import Kiosk
from server.extensions import db
from server.tickets.models import Ticket, TicketStatus
from tests.conftest import login
from tests.tickets.helpers import region


def _forms_posting_without_a_question(html: str) -> list[str]:
    """Forms on a list page that post to a destructive action straight away."""
    forms = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', html)
    return [action for action in forms if action.endswith(("/cancel", "/revoke"))]


def test_cancelling_a_childs_ticket_from_the_staff_list_asks_first(app, client, world):
    school = world.school(world.a, name="Средняя школа № 33")
    event = world.event(world.a, title="День открытых дверей")
    ticket_id, _ = world.ticket(world.a, event, school_id=school, last_name="Смирнова", first_name="Алёна")
    email, _ = world.user(world.a, Role.SCHOOL, school_id=school)
    login(client, email)

    listing = client.get(f"/yaroslavl/events/{event}/tickets").get_data(as_text=True)
    question = client.get(f"/yaroslavl/tickets/{ticket_id}/cancel")
    stray = client.post(f"/yaroslavl/tickets/{ticket_id}/cancel")  # an old form, no answer given

    assert _forms_posting_without_a_question(listing) == []
    assert f'href="/yaroslavl/tickets/{ticket_id}/cancel"' in listing
    page = question.get_data(as_text=True)
    assert question.status_code == 200 and "Отменить билет?" in page
    assert "Смирнова Алёна" in page and "Средняя школа № 33" in page and "День открытых дверей" in page
    assert 'name="confirmed" value="1"' in page and f'href="/yaroslavl/events/{event}/tickets"' in page
    assert stray.status_code == 302 and stray.headers["Location"].endswith(f"/tickets/{ticket_id}/cancel")
    with region(app, world.a):
        assert db.session.get(Ticket, ticket_id).status == TicketStatus.ACTIVE

    yes = {"confirmed": "1"}
    done = client.post(f"/yaroslavl/tickets/{ticket_id}/cancel", data=yes, follow_redirects=True)
    assert "отменён, место освобождено" in done.get_data(as_text=True)
    with region(app, world.a):
        assert db.session.get(Ticket, ticket_id).status == TicketStatus.CANCELLED


def test_revoking_a_kiosk_asks_first_and_a_revoked_kiosk_is_paired_again_from_the_list(app, client, world):
    venue = world.venue(world.a, name="Рыбинский колледж")
    email, _ = world.user(world.a)
    login(client, email)
    created = client.post("/yaroslavl/kiosks", data={"venue_id": venue, "name": "Проходная"})
    code = created.get_data(as_text=True).split("data-pairing-code>", 1)[1].split("<", 1)[0]
    first = client.post("/api/v1/kiosk/pair", json={"pairing_code": code}).get_json()["token"]
    with region(app, world.a):
        kiosk_id = db.session.scalar(select(Kiosk.id).where(Kiosk.name == "Проходная"))

    listing = client.get("/yaroslavl/kiosks").get_data(as_text=True)
    question = client.get(f"/yaroslavl/kiosks/{kiosk_id}/revoke").get_data(as_text=True)
    renew_question = client.get(f"/yaroslavl/kiosks/{kiosk_id}/pairing").get_data(as_text=True)
    stray = client.post(f"/yaroslavl/kiosks/{kiosk_id}/revoke")
    still = client.get("/api/v1/yaroslavl/kiosk/today", headers={"Authorization": f"Bearer {first}"})

    assert _forms_posting_without_a_question(listing) == []
    assert "Отозвать киоск?" in question and "Проходная" in question and "Рыбинский колледж" in question
    assert "Выдать новый код привязки?" in renew_question
    assert stray.status_code == 302 and still.status_code == 200

    client.post(f"/yaroslavl/kiosks/{kiosk_id}/revoke", data={"confirmed": "1"})
    revoked = client.get("/yaroslavl/kiosks").get_data(as_text=True)
    assert "отозван" in revoked and "Привязать заново" in revoked

    again = client.post(f"/yaroslavl/kiosks/{kiosk_id}/pairing").get_data(as_text=True)
    new_code = again.split("data-pairing-code>", 1)[1].split("<", 1)[0]
    second = client.post("/api/v1/kiosk/pair", json={"pairing_code": new_code})
    assert second.status_code == 200
    headers = {"Authorization": f"Bearer {second.get_json()['token']}"}
    assert client.get("/api/v1/yaroslavl/kiosk/today", headers=headers).status_code == 200
    old = client.get("/api/v1/yaroslavl/kiosk/today", headers={"Authorization": f"Bearer {first}"})
    assert old.status_code == 401  # the revoked tablet stays out
    assert "работает" in client.get("/yaroslavl/kiosks").get_data(as_text=True)
