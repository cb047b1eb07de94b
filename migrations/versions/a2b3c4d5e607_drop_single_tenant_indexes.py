"""Drop the index on tenant_id alone from every region's table: (tenant_id, id) unique serves it

Revision ID: a2b3c4d5e607
Revises: f1b2c3d4e506
Create Date: 2026-11-24 10:00:00

Each was written on every insert (a registration wrote three, every scan one) and never chosen over
the unique index on (tenant_id, id), which leads with the same column.
"""

from alembic import op

revision = "a2b3c4d5e607"
down_revision = "f1b2c3d4e506"
branch_labels = None
depends_on = None

TABLES = (
    "admission_counts", "audit_entries", "checkins", "class_groups", "consents", "event_quotas", "events",
    "kiosks", "memberships", "municipalities", "programmes", "school_quotas", "schools", "signing_keys",
    "students", "tickets", "venues",
)  # fmt: skip


def upgrade():
    for table in TABLES:
        op.drop_index(f"ix_{table}_tenant_id", table_name=table)


def downgrade():
    for table in TABLES:
        op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"])
