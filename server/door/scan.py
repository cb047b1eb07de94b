"""A kiosk's scan: read, judged and, where it may pass, admitted in one statement on PostgreSQL.

The statement reads the kiosk by its token and the door's view of the ticket, and writes the
admitted row and its count shard where `checkins.rules.may_pass` holds: the SQL of the same rules
that every admission path checks in Python. Before the transaction commits, the door checks the row
it read against those rules in Python; a row admitted against them is a `RulesDisagree` error, and
the scan's transaction rolls back. Whatever the statement did not admit (a refusal, "already
admitted", a replayed scan id) takes the common way, `checkins.services.admit_scanned`.
SQLite has no INSERT inside WITH: there the scan takes the common way whole.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from hashlib import sha256
from typing import Any

from sqlalchemy import false, literal, null, select, true

from server.checkins import rules, services
from server.checkins.counts import Admitted, announce, counting
from server.checkins.kiosks import DoorKiosk, paired_kiosk
from server.checkins.models import AdmissionMethod, Checkin, ScanResult
from server.database import Work, insert_on_conflict, utcnow
from server.door.statement import DriverStatement
from server.security import token_hash
from tenants.scoping import regional

_CHECKINS = Checkin.__table__
OK = services.MESSAGES[ScanResult.OK]


class RulesDisagree(RuntimeError):
    """The door's statement admitted a scan that the rules refuse in Python: a bug, rolled back."""


class UnknownKiosk(Exception):
    """No kiosk has this token, or it is revoked (401)."""


class ForeignKiosk(Exception):
    """The kiosk is another region's than the URL's (404)."""


@cache
def admitting_statement(door_rules: tuple[rules.Rule, ...] = rules.RULES) -> DriverStatement:
    """The door's read and, where `door_rules` let the ticket in, its admission and count."""
    found = services.kiosk_and_door_query().cte("found")
    f = found.c
    now = rules.Fact("now", param=True, type_=_CHECKINS.c.scanned_at.type).sql(f)
    row = {
        "tenant_id": f.tenant_id, "ticket_id": f.id, "event_id": f.event_id, "kiosk_id": f.kiosk_id,
        "user_id": null(), "result": literal(ScanResult.OK, _CHECKINS.c.result.type),
        "method": literal(AdmissionMethod.SCAN, _CHECKINS.c.method.type),
        "scan_id": rules.Fact("scan_id", param=True).sql(f),
        "scanned_at": now, "created_at": now, "message": literal(OK), "conflict": false(),
    }  # fmt: skip
    logged = (
        insert_on_conflict(_CHECKINS, "postgresql")
        .from_select(list(row), select(*row.values()).where(rules.may_pass(f, door_rules)))
        .on_conflict_do_nothing()
        .returning(_CHECKINS.c.id, _CHECKINS.c.tenant_id, _CHECKINS.c.event_id)
        .cte("logged")
    )
    counted, total = counting(logged, f.kiosk_id)
    joined = found.outerjoin(logged, true()).outerjoin(counted, true())
    columns = (*f, logged.c.id.label("checkin_id"), total.label("checked_in"))
    return DriverStatement(regional(select(*columns).select_from(joined)))


def scan_at_door(
    token: str, code: str, tenant_id: int, scan_id: str | None, seen_every: timedelta, work: Work
) -> services.Admission:
    """A kiosk's scan in `work`. Raises `UnknownKiosk` or `ForeignKiosk` with nothing written."""
    connection = work.connection
    read = services.read_code(code, tenant_id)
    code, payload, ticket_id = read
    if ticket_id is None or connection.dialect.name != "postgresql":
        scanned = services.read_scan(token, code, tenant_id, seen_every, connection)
        _accept(scanned.kiosk, tenant_id)
        return services.admit_scanned(scanned, scan_id, work=work)
    moment = utcnow()
    params: dict[str, Any] = {
        "token_hash": token_hash(token), "tenant_id": tenant_id, "region_id": tenant_id,
        "ticket_id": ticket_id, "scanned_event_id": payload.event_id,
        "scanned_code_digest": sha256(code.encode()).digest(), "now": moment, "scan_id": scan_id,
    }  # fmt: skip
    row = admitting_statement().first(connection, params)
    kiosk = None if row is None else paired_kiosk(row, seen_every, connection)
    _accept(kiosk, tenant_id)
    door = services.door_of(row)
    scanned = services.Scanned(code, payload, kiosk, door)
    if row["checkin_id"] is None:  # judged again at the same moment, and answered
        return services.admit_scanned(scanned, scan_id, moment, work=work)
    facts = {**row, "now": moment, "region_id": tenant_id, "scanned_code": code}
    facts["scanned_event_id"] = payload.event_id
    for stage in rules.Stage:
        rule = rules.broken(facts, stage, at_kiosk=True)
        if rule is not None:
            raise RulesDisagree(f"the door's statement admitted a scan that rule {rule.name!r} refuses")
    admitted = Admitted(door, row["checkin_id"], kiosk.id, AdmissionMethod.SCAN, moment)
    announce(work, admitted, row["checked_in"])
    return services.Admission(ScanResult.OK, OK, door.details(), moment, row["checkin_id"])


def _accept(kiosk: DoorKiosk | None, tenant_id: int) -> None:
    if kiosk is None:
        raise UnknownKiosk
    facts = {"kiosk_tenant_id": kiosk.tenant_id, "region_id": tenant_id}
    if rules.broken(facts, rules.Stage.REGION, at_kiosk=True) is not None:
        raise ForeignKiosk
