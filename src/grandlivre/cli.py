"""The `grandlivre` command: serve, migrate, seed, config."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from grandlivre.auth import service as auth_service
from grandlivre.auth.service import Role
from grandlivre.clock import SystemClock, UUID7Factory
from grandlivre.config import Settings, get_settings
from grandlivre.errors import KeyNotFound
from grandlivre.ops.metrics import MULTIPROC_ENV
from grandlivre.store import Store, UnitOfWork
from grandlivre.store.engine import create_engine

app = typer.Typer(help="Grand Livre: double-entry bookkeeping on the PCG.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
console = Console()
T = TypeVar("T")
err = Console(stderr=True)


async def _prepare(settings: Settings, *, seed: bool) -> None:
    from grandlivre.app import prepare_database
    from grandlivre.db.migrate import upgrade_to_head

    store = Store(create_engine(settings.database_url, settings))
    try:
        if seed:
            await prepare_database(store, settings, UUID7Factory(), SystemClock())
        else:
            await upgrade_to_head(store.engine)
    finally:
        await store.dispose()


@app.command()
def migrate() -> None:
    """Apply database migrations up to the newest schema."""
    asyncio.run(_prepare(get_settings(), seed=False))
    console.print("[green]database is at the newest schema[/green]")


@app.command()
def seed() -> None:
    """Migrate, then create the default ledger with the PCG chart if it is missing."""
    asyncio.run(_prepare(get_settings(), seed=True))
    console.print(f"[green]ledger {get_settings().seed_ledger!r} is seeded[/green]")


async def _with_store(settings: Settings, fn: UnitOfWork[T], *, write: bool) -> T:
    from grandlivre.db.migrate import upgrade_to_head

    store = Store(create_engine(settings.database_url, settings))
    try:
        await upgrade_to_head(store.engine)
        return await (store.write(fn) if write else store.read(fn))
    finally:
        await store.dispose()


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    role: Annotated[Role, typer.Option(help="viewer, accountant or admin.")] = Role.viewer,
) -> None:
    """Create a key and print it alone on the last line (it is shown only this once)."""
    settings = get_settings()
    row, key = asyncio.run(
        _with_store(
            settings,
            lambda s: auth_service.issue_key(
                s, name, role, ids=UUID7Factory(), clock=SystemClock()
            ),
            write=True,
        )
    )
    err.print(f"created API key {row.id} ({row.name}, {row.role}); it will not be shown again:")
    print(key)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (never the keys themselves)."""
    rows = asyncio.run(_with_store(get_settings(), auth_service.list_keys, write=False))
    table = Table("id", "name", "role", "prefix", "created", "revoked")
    for row in rows:
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
    try:
        row = asyncio.run(
            _with_store(
                get_settings(),
                lambda s: auth_service.revoke_key(s, key_id, clock=SystemClock()),
                write=True,
            )
        )
    except KeyNotFound as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"revoked {row.id} ({row.name})")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (env HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (env PORT).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (env WORKERS).")] = None,
) -> None:
    """Migrate, seed and serve the API."""
    settings = get_settings()
    # Migrate and seed once here, before the workers start, rather than in each of them.
    asyncio.run(_prepare(settings, seed=True))
    os.environ["MIGRATE_ON_START"] = "false"
    worker_count = workers or settings.workers
    if worker_count > 1 or os.environ.get(MULTIPROC_ENV):
        _prepare_metrics_dir()
    uvicorn.run(
        "grandlivre.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=worker_count,
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
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="grandlivre-metrics-")


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
