"""Absolute links that leave the site (in an e-mail, a PDF, a calendar): PUBLIC_URL when it is set."""

from __future__ import annotations

from flask import current_app, g, url_for

from server.catalog.models import EventFormat
from server.tickets.models import Ticket


def public_url(endpoint: str, **values) -> str:
    base = current_app.config.get("PUBLIC_URL")
    values.setdefault("tenant", g.tenant.slug)
    return base + url_for(endpoint, **values) if base else url_for(endpoint, **values, _external=True)


def ticket_url(ticket: Ticket) -> str:
    """The unguessable page of a ticket."""
    return public_url("tickets_views.ticket_page", token=ticket.access_token)


def join_url(ticket: Ticket) -> str | None:
    """The personal link to an online event's broadcast (None for an event at a venue)."""
    if ticket.event.format != EventFormat.ONLINE:
        return None
    return public_url("checkins.join_online", access_token=ticket.access_token)
