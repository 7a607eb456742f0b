"""account day totals: the trial balance and balances without reading every line

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_day_totals",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("debit", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_day_totals_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_account_day_totals")),
    )
    # Every entry sealed so far, folded in once (the sealer and the mirror fold the next ones).
    op.execute(
        "INSERT INTO account_day_totals (account_id, day, debit, credit, lines) "
        "SELECT l.account_id, e.entry_date, "
        "sum(CASE WHEN l.amount > 0 THEN l.amount ELSE 0 END), "
        "sum(CASE WHEN l.amount < 0 THEN -l.amount ELSE 0 END), count(*) "
        "FROM entry_lines l JOIN entries e ON e.id = l.entry_id "
        "WHERE e.seq IS NOT NULL GROUP BY l.account_id, e.entry_date"
    )


def downgrade() -> None:
    op.drop_table("account_day_totals")
