"""archived_at on municipalities, schools, venues and events: retired, with their history kept

Revision ID: h17a00000002
Revises: h17a00000001
Create Date: 2026-12-03 13:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "h17a00000002"
down_revision = "h17a00000001"
branch_labels = None
depends_on = None

TABLES = ("municipalities", "schools", "venues", "events")


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column("archived_at", sa.DateTime(), nullable=True))


def downgrade():
    # Not batch mode: on SQLite that rebuilds the table, which the tickets' foreign keys forbid.
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN archived_at")  # SQLite 3.35+ and PostgreSQL
