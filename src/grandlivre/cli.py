"""The `grandlivre` command: serve, migrate, seed, config."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from grandlivre.clock import SystemClock, UUID7Factory
from grandlivre.config import Settings, get_settings
from grandlivre.store import Store
from grandlivre.store.engine import create_engine

app = typer.Typer(help="Grand Livre: double-entry bookkeeping on the PCG.", no_args_is_help=True)
console = Console()


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
    uvicorn.run(
        "grandlivre.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


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
