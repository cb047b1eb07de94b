"""Ticket signing keys at rest: sealed with AES-GCM under a key-encryption key from the environment.

A database dump alone must not let anyone mint codes that offline doors accept, so a private key is
stored only sealed. The sealed bytes are bound to their region and key id (associated data): a row
copied to another region or key id does not open. `KEY_ENCRYPTION_KEY` may list several keys,
comma-separated: the first seals, every one opens (so the key-encryption key itself can be rotated
with `flask keys reseal`).
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

PREFIX = b"K1"  # format version; raw Ed25519 keys (before sealing) are 32 bytes and never start so
_FINGERPRINT = 4
_NONCE = 12
RAW_KEY_BYTES = 32

# A fixed, public key for development and tests only: production refuses to start with it.
DEVELOPMENT_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"propusk development only").digest()).decode()


class KeyEncryptionError(RuntimeError):
    """The sealed key does not open with any configured key-encryption key."""


def parse_keys(setting: str | None) -> list[bytes]:
    """`KEY_ENCRYPTION_KEY` as 32-byte keys (url-safe base64 each, comma-separated); errors say what."""
    keys = []
    for part in (setting or "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            key = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except ValueError:
            key = b""
        if len(key) != 32:
            raise RuntimeError(
                "KEY_ENCRYPTION_KEY must be 32 random bytes in url-safe base64 "
                "(python -c 'import os,base64;print(base64.urlsafe_b64encode(os.urandom(32)).decode())')."
            )
        keys.append(key)
    return keys


def new_key_setting() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _fingerprint(key: bytes) -> bytes:
    return hashlib.sha256(b"propusk-kek" + key).digest()[:_FINGERPRINT]


def _keys() -> list[bytes]:
    return parse_keys(current_app.config.get("KEY_ENCRYPTION_KEY"))


def _aad(tenant_id: int, key_id: int) -> bytes:
    return b"propusk-signing-key:%d:%d" % (tenant_id, key_id)


def is_sealed(stored: bytes) -> bool:
    return bytes(stored).startswith(PREFIX) and len(stored) != RAW_KEY_BYTES


def seal(raw: bytes, tenant_id: int, key_id: int, keys: list[bytes] | None = None) -> bytes:
    """`PREFIX · fingerprint of the key-encryption key · nonce · AES-GCM(raw)`: 66 bytes for 32."""
    kek = (keys or _keys())[0]
    nonce = os.urandom(_NONCE)
    return PREFIX + _fingerprint(kek) + nonce + AESGCM(kek).encrypt(nonce, raw, _aad(tenant_id, key_id))


def unseal(stored: bytes, tenant_id: int, key_id: int, keys: list[bytes] | None = None) -> bytes:
    stored = bytes(stored)
    if not is_sealed(stored):
        raise KeyEncryptionError("a signing key is stored unsealed: run `flask db upgrade`")
    fingerprint = stored[len(PREFIX) : len(PREFIX) + _FINGERPRINT]
    nonce_at = len(PREFIX) + _FINGERPRINT
    nonce, sealed = stored[nonce_at : nonce_at + _NONCE], stored[nonce_at + _NONCE :]
    for kek in keys or _keys():
        if _fingerprint(kek) != fingerprint:
            continue
        try:
            return AESGCM(kek).decrypt(nonce, sealed, _aad(tenant_id, key_id))
        except InvalidTag:
            break
    raise KeyEncryptionError("a signing key does not open with KEY_ENCRYPTION_KEY")


def sealed_with_current(stored: bytes, keys: list[bytes] | None = None) -> bool:
    """Whether `stored` was sealed with the first (current) key-encryption key."""
    kek = (keys or _keys())[0]
    return bytes(stored)[len(PREFIX) : len(PREFIX) + _FINGERPRINT] == _fingerprint(kek)
