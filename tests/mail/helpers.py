"""Registrations with a guardian's e-mail, and reading what the outbox holds."""

from __future__ import annotations

from sqlalchemy import select

from server.database import utcnow
from server.extensions import db
from server.mail.models import OutgoingMail
from tenants.scoping import tenant_scope


def family_ticket(
    world,
    region,
    event_id: int,
    email: str | None,
    *,
    last_name: str,
    school_id: int | None = None,
    guardian: str = "Смирнова Ольга Ивановна",
) -> tuple[int, str]:
    """A ticket registered by a parent who gave an e-mail (as on the public page); (id, access token)."""
    from datetime import timedelta

    from server.tickets import services as tickets
    from tenants.models import Tenant

    school_id = school_id or world.school(region)
    with world.app.app_context(), tenant_scope(region.id):
        event = tickets.find_event(event_id)
        ticket = tickets.register(
            event,
            tickets.Registration(
                student=tickets.StudentInput(
                    last_name=last_name,
                    first_name="Пётр",
                    middle_name="Андреевич",
                    grade=9,
                    school_id=school_id,
                ),
                guardian_name=guardian,
                guardian_email=email,
                guardian_phone=None if email else "+7 900 000-00-00",
                consent=True,
            ),
            db.session.get(Tenant, region.id).tz,
            now=min(utcnow(), event.ends_at - timedelta(minutes=1)),
        )
        result = ticket.id, ticket.access_token
        db.session.commit()
        return result


def outbox(app, **where) -> list[OutgoingMail]:
    with app.app_context():
        query = select(OutgoingMail).order_by(OutgoingMail.id)
        for name, value in where.items():
            query = query.where(getattr(OutgoingMail, name) == value)
        rows = list(db.session.scalars(query))
        for row in rows:
            _ = row.attachments
            db.session.expunge(row)
        return rows
