"""ledger siren: the company's SIREN, which names its FEC file (<SIREN>FEC<AAAAMMJJ>.txt)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 01:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ledgers", sa.Column("siren", sa.String(length=9), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledgers", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("siren")
