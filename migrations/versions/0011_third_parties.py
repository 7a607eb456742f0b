"""third parties: auxiliary accounts of collective accounts, named by entry lines

Accounts gain `collective` (set for every 401 and 411 account that exists: suppliers and
customers), ledgers `third_party_required`, and entry lines the third party they name. Columns
are added in place on SQLite (ALTER TABLE ADD COLUMN): a rebuild would drop tables that others
reference.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "third_parties",
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ledger_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=True),
        sa.Column("vat_number", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ledger_id"], ["ledgers.id"], name=op.f("fk_third_parties_ledger_id_ledgers")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_third_parties_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_third_parties")),
        sa.UniqueConstraint("ledger_id", "code", name=op.f("uq_third_parties_ledger_id_code")),
    )
    op.create_index(op.f("ix_third_parties_txid"), "third_parties", ["txid"], unique=False)
    false = sa.text("false")
    op.add_column(
        "accounts", sa.Column("collective", sa.Boolean(), nullable=False, server_default=false)
    )
    op.add_column(
        "ledgers",
        sa.Column("third_party_required", sa.Boolean(), nullable=False, server_default=false),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("entry_lines", sa.Column("third_party_id", sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f("fk_entry_lines_third_party_id_third_parties"),
            "entry_lines",
            "third_parties",
            ["third_party_id"],
            ["id"],
        )
    else:
        # SQLite adds a column with its reference inline, and no constraint afterwards.
        op.execute(
            "ALTER TABLE entry_lines ADD COLUMN third_party_id CHAR(32) "
            "REFERENCES third_parties (id)"
        )
    op.create_index(
        "ix_entry_lines_third_party_entry", "entry_lines", ["third_party_id", "entry_id"]
    )
    op.execute(
        "UPDATE accounts SET collective = true WHERE number LIKE '401%' OR number LIKE '411%'"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER stamp_txid BEFORE INSERT OR UPDATE ON third_parties "
            "FOR EACH ROW EXECUTE FUNCTION grandlivre_stamp_txid()"
        )


def downgrade() -> None:
    op.drop_index("ix_entry_lines_third_party_entry", table_name="entry_lines")
    with op.batch_alter_table("entry_lines", schema=None, recreate="never") as batch_op:
        if op.get_bind().dialect.name == "postgresql":
            batch_op.drop_constraint(
                op.f("fk_entry_lines_third_party_id_third_parties"), type_="foreignkey"
            )
        batch_op.drop_column("third_party_id")
    with op.batch_alter_table("ledgers", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("third_party_required")
    with op.batch_alter_table("accounts", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("collective")
    op.drop_index(op.f("ix_third_parties_txid"), table_name="third_parties")
    op.drop_table("third_parties")
