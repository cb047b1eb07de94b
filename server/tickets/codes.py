"""Opaque, signed codes for the QR: no personal data, unforgeable, verifiable offline.

A code is base32 (the QR alphanumeric alphabet, so the symbol stays small: version 6 at level M) of

    kind/version (1 byte) · key id (1) · tenant id (4) · object id (4) · event id (4) · Ed25519 signature (64)

The object is a ticket, or a class group for a teacher's escort code. A kiosk holds its region's public
keys and checks the signature with no network; the server checks the same and then the database.
Keys are per region and rotatable: old keys stay valid for verification until retired.
"""

from __future__ import annotations

import base64
import binascii
import functools
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from flask import current_app
from sqlalchemy import select

from server.database import bound, insert_on_conflict, utcnow
from server.extensions import db
from server.tickets import sealing
from server.tickets.models import SigningKey
from tenants.scoping import regional

VERSION = 1
_HEADER = struct.Struct(">BBIII")
MAX_ID = 2**31 - 1  # ids are PostgreSQL `integer`s; the code's fields are unsigned 32-bit
SIGNATURE_BYTES = 64
CODE_LENGTH = 125  # base32 of 78 bytes, without padding


class CodeKind(IntEnum):
    TICKET = 1
    ESCORT = 2


@dataclass(frozen=True)
class CodePayload:
    kind: CodeKind
    key_id: int
    tenant_id: int
    object_id: int
    event_id: int


def _b32encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def _b32decode(text: str) -> bytes:
    text = text.strip().upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def _new_key_pair(tenant_id: int, key_id: int) -> dict[str, bytes]:
    """A fresh key pair; the private half leaves this function only sealed (`server.tickets.sealing`)."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return {
        "private_key": sealing.seal(raw, tenant_id, key_id),
        "public_key": private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    }


@dataclass(frozen=True)
class ActiveKey:
    """The signing half of a region's current key, as every registration reads it: two plain columns
    (the private key sealed, as stored)."""

    key_id: int
    private_key: bytes


_KEYS = SigningKey.__table__
_ACTIVE_KEY = regional(
    select(_KEYS.c.key_id, _KEYS.c.private_key)
    .where(_KEYS.c.active.is_(True))
    .order_by(_KEYS.c.key_id.desc())
    .limit(1),
    _KEYS,
)


@functools.cache
def _first_key(dialect_name: str):
    columns = ("tenant_id", "key_id", "active", "created_at", "public_key", "private_key")
    return regional(insert_on_conflict(_KEYS, dialect_name).values(bound(*columns)).on_conflict_do_nothing())


def ensure_key(tenant_id: int) -> ActiveKey:
    """The region's current signing key, created here if it has none, before a registration takes any lock.

    Called first thing: concurrent first registrations then queue on this one insert while holding
    nothing, instead of finding each other's uncommitted key while each holds a student or event lock.
    The key it returns signs the registration's codes (`sign(..., key=)`): no second read.
    """
    connection = db.session.connection()
    row = connection.execute(_ACTIVE_KEY, {"tenant_id": tenant_id}).first()
    if row is None:
        first_key = {"tenant_id": tenant_id, "key_id": 1, "active": True, "created_at": utcnow()}
        connection.execute(_first_key(connection.dialect.name), {**first_key, **_new_key_pair(tenant_id, 1)})
        row = connection.execute(_ACTIVE_KEY, {"tenant_id": tenant_id}).first()
    return ActiveKey(*row)


def rotate_key(tenant_id: int) -> SigningKey:
    """A new key for new codes; older keys keep verifying codes already printed."""
    latest = db.session.scalar(select(SigningKey.key_id).order_by(SigningKey.key_id.desc()).limit(1))
    key_id = ((latest or 0) % 255) + 1
    for old in db.session.scalars(select(SigningKey).where(SigningKey.active.is_(True))):
        old.active = False
    pair = _new_key_pair(tenant_id, key_id)
    key = SigningKey(tenant_id=tenant_id, key_id=key_id, active=True, **pair)
    db.session.add(key)
    db.session.flush()
    _public_keys.pop(tenant_id, None)
    return key


def reseal_keys() -> int:
    """Seal every key of every region again under the first `KEY_ENCRYPTION_KEY` (after adding a new
    one in front of the old); answers how many were resealed. Then the old one can be removed."""
    resealed = 0
    query = select(SigningKey).execution_options(all_tenants=True)
    for key in db.session.scalars(query):
        if sealing.sealed_with_current(key.private_key):
            continue
        raw = sealing.unseal(key.private_key, key.tenant_id, key.key_id)
        key.private_key = sealing.seal(raw, key.tenant_id, key.key_id)
        resealed += 1
    return resealed


def retire_key(key: SigningKey) -> None:
    """Codes signed by a retired key are refused everywhere (a leaked key)."""
    key.active = False
    key.retired_at = utcnow()
    _public_keys.pop(key.tenant_id, None)


def verification_keys(tenant_id: int | None = None) -> dict[int, bytes]:
    """Public keys (by key id) a kiosk of the region (the current one by default) needs to verify codes.

    Every scan needs them and they change almost never, so a process keeps them for
    `SIGNING_KEY_CACHE_SECONDS` (a retired key stops verifying everywhere within that time).
    """
    from tenants.scoping import current_tenant_id, tenant_scope

    if tenant_id is None:
        tenant_id = current_tenant_id()
    ttl = current_app.config.get("SIGNING_KEY_CACHE_SECONDS", 10)
    cached = _public_keys.get(tenant_id)
    now = time.monotonic()
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    with tenant_scope(tenant_id):
        rows = db.session.execute(
            select(SigningKey.key_id, SigningKey.public_key).where(SigningKey.retired_at.is_(None))
        )
        keys = {key_id: public_key for key_id, public_key in rows}
    if ttl > 0:
        _public_keys[tenant_id] = (now, keys)
    return keys


_public_keys: dict[int | None, tuple[float, dict[int, bytes]]] = {}


def sign(
    kind: CodeKind, tenant_id: int, object_id: int, event_id: int, key: SigningKey | ActiveKey | None = None
) -> str:
    return signer(tenant_id, key)(kind, object_id, event_id)


@functools.lru_cache(maxsize=64)
def _loaded_private_key(stored: bytes, tenant_id: int, key_id: int) -> Ed25519PrivateKey:
    """Unsealing and parsing a key cost more than signing with it. Cached by its sealed bytes, so which
    key signs is still decided by the database on every registration (a rotated or retired key is
    simply not asked for)."""
    return Ed25519PrivateKey.from_private_bytes(sealing.unseal(stored, tenant_id, key_id))


def signer(tenant_id: int, key: SigningKey | ActiveKey | None = None) -> Callable[[CodeKind, int, int], str]:
    """`sign` for many codes of one region: the active key (or `key`) is read once (bulk seeding)."""
    key = key or ensure_key(tenant_id)
    private = _loaded_private_key(bytes(key.private_key), tenant_id, key.key_id)

    def sign_one(kind: CodeKind, object_id: int, event_id: int) -> str:
        header = _HEADER.pack((VERSION << 4) | kind, key.key_id, tenant_id, object_id, event_id)
        return _b32encode(header + private.sign(header))

    return sign_one


def normalise(code: str | None) -> str:
    """A code as scanned or typed (wedge scanners and people vary case and spaces), as it was issued."""
    return (code or "").strip().upper()


def _decoded(code: str) -> tuple[CodePayload, bytes] | None:
    """A well-formed code's payload and its raw bytes, signature unchecked (None if malformed)."""
    if not isinstance(code, str) or len(code.strip()) != CODE_LENGTH:
        return None
    try:
        raw = _b32decode(code)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _HEADER.size + SIGNATURE_BYTES:
        return None
    version_kind, key_id, tenant_id, object_id, event_id = _HEADER.unpack(raw[: _HEADER.size])
    if version_kind >> 4 != VERSION or (version_kind & 0x0F) not in CodeKind._value2member_map_:
        return None
    if max(tenant_id, object_id, event_id) > MAX_ID:  # never issued: no row has such an id
        return None
    return CodePayload(CodeKind(version_kind & 0x0F), key_id, tenant_id, object_id, event_id), raw


@functools.lru_cache(maxsize=64)
def _loaded_public_key(raw: bytes) -> Ed25519PublicKey:
    """Cached by its bytes, like `_loaded_private_key`: which keys verify is still `verification_keys()`."""
    return Ed25519PublicKey.from_public_bytes(raw)


def _identified(code: str, tenant_id: int, kind: CodeKind | None) -> tuple[CodePayload, bytes, bytes] | None:
    """A well-formed code of this region (and kind) under a key not retired: payload, raw bytes, key."""
    decoded = _decoded(code)
    if decoded is None:
        return None
    payload, raw = decoded
    if payload.tenant_id != tenant_id or (kind is not None and payload.kind != kind):
        return None
    public = verification_keys(tenant_id).get(payload.key_id)
    if public is None:
        return None
    return payload, raw, public


def identify(code: str, tenant_id: int) -> CodePayload | None:
    """What `verify` answers, without checking the signature: for a caller that then admits only the
    very code the database issued for that object (the door), which no forger can match.

    That match is the stronger check of the two, and an Ed25519 verification is a sixth of a scan's CPU.
    """
    identified = _identified(code, tenant_id, None)
    return None if identified is None else identified[0]


def verify(code: str, tenant_id: int, kind: CodeKind | None = None) -> CodePayload | None:
    """The payload if the code is genuine, of this region (and kind); None for anything else.

    Unknown, forged and other regions' codes are indistinguishable to the caller by design.
    """
    identified = _identified(code, tenant_id, kind)
    if identified is None:
        return None
    payload, raw, public = identified
    try:
        _loaded_public_key(public).verify(raw[_HEADER.size :], raw[: _HEADER.size])
    except InvalidSignature:
        return None
    return payload
