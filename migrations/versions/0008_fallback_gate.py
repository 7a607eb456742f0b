"""fallback gate: the hand-over's write gate, shared by every process of a replica

Each process had its own gate, so with several workers one kept journaling while another
waited for an empty journal: under load the hand-over to primary never happened.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fallback_gate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("closed_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fallback_gate")),
    )


def downgrade() -> None:
    op.drop_table("fallback_gate")
