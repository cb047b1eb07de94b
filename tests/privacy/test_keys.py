"""Secrets at rest: the tickets' Ed25519 private keys are sealed with KEY_ENCRYPTION_KEY; rotation from
the CLI and the coordinator's page keeps issued tickets valid; production will not start without a key."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask_migrate import upgrade
from sqlalchemy import select, text

from server.accounts.models import Role
from server.audit.models import AuditEntry
from server.database import utcnow
from server.extensions import db
from server.tickets import codes, sealing
from server.tickets.models import SigningKey
from tests.conftest import login
from tests.kiosk.helpers import paired_kiosk, scan
from tests.tickets.helpers import region


def _public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _no_window_is_the_key(stored: bytes, public_key: bytes) -> bool:
    """No 32 bytes of what the database holds are the private key of this public key."""
    return all(
        _public(Ed25519PrivateKey.from_private_bytes(stored[i : i + 32])) != public_key
        for i in range(len(stored) - 31)
    )


def test_a_database_dump_holds_no_usable_private_key(app, world):
    world.ticket(world.a, world.event(world.a))
    with app.app_context():
        rows = db.session.execute(
            text("SELECT tenant_id, key_id, public_key, private_key FROM signing_keys")
        ).all()
    assert rows
    for tenant_id, key_id, public_key, stored in rows:
        stored = bytes(stored)
        assert sealing.is_sealed(stored) and _no_window_is_the_key(stored, bytes(public_key))
        with app.app_context():
            raw = sealing.unseal(stored, tenant_id, key_id)
            assert _public(Ed25519PrivateKey.from_private_bytes(raw)) == bytes(public_key)
            # Sealed to its region and key id: the row copied elsewhere does not open.
            with pytest.raises(sealing.KeyEncryptionError):
                sealing.unseal(stored, tenant_id + 1, key_id)
            with pytest.raises(sealing.KeyEncryptionError):
                sealing.unseal(stored, tenant_id, key_id, [os.urandom(32)])


def test_production_refuses_to_start_without_a_real_key_encryption_key(make_app):
    base = {"ENV_NAME": "production", "SECRET_KEY": "s", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    with pytest.raises(RuntimeError, match="KEY_ENCRYPTION_KEY is not set"):
        make_app(**base, KEY_ENCRYPTION_KEY=None)
    with pytest.raises(RuntimeError, match="development key"):
        make_app(**base, KEY_ENCRYPTION_KEY=sealing.DEVELOPMENT_KEY)
    with pytest.raises(RuntimeError, match="32 random bytes"):
        make_app(**base, KEY_ENCRYPTION_KEY="short")
    assert make_app(**base, KEY_ENCRYPTION_KEY=sealing.new_key_setting())


def test_the_migration_seals_keys_stored_raw(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.sqlite'}")
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes_raw()
    with app.app_context():
        upgrade(revision="h19a00000001")
        db.session.execute(
            text(
                "INSERT INTO tenants (id, slug, name, timezone, created_at) VALUES (1, 'x', 'X', 'UTC', :t)"
            ),
            {"t": utcnow().replace(tzinfo=None)},
        )
        db.session.execute(
            text(
                "INSERT INTO signing_keys (tenant_id, key_id, public_key, private_key, active, created_at) "
                "VALUES (1, 1, :public, :private, 1, :t)"
            ),
            {"public": _public(private), "private": raw, "t": utcnow().replace(tzinfo=None)},
        )
        db.session.commit()
        upgrade()
        stored = bytes(db.session.execute(text("SELECT private_key FROM signing_keys")).scalar_one())
        assert stored != raw and sealing.unseal(stored, 1, 1) == raw
        assert _no_window_is_the_key(stored, _public(private))


def test_rotation_from_the_cli_keeps_issued_tickets_valid(app, client, world, runner):
    venue = world.venue(world.a)
    event = world.event(world.a, venue_id=venue)
    _, old_code = world.ticket(world.a, event)
    assert runner.invoke(args=["keys", "rotate", "--tenant", "yaroslavl"]).output.startswith(
        "yaroslavl: новый ключ № 2"
    )
    _, new_code = world.ticket(world.a, event)
    with app.app_context():
        assert codes.identify(new_code, world.a.id).key_id == 2
        assert codes.identify(old_code, world.a.id).key_id == 1
    kiosk = paired_kiosk(client, world, world.a, venue)
    assert scan(client, kiosk, old_code)["result"] == "ok"
    assert scan(client, kiosk, new_code)["result"] == "ok"
    assert runner.invoke(args=["keys", "rotate", "--tenant", "nowhere"]).exit_code != 0


def test_coordinator_rotates_the_key_after_a_confirmation(app, client, world):
    world.ticket(world.a, world.event(world.a))
    email, _ = world.user(world.a, Role.COORDINATOR)
    login(client, email)
    page = client.get("/yaroslavl/personal-data").get_data(as_text=True)
    assert "Ключи подписи билетов" in page and "№ 1" in page
    assert "Сменить ключ подписи билетов?" in client.get("/yaroslavl/personal-data/keys/rotate").get_data(
        as_text=True
    )
    assert client.post("/yaroslavl/personal-data/keys/rotate", data={}).status_code == 422
    done = client.post("/yaroslavl/personal-data/keys/rotate", data={"confirm": "y"}, follow_redirects=True)
    assert "Новый ключ № 2 подписывает новые билеты" in done.get_data(as_text=True)
    with region(app, world.a):
        keys = dict(db.session.execute(select(SigningKey.key_id, SigningKey.active)).all())
        assert keys == {1: False, 2: True}
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "keys.rotated"))
    other, _ = world.user(world.b, Role.COORDINATOR)
    login(client, other)
    assert client.post("/yaroslavl/personal-data/keys/rotate", data={"confirm": "y"}).status_code == 404


def test_resealing_moves_every_key_to_a_new_key_encryption_key(app, world, runner):
    world.ticket(world.a, world.event(world.a))
    world.ticket(world.b, world.event(world.b))
    old = app.config["KEY_ENCRYPTION_KEY"]
    new = base64.urlsafe_b64encode(os.urandom(32)).decode()
    try:
        app.config["KEY_ENCRYPTION_KEY"] = f"{new},{old}"
        assert "Перешифровано ключей: 2" in runner.invoke(args=["keys", "reseal"]).output
        app.config["KEY_ENCRYPTION_KEY"] = new
        with app.app_context():
            for tenant_id, key_id, stored in db.session.execute(
                text("SELECT tenant_id, key_id, private_key FROM signing_keys")
            ):
                assert len(sealing.unseal(bytes(stored), tenant_id, key_id)) == 32
    finally:
        app.config["KEY_ENCRYPTION_KEY"] = old
        with app.app_context():  # the rest of the run keeps the run's key
            app.config["KEY_ENCRYPTION_KEY"] = f"{old},{new}"
            codes.reseal_keys()
            db.session.commit()
            app.config["KEY_ENCRYPTION_KEY"] = old
