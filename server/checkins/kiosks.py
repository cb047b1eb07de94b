"""Kiosks: created by the coordinator for a venue, paired once by a code, revocable at any time.

Only hashes of pairing codes and tokens are stored. A pairing code is short enough to type on a
tablet (8 characters of an unambiguous alphabet, about 40 bits), works once and expires in a day;
the pair endpoint is rate-limited, so guessing one is hopeless.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import joinedload

from server.accounts.auth import kiosk_loader
from server.audit.services import record as audit
from server.catalog.models import Venue
from server.checkins.models import Kiosk
from server.checkins.rules import Stage, broken
from server.database import utcnow
from server.errors import Invalid, NotFound
from server.extensions import db
from server.security import new_token, token_hash
from tenants.models import Tenant
from tenants.resolution import RegionSuspended
from tenants.scoping import all_tenants, regional, set_tenant

PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PAIRING_LENGTH = 8
PAIRING_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class DoorKiosk:
    """A paired kiosk as one of its requests knows it: one indexed read, detached from the session.

    Every scan authenticates its kiosk anew (a revoked kiosk is refused at its next request), so this
    read is on the hot path and stays off the ORM.
    """

    id: int
    tenant_id: int
    venue_id: int
    name: str


_KIOSKS = Kiosk.__table__
# What authenticating a kiosk reads, named `kiosk_…`; the door's scan reads the same beside the ticket.
KIOSK_COLUMNS = tuple(
    column.label(f"kiosk_{column.name}")
    for column in (
        _KIOSKS.c.id,
        _KIOSKS.c.tenant_id,
        _KIOSKS.c.venue_id,
        _KIOSKS.c.name,
        _KIOSKS.c.revoked_at,
        _KIOSKS.c.last_seen_at,
    )
)
KIOSK_BY_TOKEN = _KIOSKS.c.token_hash == bindparam("token_hash")  # any region's: the caller checks the URL's
_BY_TOKEN = all_tenants(select(*KIOSK_COLUMNS).where(KIOSK_BY_TOKEN))  # any region's: the caller checks
_SEEN = regional(
    update(_KIOSKS).where(_KIOSKS.c.id == bindparam("kiosk_id")).values(last_seen_at=bindparam("now")),
    _KIOSKS,
)


@kiosk_loader
def kiosk_for_token(
    token: str, seen_every: timedelta, connection: Connection | None = None
) -> DoorKiosk | None:
    """A paired, unrevoked kiosk by its token, whatever region it belongs to (checked by the caller);
    read on `connection`, or on the request's session's."""
    connection = connection or db.session.connection()
    row = connection.execute(_BY_TOKEN, {"token_hash": token_hash(token)}).mappings().first()
    return paired_kiosk(row, seen_every, connection)


def paired_kiosk(row: Mapping | None, seen_every: timedelta, connection: Connection) -> DoorKiosk | None:
    """The kiosk that a row of `KIOSK_COLUMNS` names, unless there is none or it breaks the door's
    kiosk rule (revoked: `checkins.rules`).

    "Last seen" is for the coordinator's list: written once per `seen_every`, not once per scan.
    """
    if row is None or row["kiosk_id"] is None or broken(row, Stage.KIOSK, at_kiosk=True):
        return None
    kiosk_id, last_seen_at = row["kiosk_id"], row["kiosk_last_seen_at"]
    now = utcnow()
    if last_seen_at is None or now - last_seen_at >= seen_every:
        seen = {"region": row["kiosk_tenant_id"], "kiosk_id": kiosk_id, "now": now}
        connection.execute(_SEEN, seen)
    return DoorKiosk(kiosk_id, row["kiosk_tenant_id"], row["kiosk_venue_id"], row["kiosk_name"])


def venue_name(kiosk: DoorKiosk) -> str:
    return db.session.scalar(select(Venue.name).where(Venue.id == kiosk.venue_id))


@dataclass
class Pairing:
    kiosk: Kiosk
    token: str
    tenant: Tenant


def new_pairing_code() -> str:
    raw = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_pairing_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def _pairing_hash(code: str) -> str:
    return token_hash("pair:" + normalise_pairing_code(code))


def list_kiosks() -> list[Kiosk]:
    return list(
        db.session.scalars(
            select(Kiosk).options(joinedload(Kiosk.venue)).order_by(Kiosk.created_at, Kiosk.id)
        )
    )


def get_kiosk(kiosk_id: int) -> Kiosk:
    kiosk = db.session.scalar(select(Kiosk).where(Kiosk.id == kiosk_id))
    if kiosk is None:
        raise NotFound("Киоск не найден.", code="kiosk_not_found")
    return kiosk


def create_kiosk(venue_id: int, name: str, *, user_id: int | None = None) -> tuple[Kiosk, str]:
    """A kiosk for a venue and its one-time pairing code (shown once, stored as a hash)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid(
            "Укажите название киоска (до 100 символов), например «Главный вход».", code="kiosk_name"
        )
    venue = db.session.scalar(select(Venue).where(Venue.id == venue_id))
    if venue is None:
        raise NotFound("Площадка не найдена.", code="venue_not_found")
    kiosk = Kiosk(venue_id=venue.id, name=name, created_by_id=user_id)
    db.session.add(kiosk)
    code = _reset_pairing(kiosk)
    db.session.flush()
    audit("kiosk.create", "kiosk", kiosk.id, user_id=user_id, venue_id=venue.id)
    return kiosk, code


def _reset_pairing(kiosk: Kiosk) -> str:
    code = new_pairing_code()
    kiosk.pairing_code_hash = _pairing_hash(code)
    kiosk.pairing_expires_at = utcnow() + PAIRING_LIFETIME
    return code


def renew_pairing(kiosk: Kiosk, *, user_id: int | None = None) -> str:
    """A fresh code for a replaced tablet; the device paired before loses access at once. A revoked
    kiosk comes back this way too (re-paired, with its name, venue and history), on a new device."""
    was_revoked = kiosk.revoked_at is not None
    kiosk.revoked_at = None
    kiosk.token_hash = None
    kiosk.paired_at = None
    code = _reset_pairing(kiosk)
    audit("kiosk.renew_pairing", "kiosk", kiosk.id, user_id=user_id, was_revoked=was_revoked)
    return code


def pair_kiosk(code: str) -> Pairing:
    """Exchange a pairing code for the kiosk's token. A code works once; any region (code decides)."""
    if len(normalise_pairing_code(code)) != PAIRING_LENGTH:
        raise NotFound("Код привязки не найден или уже использован.", code="pairing_code_invalid")
    kiosk = db.session.scalar(
        all_tenants(select(Kiosk).where(Kiosk.pairing_code_hash == _pairing_hash(code)).with_for_update())
    )
    now = utcnow()
    if kiosk is None or kiosk.revoked_at is not None:
        raise NotFound("Код привязки не найден или уже использован.", code="pairing_code_invalid")
    if kiosk.pairing_expires_at is None or kiosk.pairing_expires_at <= now:
        raise NotFound(
            "Срок действия кода истёк: попросите координатора выдать новый.", code="pairing_code_expired"
        )
    region = db.session.get(Tenant, kiosk.tenant_id)
    if region.suspended_at is not None:
        raise RegionSuspended.of(region.name)
    set_tenant(kiosk.tenant_id)
    token = new_token("kk")
    kiosk.token_hash = token_hash(token)
    kiosk.pairing_code_hash = None
    kiosk.pairing_expires_at = None
    kiosk.paired_at = now
    kiosk.last_seen_at = now
    audit("kiosk.pair", "kiosk", kiosk.id, kiosk_id=kiosk.id)
    return Pairing(kiosk, token, region)


def revoke_kiosk(kiosk: Kiosk, *, user_id: int | None = None) -> None:
    """From now on the kiosk's token is refused (401) at its next request."""
    if kiosk.revoked_at is None:
        kiosk.revoked_at = utcnow()
        kiosk.pairing_code_hash = None
        kiosk.pairing_expires_at = None
        audit("kiosk.revoke", "kiosk", kiosk.id, user_id=user_id)


def kiosk_json(kiosk: Kiosk) -> dict:
    def iso(moment):
        return moment.isoformat() if moment else None

    return {
        "id": kiosk.id,
        "name": kiosk.name,
        "venue_id": kiosk.venue_id,
        "paired": kiosk.token_hash is not None,
        "paired_at": iso(kiosk.paired_at),
        "last_seen_at": iso(kiosk.last_seen_at),
        "revoked_at": iso(kiosk.revoked_at),
    }
