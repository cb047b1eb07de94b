"""Every message a family receives, side by side: Russian, HTML and plain text, from the region's sender,
its own ticket's link, and nothing of the other family that shares its events."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from server.database import utcnow
from server.extensions import db
from server.notifications.jobs import plan_all
from server.tickets.models import Consent, Ticket
from tenants.scoping import tenant_scope
from tests.kiosk.helpers import paired_kiosk, scan
from tests.mail.helpers import family_ticket, outbox
from tests.mail.test_notifications import _evening, _tomorrow_at
from tests.mail.test_notifications_more import _code

FAMILIES = {
    "anna@example.ru": ("Антонова Анна Сергеевна", "Антонов"),
    "vera@example.ru": ("Борисова Вера Петровна", "Борисов"),
}
DECLINABLE = {"reminder", "after_thanks", "after_missed"}
CYRILLIC = re.compile("[а-яё]{4,}", re.IGNORECASE)


def _register_both(world, event_id: int) -> dict[str, int]:
    return {
        address: family_ticket(world, world.a, event_id, address, guardian=guardian, last_name=student)[0]
        for address, (guardian, student) in FAMILIES.items()
    }


def _move_by_an_hour(app, region, event_id: int) -> None:
    from server.catalog import services as catalog
    from server.catalog.models import Event
    from tenants.models import Tenant

    with app.app_context(), tenant_scope(region.id):
        row = db.session.scalar(select(Event).where(Event.id == event_id))
        tz = db.session.get(Tenant, region.id).tz
        data = catalog.EventInput(
            title=row.title, programme="open_day", format="in_person", venue_id=row.venue_id,
            starts_at=(row.starts_at + timedelta(hours=1)).astimezone(tz).replace(tzinfo=None),
            ends_at=(row.ends_at + timedelta(hours=1)).astimezone(tz).replace(tzinfo=None),
            capacity=row.capacity, grade_min=8, grade_max=11, quotas=[],
        )  # fmt: skip
        catalog.save_event(row, data, tz)
        db.session.commit()


def _tokens_of(app, region, address: str) -> set[str]:
    with app.app_context(), tenant_scope(region.id):
        query = select(Ticket.access_token).join(Consent, Consent.id == Ticket.consent_id)
        return set(db.session.scalars(query.where(Consent.guardian_email == address)))


def test_every_family_message_is_russian_from_the_regions_sender_with_only_its_own_ticket(app, world, client):
    from server.notifications import services as notices
    from server.tickets import services as tickets
    from tenants.models import Tenant

    with app.app_context(), tenant_scope(world.a.id):
        notices.save_mail_settings(
            sender_name="ЦОПП Ярославской области", reminder_time="18:00", user_id=None
        )
        db.session.commit()
    tomorrow = world.event(
        world.a, starts_at=_tomorrow_at(world, "yaroslavl", 10), title="Профпроба «Токарь»"
    )
    second = world.event(
        world.a, starts_at=_tomorrow_at(world, "yaroslavl", 15), title="Токарь, второй поток"
    )
    venue = world.venue(world.a)
    today = world.event(world.a, venue_id=venue, title="День открытых дверей")
    tomorrows, todays = _register_both(world, tomorrow), _register_both(world, today)  # confirmations
    # Anna's child comes in today (before any planning: in the morning the evening's is after the event)
    kiosk = paired_kiosk(client, world, world.a, venue)
    assert scan(client, kiosk, _code(app, world.a, todays["anna@example.ru"]))["result"] == "ok"
    with app.app_context():
        plan_all(_evening(world))  # reminders for tomorrow
    _move_by_an_hour(app, world.a, tomorrow)  # the time changed
    with app.app_context(), tenant_scope(world.a.id):
        tz = db.session.get(Tenant, world.a.id).tz
        tickets.cancel(db.session.get(Ticket, tomorrows["anna@example.ru"]), by="school")
        moved = db.session.get(Ticket, tomorrows["vera@example.ru"])
        tickets.change_event(moved, second, tz, by="guardian")
        db.session.commit()
    with app.app_context(), tenant_scope(world.a.id):
        notices.cancel_event(tickets.find_event(second), reason="Станок в ремонте", user_id=None)
        db.session.commit()
    with app.app_context():
        plan_all(utcnow() + timedelta(hours=4))  # after today's event

    mails = [m for m in outbox(app, tenant_id=world.a.id) if m.to_address in FAMILIES]
    kinds = {(m.to_address, m.kind) for m in mails}
    anna = {kind for address, kind in kinds if address == "anna@example.ru"}
    vera = {kind for address, kind in kinds if address == "vera@example.ru"}
    assert anna == {"confirmation", "reminder", "event_changed", "ticket_cancelled", "after_thanks"}
    assert vera == {
        "confirmation",
        "reminder",
        "event_changed",
        "ticket_moved",
        "event_cancelled",
        "after_missed",
    }
    opened: set[tuple[str, str]] = set()
    for mail in mails:
        other = next(address for address in FAMILIES if address != mail.to_address)
        own_tokens, other_tokens = _tokens_of(app, world.a, mail.to_address), _tokens_of(app, world.a, other)
        guardian, _ = FAMILIES[mail.to_address]
        seen = f"{mail.subject}\n{mail.body_text}\n{mail.body_html}"
        what = f"{mail.kind} to {mail.to_address}"
        assert mail.body_html is not None, what
        assert CYRILLIC.search(mail.subject), what
        assert f"Здравствуйте, {guardian}!" in mail.body_text and guardian in mail.body_html, what
        assert mail.sender_name == "ЦОПП Ярославской области", what
        assert mail.to_name == guardian, what
        links = set(re.findall(r"/yaroslavl/t/([\w-]+)", seen))
        assert links and links <= own_tokens, what  # its own ticket's page, and no other
        assert f'href="http://localhost/yaroslavl/t/{next(iter(links))}"' in mail.body_html, what
        opened.update((token, mail.to_address) for token in links)
        for private in (other, *FAMILIES[other], *other_tokens):
            assert private not in seen, f"{what} holds {private}"
        if mail.kind in DECLINABLE:  # one click declines it; the rest cannot be declined
            assert mail.decline_url and mail.decline_url in mail.body_text, what
        else:
            assert mail.decline_url is None and "Отказаться" not in mail.body_html, what
    for token, address in opened:  # every link works and shows that family's child, not the other's
        page = client.get(f"/yaroslavl/t/{token}").get_data(as_text=True)
        other = next(a for a in FAMILIES if a != address)
        assert f"{FAMILIES[address][1]} П. А." in page and FAMILIES[other][1] not in page, token
