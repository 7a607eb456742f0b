"""`make bench-load`: seed BENCH_ENTRIES entries (1,000,000) of 3 lines into DATABASE_URL, fast.

The data set of issue 8's figures at scale: a year of books (BENCH_YEAR, by default the last
full calendar year) in the seeded ledger (SEED_LEDGER, `main`), a mix of sales (VE), purchases
(AC), customer receipts net of bank fees (BQ), cash sales (CA) and payroll (OD), on a dozen
accounts, with amounts drawn from a seeded generator (BENCH_SEED), so two loads are alike.

Entries are written **sealed**, as the sealer (grandlivre/entry/sealer.py) would seal them:
`seq` continues the ledger's chain in date order, `number` counts per journal and fiscal year,
and `hash` chains each entry's canonical form (the sealer's own `CanonicalEntry`) to the one
before, from the ledger's last seal. Leaving the seal null would hand the service a backlog of
a million entries to seal in batches of 500, minutes of work in the background of whatever is
measured next; written sealed, the service finds a ledger it could have built itself, and
`grandlivre verify` proves the chain. The sealer's advisory lock on the ledger is held during
the load, so no sealer of a running service interleaves; a ledger with entries not sealed yet
is refused (they would have to take seqs before ours).

Rows go in with COPY (asyncpg `copy_records_to_table`), one transaction per chunk of
BENCH_CHUNK entries (20,000): an interrupted load keeps whole chunks, and its chain stays
valid, so running it again appends after them. The next chunk is computed in a thread while
PostgreSQL takes the previous one. Indexes and constraints other than foreign keys stay on.

Triggers cost most of a COPY here (a PL/pgSQL `stamp_txid` per row, and two or three foreign
key checks per row, each a query). When the only triggers on `entries` and `entry_lines` are
the schema's own (`stamp_txid` and the foreign keys) and the role may set
`session_replication_role`, a chunk is copied with triggers off and does their work itself:
it writes `txid` = the id of its own transaction (what `stamp_txid` writes, so the mirror
copies these rows like the service's own) and takes FOR KEY SHARE on the ledger, journals and
accounts it references (what each foreign key check takes, so none can be deleted under it);
the entry ids it references are its own. Any other trigger (a balance kept by one, say) means
triggers stay on, and the load says so. Each chunk folds its lines into the day totals
(`account_day_totals`) in its transaction, as the sealer does when it seals.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy.engine import make_url

from grandlivre.entry.repository import SEALER_LOCK_CLASS
from grandlivre.entry.sealer import GENESIS, CanonicalEntry

ENTRIES = int(os.environ.get("BENCH_ENTRIES", "1000000"))
CHUNK = int(os.environ.get("BENCH_CHUNK", "20000"))
YEAR = int(os.environ.get("BENCH_YEAR", str(date.today().year - 1)))
SEED = int(os.environ.get("BENCH_SEED", "8"))
LEDGER = os.environ.get("SEED_LEDGER", "main")

ENTRY_COLUMNS = (
    "id",
    "ledger_id",
    "journal_id",
    "entry_date",
    "document_date",
    "label",
    "reference",
    "status",
    "origin",
    "created_at",
    "validated_at",
    "seq",
    "fiscal_year",
    "number",
    "hash",
    "sealed_at",
    "seal_version",
)
LINE_COLUMNS = ("entry_id", "position", "account_id", "amount", "label")

Line = tuple[str, int, str | None]  # account number, signed minor units, label
Draft = tuple[str, str, str, tuple[Line, Line, Line]]  # journal, label, reference, lines

REVENUE = ("706000", "707000")
EXPENSES = ("601000", "606100", "607000", "613200", "622600", "625100", "626000")


def _vat(rng: random.Random) -> tuple[int, int, int]:
    """A net amount of 10.00 to 5,000.00, its 20 % VAT and the gross."""
    net = rng.randint(1_000, 500_000)
    vat = (net * 20 + 50) // 100
    return net, vat, net + vat


def sale(rng: random.Random, n: int) -> Draft:
    """An invoice to a customer (VE)."""
    net, vat, gross = _vat(rng)
    ref = f"F-{YEAR}-{n:07d}"
    customer = f"Client {rng.randint(1, 2_000):04d}"
    revenue = rng.choice(REVENUE)
    return (
        "VE",
        f"Facture {ref}",
        ref,
        (("411000", gross, customer), (revenue, -net, None), ("445710", -vat, None)),
    )


def purchase(rng: random.Random, n: int) -> Draft:
    """A supplier's invoice (AC)."""
    net, vat, gross = _vat(rng)
    ref = f"FA-{YEAR}-{n:07d}"
    supplier = f"Fournisseur {rng.randint(1, 300):04d}"
    expense = rng.choice(EXPENSES)
    return (
        "AC",
        f"Facture fournisseur {ref}",
        ref,
        ((expense, net, None), ("445660", vat, None), ("401000", -gross, supplier)),
    )


def receipt(rng: random.Random, n: int) -> Draft:
    """A customer's payment reaching the bank, less a 1 % card fee (BQ)."""
    gross = rng.randint(1_000, 600_000)
    fee = gross // 100
    customer = f"Client {rng.randint(1, 2_000):04d}"
    return (
        "BQ",
        f"Règlement {customer}",
        f"VIR-{YEAR}-{n:07d}",
        (
            ("512000", gross - fee, None),
            ("627000", fee, "Commission"),
            ("411000", -gross, customer),
        ),
    )


def cash_sale(rng: random.Random, n: int) -> Draft:
    """A sale paid at the till (CA)."""
    net, vat, gross = _vat(rng)
    return (
        "CA",
        "Vente comptant",
        f"T-{YEAR}-{n:07d}",
        (("530000", gross, None), ("707000", -net, None), ("445710", -vat, None)),
    )


def payroll(rng: random.Random, n: int) -> Draft:
    """A salary: gross pay, net due to the employee, social charges (OD)."""
    gross = rng.randint(150_000, 600_000)
    social = gross * 22 // 100
    employee = f"Salarié {rng.randint(1, 40):03d}"
    return (
        "OD",
        f"Salaire {employee}",
        f"PAIE-{YEAR}-{n:07d}",
        (
            ("641000", gross, employee),
            ("421000", -(gross - social), employee),
            ("431000", -social, None),
        ),
    )


KINDS: tuple[Callable[[random.Random, int], Draft], ...] = (
    sale,
    purchase,
    receipt,
    cash_sale,
    payroll,
)
WEIGHTS = (35, 30, 20, 10, 5)
ACCOUNTS = sorted(
    {
        "401000",
        "411000",
        "421000",
        "431000",
        "445660",
        "445710",
        "512000",
        "530000",
        "627000",
        "641000",
    }
    | set(REVENUE)
    | set(EXPENSES)
)
JOURNALS = ("VE", "AC", "BQ", "CA", "OD")


@dataclass(frozen=True)
class Books:
    """What the load needs of the ledger."""

    ledger_id: uuid.UUID
    code: str
    journals: dict[str, uuid.UUID]
    accounts: dict[str, uuid.UUID]
    years: list[tuple[int, date, date]]  # the open fiscal years: (name, first day, last day)

    def year_of(self, day: date) -> int:
        """The fiscal year an entry dated `day` is numbered in."""
        return next(year for year, start, end in self.years if start <= day <= end)


@dataclass
class Chain:
    """Where the ledger's seals stand: the next entry continues from here."""

    seq: int
    previous: str
    numbers: dict[tuple[uuid.UUID, int], int]


class Generator:
    """Makes the entries, sealed, in chunks, continuing one chain."""

    def __init__(self, books: Books, chain: Chain, total: int, now: datetime) -> None:
        self.books = books
        self.chain = chain
        self.total = total
        self.now = now
        self.rng = random.Random(SEED + chain.seq)
        self.start = datetime(YEAR, 1, 1, tzinfo=UTC)
        self.span = (datetime(YEAR + 1, 1, 1, tzinfo=UTC) - self.start).total_seconds()
        self.made = 0

    def _uuid7(self, instant: datetime) -> uuid.UUID:
        millis = int(instant.timestamp() * 1000)
        value = (millis & (2**48 - 1)) << 80 | 0x7 << 76 | self.rng.getrandbits(12) << 64
        return uuid.UUID(int=value | 0b10 << 62 | self.rng.getrandbits(62))

    def chunk(self, size: int) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        """Make the next `size` entries; return their entry and line records."""
        books, chain = self.books, self.chain
        entries: list[tuple[object, ...]] = []
        lines: list[tuple[object, ...]] = []
        for _ in range(size):
            # Spread over the year in order, as books are kept: seq follows the dates.
            created = self.start + timedelta(seconds=self.span * self.made / self.total)
            day = created.date()
            self.made += 1
            kind = self.rng.choices(KINDS, WEIGHTS)[0]
            journal, label, reference, drafted = kind(self.rng, self.made)
            journal_id = books.journals[journal]
            year = books.year_of(day)
            number = chain.numbers[journal_id, year] = chain.numbers.get((journal_id, year), 0) + 1
            chain.seq += 1
            canonical = CanonicalEntry(
                ledger=books.code,
                seq=chain.seq,
                journal=journal,
                number=number,
                date=day,
                label=label,
                reference=reference,
                lines=tuple(
                    (account, amount, line_label, None) for account, amount, line_label in drafted
                ),
                reverses=None,
                fiscal_year=year,
                document_date=day,
                validated_at=created,
            )
            chain.previous = canonical.digest(chain.previous)
            entry_id = self._uuid7(created)
            entries.append(
                (
                    entry_id,
                    books.ledger_id,
                    journal_id,
                    day,
                    day,
                    label,
                    reference,
                    "posted",
                    "primary",
                    created,
                    created,
                    chain.seq,
                    year,
                    number,
                    chain.previous,
                    self.now,
                    canonical.version,
                )
            )
            lines.extend(
                (entry_id, position, books.accounts[account], amount, line_label)
                for position, (account, amount, line_label) in enumerate(drafted)
            )
        return entries, lines


def asyncpg_dsn(url: str) -> str:
    """The asyncpg DSN of a Grand Livre DATABASE_URL (postgresql+asyncpg://...)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise SystemExit(
            f"bench-load needs DATABASE_URL=postgresql+asyncpg://...; got {parsed.drivername}"
        )
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def seed(url: str) -> None:
    """Run `grandlivre seed`: the migrations, the ledger and its chart."""
    command = Path(sys.executable).with_name("grandlivre")
    with tempfile.TemporaryDirectory(prefix="gl-bench-load-") as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "FALLBACK_DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'fallback.db'}",
            # The ledger's first fiscal year is the calendar year the load fills.
            "SEED_FISCAL_YEAR_START": f"{YEAR}-01-01",
        }
        done = subprocess.run(
            [str(command), "seed"],
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"grandlivre seed failed:\n{done.stderr[-3000:]}")


async def ledger_row(conn: asyncpg.Connection) -> asyncpg.Record | None:
    """The seeded ledger, or None when the schema or the ledger is missing."""
    if await conn.fetchval("SELECT to_regclass('ledgers')") is None:
        return None
    return await conn.fetchrow("SELECT id, code FROM ledgers WHERE code = $1", LEDGER)


async def read_books(conn: asyncpg.Connection, ledger: asyncpg.Record) -> Books:
    """The ledger's journals and the accounts the load posts to; refuse if any is missing."""
    journals = dict(
        await conn.fetch(
            "SELECT code, id FROM journals WHERE ledger_id = $1 AND code = ANY($2)",
            ledger["id"],
            list(JOURNALS),
        )
    )
    accounts = dict(
        await conn.fetch(
            "SELECT number, id FROM accounts WHERE ledger_id = $1 AND active AND number = ANY($2)",
            ledger["id"],
            ACCOUNTS,
        )
    )
    missing = sorted(set(JOURNALS) - journals.keys()) + sorted(set(ACCOUNTS) - accounts.keys())
    if missing:
        raise SystemExit(f"ledger {LEDGER!r} lacks (or has inactive) {', '.join(missing)}")
    years = [
        (row["year"], row["start_date"], row["end_date"])
        for row in await conn.fetch(
            "SELECT year, start_date, end_date FROM fiscal_years "
            "WHERE ledger_id = $1 AND status = 'open' ORDER BY year",
            ledger["id"],
        )
    ]
    books = Books(ledger["id"], ledger["code"], journals, accounts, years)
    try:
        books.year_of(date(YEAR, 1, 1)), books.year_of(date(YEAR, 12, 31))
    except StopIteration:
        raise SystemExit(
            f"ledger {LEDGER!r} has no open fiscal year for every day of {YEAR}: open them "
            "(POST .../fiscal-years) or load another BENCH_YEAR"
        ) from None
    return books


async def read_chain(conn: asyncpg.Connection, ledger_id: uuid.UUID) -> Chain:
    """Where the ledger's chain and numbering stand now."""
    last = await conn.fetchrow(
        "SELECT seq, hash FROM entries WHERE ledger_id = $1 AND seq IS NOT NULL "
        "ORDER BY seq DESC LIMIT 1",
        ledger_id,
    )
    numbers = await conn.fetch(
        "SELECT journal_id, fiscal_year, max(number) FROM entries "
        "WHERE ledger_id = $1 AND number IS NOT NULL GROUP BY journal_id, fiscal_year",
        ledger_id,
    )
    return Chain(
        seq=last["seq"] if last else 0,
        previous=last["hash"] if last else GENESIS,
        numbers={(row[0], row[1]): row[2] for row in numbers},
    )


async def triggers_can_be_skipped(conn: asyncpg.Connection) -> str | None:
    """Return why chunks must be copied with triggers on, or None when they need not be."""
    triggers = await conn.fetch(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
        "WHERE tgrelid IN ('entries'::regclass, 'entry_lines'::regclass) AND NOT tgisinternal"
    )
    unknown = sorted(f"{table}.{name}" for table, name in triggers if name != "stamp_txid")
    if unknown:
        return f"triggers on, for {', '.join(unknown)}"
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
    except asyncpg.InsufficientPrivilegeError:
        return "triggers on: this role may not set session_replication_role"
    return None


# What the sealer does in the transaction that seals (grandlivre/db/rollup.py `fold`): add the
# chunk's lines to the day totals the reports read for sealed entries.
FOLD_SQL = (
    "INSERT INTO account_day_totals (account_id, day, debit, credit, lines) "
    "SELECT l.account_id, e.entry_date, "
    "sum(CASE WHEN l.amount > 0 THEN l.amount ELSE 0 END), "
    "sum(CASE WHEN l.amount < 0 THEN -l.amount ELSE 0 END), count(*) "
    "FROM entry_lines l JOIN entries e ON e.id = l.entry_id WHERE e.id = ANY($1::uuid[]) "
    "GROUP BY l.account_id, e.entry_date ON CONFLICT (account_id, day) DO UPDATE SET "
    "debit = account_day_totals.debit + EXCLUDED.debit, "
    "credit = account_day_totals.credit + EXCLUDED.credit, "
    "lines = account_day_totals.lines + EXCLUDED.lines"
)


async def copy_chunk(
    conn: asyncpg.Connection,
    books: Books,
    records: tuple[list[tuple[object, ...]], list[tuple[object, ...]]],
    *,
    skip_triggers: bool,
) -> None:
    """COPY one chunk of entries and their lines, in one transaction."""
    entries, lines = records
    async with conn.transaction():
        if not skip_triggers:
            await conn.copy_records_to_table("entries", records=entries, columns=ENTRY_COLUMNS)
            await conn.copy_records_to_table("entry_lines", records=lines, columns=LINE_COLUMNS)
            await conn.execute(FOLD_SQL, [row[0] for row in entries])
            return
        await conn.execute("SET LOCAL session_replication_role = replica")
        # What the foreign key checks would lock, and what stamp_txid would write.
        await conn.execute("SELECT 1 FROM ledgers WHERE id = $1 FOR KEY SHARE", books.ledger_id)
        await conn.execute(
            "SELECT 1 FROM journals WHERE id = ANY($1) FOR KEY SHARE", list(books.journals.values())
        )
        await conn.execute(
            "SELECT 1 FROM accounts WHERE id = ANY($1) FOR KEY SHARE", list(books.accounts.values())
        )
        txid = await conn.fetchval("SELECT pg_current_xact_id()::text::bigint")
        await conn.copy_records_to_table(
            "entries", records=[(*row, txid) for row in entries], columns=(*ENTRY_COLUMNS, "txid")
        )
        await conn.copy_records_to_table(
            "entry_lines", records=[(*row, txid) for row in lines], columns=(*LINE_COLUMNS, "txid")
        )
        await conn.execute(FOLD_SQL, [row[0] for row in entries])


async def load(url: str, console: Console) -> None:
    """Seed the ledger if needed, then COPY the entries in chunks behind a progress bar."""
    dsn = asyncpg_dsn(url)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        ledger = await ledger_row(conn)
        if ledger is None:
            await conn.close()
            console.print(f"no ledger {LEDGER!r} yet: running `grandlivre seed`")
            seed(url)
            conn = await asyncpg.connect(dsn, timeout=10)
            ledger = await ledger_row(conn)
            assert ledger is not None
        books = await read_books(conn, ledger)
        # The sealer's lock, for the whole load: a running service's sealer waits or skips.
        await conn.execute(
            "SELECT pg_advisory_lock($1, hashtext($2))", SEALER_LOCK_CLASS, str(books.ledger_id)
        )
        pending = await conn.fetchval(
            "SELECT count(*) FROM entries WHERE ledger_id = $1 AND seq IS NULL", books.ledger_id
        )
        if pending:
            raise SystemExit(
                f"ledger {LEDGER!r} has {pending} entries not sealed yet: let the service seal "
                "them (grandlivre serve) before loading, so the chain keeps commit order"
            )
        chain = await read_chain(conn, books.ledger_id)
        triggers_on = await triggers_can_be_skipped(conn)
        console.print(
            f"loading {ENTRIES:,} entries of {YEAR} after seq {chain.seq:,}, chunks of {CHUNK:,}; "
            + (triggers_on or "triggers off, their work done by the load")
        )
        generator = Generator(books, chain, ENTRIES, datetime.now(UTC))
        first_seq = chain.seq + 1
        started = time.perf_counter()
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>8,.0f} entries/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"entries into {LEDGER!r}", total=ENTRIES, rate=0.0)
            sizes = [min(CHUNK, ENTRIES - done) for done in range(0, ENTRIES, CHUNK)]
            loaded = 0
            pending_chunk = asyncio.create_task(asyncio.to_thread(generator.chunk, sizes[0]))
            for index, size in enumerate(sizes):
                records = await pending_chunk
                if index + 1 < len(sizes):
                    pending_chunk = asyncio.create_task(
                        asyncio.to_thread(generator.chunk, sizes[index + 1])
                    )
                await copy_chunk(conn, books, records, skip_triggers=triggers_on is None)
                loaded += size
                progress.update(
                    task, completed=loaded, rate=loaded / (time.perf_counter() - started)
                )
        copied = time.perf_counter() - started
        await conn.execute(
            "SELECT pg_advisory_unlock($1, hashtext($2))", SEALER_LOCK_CLASS, str(books.ledger_id)
        )
        analyse_started = time.perf_counter()
        await conn.execute("ANALYZE entries, entry_lines")
        analysed = time.perf_counter() - analyse_started
        console.print(
            f"loaded {ENTRIES:,} entries ({3 * ENTRIES:,} lines), sealed as seq {first_seq:,} to "
            f"{chain.seq:,}, in {copied:.1f} s = {ENTRIES / copied:,.0f} entries/s "
            f"(+ ANALYZE {analysed:.1f} s); `grandlivre verify` checks the chain"
        )
    finally:
        await conn.close()


def main(console: Console | None = None) -> None:
    """Load into DATABASE_URL."""
    console = console or Console()
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL=postgresql+asyncpg://user@host:port/database")
    if ENTRIES < 1 or CHUNK < 1:
        raise SystemExit("BENCH_ENTRIES and BENCH_CHUNK must be at least 1")
    asyncio.run(load(url, console))


if __name__ == "__main__":
    main()
