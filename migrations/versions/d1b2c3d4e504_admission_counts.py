"""admission counts: admitted per event kept in shards, filled from the check-ins already there

Revision ID: d1b2c3d4e504
Revises: c1b2c3d4e503
Create Date: 2026-11-24 01:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d1b2c3d4e504"
down_revision = "c1b2c3d4e503"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "admission_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("admitted", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "event_id"], ["events.tenant_id", "events.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "event_id", "shard"),
        sa.UniqueConstraint("tenant_id", "id"),
    )
    with op.batch_alter_table("admission_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admission_counts_tenant_id"), ["tenant_id"], unique=False)
    # Existing check-ins: one shard (0) per event holds what was admitted before this upgrade.
    op.execute(
        "INSERT INTO admission_counts (tenant_id, event_id, shard, admitted) "
        "SELECT tenant_id, event_id, 0, count(*) FROM checkins "
        "WHERE result = 'OK' AND event_id IS NOT NULL GROUP BY tenant_id, event_id"
    )


def downgrade():
    with op.batch_alter_table("admission_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admission_counts_tenant_id"))
    op.drop_table("admission_counts")
