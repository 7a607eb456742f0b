"""mirror progress: a resumable, chunked first copy that knows when it completed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 20:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mirror_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("complete_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pass_horizon", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("pass_table", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("pass_key", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("first_copy_rows", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("first_copy_estimate", sa.BigInteger(), nullable=True))
    # A mirror that synced before this revision completed full rounds: each round copied every
    # row below its watermark in one transaction.
    op.execute(
        "UPDATE mirror_state SET complete_at = synced_at "
        "WHERE synced_at IS NOT NULL AND complete_at IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("mirror_state", schema=None) as batch_op:
        batch_op.drop_column("first_copy_estimate")
        batch_op.drop_column("first_copy_rows")
        batch_op.drop_column("pass_key")
        batch_op.drop_column("pass_table")
        batch_op.drop_column("pass_horizon")
        batch_op.drop_column("complete_at")
