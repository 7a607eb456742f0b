"""drafts: entries that stay editable until validated, deleted drafts followed by the mirror

A draft (status 'draft') is an entry kept out of the books until it is validated: the sealer
leaves it unnumbered and unchained, so the index it finds its work in holds only entries that
are neither sealed nor drafts. On PostgreSQL the period trigger of 0009 also runs when a draft
is validated or re-dated, so that no validation slips past a lock either, and a deleted draft
leaves a row in `deletions` for the mirror to delete it too.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSEALED = "seq IS NULL AND status <> 'draft'"


def upgrade() -> None:
    op.create_index(
        "ix_entries_unsealed",
        "entries",
        ["ledger_id", "txid", "id"],
        postgresql_where=sa.text(UNSEALED),
        sqlite_where=sa.text(UNSEALED),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER check_period_of_draft BEFORE UPDATE OF entry_date, status "
            "ON entries FOR EACH ROW WHEN (OLD.status = 'draft' AND "
            "(NEW.status <> 'draft' OR NEW.entry_date IS DISTINCT FROM OLD.entry_date)) "
            "EXECUTE FUNCTION grandlivre_check_period()"
        )
        op.execute(
            "CREATE TRIGGER record_deletion AFTER DELETE ON entries "
            "FOR EACH ROW EXECUTE FUNCTION grandlivre_record_deletion()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS record_deletion ON entries")
        op.execute("DROP TRIGGER IF EXISTS check_period_of_draft ON entries")
    op.drop_index("ix_entries_unsealed", table_name="entries")
