"""Notifications: cancelled events, region mail settings, fan-out runs, deferred attachments

Revision ID: h19a00000002
Revises: h19a00000001
Create Date: 2026-12-03 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "h19a00000002"
down_revision = "h19a00000001"
branch_labels = None
depends_on = None


def upgrade():
    # Not batch mode: on SQLite that rebuilds the table, which the children's foreign keys forbid.
    op.add_column("events", sa.Column("cancelled_at", sa.DateTime(), nullable=True))
    op.add_column("mail_outbox", sa.Column("deferred_attachments", sa.String(length=200), nullable=True))
    op.add_column("mail_outbox", sa.Column("decline_url", sa.String(length=500), nullable=True))
    op.add_column("mail_outbox", sa.Column("ticket_id", sa.Integer(), nullable=True))
    op.create_table(
        "mail_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=True),
        sa.Column("reminder_time", sa.String(length=5), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_mail_settings_tenant_id_tenants"),
            ondelete="CASCADE", deferrable=True, initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_settings")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_mail_settings_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_mail_settings_tenant_id")),
    )
    op.create_table(
        "mail_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "event_id"], ["events.tenant_id", "events.id"],
            name=op.f("fk_mail_runs_tenant_id_events"), ondelete="CASCADE",
            deferrable=True, initially="DEFERRED",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_mail_runs_tenant_id_tenants"),
            ondelete="CASCADE", deferrable=True, initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_runs")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_mail_runs_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_mail_runs_tenant_id_key")),
    )
    op.create_index(op.f("ix_mail_runs_event_id"), "mail_runs", ["event_id"])
    op.create_index("ix_mail_runs_status", "mail_runs", ["status"])


def downgrade():
    op.drop_index("ix_mail_runs_status", table_name="mail_runs")
    op.drop_index(op.f("ix_mail_runs_event_id"), table_name="mail_runs")
    op.drop_table("mail_runs")
    op.drop_table("mail_settings")
    for column in ("ticket_id", "decline_url", "deferred_attachments"):
        op.execute(f"ALTER TABLE mail_outbox DROP COLUMN {column}")  # SQLite 3.35+ and PostgreSQL
    op.execute("ALTER TABLE events DROP COLUMN cancelled_at")
