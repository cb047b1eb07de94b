"""events.has_quotas: a registration learns with its seat whether the event has quotas to check

Revision ID: f1b2c3d4e506
Revises: e1b2c3d4e505
Create Date: 2026-11-24 08:00:00

Filled from the quotas already there.
"""

import sqlalchemy as sa
from alembic import op

revision = "f1b2c3d4e506"
down_revision = "e1b2c3d4e505"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("events", sa.Column("has_quotas", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE events SET has_quotas = EXISTS "
        "(SELECT 1 FROM event_quotas q WHERE q.tenant_id = events.tenant_id AND q.event_id = events.id)"
    )


def downgrade():
    # Not batch mode: on SQLite that rebuilds the table, which the tickets' foreign keys forbid.
    op.execute("ALTER TABLE events DROP COLUMN has_quotas")  # SQLite 3.35+ and PostgreSQL
