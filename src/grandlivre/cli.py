"""The `grandlivre` command: serve, migrate, seed, keys, status, replay, verify, export,
import, config.

Every command that touches the books goes through the same store as the server: with
PostgreSQL unreachable, `keys create` is accepted on the fallback and replayed later.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from grandlivre.app import build_store, preparer
from grandlivre.auth import service as auth_service
from grandlivre.auth.operations import IssueKey, RevokeKey
from grandlivre.auth.service import Role
from grandlivre.clock import SystemClock, UUID7Factory
from grandlivre.config import Settings, get_settings
from grandlivre.db.migrate import upgrade_to_head
from grandlivre.entry import sealer
from grandlivre.errors import DomainError
from grandlivre.exchange import importer
from grandlivre.exchange import service as exchange_service
from grandlivre.exchange.fec import Encoding, FecFormat, fec_filename
from grandlivre.exchange.fec_import import decode
from grandlivre.exchange.operations import ImportCsv, ImportFec, run_import
from grandlivre.ops import security, server
from grandlivre.ops.logging import configure_logging
from grandlivre.ops.metrics import MULTIPROC_ENV
from grandlivre.params import check_range
from grandlivre.schemas import Day
from grandlivre.store import ConflictAction, Mode, Store, journal

app = typer.Typer(help="Grand Livre: double-entry bookkeeping on the PCG.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
replay_app = typer.Typer(help="The replay journal of writes taken on the fallback.")
app.add_typer(keys_app, name="keys")
app.add_typer(replay_app, name="replay")
export_app = typer.Typer(
    help="Write the books as a FEC, Beancount or CSV file.", no_args_is_help=True
)
import_app = typer.Typer(help="Read a FEC or CSV file into a ledger.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")
console = Console()
err = Console(stderr=True)
_DAY: TypeAdapter[date] = TypeAdapter(Day)
T = TypeVar("T")


def _quiet_settings() -> Settings:
    """Settings for one-shot commands: warnings and up, logged to stderr so stdout stays clean."""
    settings = get_settings()
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}), stream=sys.stderr)
    return settings


def _with_store(fn: Callable[[Store], Awaitable[T]]) -> T:
    """Open the store as the server would (falling back if PostgreSQL is away) and run `fn`."""
    settings = _quiet_settings()

    async def run() -> T:
        clock = SystemClock()
        store = build_store(settings, clock=clock, ids=UUID7Factory())
        await store.open(preparer(settings, clock), background=False)
        try:
            return await fn(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except DomainError as exc:
        _fail(exc)
        raise AssertionError("unreachable") from exc  # pragma: no cover


def _fail(exc: DomainError) -> None:
    """Print a refusal on stderr (each offending line of a refused import) and exit 1."""
    err.print(f"[red]{exc.title}: {exc.detail}[/red]")
    for problem in exc.extra.get("problems", []):
        if isinstance(problem, dict) and "line" in problem:
            err.print(f"line {problem['line']}: {problem['reason']}")
    raise typer.Exit(1) from exc


@app.command()
def migrate() -> None:
    """Apply database migrations up to the newest schema."""
    settings = _quiet_settings()

    async def run() -> None:
        store = build_store(settings, clock=SystemClock(), ids=UUID7Factory())
        try:
            await upgrade_to_head(store.engine)
        finally:
            await store.close()

    asyncio.run(run())
    console.print("[green]database is at the newest schema[/green]")


@app.command()
def seed() -> None:
    """Migrate, then create the default ledger with the PCG chart if it is missing."""

    async def noop(store: Store) -> str:
        return store.mode.value

    mode = _with_store(noop)
    console.print(f"[green]ledger {get_settings().seed_ledger!r} is seeded[/green] ({mode})")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    role: Annotated[Role, typer.Option(help="viewer, accountant or admin.")] = Role.viewer,
) -> None:
    """Create a key and print it alone on the last line (it is shown only this once)."""
    if not 1 <= len(name.strip()) <= 100:
        err.print("[red]--name must have 1 to 100 characters[/red]")
        raise typer.Exit(2)
    key = auth_service.new_key()

    async def issue(store: Store) -> Any:
        op = IssueKey.of(name.strip(), role, key, UUID7Factory(), SystemClock())
        return await store.execute(op)

    row = _with_store(issue)
    # Warning level: one-shot commands log warnings and up, and key management outside the API
    # is worth seeing.
    security.emit(
        security.AUTHN_TOKEN_CREATED,
        key_id=str(row.id),
        prefix=row.prefix,
        role=row.role,
        principal="cli",
    )
    err.print(f"created API key {row.id} ({row.name}, {row.role}); it will not be shown again:")
    print(key)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (never the keys themselves)."""

    async def rows(store: Store) -> Any:
        return await store.read(auth_service.list_keys)

    table = Table("id", "name", "role", "prefix", "created", "revoked")
    for row in _with_store(rows):
        table.add_row(
            str(row.id),
            row.name,
            row.role,
            row.prefix,
            row.created_at.isoformat(timespec="seconds"),
            row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else "",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[uuid.UUID, typer.Argument(help="The key's id.")]) -> None:
    """Revoke a key: every later request with it gets 401."""

    async def revoke(store: Store) -> Any:
        return await store.execute(RevokeKey(id=key_id, now=SystemClock().now()))

    row = _with_store(revoke)
    security.emit(security.AUTHN_TOKEN_REVOKED, key_id=str(row.id), principal="cli")
    console.print(f"revoked {row.id} ({row.name})")


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the storage mode, mirror lag, pending replays and conflicts."""

    async def describe(store: Store) -> dict[str, Any]:
        return await store.describe()

    body = _with_store(describe)
    if as_json:
        print(json.dumps(body))
        return
    table = Table("field", "value")
    for name, value in body.items():
        table.add_row(name, "" if value is None else str(value))
    console.print(table)


@replay_app.callback(invoke_without_command=True)
def replay(
    ctx: typer.Context,
    show_status: Annotated[
        bool, typer.Option("--status", help="Show the journal instead of draining it.")
    ] = False,
) -> None:
    """Drain the replay journal to PostgreSQL now (or, with --status, show it)."""
    if ctx.invoked_subcommand is not None:
        return
    if show_status:
        _print_journal()
        return

    async def drain(store: Store) -> dict[str, int]:
        if store.fallback is None:
            err.print("embedded mode: there is no replay journal")
            return {}
        if store.mode == Mode.fallback:
            err.print("[red]PostgreSQL is unreachable: nothing can be replayed now[/red]")
            raise typer.Exit(1)
        return await store.drain()

    totals = _with_store(drain)
    console.print(
        "replayed: " + (", ".join(f"{k} {v}" for k, v in sorted(totals.items())) or "nothing")
    )


def _print_journal() -> None:
    async def state(store: Store) -> tuple[Any, list[Any]]:
        return await store.replay_status(), await store.list_journal([journal.CONFLICT], limit=500)

    counts, conflicts = _with_store(state)
    if counts is None:
        console.print("embedded mode: there is no replay journal")
        return
    console.print(
        f"pending {counts.pending}, conflicts {counts.conflicts}, applied {counts.applied}, "
        f"duplicates {counts.duplicates}, discarded {counts.discarded}"
    )
    if conflicts:
        table = Table("id", "operation", "accepted", "conflict", "reason")
        for row in conflicts:
            table.add_row(
                str(row.id),
                row.operation,
                row.created_at.isoformat(timespec="seconds"),
                row.conflict_type or "",
                row.reason or "",
            )
        console.print(table)


def _resolve(row_id: int, action: ConflictAction, reason: str) -> None:
    async def resolve(store: Store) -> Any:
        return await store.resolve_conflict(row_id, action=action, reason=reason)

    row = _with_store(resolve)
    console.print(f"journal row {row.id}: {row.status}")


@replay_app.command("retry")
def replay_retry(
    row_id: Annotated[int, typer.Argument(help="Journal row id (see --status).")],
    reason: Annotated[str, typer.Option(help="Why it should succeed now.")],
) -> None:
    """Queue a conflicting write again, once its cause is fixed."""
    _resolve(row_id, ConflictAction.retry, reason)
    security.emit("replay_conflict_retried", journal_id=row_id, principal="cli", reason=reason)


@replay_app.command("discard")
def replay_discard(
    row_id: Annotated[int, typer.Argument(help="Journal row id (see --status).")],
    reason: Annotated[str, typer.Option(help="Why it is given up.")],
) -> None:
    """Give up a conflicting write for good (logged as a security event)."""
    _resolve(row_id, ConflictAction.discard, reason)
    security.emit(security.REPLAY_DISCARDED, journal_id=row_id, principal="cli", reason=reason)


@app.command()
def verify(
    ledger: Annotated[
        str | None, typer.Option(help="Ledger code (default: the seeded ledger, SEED_LEDGER).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"ok", "checked", "first_broken"} as JSON.')
    ] = False,
) -> None:
    """Recompute a ledger's hash chain from its first entry; exit 1 if it is broken."""
    code = ledger or get_settings().seed_ledger

    async def check(store: Store) -> sealer.ChainVerdict:
        return await store.read(lambda s: sealer.verify_chain(s, code))

    verdict = _with_store(check)
    if as_json:
        report = {
            "ok": verdict.ok,
            "checked": verdict.checked,
            "first_broken": verdict.first_broken_seq,
        }
        print(json.dumps(report))
        if not verdict.ok:
            raise typer.Exit(1)
        return
    if verdict.ok:
        console.print(f"[green]ledger {code!r}: chain intact[/green] ({verdict.checked} entries)")
        return
    err.print(
        f"[red]ledger {code!r}: chain broken at seq {verdict.first_broken_seq}[/red] "
        f"({verdict.checked} entries checked)"
    )
    raise typer.Exit(1)


LedgerOption = Annotated[str, typer.Option("--ledger", "-l", help="The ledger's code.")]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="The file to write (default: standard output)."),
]


async def _write(chunks: AsyncIterator[bytes], output: Path | None, name: str) -> int:
    """Stream `chunks` to `output` (or stdout), with a progress bar on a terminal; the file
    appears whole or not at all (written beside it, then renamed). Return the bytes written."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn(name),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    partial = None if output is None else output.with_name(output.name + ".part")
    sink = sys.stdout.buffer if partial is None else partial.open("wb")
    written = 0
    try:
        with progress:
            task = progress.add_task(name, total=None)
            async for chunk in chunks:
                sink.write(chunk)
                written += len(chunk)
                progress.update(task, advance=len(chunk))
    except BaseException:
        if partial is not None:
            sink.close()
            partial.unlink(missing_ok=True)
        raise
    if partial is not None and output is not None:
        sink.close()
        partial.replace(output)
    else:
        sink.flush()
    return written


@export_app.command("fec")
def export_fec(
    ledger: LedgerOption,
    year: Annotated[int, typer.Option("--year", "-y", help="The fiscal year (its end's year).")],
    output: OutputOption = None,
    separator: Annotated[str, typer.Option(help="`pipe` or `tab` between fields.")] = "pipe",
    encoding: Annotated[str, typer.Option(help="`iso-8859-15` or `utf-8`.")] = "iso-8859-15",
) -> None:
    """Write the FEC of a fiscal year, as GET .../exports/fec does (name it with --output:
    `<SIREN>FEC<AAAAMMJJ>.txt` is printed on stderr)."""
    fmt = FecFormat(separator=_choice(separator, ("pipe", "tab")), encoding=_encoding(encoding))

    async def export(store: Store) -> None:
        plan = await store.read(lambda s: exchange_service.plan_fec(s, ledger, year))
        name = fec_filename(plan.siren, plan.end)
        await _write(exchange_service.fec_chunks(store, plan, fmt), output, name)
        provisional = " (provisional: the year is open)" if plan.provisional else ""
        err.print(f"FEC {name} of {ledger!r} {year}{provisional}")

    _with_store(export)


@export_app.command("beancount")
def export_beancount(ledger: LedgerOption, output: OutputOption = None) -> None:
    """Write the validated entries as a Beancount ledger, as GET .../exports/beancount does."""

    async def export(store: Store) -> None:
        head = await store.read(lambda s: exchange_service.ledger_head(s, ledger))
        await _write(exchange_service.beancount_chunks(store, head), output, "beancount")

    _with_store(export)


@export_app.command("csv")
def export_csv(
    ledger: LedgerOption,
    output: OutputOption = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (inclusive).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (inclusive).")
    ] = None,
) -> None:
    """Write the validated entries as CSV in the layout the CSV import reads."""
    start, end = _day(date_from, "--from"), _day(date_to, "--to")

    async def export(store: Store) -> None:
        check_range(start, end)
        head = await store.read(lambda s: exchange_service.ledger_head(s, ledger))
        chunks = exchange_service.entries_csv_chunks(store, head, start, end)
        await _write(chunks, output, "entries")

    _with_store(export)


FileArgument = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to read.")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Check every rule and write nothing.")
]


@import_app.command("fec")
def import_fec(
    ledger: LedgerOption,
    file: FileArgument,
    dry_run: DryRunOption = False,
    encoding: Annotated[str, typer.Option(help="`iso-8859-15` or `utf-8`.")] = "iso-8859-15",
) -> None:
    """Import a FEC into a ledger with no entries, all of it or nothing (as POST
    .../imports/fec does); a refused file is listed line by line on stderr, exit 1."""
    text = _read(file, _encoding(encoding))

    def make(first_id: uuid.UUID, now: Any) -> ImportFec:
        return ImportFec(ledger=ledger, text=text, first_id=first_id, now=now)

    _import(make, text, file, dry_run=dry_run)


@import_app.command("csv")
def import_csv(ledger: LedgerOption, file: FileArgument, dry_run: DryRunOption = False) -> None:
    """Post the entries of a CSV file (layout of docs/exchange.md), all of them or none."""
    text = _read(file, "utf-8")

    def make(first_id: uuid.UUID, now: Any) -> ImportCsv:
        return ImportCsv(ledger=ledger, text=text, first_id=first_id, now=now)

    _import(make, text, file, dry_run=dry_run)


def _import(
    make: Callable[[uuid.UUID, Any], ImportFec | ImportCsv],
    text: str,
    file: Path,
    *,
    dry_run: bool,
) -> None:
    """Run an import through the store; print its report as JSON on stdout."""
    lines = text.count("\n")

    async def run(store: Store) -> importer.ImportReport:
        op = make(store.ids.new(), store.clock.now())
        # One transaction does the whole file: its progress is not divisible, so a spinner
        # says it is at work rather than a bar that would lie about how far it is.
        with err.status(f"importing {lines:,} lines of {file.name}", spinner="dots"):
            return await run_import(store, op, dry_run=dry_run)

    report = _with_store(run)
    print(json.dumps(importer.report_json(report, dry_run=dry_run)))


def _read(file: Path, encoding: Encoding) -> str:
    text, problem = decode(file.read_bytes(), encoding)
    if text is None:
        assert problem is not None
        _fail(importer.refuse([problem]))
    assert text is not None
    return text


def _choice(value: str, choices: tuple[str, ...]) -> Any:
    if value not in choices:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}")
    return value


def _encoding(value: str) -> Encoding:
    encoding: Encoding = _choice(value, ("iso-8859-15", "utf-8"))
    return encoding


def _day(value: str | None, option: str) -> date | None:
    """Read a day by the API's rule for one (YYYY-MM-DD and nothing else)."""
    if value is None:
        return None
    try:
        day: date = _DAY.validate_python(value)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"]
        raise typer.BadParameter(f"{option}: {message} (YYYY-MM-DD)") from None
    return day


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (env HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (env PORT).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (env WORKERS).")] = None,
) -> None:
    """Migrate, seed and serve the API."""
    settings = get_settings()
    configure_logging(settings)

    async def prepare_once() -> None:
        clock = SystemClock()
        store = build_store(settings, clock=clock, ids=UUID7Factory(), announce=False)
        try:
            await store.open(preparer(settings, clock), background=False)
        finally:
            await store.close()

    # Migrate and seed once here, before the workers start, rather than in each of them.
    asyncio.run(prepare_once())
    os.environ["MIGRATE_ON_START"] = "false"
    get_settings.cache_clear()
    worker_count = workers or settings.workers
    if worker_count > 1 or os.environ.get(MULTIPROC_ENV):
        _prepare_metrics_dir()
    uvicorn.run(
        "grandlivre.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=worker_count,
        # By import path: the workers `--workers N` spawns import it afresh, and each reads the
        # header limits from its environment.
        http=server.IMPORT_PATH,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


def _prepare_metrics_dir() -> None:
    """Give the workers an empty directory to share metrics through, before they start.

    Worker processes are spawned afresh, so they import prometheus_client with this variable
    set and write their samples there; `/metrics` in any of them sums every worker's files.
    """
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    else:
        made = tempfile.mkdtemp(prefix="grandlivre-metrics-")
        os.environ[MULTIPROC_ENV] = made
        atexit.register(shutil.rmtree, made, ignore_errors=True)


@app.command("config")
def show_config() -> None:
    """Print every setting, its effective value and its meaning."""
    settings = get_settings()
    table = Table("variable", "value", "meaning")
    for name, info in Settings.model_fields.items():
        value = str(getattr(settings, name))
        if "url" in name and "@" in value:
            value = value.split("://", 1)[0] + "://***@" + value.rsplit("@", 1)[1]
        table.add_row(name.upper(), value, info.description or "")
    console.print(table)
