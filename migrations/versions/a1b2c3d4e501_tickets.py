"""tickets: quota bookkeeping on tickets, full-length codes, a working one-active-ticket index

- `tickets.in_quota` / `tickets.in_school_quota`: which counters a ticket took its seat from, so that a
  cancellation gives back exactly those seats (quotas stop applying after `events.quota_deadline`).
- `tickets.code` widened to 128: a signed code is 125 characters of base32 (PostgreSQL enforces length).
- `uq_tickets_active_student_event` re-created on `status = 'ACTIVE'`: the enum column stores member
  names, so the initial `status = 'active'` predicate never matched and the index guarded nothing.

Revision ID: a1b2c3d4e501
Revises: 25877eb2ae47
Create Date: 2026-11-23 22:45:00
"""

from alembic import op
import sqlalchemy as sa

revision = "a1b2c3d4e501"
down_revision = "25877eb2ae47"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_quota", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("in_school_quota", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.alter_column(
            "code", existing_type=sa.String(length=120), type_=sa.String(length=128), existing_nullable=True
        )
        batch_op.drop_index("uq_tickets_active_student_event")
        batch_op.create_index(
            "uq_tickets_active_student_event",
            ["tenant_id", "event_id", "student_id"],
            unique=True,
            sqlite_where=sa.text("status = 'ACTIVE'"),
            postgresql_where=sa.text("status = 'ACTIVE'"),
        )


def downgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("uq_tickets_active_student_event")
        batch_op.create_index(
            "uq_tickets_active_student_event",
            ["tenant_id", "event_id", "student_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.alter_column(
            "code", existing_type=sa.String(length=128), type_=sa.String(length=120), existing_nullable=True
        )
        batch_op.drop_column("in_school_quota")
        batch_op.drop_column("in_quota")
