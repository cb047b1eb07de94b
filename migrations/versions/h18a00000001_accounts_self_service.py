"""accounts self-service: suspended regions, session keys, remember tokens, one-time links, school INN

Revision ID: h18a00000001
Revises: h19a00000002
Create Date: 2026-12-03 13:20:00

Regions can be suspended; a user's session key ends every session at once; «remember me» and
one-time links (invitations, password resets) are stored as hashes; API tokens expire; memberships
can be deactivated; schools carry an optional INN and short name for bulk onboarding.
"""

import sqlalchemy as sa
from alembic import op


revision = "h18a00000001"
down_revision = "h19a00000002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("tenants", sa.Column("suspended_at", sa.DateTime(), nullable=True))
    op.add_column("users", sa.Column("session_key", sa.String(32), nullable=False, server_default=""))
    op.add_column("users", sa.Column("last_seen_at", sa.DateTime(), nullable=True))
    op.add_column("users", sa.Column("password_changed_at", sa.DateTime(), nullable=True))
    op.add_column("memberships", sa.Column("created_at", sa.DateTime(), nullable=True))
    op.add_column("memberships", sa.Column("deactivated_at", sa.DateTime(), nullable=True))
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(), nullable=True))
    op.add_column("schools", sa.Column("short_name", sa.String(200), nullable=True))
    op.add_column("schools", sa.Column("inn", sa.String(12), nullable=True))
    op.create_index("ix_schools_tenant_inn", "schools", ["tenant_id", "inn"], unique=True)
    op.create_table(
        "remember_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_remember_tokens_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_remember_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_remember_tokens_token_hash"),
    )
    op.create_index("ix_remember_tokens_user_id", "remember_tokens", ["user_id"])
    op.create_table(
        "account_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(10), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_account_links_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_account_links_tenant_id_tenants", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name="fk_account_links_created_by_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_account_links"),
        sa.UniqueConstraint("token_hash", name="uq_account_links_token_hash"),
    )
    op.create_index("ix_account_links_user_id", "account_links", ["user_id"])


def downgrade():
    op.drop_table("account_links")
    op.drop_table("remember_tokens")
    op.drop_index("ix_schools_tenant_inn", table_name="schools")
    # Not batch mode: on SQLite that rebuilds the table, which other tables' foreign keys forbid.
    for table, column in (
        ("schools", "inn"),
        ("schools", "short_name"),
        ("api_tokens", "expires_at"),
        ("memberships", "deactivated_at"),
        ("memberships", "created_at"),
        ("users", "password_changed_at"),
        ("users", "last_seen_at"),
        ("users", "session_key"),
        ("tenants", "suspended_at"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite 3.35+ and PostgreSQL
