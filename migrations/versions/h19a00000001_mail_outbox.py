"""Outgoing mail: the outbox, its attachments, suppressed addresses, per-region send slots

Revision ID: h19a00000001
Revises: a2b3c4d5e607
Create Date: 2026-12-03 13:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = "h19a00000001"
down_revision = "a2b3c4d5e607"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("to_name", sa.String(length=200), nullable=True),
        sa.Column("sender_name", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_via", sa.String(length=10), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_mail_outbox_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_mail_outbox_key")),
    )
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["status", "next_attempt_at"])
    op.create_index("ix_mail_outbox_event", "mail_outbox", ["tenant_id", "event_id", "kind"])
    op.create_index("ix_mail_outbox_region_sent", "mail_outbox", ["tenant_id", "sent_at"])
    op.create_index(op.f("ix_mail_outbox_school_id"), "mail_outbox", ["school_id"])
    op.create_table(
        "mail_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("mimetype", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mail_id"],
            ["mail_outbox.id"],
            name=op.f("fk_mail_attachments_mail_id_mail_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_attachments")),
    )
    op.create_index(op.f("ix_mail_attachments_mail_id"), "mail_attachments", ["mail_id"])
    op.create_table(
        "mail_suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("scope", sa.String(length=60), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_mail_suppressions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_suppressions")),
        sa.UniqueConstraint("address", "scope", name=op.f("uq_mail_suppressions_address_scope")),
    )
    op.create_index(op.f("ix_mail_suppressions_tenant_id"), "mail_suppressions", ["tenant_id"])
    op.create_table(
        "mail_rate_slots",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("next_slot", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_mail_rate_slots_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_mail_rate_slots")),
    )


def downgrade():
    op.drop_table("mail_rate_slots")
    op.drop_index(op.f("ix_mail_suppressions_tenant_id"), table_name="mail_suppressions")
    op.drop_table("mail_suppressions")
    op.drop_index(op.f("ix_mail_attachments_mail_id"), table_name="mail_attachments")
    op.drop_table("mail_attachments")
    op.drop_index(op.f("ix_mail_outbox_school_id"), table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_region_sent", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_event", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_due", table_name="mail_outbox")
    op.drop_table("mail_outbox")
