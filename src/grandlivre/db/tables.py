"""The schema, for both dialects. Alembic migrations are the only way it reaches a database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant on both dialects (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass an aware UTC instant")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with the naming convention migrations rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Mirrored:
    """A table the SQLite mirror copies from PostgreSQL.

    On PostgreSQL a trigger stamps `txid` with the id of the transaction that last wrote the
    row; the mirror copies rows whose txid lies below the oldest transaction still running,
    which are all committed, so a row committed late under an early id is never skipped.
    """

    txid: Mapped[int | None] = mapped_column(BigInteger, index=True, default=None)


class Ledger(Mirrored, Base):
    """A set of books: one company, one currency."""

    __tablename__ = "ledgers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    decimals: Mapped[int] = mapped_column(SmallInteger, doc="Minor units of the currency.")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    third_party_required: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        doc="Whether every line on a collective account must name its third party.",
    )
    siren: Mapped[str | None] = mapped_column(
        String(9), default=None, doc="The company's SIREN, which names its FEC file."
    )


class Account(Mirrored, Base):
    """An account of a ledger's chart; its class is the first digit of its number."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("ledger_id", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    ledger_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledgers.id"))
    number: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    collective: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        doc="A collective account (411, 401, or a 42x-46x so marked): its lines may name "
        "third parties, whose auxiliary accounts it sums.",
    )


class ThirdParty(Mirrored, Base):
    """A customer, supplier or other third party: an auxiliary account of a collective one."""

    __tablename__ = "third_parties"
    __table_args__ = (UniqueConstraint("ledger_id", "code"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, doc="Derived from ledger, code.")
    ledger_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledgers.id"))
    code: Mapped[str] = mapped_column(String(20), doc="The FEC's CompAuxNum.")
    name: Mapped[str] = mapped_column(String(200), doc="The FEC's CompAuxLib.")
    kind: Mapped[str] = mapped_column(String(20), doc="customer, supplier or other.")
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id"), doc="The collective account it is an auxiliary account of."
    )
    siren: Mapped[str | None] = mapped_column(String(9))
    vat_number: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payment_terms_days: Mapped[int] = mapped_column(
        SmallInteger,
        default=30,
        server_default="30",
        doc="Days from an invoice's date to its due date (Code de commerce L441-10: 30).",
    )


class Journal(Mirrored, Base):
    """A journal (AC, VE, BQ, ...): the book an entry is recorded in."""

    __tablename__ = "journals"
    __table_args__ = (UniqueConstraint("ledger_id", "code"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    ledger_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledgers.id"))
    code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FiscalYear(Mirrored, Base):
    """A fiscal year (exercice) of a ledger, named by the calendar year in which it ends.

    The first one runs 6 to 24 months from any day; each later one the 12 months after the
    one before. An entry's date must fall in an open one; the sealer numbers per journal and
    fiscal year. Bounds never change once the year exists.
    """

    __tablename__ = "fiscal_years"
    __table_args__ = (UniqueConstraint("ledger_id", "year"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, doc="Derived from ledger, year.")
    ledger_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledgers.id"))
    year: Mapped[int] = mapped_column(SmallInteger, doc="The calendar year of `end_date`.")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), doc="open or closed.")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class FiscalPeriod(Mirrored, Base):
    """A monthly period of a fiscal year; a locked one refuses new entries.

    One row per calendar month the year touches, made with the year, so that locking and
    unlocking update a row (which the mirror copies) and never delete one.
    """

    __tablename__ = "fiscal_periods"
    __table_args__ = (UniqueConstraint("ledger_id", "month"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, doc="Derived from ledger, month.")
    ledger_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledgers.id"))
    fiscal_year_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fiscal_years.id"))
    month: Mapped[date] = mapped_column(Date, doc="The first day of the calendar month.")
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


UNSEALED = "seq IS NULL AND status <> 'draft'"


class Entry(Mirrored, Base):
    """A journal entry. Never updated once validated, but sealed once (seq, number, hash).

    A draft (status 'draft') is edited, deleted or validated; it is never sealed. The sealer
    (entry/sealer.py) fills the seal columns of committed, validated entries, in commit order;
    they stay null until then, and on the SQLite fallback until the entry is replayed.
    """

    __tablename__ = "entries"
    __table_args__ = (
        Index("ix_entries_ledger_date_id", "ledger_id", "entry_date", "id"),
        Index("ix_entries_ledger_seq", "ledger_id", "seq", unique=True),
        Index("ix_entries_journal_year_number", "journal_id", "fiscal_year", "number", unique=True),
        # The mirror's and the sealer's keyset order: a range scan from the last key copied.
        Index("ix_entries_txid_id", "txid", "id"),
        # The sealer's work: entries neither sealed nor drafts (a draft is never sealed).
        Index(
            "ix_entries_unsealed",
            "ledger_id",
            "txid",
            "id",
            postgresql_where=text(UNSEALED),
            sqlite_where=text(UNSEALED),
        ),
    )

    txid: Mapped[int | None] = mapped_column(BigInteger, default=None)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, doc="UUIDv7 from the service.")
    ledger_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledgers.id"))
    journal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("journals.id"))
    entry_date: Mapped[date] = mapped_column(Date)
    document_date: Mapped[date] = mapped_column(
        Date, doc="The date of the document behind it (the FEC's PieceDate)."
    )
    label: Mapped[str] = mapped_column(String(500))
    reference: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    validated_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, doc="When it became permanent (the FEC's ValidDate)."
    )
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("entries.id"),
        unique=True,
        doc="The entry this one reverses; unique, so an entry is reversed at most once.",
    )
    seq: Mapped[int | None] = mapped_column(
        BigInteger, doc="Gapless position in the ledger, in commit order; null until sealed."
    )
    fiscal_year: Mapped[int | None] = mapped_column(
        SmallInteger, doc="The fiscal year the date falls in, which `number` counts in."
    )
    number: Mapped[int | None] = mapped_column(
        Integer, doc="Gapless per journal and fiscal year: the FEC's EcritureNum."
    )
    hash: Mapped[str | None] = mapped_column(
        String(64), doc="SHA-256 hex of the canonical form and the previous entry's hash."
    )
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    role: Mapped[str | None] = mapped_column(
        String(20),
        default=None,
        doc="What a year's closing wrote: closing (zeroing classes 6 and 7), opening "
        "(à-nouveaux), or a reversal of one by a reopening; null for every other entry.",
    )
    seal_version: Mapped[int | None] = mapped_column(
        SmallInteger, doc="The canonical form its hash covers (docs/audit.md); null until sealed."
    )


class EntryLine(Mirrored, Base):
    """One line of an entry: signed minor units, debit positive and credit negative."""

    __tablename__ = "entry_lines"
    __table_args__ = (
        Index("ix_entry_lines_account_entry", "account_id", "entry_id"),
        Index("ix_entry_lines_third_party_entry", "third_party_id", "entry_id"),
    )

    # Stamped like every mirrored row, but never searched by: lines travel with their entry.
    txid: Mapped[int | None] = mapped_column(BigInteger, default=None)

    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[int] = mapped_column(
        BigInteger, doc="Signed minor units of the ledger currency: debit > 0, credit < 0."
    )
    label: Mapped[str | None] = mapped_column(String(500))
    third_party_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("third_parties.id"),
        default=None,
        doc="Its third party, on a collective account.",
    )


class AccountDayTotal(Base):
    """Debits and credits of one account on one day, over its **sealed** entries only.

    The trial balance and balances read these instead of every line: one row per account and
    day whatever the number of entries (db/rollup.py). Whoever seals an entry folds it in, in
    the same transaction: the sealer on the database of record, the mirror in the SQLite
    fallback (which keeps its own, so it is not mirrored). Unsealed entries are summed from
    their lines at read time; `seq IS NULL` tells the two parts apart.
    """

    __tablename__ = "account_day_totals"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    debit: Mapped[int] = mapped_column(BigInteger, doc="Sum of the positive amounts.")
    credit: Mapped[int] = mapped_column(BigInteger, doc="Sum of the negated negative amounts.")
    lines: Mapped[int] = mapped_column(Integer, doc="Lines folded in; the row goes at zero.")


class IdempotencyKey(Mirrored, Base):
    """The first response given to an Idempotency-Key, replayed to every retry of it."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_txid_scope_key", "txid", "scope", "key"),)

    txid: Mapped[int | None] = mapped_column(BigInteger, default=None)

    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), doc="SHA-256 of method, path and body.")
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiKey(Mirrored, Base):
    """An API key. Only a hash of the key is kept; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), doc="viewer, accountant or admin.")
    prefix: Mapped[str] = mapped_column(String(16), doc="First characters, to recognise a key.")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, doc="SHA-256 of the key.")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Deletion(Base):
    """A row deleted on PostgreSQL, for the mirror to delete too (stamped like Mirrored)."""

    __tablename__ = "deletions"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    txid: Mapped[int | None] = mapped_column(BigInteger, index=True, default=None)


class ReplayJournal(Base):
    """A write accepted on the SQLite fallback, waiting to be replayed on PostgreSQL.

    Written in the same SQLite transaction as the write itself; its autoincrement id is the
    order the writes were committed in, because SQLite has one writer at a time.
    """

    __tablename__ = "replay_journal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    op_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, doc="Dedupes replays.")
    operation: Mapped[str] = mapped_column(String(64))
    args: Mapped[str] = mapped_column(Text, doc="JSON arguments of the operation.")
    status: Mapped[str] = mapped_column(
        String(20), index=True, doc="pending, applied, duplicate, conflict or discarded."
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    conflict_type: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(Text)


class ReplayedOp(Base):
    """On PostgreSQL: the journal rows already applied, so that no replay applies one twice."""

    __tablename__ = "replayed_ops"

    op_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MirrorState(Base):
    """On SQLite: how far the mirror has copied PostgreSQL."""

    __tablename__ = "mirror_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200), doc="Which PostgreSQL database is copied.")
    watermark: Mapped[int] = mapped_column(BigInteger, doc="Every txid below it is copied.")
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    complete_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, default=None, doc="When the first full copy of `source` ended (None: never)."
    )
    pass_horizon: Mapped[int | None] = mapped_column(
        BigInteger, default=None, doc="Upper txid bound of the pass under way (None: none is)."
    )
    pass_table: Mapped[str | None] = mapped_column(
        String(64), default=None, doc="Table the pass under way copies now."
    )
    pass_key: Mapped[str | None] = mapped_column(
        Text, default=None, doc="JSON [txid, *primary key] of the last row the pass copied."
    )
    first_copy_rows: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", doc="Rows copied so far by the first full copy."
    )
    first_copy_estimate: Mapped[int | None] = mapped_column(
        BigInteger, default=None, doc="PostgreSQL's estimate of the rows the first copy copies."
    )


class FallbackGate(Base):
    """On SQLite: the write gate that the hand-over to primary closes for a whole replica.

    One row (id 1). While `closed_until` lies ahead, no fallback write commits: each reads the
    row inside its own write transaction, and SQLite has one writer at a time, so none slips
    past a closing. The journal can then only shrink, and every process of the replica may
    switch to primary once it is empty. The bound frees the writers if the process that
    closed the gate dies meanwhile.
    """

    __tablename__ = "fallback_gate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    closed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


LIVE_MATCH = "unmatched_at IS NULL"


class Match(Mirrored, Base):
    """A lettrage: lines of one account (and third party) that sum to zero, under a code.

    Metadata on lines, never a change to an entry or its hash: the FEC's EcritureLet (`code`)
    and DateLet (`match_date`). An unmatch sets `unmatched_at` and keeps the row as history;
    a code is unique among the live matches of an account.
    """

    __tablename__ = "matches"
    __table_args__ = (
        Index(
            "ix_matches_live_code",
            "account_id",
            "code",
            unique=True,
            postgresql_where=text(LIVE_MATCH),
            sqlite_where=text(LIVE_MATCH),
        ),
        # Codes in their sequence's order (A..Z, AA..): the account's last one, a page of them.
        Index("ix_matches_account_code_order", "account_id", text("length(code)"), "code"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, doc="From the id factory.")
    ledger_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledgers.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    third_party_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("third_parties.id"), default=None, doc="The third party of all its lines."
    )
    code: Mapped[str] = mapped_column(String(8), doc="The FEC's EcritureLet: A..Z, AA..ZZ, ...")
    match_date: Mapped[date] = mapped_column(Date, doc="The FEC's DateLet.")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unmatched_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, default=None, doc="When it was unmatched; null while it holds its lines."
    )


class MatchedLine(Mirrored, Base):
    """Which match holds a line: `match_id` null once unmatched (updated, never deleted).

    A line is matched when its row names a match, which is then live: an unmatch nulls the
    lines of its match in the same transaction.
    """

    __tablename__ = "matched_lines"
    __table_args__ = (
        ForeignKeyConstraint(
            ["entry_id", "position"], ["entry_lines.entry_id", "entry_lines.position"]
        ),
        Index("ix_matched_lines_match_id", "match_id"),
    )

    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    match_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("matches.id"), default=None)
