"""kiosk: a working admitted-once index, the door's answer on every check-in, per-kiosk history index

- `uq_checkins_admitted_once` re-created on `result = 'OK'`: the enum column stores member names, so
  the initial `result = 'ok'` predicate never matched and "once" was not enforced by the database.
- `checkins.message`: the answer given at the door, word for word, so a replayed scan_id gets it back.
- `ix_checkins_kiosk_created`: a kiosk's admissions today (its counter) without scanning the table.
- `ix_checkins_admitted_event`: admitted per event (kiosk screens, every live message) counted from
  a small partial index instead of every scan row of the event.

Revision ID: b1b2c3d4e502
Revises: a1b2c3d4e501
Create Date: 2026-11-23 22:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b1b2c3d4e502"
down_revision = "a1b2c3d4e501"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message", sa.String(length=300), nullable=True))
        batch_op.drop_index("uq_checkins_admitted_once")
        batch_op.create_index(
            "uq_checkins_admitted_once",
            ["tenant_id", "ticket_id"],
            unique=True,
            sqlite_where=sa.text("result = 'OK'"),
            postgresql_where=sa.text("result = 'OK'"),
        )
        batch_op.create_index(
            "ix_checkins_kiosk_created", ["tenant_id", "kiosk_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_checkins_admitted_event",
            ["tenant_id", "event_id"],
            unique=False,
            sqlite_where=sa.text("result = 'OK'"),
            postgresql_where=sa.text("result = 'OK'"),
        )


def downgrade():
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_admitted_event")
        batch_op.drop_index("ix_checkins_kiosk_created")
        batch_op.drop_index("uq_checkins_admitted_once")
        batch_op.create_index(
            "uq_checkins_admitted_once",
            ["tenant_id", "ticket_id"],
            unique=True,
            sqlite_where=sa.text("result = 'ok'"),
            postgresql_where=sa.text("result = 'ok'"),
        )
        batch_op.drop_column("message")
