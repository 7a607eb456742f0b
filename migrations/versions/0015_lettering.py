"""lettering: matches of an account's lines (the FEC's EcritureLet/DateLet), payment terms

`matches` holds a lettrage of one account (and third party) under a code; `matched_lines` says
which match holds a line, its `match_id` nulled by an unmatch (an update, which the mirror
copies: no row of either table is ever deleted). A code is unique among the live matches of an
account: a partial unique index on both dialects. Third parties gain `payment_terms_days`
(30 by default, the Code de commerce L441-10 default), which dates an invoice's due day for
the aged balance. Both tables are mirrored: on PostgreSQL their rows are stamped with txid.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_MATCH = "unmatched_at IS NULL"
MIRRORED = ("matches", "matched_lines")


def upgrade() -> None:
    op.create_table(
        "matches",
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ledger_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("third_party_id", sa.Uuid(), nullable=True),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("match_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unmatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ledger_id"], ["ledgers.id"], name=op.f("fk_matches_ledger_id_ledgers")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_matches_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["third_party_id"],
            ["third_parties.id"],
            name=op.f("fk_matches_third_party_id_third_parties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matches")),
    )
    op.create_index(op.f("ix_matches_txid"), "matches", ["txid"], unique=False)
    op.create_index(
        "ix_matches_live_code",
        "matches",
        ["account_id", "code"],
        unique=True,
        postgresql_where=sa.text(LIVE_MATCH),
        sqlite_where=sa.text(LIVE_MATCH),
    )
    op.create_index(
        "ix_matches_account_code_order",
        "matches",
        ["account_id", sa.text("length(code)"), "code"],
        unique=False,
    )
    op.create_table(
        "matched_lines",
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("match_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id", "position"],
            ["entry_lines.entry_id", "entry_lines.position"],
            name=op.f("fk_matched_lines_entry_id_entry_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["match_id"], ["matches.id"], name=op.f("fk_matched_lines_match_id_matches")
        ),
        sa.PrimaryKeyConstraint("entry_id", "position", name=op.f("pk_matched_lines")),
    )
    op.create_index(op.f("ix_matched_lines_txid"), "matched_lines", ["txid"], unique=False)
    op.create_index("ix_matched_lines_match_id", "matched_lines", ["match_id"], unique=False)
    op.add_column(
        "third_parties",
        sa.Column("payment_terms_days", sa.SmallInteger(), nullable=False, server_default="30"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in MIRRORED:
            op.execute(
                f"CREATE TRIGGER stamp_txid BEFORE INSERT OR UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION grandlivre_stamp_txid()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in MIRRORED:
            op.execute(f"DROP TRIGGER IF EXISTS stamp_txid ON {table}")
    with op.batch_alter_table("third_parties", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("payment_terms_days")
    op.drop_index("ix_matched_lines_match_id", table_name="matched_lines")
    op.drop_index(op.f("ix_matched_lines_txid"), table_name="matched_lines")
    op.drop_table("matched_lines")
    op.drop_index("ix_matches_account_code_order", table_name="matches")
    op.drop_index("ix_matches_live_code", table_name="matches")
    op.drop_index(op.f("ix_matches_txid"), table_name="matches")
    op.drop_table("matches")
