"""kiosk: schema additions for pairing, offline sync and group admission

Revision ID: b1b2c3d4e502
Revises: a1b2c3d4e501
Create Date: 2026-11-23 22:45:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "b1b2c3d4e502"
down_revision = "a1b2c3d4e501"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
