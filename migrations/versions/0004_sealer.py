"""sealer: seq, number and hash of entries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 04:42:11.221807
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("fiscal_year", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_entries_journal_year_number", ["journal_id", "fiscal_year", "number"], unique=True
        )
        batch_op.create_index("ix_entries_ledger_seq", ["ledger_id", "seq"], unique=True)


def downgrade() -> None:
    # Dropped in place (SQLite >= 3.35): rebuilding `entries` would drop a table that
    # entry_lines and reversals still reference, which the foreign keys refuse.
    with op.batch_alter_table("entries", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_entries_ledger_seq")
        batch_op.drop_index("ix_entries_journal_year_number")
        batch_op.drop_column("sealed_at")
        batch_op.drop_column("hash")
        batch_op.drop_column("number")
        batch_op.drop_column("fiscal_year")
        batch_op.drop_column("seq")
