"""seal_version: which canonical form an entry's hash covers

Version 1 covered the ledger, seq, journal, number, date, label, reference, the lines (account,
amount, label) and the reversed entry. Version 2 adds what else the FEC exports: the fiscal
year, the document date, the validation instant and each line's third party (docs/audit.md).
Entries sealed so far keep version 1, so that their chain still verifies as it was sealed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 23:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("entries", sa.Column("seal_version", sa.SmallInteger(), nullable=True))
    op.execute("UPDATE entries SET seal_version = 1 WHERE seq IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("entries", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("seal_version")
