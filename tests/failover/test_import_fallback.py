"""A FEC imported on the fallback is journaled as one write and replayed exactly once."""

from __future__ import annotations

import asyncio

from tests.exchange.test_fec_import import fec_text, row
from tests.failover.conftest import AppFactory
from tests.failover.support import (
    client,
    healthz,
    issue_key,
    pg_entries,
    wait_for_mirror,
    wait_for_primary_drained,
)
from tests.faults import LoopbackProxy
from tests.pgcluster import PrivateCluster

LEDGER = "/api/v1/ledgers/imp"
FILE = fec_text(
    [
        row(
            PieceRef="IMP-1",
            CompteNum="411000",
            CompteLib="Clients",
            Debit="100,00",
            CompAuxNum="C1",
            CompAuxLib="Client un",
            EcritureDate="20260110",
            PieceDate="20260110",
            ValidDate="20260111",
        ),
        row(
            PieceRef="IMP-1",
            CompteNum="706000",
            CompteLib="Prestations de services",
            Credit="100,00",
            EcritureDate="20260110",
            PieceDate="20260110",
            ValidDate="20260111",
        ),
        row(
            EcritureNum="2",
            PieceRef="IMP-2",
            CompteNum="512000",
            CompteLib="Banques",
            Debit="40,00",
            EcritureDate="20260120",
            PieceDate="20260120",
            ValidDate="20260120",
        ),
        row(
            EcritureNum="2",
            PieceRef="IMP-2",
            CompteNum="411000",
            CompteLib="Clients",
            Credit="40,00",
            CompAuxNum="C1",
            CompAuxLib="Client un",
            EcritureDate="20260120",
            PieceDate="20260120",
            ValidDate="20260120",
        ),
    ]
)


async def test_a_fec_imported_on_the_fallback_replays_once(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with (
        asyncio.timeout(40),
        app_factory(cluster.url(database, port=proxy.port)) as app,
    ):
        key = await issue_key(app, "admin")
        async with client(app, key) as http:
            created = await http.post(
                "/api/v1/ledgers",
                json={"code": "imp", "name": "Import", "fiscal_year_start": "2026-01-01"},
            )
            assert created.status_code == 201, created.text
            await wait_for_mirror(app)
            proxy.cut()
            imported = await http.post(
                f"{LEDGER}/imports/fec",
                content=FILE,
                headers={"Content-Type": "text/plain"},
            )
            assert imported.status_code == 201, imported.text
            assert imported.json()["entries"] == 2
            assert (await healthz(http))["replay_pending"] == 1
            listed = (await http.get(f"{LEDGER}/entries")).json()["items"]
            assert {e["status"] for e in listed} == {"pending_replay"}

            proxy.restore()
            health = await wait_for_primary_drained(http, within=20)
            assert health["replay_conflicts"] == 0
            listed = (await http.get(f"{LEDGER}/entries")).json()["items"]
            assert sorted(e["reference"] for e in listed) == ["IMP-1", "IMP-2"]
            party = await http.get(f"{LEDGER}/third-parties/C1")
            assert party.json()["name"] == "Client un"

    copies = await pg_entries(cluster, database)
    assert {ref: len(rows) for ref, rows in copies.items() if ref.startswith("IMP-")} == {
        "IMP-1": 1,
        "IMP-2": 1,
    }
