"""Whose figures a report may hold: the region, or the one municipality, school or venue of a role.

The region itself is filtered centrally (`tenants.scoping`); this narrows within it, with the same
scope the live dashboard gives each role (`server.live.services.scope_for`), so a report and the
dashboard never disagree about who sees what.
"""

from __future__ import annotations

from flask import abort, g

from server.accounts.auth import Principal
from server.catalog.models import Event
from server.live.services import LiveScope, ScopeKind, scope_for
from server.tickets.models import Student, Ticket

__all__ = ["LiveScope", "ScopeKind", "narrow", "scope_of"]


def scope_of(principal: Principal) -> LiveScope:
    """The report scope of a signed-in member of the current region; 403 when the role gives none."""
    scope = scope_for(principal.user, principal.membership, g.tenant) if principal.user else None
    if scope is None:
        abort(403)
    return scope


def narrow(query, scope: LiveScope):
    """Limit a query that already joins Ticket, Student and Event to the scope's tickets."""
    if scope.kind is ScopeKind.MUNICIPALITY:
        return query.where(Ticket.municipality_id == scope.object_id)
    if scope.kind is ScopeKind.SCHOOL:
        return query.where(Student.school_id == scope.object_id)
    if scope.kind is ScopeKind.VENUE:
        return query.where(Event.venue_id == scope.object_id)
    return query


def describe(scope: LiveScope) -> dict:
    """What the audit log keeps of a scope: its kind and id, no names of people."""
    return {"kind": scope.kind.value, "id": scope.object_id}
