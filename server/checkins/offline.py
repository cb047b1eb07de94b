"""What a kiosk keeps for working without network, prepared so that a lost tablet leaks nothing.

Each ticket of today's events at the venue becomes an entry keyed by SHA-256 of its code. The door
details (short name, grade, school, event) are sealed with AES-256-GCM under a key derived from the
code itself (HKDF-SHA256), so the device can read a student's name only when that student's QR is in
front of it. The code carries a 64-byte signature: neither the key nor the code can be guessed from
the hash. Cancelled tickets and tickets already admitted are marked by hash alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from server.checkins.kiosks import DoorKiosk
from server.checkins.services import checkin_window, door_details
from server.checkins.today import admitted_times, todays_events
from server.database import utcnow
from server.extensions import db
from server.tickets import codes
from server.tickets.models import Student, Ticket, TicketStatus

HKDF_SALT = b"propusk/kiosk-offline/v1"
HKDF_INFO = b"door-details"


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def code_key(code: str) -> bytes:
    """The AES key only the holder of the code can derive (mirrored by WebCrypto on the kiosk)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(
        code.strip().upper().encode()
    )


def seal(code: str, details: dict[str, Any]) -> str:
    """base64(iv ‖ ciphertext+tag) of the details, bound to the code's hash as associated data."""
    iv = os.urandom(12)
    plain = json.dumps(details, ensure_ascii=False, separators=(",", ":")).encode()
    sealed = AESGCM(code_key(code)).encrypt(iv, plain, code_hash(code).encode())
    return base64.b64encode(iv + sealed).decode()


def unseal(code: str, blob: str) -> dict[str, Any]:
    raw = base64.b64decode(blob)
    plain = AESGCM(code_key(code)).decrypt(raw[:12], raw[12:], code_hash(code).encode())
    return json.loads(plain)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def offline_bundle(kiosk: DoorKiosk) -> dict[str, Any]:
    """Today's tickets and cancellations at the kiosk's venue, and the region's public keys."""
    events = todays_events(kiosk)
    event_ids = [e.id for e in events]
    tickets = (
        db.session.scalars(
            select(Ticket)
            .where(Ticket.event_id.in_(event_ids), Ticket.code.is_not(None))
            .options(joinedload(Ticket.event), joinedload(Ticket.student).joinedload(Student.school))
        ).all()
        if event_ids
        else []
    )
    admitted = admitted_times([t.id for t in tickets])
    entries = []
    for ticket in tickets:
        entry: dict[str, Any] = {"h": code_hash(ticket.code)}
        if ticket.status == TicketStatus.CANCELLED:
            entry["s"] = "cancelled"
        else:
            entry["s"] = "active"
            entry["d"] = seal(ticket.code, door_details(ticket))
            if ticket.id in admitted:
                entry["a"] = _iso(admitted[ticket.id])
        entries.append(entry)
    window = [(e, *checkin_window(e)) for e in events]
    return {
        "generated_at": _iso(utcnow()),
        "tenant_id": kiosk.tenant_id,
        "venue_id": kiosk.venue_id,
        "keys": {
            str(key_id): base64.b64encode(public).decode()
            for key_id, public in codes.verification_keys().items()
        },
        "events": [
            {
                "id": e.id,
                "title": e.title,
                "opens_at": _iso(opens),
                "ends_at": _iso(closes),
                "format": e.format,
            }
            for e, opens, closes in window
        ],
        "entries": entries,
    }
