"""The ticket's PDF and .ics, rendered by the worker when the message is sent (180 ms: not in a request)."""

from __future__ import annotations

from sqlalchemy import select

from server.catalog.models import EventFormat
from server.extensions import db
from server.mail import absolute_url
from server.mail.services import Attachment, attachment_renderer
from server.tickets import calendar, pdf, printing
from server.tickets.models import Ticket, TicketStatus
from tenants.models import Tenant
from tenants.scoping import required_tenant_id


@attachment_renderer("ticket")
def ticket_attachments(argument: str) -> list[Attachment]:
    ticket = db.session.scalar(select(Ticket).where(Ticket.id == int(argument)))
    if ticket is None or ticket.status != TicketStatus.ACTIVE:
        return []  # cancelled before the mail went: no valid ticket to attach
    tenant = db.session.get(Tenant, required_tenant_id())
    event = ticket.event
    url = absolute_url("tickets_views.ticket_page", tenant=tenant.slug, token=ticket.access_token)
    body = calendar.ics(
        uid=f"ticket-{ticket.id}-{tenant.slug}@propusk",
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        location="Онлайн"
        if event.format == EventFormat.ONLINE
        else f"{event.venue.name}, {event.venue.address}",
        url=url,
        description=f"Билет: {url}",
    )
    return [
        (f"ticket-{ticket.id}.pdf", "application/pdf", pdf.ticket_pdf(printing.card_of(ticket), tenant.tz)),
        (f"event-{event.id}.ics", "text/calendar", body.encode()),
    ]
