"""live: no schema change — the dashboard reads tickets and check-ins as they are

Revision ID: c1b2c3d4e503
Revises: b1b2c3d4e502
Create Date: 2026-11-23 22:45:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "c1b2c3d4e503"
down_revision = "b1b2c3d4e502"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
