"""group name

What a group calls itself, shown on its deck's title slide; existing groups have none yet.

Revision ID: 0005
Revises: 0004
Created: 2026-12-02 01:42:06.268712
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: batch mode would copy reading_group, which every table refers to.
    op.add_column(
        "reading_group",
        sa.Column(
            "name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False, server_default=""
        ),
    )


def downgrade() -> None:
    op.drop_column("reading_group", "name")  # SQLite 3.35 and newer drop a column in place
