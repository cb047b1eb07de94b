"""foreign keys to shared parent rows (tenant, event, school) are checked at commit

Revision ID: e1b2c3d4e505
Revises: d1b2c3d4e504
Create Date: 2026-11-24 04:00:00

PostgreSQL only: there a foreign key check key-share locks the parent row until the end of the
transaction, and concurrent registrations and scans pile up on the rows they all share (see
`tenants.models.SHARED_PARENTS`). SQLite takes no row locks; its schema is left as it is.
"""

from alembic import op

revision = "e1b2c3d4e505"
down_revision = "d1b2c3d4e504"
branch_labels = None
depends_on = None

SHARED_PARENTS = ("tenants", "events", "schools")


def _foreign_keys() -> list[tuple[str, str]]:
    rows = op.get_bind().exec_driver_sql(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint "
        "WHERE contype = 'f' AND confrelid::regclass::text = ANY(%(parents)s) ORDER BY 1, 2",
        {"parents": list(SHARED_PARENTS)},
    )
    return [(table, name) for table, name in rows]


def _alter(clause: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, name in _foreign_keys():
        op.execute(f'ALTER TABLE "{table}" ALTER CONSTRAINT "{name}" {clause}')


def upgrade():
    _alter("DEFERRABLE INITIALLY DEFERRED")


def downgrade():
    _alter("NOT DEFERRABLE")
