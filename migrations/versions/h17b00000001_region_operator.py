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


COLUMNS = ("operator_name", "operator_address", "operator_contact")


def upgrade():
    op.add_column("tenants", sa.Column("operator_name", sa.String(length=300), nullable=True))
    op.add_column("tenants", sa.Column("operator_address", sa.String(length=500), nullable=True))
    op.add_column("tenants", sa.Column("operator_contact", sa.String(length=300), nullable=True))


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 and PostgreSQL): a batch copy would drop and
    # recreate `tenants`, and with foreign keys on, SQLite would cascade that to every region's rows.
    for column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE tenants DROP COLUMN {column}")
