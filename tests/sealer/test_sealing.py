"""Sealing: every committed entry gets a gapless seq, a gapless number and a chained hash."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from grandlivre.app import create_app
from tests.conftest import (
    FIRST_DAY,
    PostgresDatabases,
    bearer,
    database_url_for,
    issue_key,
    make_settings,
)
from tests.entry.helpers import (
    credit,
    debit,
    design_entry,
    new_ledger,
    open_year,
    post_entry,
    url,
)
from tests.sealer.support import assert_sealed_books, entries_by_seq, seal, verify

HEX64 = re.compile(r"^[0-9a-f]{64}$")

# (journal, date) of entries posted one after the other: two journals over two fiscal years
# that are not calendar years (2025: 2024-07-01 to 2025-06-30; 2026: the 12 months after).
FIRST_YEAR_START = "2024-07-01"
SCHEDULE = [
    ("VE", "2025-03-01"),
    ("AC", "2025-03-02"),
    ("VE", "2026-01-10"),
    ("VE", "2025-12-31"),
    ("AC", "2026-02-01"),
    ("VE", "2026-01-05"),
    ("AC", "2025-06-30"),
    ("VE", "2025-07-14"),
]


async def fiscal_ledger(client: httpx.AsyncClient, code: str) -> str:
    """A ledger whose fiscal years 2025 and 2026 run from July to June."""
    await new_ledger(client, code, fiscal_year_start=FIRST_YEAR_START)
    await open_year(client, code, 2026)
    return code


async def post_schedule(client: httpx.AsyncClient, ledger: str) -> list[dict[str, Any]]:
    posted = []
    for index, (journal, day) in enumerate(SCHEDULE):
        posted.append(
            await post_entry(
                client,
                ledger,
                [debit("411000", f"{index + 1}.00"), credit("706000", f"{index + 1}.00")],
                journal=journal,
                date=day,
                label=f"Écriture {index}",
                reference=f"R-{index}",
            )
        )
    return posted


async def test_an_entry_reads_back_unsealed_until_the_sealer_passes(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    response = await client.post(url(ledger, "entries"), json=design_entry())
    assert response.status_code == 201, response.text
    posted = response.json()
    assert (posted["seq"], posted["number"], posted["hash"]) == (None, None, None)

    await seal(app)

    entry = (await client.get(url(ledger, "entries", posted["id"]))).json()
    assert (entry["seq"], entry["number"]) == (1, 1)
    assert HEX64.match(entry["hash"])
    unchanged = {k: v for k, v in entry.items() if k not in {"seq", "number", "hash"}}
    assert unchanged == {k: v for k, v in posted.items() if k not in {"seq", "number", "hash"}}


async def test_seq_follows_commit_order_and_numbers_count_per_journal_and_fiscal_year(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ledger = await fiscal_ledger(client, f"f{uuid.uuid4().hex[:12]}")
    posted = await post_schedule(client, ledger)

    await seal(app)

    entries = await entries_by_seq(client, ledger)
    # Posted one after the other, so committed in that order: seq is the posting order.
    assert [e["id"] for e in entries] == [p["id"] for p in posted]
    assert [(e["journal"], e["date"], e["fiscal_year"], e["number"]) for e in entries] == [
        ("VE", "2025-03-01", 2025, 1),
        ("AC", "2025-03-02", 2025, 1),
        ("VE", "2026-01-10", 2026, 1),
        ("VE", "2025-12-31", 2026, 2),
        ("AC", "2026-02-01", 2026, 1),
        ("VE", "2026-01-05", 2026, 3),
        ("AC", "2025-06-30", 2025, 2),
        ("VE", "2025-07-14", 2026, 4),
    ]
    assert_sealed_books(entries)
    assert await verify(client, ledger) == {
        "ok": True,
        "checked": len(SCHEDULE),
        "first_broken_seq": None,
    }


async def test_sealing_again_later_continues_the_chain_without_gaps(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ledger = await fiscal_ledger(client, f"f{uuid.uuid4().hex[:12]}")
    await post_schedule(client, ledger)
    await seal(app)
    first_round = await entries_by_seq(client, ledger)

    await post_schedule(client, ledger)
    await seal(app)

    entries = await entries_by_seq(client, ledger)
    assert entries[: len(first_round)] == first_round  # a seal, once given, never changes
    assert_sealed_books(entries)
    assert (await verify(client, ledger))["checked"] == 2 * len(SCHEDULE)


async def test_ledgers_have_their_own_sequences(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    other = f"o{ledger[1:]}"
    created = await client.post(
        "/api/v1/ledgers", json={"code": other, "name": "Autre", "fiscal_year_start": FIRST_DAY}
    )
    assert created.status_code == 201, created.text
    for code in (ledger, other, ledger, other, other):
        await post_entry(client, code, [debit("512000", "5.00"), credit("706000", "5.00")])

    await seal(app)

    assert [e["seq"] for e in await entries_by_seq(client, ledger)] == [1, 2]
    assert [e["seq"] for e in await entries_by_seq(client, other)] == [1, 2, 3]
    assert_sealed_books(await entries_by_seq(client, other))


async def test_concurrent_posts_still_get_a_gapless_seq(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ledger = await fiscal_ledger(client, f"f{uuid.uuid4().hex[:12]}")

    async def one(index: int) -> dict[str, Any]:
        return await post_entry(
            client,
            ledger,
            [debit("411000", f"{index + 1}.00"), credit("706000", f"{index + 1}.00")],
            journal=["VE", "AC", "OD"][index % 3],
            date=["2025-05-05", "2026-05-05"][index % 2],
            reference=f"C-{index}",
        )

    # Sealing passes run in the middle of the posts, as the background sealer would.
    results = await asyncio.gather(*(one(i) for i in range(30)), seal(app), seal(app))
    await seal(app)

    entries = await entries_by_seq(client, ledger)
    assert {e["id"] for e in entries} == {r["id"] for r in results[:30]}
    assert_sealed_books(entries)
    assert (await verify(client, ledger))["ok"] is True


async def test_a_reversal_is_sealed_after_the_entry_it_reverses(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    original = await post_entry(
        client, ledger, [debit("411000", "120.00"), credit("706000", "120.00")], journal="VE"
    )
    await seal(app)
    reversed_ = await client.post(url(ledger, "entries", original["id"], "reverse"))
    assert reversed_.status_code == 201, reversed_.text
    assert reversed_.json()["seq"] is None

    await seal(app)

    entries = await entries_by_seq(client, ledger)
    assert [(e["id"], e["seq"], e["number"]) for e in entries] == [
        (original["id"], 1, 1),
        (reversed_.json()["id"], 2, 2),
    ]
    assert entries[1]["reverses"] == original["id"]
    assert_sealed_books(entries)


# -- the sealer at work by itself ----------------------------------------------------------------


@pytest.fixture
async def fast_app(
    backend: str, tmp_root: Path, pg_databases: PostgresDatabases
) -> AsyncIterator[FastAPI]:
    """An app of its own on the backend, whose background work runs every 0.05 s."""
    database_url = await database_url_for(backend, tmp_root, pg_databases)
    application = create_app(make_settings(database_url, probe_interval=0.05))
    async with application.router.lifespan_context(application):
        yield application


def http_client(app: FastAPI, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=bearer(key)
    )


async def wait_until_sealed(http: httpx.AsyncClient, ledger: str, count: int) -> list[Any]:
    deadline = time.monotonic() + 10
    while True:
        entries = await entries_by_seq(http, ledger)
        if len(entries) == count and all(e["seq"] is not None for e in entries):
            return entries
        assert time.monotonic() < deadline, [e["seq"] for e in entries]
        await asyncio.sleep(0.05)


async def test_the_background_sealer_seals_without_being_asked(fast_app: FastAPI) -> None:
    key = await issue_key(fast_app, "accountant")
    async with http_client(fast_app, key) as http:
        for index in range(5):
            await post_entry(http, "main", [debit("512000", "1.00"), credit("706000", "1.00")])
            if index == 2:
                await asyncio.sleep(0.2)  # some sealed on a pass, the rest on a later one

        entries = await wait_until_sealed(http, "main", 5)

        assert_sealed_books(entries)
        assert (await verify(http, "main"))["checked"] == 5


async def test_two_processes_sealing_one_database_never_give_a_seq_twice(
    fast_app: FastAPI,
) -> None:
    # A second app on the same database stands for another worker process or replica.
    twin = create_app(make_settings(fast_app.state.settings.database_url, probe_interval=0.05))
    async with twin.router.lifespan_context(twin):
        key = await issue_key(fast_app, "accountant")
        async with http_client(fast_app, key) as one, http_client(twin, key) as two:

            async def post(http: httpx.AsyncClient, index: int) -> None:
                for round_ in range(6):
                    await post_entry(
                        http,
                        "main",
                        [debit("411000", "2.00"), credit("706000", "2.00")],
                        journal="VE",
                        reference=f"P{index}-{round_}",
                    )
                    await asyncio.sleep(0.02)

            await asyncio.gather(*(post(http, i) for i, http in enumerate([one, two] * 2)))

            entries = await wait_until_sealed(one, "main", 24)

            assert_sealed_books(entries)
            assert (await verify(two, "main"))["ok"] is True


async def test_drafts_validated_from_two_processes_seal_into_one_gapless_chain(
    fast_app: FastAPI,
) -> None:
    twin = create_app(make_settings(fast_app.state.settings.database_url, probe_interval=0.05))
    async with twin.router.lifespan_context(twin):
        key = await issue_key(fast_app, "accountant")
        async with http_client(fast_app, key) as one, http_client(twin, key) as two:

            async def draft_then_validate(
                writer: httpx.AsyncClient, validator: httpx.AsyncClient, index: int
            ) -> None:
                for round_ in range(4):
                    body = {
                        "journal": "VE",
                        "date": "2026-01-15",
                        "label": f"Brouillon {index}-{round_}",
                        "status": "draft",
                        "lines": [debit("411000", "3.00"), credit("706000", "3.00")],
                    }
                    made = await writer.post(url("main", "entries"), json=body)
                    assert made.status_code == 201, made.text
                    # Posted final by the writer meanwhile: drafts and postings interleave.
                    await post_entry(
                        writer, "main", [debit("512000", "1.00"), credit("706000", "1.00")]
                    )
                    done = await validator.post(
                        url("main", "entries", made.json()["id"], "validate")
                    )
                    assert done.status_code == 200, done.text

            await asyncio.gather(
                draft_then_validate(one, two, 0),
                draft_then_validate(two, one, 1),
                draft_then_validate(one, two, 2),
                draft_then_validate(two, one, 3),
            )

            entries = await wait_until_sealed(one, "main", 32)

            assert_sealed_books(entries)
            assert (await verify(two, "main"))["ok"] is True
            validated = [e for e in entries if e["label"].startswith("Brouillon")]
            assert len(validated) == 16
            assert all(e["status"] == "posted" and e["validated_at"] for e in validated)
