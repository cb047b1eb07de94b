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
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("has_quotas", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE events SET has_quotas = EXISTS "
        "(SELECT 1 FROM event_quotas q WHERE q.tenant_id = events.tenant_id AND q.event_id = events.id)"
    )


def downgrade():
    with op.batch_alter_table("events") as batch:
        batch.drop_column("has_quotas")
