"""tickets: schema additions for registration, quotas and class sheets

Revision ID: a1b2c3d4e501
Revises: 25877eb2ae47
Create Date: 2026-11-23 22:45:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "a1b2c3d4e501"
down_revision = "25877eb2ae47"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
