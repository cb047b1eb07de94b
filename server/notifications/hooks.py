"""Mail that the catalog's and the tickets' changes cause: their signals (`server.signals`), received
in the same transaction, so each letter's outbox row commits with the change or not at all."""

from __future__ import annotations

from server import signals
from server.extensions import db
from server.notifications import services
from server.notifications.schools import class_sheet_ready
from tenants.models import Tenant


@signals.ticket_registered.connect
def _registered(ticket, **_) -> None:
    services.ticket_registered(ticket)


@signals.ticket_cancelled.connect
def _cancelled(ticket, *, by: str, **_) -> None:
    services.ticket_cancelled(ticket, by)


@signals.ticket_moved.connect
def _moved(ticket, *, old, **_) -> None:
    services.ticket_moved(old, ticket)


@signals.event_edited.connect
def _edited(event, *, before, **_) -> None:
    services.event_changed(event, services.Before.of(before))


@signals.class_registered.connect
def _class_registered(event, *, school, groups, count: int, **_) -> None:
    class_sheet_ready(db.session.get(Tenant, school.tenant_id), event, school, groups, count)
