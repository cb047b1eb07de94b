"""schools.search_name: the name's words and the usual abbreviations, for the word-by-word typeahead

Revision ID: h17a00000001
Revises: h21a00000002
Create Date: 2026-12-03 13:20:00

Recomputed for every school: «СОШ № 33», «школа 33» and «33 средняя» find «Средняя школа № 33».
"""

import sqlalchemy as sa
from alembic import op

from server.text import normalise_name, school_search_text

revision = "h17a00000001"
down_revision = "h21a00000002"
branch_labels = None
depends_on = None

SCHOOLS = sa.table("schools", sa.column("id", sa.Integer), sa.column("name"), sa.column("search_name"))


def _recompute(search_text) -> None:
    conn = op.get_bind()
    for school_id, name in conn.execute(sa.select(SCHOOLS.c.id, SCHOOLS.c.name)).all():
        conn.execute(SCHOOLS.update().where(SCHOOLS.c.id == school_id).values(search_name=search_text(name)))


def upgrade():
    _recompute(school_search_text)


def downgrade():
    _recompute(normalise_name)
