"""The `main` ledger is seeded with the PCG at start-up, once, however often the app starts."""

from __future__ import annotations

import csv
import io
import uuid
from importlib import resources
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.app import create_app
from grandlivre.db.tables import Account, Journal, Ledger
from tests.conftest import PostgresDatabases, database_url_for, make_settings
from tests.entry.helpers import API, url, walk

DEFAULT_JOURNALS = {
    "AC": "Achats",
    "VE": "Ventes",
    "BQ": "Banque",
    "CA": "Caisse",
    "OD": "Opérations diverses",
    "AN": "À-nouveaux",
}


def shipped_chart() -> dict[str, str]:
    """Read the PCG as shipped in the package data, independently of the code that seeds it."""
    text = resources.files("grandlivre.data").joinpath("pcg.csv").read_text(encoding="utf-8")
    return {row["number"]: row["name"] for row in csv.DictReader(io.StringIO(text))}


async def test_main_ledger_exists_in_euros(client: httpx.AsyncClient) -> None:
    response = await client.get(url("main"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == "main"
    assert body["currency"] == "EUR"
    assert body["decimals"] == 2


async def test_main_ledger_has_the_pcg_accounts_with_their_official_names(
    client: httpx.AsyncClient,
) -> None:
    for number, name in [
        ("411000", "Clients"),
        ("401000", "Fournisseurs"),
        ("512000", "Banque"),
        ("530000", "Caisse"),
        ("706000", "Prestations de services"),
        ("445710", "TVA collectée"),
        ("607000", "Achats de marchandises"),
    ]:
        response = await client.get(url("main", "accounts", number))
        assert response.status_code == 200, response.text
        assert response.json() == {
            "number": number,
            "name": name,
            "class": int(number[0]),
            "active": True,
            # Customers and suppliers are collective from the start.
            "collective": number.startswith(("401", "411")),
        }


async def test_main_ledger_has_the_whole_shipped_chart(client: httpx.AsyncClient) -> None:
    accounts, _ = await walk(client, url("main", "accounts"), limit=500)
    chart = shipped_chart()
    assert {a["number"]: a["name"] for a in accounts} == chart
    assert len(accounts) == len(chart)


async def test_main_ledger_has_the_default_journals(client: httpx.AsyncClient) -> None:
    journals, _ = await walk(client, url("main", "journals"))
    assert {j["code"]: j["name"] for j in journals} == DEFAULT_JOURNALS


async def test_a_second_app_on_the_same_database_does_not_seed_main_again(
    app: FastAPI, client: httpx.AsyncClient, tmp_root: Path
) -> None:
    accounts_before, _ = await walk(client, url("main", "accounts"), limit=500)
    journals_before, _ = await walk(client, url("main", "journals"))
    main_before = (await client.get(url("main"))).json()

    # Same settings as the running app but its own SQLite fallback file: a second replica
    # starting on the same database (each replica keeps its own fallback, DESIGN.md §3).
    fallback = tmp_root / f"replica-{uuid.uuid4().hex[:8]}.db"
    settings = app.state.settings.model_copy(
        update={"fallback_database_url": f"sqlite+aiosqlite:///{fallback}"}
    )
    second = create_app(settings)
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=client.headers
        ) as other:
            ledgers, _ = await walk(other, API, limit=500)
            assert [item["code"] for item in ledgers].count("main") == 1
            assert (await other.get(url("main"))).json() == main_before
            accounts_after, _ = await walk(other, url("main", "accounts"), limit=500)
            journals_after, _ = await walk(other, url("main", "journals"))
    assert accounts_after == accounts_before
    assert journals_after == journals_before


async def _count_seeded_rows(application: FastAPI) -> tuple[int, int, int]:
    async def unit(session: AsyncSession) -> tuple[int, int, int]:
        ledgers = await session.scalar(
            select(func.count()).select_from(Ledger).where(Ledger.code == "main")
        )
        main_id = select(Ledger.id).where(Ledger.code == "main").scalar_subquery()
        accounts = await session.scalar(
            select(func.count()).select_from(Account).where(Account.ledger_id == main_id)
        )
        journals = await session.scalar(
            select(func.count()).select_from(Journal).where(Journal.ledger_id == main_id)
        )
        return int(ledgers or 0), int(accounts or 0), int(journals or 0)

    counts: tuple[int, int, int] = await application.state.store.read(unit)
    return counts


async def test_seeding_a_fresh_database_twice_creates_main_once(
    backend: str, tmp_root: Path, pg_databases: PostgresDatabases
) -> None:
    database_url = await database_url_for(backend, tmp_root, pg_databases)
    seen = []
    for _ in range(3):
        application = create_app(make_settings(database_url))
        async with application.router.lifespan_context(application):
            seen.append(await _count_seeded_rows(application))
    assert seen[0] == (1, len(shipped_chart()), len(DEFAULT_JOURNALS))
    assert seen[1] == seen[0]
    assert seen[2] == seen[0]
