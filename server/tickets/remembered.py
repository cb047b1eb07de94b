"""Ticket pages opened on this device, kept in the session: a family finds them again on the
region's page without an account."""

from __future__ import annotations

from flask import session

MY_TICKETS = "my_tickets"  # the session's list of ticket page tokens opened on this device
KEPT = 10


def remember_ticket(token: str) -> None:
    kept = [t for t in session.get(MY_TICKETS, []) if t != token]
    session[MY_TICKETS] = [token, *kept][:KEPT]


def remembered_tokens() -> list[str]:
    return list(session.get(MY_TICKETS, []))
