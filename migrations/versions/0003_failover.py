"""failover

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 03:42:35.870981
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


MIRRORED = (
    "ledgers",
    "accounts",
    "journals",
    "entries",
    "entry_lines",
    "idempotency_keys",
    "api_keys",
)
# Tables whose rows may be deleted on PostgreSQL; the mirror learns of it from `deletions`.
DELETABLE = ("accounts", "api_keys")


def upgrade() -> None:

    op.create_table(
        "deletions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletions")),
    )
    with op.batch_alter_table("deletions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deletions_txid"), ["txid"], unique=False)

    op.create_table(
        "mirror_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("watermark", sa.BigInteger(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirror_state")),
    )
    op.create_table(
        "replay_journal",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("op_id", sa.Uuid(), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("conflict_type", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replay_journal")),
        sa.UniqueConstraint("op_id", name=op.f("uq_replay_journal_op_id")),
    )
    with op.batch_alter_table("replay_journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_replay_journal_status"), ["status"], unique=False)

    op.create_table(
        "replayed_ops",
        sa.Column("op_id", sa.Uuid(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("op_id", name=op.f("pk_replayed_ops")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_accounts_txid"), ["txid"], unique=False)

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_keys_txid"), ["txid"], unique=False)

    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_entries_txid"), ["txid"], unique=False)

    with op.batch_alter_table("entry_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_entry_lines_txid"), ["txid"], unique=False)

    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_idempotency_keys_txid"), ["txid"], unique=False)

    with op.batch_alter_table("journals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_journals_txid"), ["txid"], unique=False)

    with op.batch_alter_table("ledgers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_ledgers_txid"), ["txid"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION grandlivre_stamp_txid() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.txid := pg_current_xact_id()::text::bigint;
                RETURN NEW;
            END $$
            """
        )
        op.execute(
            """
            CREATE FUNCTION grandlivre_record_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO deletions (table_name, row_id, txid)
                VALUES (TG_TABLE_NAME, OLD.id, pg_current_xact_id()::text::bigint);
                RETURN OLD;
            END $$
            """
        )
        for table in (*MIRRORED, "deletions"):
            op.execute(
                f"CREATE TRIGGER stamp_txid BEFORE INSERT OR UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION grandlivre_stamp_txid()"
            )
        for table in DELETABLE:
            op.execute(
                f"CREATE TRIGGER record_deletion AFTER DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION grandlivre_record_deletion()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in DELETABLE:
            op.execute(f"DROP TRIGGER IF EXISTS record_deletion ON {table}")
        for table in (*MIRRORED, "deletions"):
            op.execute(f"DROP TRIGGER IF EXISTS stamp_txid ON {table}")
        op.execute("DROP FUNCTION IF EXISTS grandlivre_stamp_txid()")
        op.execute("DROP FUNCTION IF EXISTS grandlivre_record_deletion()")

    with op.batch_alter_table("ledgers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledgers_txid"))
        batch_op.drop_column("txid")

    with op.batch_alter_table("journals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journals_txid"))
        batch_op.drop_column("txid")

    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_txid"))
        batch_op.drop_column("txid")

    with op.batch_alter_table("entry_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entry_lines_txid"))
        batch_op.drop_column("txid")

    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entries_txid"))
        batch_op.drop_column("txid")

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_txid"))
        batch_op.drop_column("txid")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_txid"))
        batch_op.drop_column("txid")

    op.drop_table("replayed_ops")
    with op.batch_alter_table("replay_journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replay_journal_status"))

    op.drop_table("replay_journal")
    op.drop_table("mirror_state")
    with op.batch_alter_table("deletions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deletions_txid"))

    op.drop_table("deletions")
