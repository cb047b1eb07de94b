"""Shared bits of the ticket tests: a valid API body, and calling services in a region."""

from __future__ import annotations

from contextlib import contextmanager

from server.catalog.models import Event
from server.catalog.services import EventInput, save_event
from server.extensions import db
from tenants.models import Tenant
from tenants.scoping import tenant_scope


def body(school_id: int, *, last_name="Смирнова", first_name="Алёна", grade=9, **extra) -> dict:
    data = {
        "student": {
            "last_name": last_name,
            "first_name": first_name,
            "middle_name": "Игоревна",
            "grade": grade,
            "school_id": school_id,
        },
        "guardian": {"name": "Смирнов Игорь Петрович", "phone": "8 (900) 123-45-67"},
        "consent": True,
    }
    data.update(extra)
    return data


@contextmanager
def region(app, region_):
    """An app context scoped to a region, rolled back unless the test commits."""
    with app.app_context(), tenant_scope(region_.id):
        yield db.session.get(Tenant, region_.id).tz


def give_quotas(event: Event, quotas: list[tuple[int, int]], tz) -> Event:
    """The coordinator saves the event as it is, but with these municipal quotas (the edit form)."""
    edited = EventInput(
        title=event.title,
        programme=event.programme.kind.value,
        format=event.format.value,
        venue_id=event.venue_id,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        capacity=event.capacity,
        grade_min=event.grade_min,
        grade_max=event.grade_max,
        quotas=quotas,
    )
    return save_event(event, edited, tz)
