"""keyset indexes: (txid, primary key) where the mirror and the sealer page, none on lines

The mirror copies, and the sealer seals, in (txid, primary key) order from the last key seen.
With an index on txid alone PostgreSQL sorted every row above that key for each chunk (half a
second per chunk at 1,000,000 entries); on (txid, id) it is a range scan. Lines are never
searched by txid (they travel with their entry), so their txid index only slowed every posting.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_entries_txid_id", "entries", ["txid", "id"])
    op.drop_index("ix_entries_txid", table_name="entries")
    op.create_index(
        "ix_idempotency_keys_txid_scope_key", "idempotency_keys", ["txid", "scope", "key"]
    )
    op.drop_index("ix_idempotency_keys_txid", table_name="idempotency_keys")
    op.drop_index("ix_entry_lines_txid", table_name="entry_lines")


def downgrade() -> None:
    op.create_index("ix_entry_lines_txid", "entry_lines", ["txid"])
    op.create_index("ix_idempotency_keys_txid", "idempotency_keys", ["txid"])
    op.drop_index("ix_idempotency_keys_txid_scope_key", table_name="idempotency_keys")
    op.create_index("ix_entries_txid", "entries", ["txid"])
    op.drop_index("ix_entries_txid_id", table_name="entries")
