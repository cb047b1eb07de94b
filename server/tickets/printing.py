"""From tickets and class groups to the cards the PDF module prints."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from server.catalog.models import Event, EventFormat, School
from server.tickets import importing, pdf
from server.tickets.links import join_url
from server.tickets.models import ClassGroup, Ticket


def card_of(ticket: Ticket) -> pdf.TicketCard:
    event, student = ticket.event, ticket.student
    return pdf.TicketCard(
        code=ticket.code,
        short_name=student.short_name,
        grade_label=f"{student.grade} класс",
        school=student.school.name,
        event_title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        venue=event.venue.name,
        address=event.venue.address,
        online=event.format == EventFormat.ONLINE,
        join_url=join_url(ticket),
    )


def class_sheet(
    group: ClassGroup, event: Event, school: School, tickets: list[Ticket], tz: ZoneInfo
) -> bytes:
    escort = pdf.EscortCard(
        code=importing.escort_code(group),
        school=school.name,
        class_label=group.label,
        escort_name=group.escort_name,
        students=len(tickets),
        event_title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        venue=event.venue.name,
        address=event.venue.address,
    )
    return pdf.class_sheet_pdf(escort, [card_of(t) for t in tickets], tz)
