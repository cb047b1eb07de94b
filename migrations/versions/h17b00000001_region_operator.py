"""The region's personal-data operator (name, address, contact), named in the consent text

Revision ID: h17b00000001
Revises: h17a00000002
Create Date: 2026-12-03 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "h17b00000001"
down_revision = "h17a00000002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("operator_name", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("operator_address", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("operator_contact", sa.String(length=300), nullable=True))


def downgrade():
    # Not batch mode: on SQLite that rebuilds the table, and its children's foreign keys would cascade.
    for column in ("operator_contact", "operator_address", "operator_name"):
        op.execute(f"ALTER TABLE tenants DROP COLUMN {column}")  # SQLite 3.35+ and PostgreSQL
