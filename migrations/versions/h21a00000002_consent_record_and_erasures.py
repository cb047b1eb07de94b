"""Consent as its own record (operator named, withdrawal), erased students, the erasures' record

Revision ID: h21a00000002
Revises: h21a00000001
Create Date: 2026-12-03 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "h21a00000002"
down_revision = "h21a00000001"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (nullable), not a batch copy: on SQLite a copy drops the old table, which
    # tickets reference — refused under foreign keys once a database holds registrations.
    op.add_column("students", sa.Column("erased_at", sa.DateTime(), nullable=True))
    op.add_column("consents", sa.Column("operator_name", sa.String(length=300), nullable=True))
    op.add_column("consents", sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
    op.add_column("consents", sa.Column("erased_at", sa.DateTime(), nullable=True))
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column(
            "reason",
            sa.Enum(
                "WITHDRAWAL",
                "WRITTEN_REQUEST",
                "RETENTION",
                name="erasurereason",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("tickets_cancelled", sa.Integer(), nullable=False),
        sa.Column("tickets_erased", sa.Integer(), nullable=False),
        sa.Column("consents_erased", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("keep_until", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_erasures_actor_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_erasures_tenant_id_tenants"),
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_erasures_tenant_id_id")),
    )
    op.create_index("ix_erasures_tenant_created", "erasures", ["tenant_id", "created_at"])


def downgrade():
    op.drop_index("ix_erasures_tenant_created", table_name="erasures")
    op.drop_table("erasures")
    for table, column in (
        ("consents", "erased_at"),
        ("consents", "withdrawn_at"),
        ("consents", "operator_name"),
        ("students", "erased_at"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # no batch rebuild: see h18a00000001
