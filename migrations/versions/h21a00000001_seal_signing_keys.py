"""Seal the tickets' private signing keys with KEY_ENCRYPTION_KEY (they were stored raw)

Revision ID: h21a00000001
Revises: h18a00000001
Create Date: 2026-12-03 13:00:00

A dump of the database alone let anyone mint codes that offline doors accept. Raw keys are 32 bytes;
sealed ones start with `K1` and are longer (server/tickets/sealing.py). Runs in the app's context, so
the key-encryption key is the configured one.
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "h21a00000001"
down_revision = "h18a00000001"
branch_labels = None
depends_on = None

KEYS = sa.table(
    "signing_keys",
    sa.column("id", sa.Integer),
    sa.column("tenant_id", sa.Integer),
    sa.column("key_id", sa.Integer),
    sa.column("private_key", sa.LargeBinary),
)


def _rewrite(transform) -> None:
    from server.tickets import sealing

    keys = sealing.parse_keys(current_app.config.get("KEY_ENCRYPTION_KEY"))
    connection = op.get_bind()
    for row in connection.execute(sa.select(KEYS)).all():
        stored = bytes(row.private_key)
        new = transform(sealing, stored, row.tenant_id, row.key_id, keys)
        if new is not None:
            connection.execute(KEYS.update().where(KEYS.c.id == row.id).values(private_key=new))


def upgrade():
    _rewrite(
        lambda sealing, stored, tenant_id, key_id, keys: (
            None if sealing.is_sealed(stored) else sealing.seal(stored, tenant_id, key_id, keys)
        )
    )


def downgrade():
    _rewrite(
        lambda sealing, stored, tenant_id, key_id, keys: (
            sealing.unseal(stored, tenant_id, key_id, keys) if sealing.is_sealed(stored) else None
        )
    )
