"""Erasing a student's and guardian's personal data: on withdrawal, on a written request, at retention.

One function does it for every path, in the caller's transaction. Upcoming tickets are cancelled (their
seats given back); every ticket of the student loses its code and page link; names, contacts and the
consent's giver are removed; the door's recorded words are cleared. What counts stays: the student row
keeps its school and grade, tickets their event and municipality, check-ins their rows, so registered,
admitted, by-school and by-municipality figures do not change (except seats given back).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from server.audit.models import AuditEntry
from server.audit.services import record
from server.catalog.models import Event
from server.checkins.models import Checkin
from server.database import utcnow
from server.errors import Invalid
from server.extensions import db
from server.privacy.models import ERASURE_RECORD_YEARS, Erasure, ErasureReason
from server.tickets import rules
from server.tickets import services as tickets
from server.tickets.models import Consent, Student, Ticket, TicketStatus
from server.tickets.rules import RegistrationRefused
from tenants.scoping import required_tenant_id

AUDIT_YEARS = 3


def years_later(moment: datetime, years: int) -> datetime:
    """The same date `years` later (or earlier); 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def erase_student(
    student_id: int,
    reason: ErasureReason,
    *,
    user_id: int | None = None,
    reference: str = "",
    now: datetime | None = None,
) -> Erasure:
    """Cancel the student's upcoming tickets and erase the student's and guardians' personal data."""
    now = now or utcnow()
    student = rules.lock_student(student_id)
    if student is None:
        raise Invalid("Ученик не найден.", code="not_found")
    by = {ErasureReason.WITHDRAWAL: "guardian", ErasureReason.RETENTION: "retention"}.get(
        reason, f"coordinator:{user_id}"
    )
    owned = list(
        db.session.scalars(select(Ticket).where(Ticket.student_id == student.id).order_by(Ticket.event_id))
    )
    cancelled = 0
    for ticket in owned:
        if ticket.status != TicketStatus.ACTIVE:
            continue
        try:
            tickets.cancel(ticket, by=f"erasure:{by}", user_id=user_id, now=now)
            cancelled += 1
        except RegistrationRefused:
            pass  # held or over: it stays counted, only anonymous
    ticket_ids = [ticket.id for ticket in owned]
    for ticket in owned:
        ticket.code = None
        ticket.access_token = "erased-" + secrets.token_urlsafe(24)
    if ticket_ids:
        db.session.execute(
            update(Checkin)
            .where(Checkin.tenant_id == student.tenant_id, Checkin.ticket_id.in_(ticket_ids))
            .values(message=None),
            execution_options={"synchronize_session": False},
        )
    consents = list(db.session.scalars(select(Consent).where(Consent.student_id == student.id)))
    _forget_mail(student.tenant_id, {c.guardian_email for c in consents if c.guardian_email})
    for consent in consents:
        consent.guardian_name = ""
        consent.guardian_phone = None
        consent.guardian_email = None
        consent.erased_at = now
        if reason == ErasureReason.WITHDRAWAL and consent.withdrawn_at is None:
            consent.withdrawn_at = now
    student.last_name = student.first_name = student.middle_name = ""
    student.identity_name = f"erased:{student.id}"  # unique per school and grade, names no one
    student.search_last_name = ""
    student.erased_at = now
    erasure = Erasure(
        student_id=student.id,
        reason=reason,
        reference=(reference or "").strip()[:200],
        tickets_cancelled=cancelled,
        tickets_erased=len(owned),
        consents_erased=len(consents),
        actor_user_id=user_id,
        created_at=now,
        keep_until=years_later(now, ERASURE_RECORD_YEARS),
    )
    db.session.add(erasure)
    if reason == ErasureReason.WITHDRAWAL:
        record("consent.withdrawn", "student", student.id, user_id=user_id, tickets=ticket_ids)
    record(
        "privacy.erased",
        "student",
        student.id,
        user_id=user_id,
        reason=reason.value,
        tickets=ticket_ids,
        cancelled=cancelled,
    )
    db.session.flush()
    return erasure


def _forget_mail(tenant_id: int, addresses: set[str]) -> None:
    """The region's outbox rows to the guardian (address, and bodies that may name the child) and the
    region's declines of that address go with the rest. The outbox is not region-scoped: named here."""
    from server.mail.models import MailSuppression, OutgoingMail
    from server.mail.services import normalise_address

    addresses = {normalise_address(a) for a in addresses if a}
    if not addresses:
        return
    db.session.execute(
        delete(OutgoingMail).where(
            OutgoingMail.tenant_id == tenant_id, OutgoingMail.to_address.in_(addresses)
        ),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        delete(MailSuppression).where(
            MailSuppression.tenant_id == tenant_id, MailSuppression.address.in_(addresses)
        ),
        execution_options={"synchronize_session": False},
    )


def withdraw_consent(ticket: Ticket, *, now: datetime | None = None) -> Erasure:
    """The guardian withdraws consent from the ticket page: everything about the student goes."""
    return erase_student(ticket.student_id, ErasureReason.WITHDRAWAL, now=now)


@dataclass(frozen=True)
class PurgeResult:
    students: int
    erasure_records_removed: int
    audit_entries_removed: int


def purge_before(before: datetime, *, now: datetime | None = None) -> PurgeResult:
    """Retention in the current region: erase every student none of whose events ends on or after
    `before`, then drop erasure records and audit entries past their time."""
    now = now or utcnow()
    recent = select(Ticket.student_id).join(Event, Event.id == Ticket.event_id).where(Event.ends_at >= before)
    due = list(
        db.session.scalars(
            select(Student.id)
            .where(Student.erased_at.is_(None), Student.id.not_in(recent))
            .order_by(Student.id)
        )
    )
    for student_id in due:
        erase_student(student_id, ErasureReason.RETENTION, now=now)
    tenant_id = required_tenant_id()  # bulk deletes bypass the central filter: the region is named
    records = db.session.execute(
        delete(Erasure).where(Erasure.tenant_id == tenant_id, Erasure.keep_until < now),
        execution_options={"synchronize_session": False},
    ).rowcount
    audit = db.session.execute(
        delete(AuditEntry).where(
            AuditEntry.tenant_id == tenant_id, AuditEntry.created_at < years_later(now, -AUDIT_YEARS)
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    return PurgeResult(len(due), records, audit)


def find_students(surname: str, limit: int = 50) -> list[Student]:
    """Students of the region by surname (case, ё/е), for a coordinator carrying out a written request."""
    from server.text import normalise_name

    wanted = normalise_name(surname)
    if len(wanted) < 2:
        return []
    return list(
        db.session.scalars(
            select(Student)
            .where(Student.erased_at.is_(None), Student.search_last_name == wanted)
            .order_by(Student.last_name, Student.first_name, Student.grade)
            .limit(limit)
        )
    )


def erasures(limit: int = 200) -> list[Erasure]:
    return list(db.session.scalars(select(Erasure).order_by(Erasure.created_at.desc()).limit(limit)))
