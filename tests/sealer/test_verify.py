"""Verifying the chain: intact books verify, and any change behind the API's back is found."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import assert_problem, bearer, issue_key
from tests.entry.helpers import credit, debit, post_entry, url
from tests.ops.support import run_cli
from tests.sealer.support import entries_by_seq, execute_sql, seal, verify

LEDGER_ID = "(SELECT id FROM ledgers WHERE code = :ledger)"
ENTRY_ID = f"(SELECT id FROM entries WHERE reference = :reference AND ledger_id = {LEDGER_ID})"

# Ways to alter the books straight in the database, each aimed at the entry with reference R-2.
TAMPERING = {
    "line-amount": f"UPDATE entry_lines SET amount = amount + 1 "
    f"WHERE position = 0 AND entry_id = {ENTRY_ID}",
    "line-account": "UPDATE entry_lines SET account_id = (SELECT id FROM accounts "
    f"WHERE number = '512000' AND ledger_id = {LEDGER_ID}) "
    f"WHERE position = 0 AND entry_id = {ENTRY_ID}",
    "label": f"UPDATE entries SET label = 'Autre libellé' WHERE id = {ENTRY_ID}",
    "date": f"UPDATE entries SET entry_date = '2026-03-04' WHERE id = {ENTRY_ID}",
    "document-date": f"UPDATE entries SET document_date = '2026-02-01' WHERE id = {ENTRY_ID}",
    "validated-at": "UPDATE entries SET validated_at = '2026-03-05 10:00:00+00:00' "
    f"WHERE id = {ENTRY_ID}",
    "reference": f"UPDATE entries SET reference = 'R-9' WHERE id = {ENTRY_ID}",
    "line-label": "UPDATE entry_lines SET label = 'Ajouté' "
    f"WHERE position = 1 AND entry_id = {ENTRY_ID}",
    "third-party": "UPDATE entry_lines SET third_party_id = (SELECT id FROM third_parties "
    f"WHERE code = 'AUDIT' AND ledger_id = {LEDGER_ID}) "
    f"WHERE position = 0 AND entry_id = {ENTRY_ID}",
    "hash": f"UPDATE entries SET hash = '{'f' * 64}' WHERE id = {ENTRY_ID}",
}


async def post_five(client: httpx.AsyncClient, ledger: str) -> None:
    party = {"code": "AUDIT", "name": "Client audité", "kind": "customer"}
    created = await client.post(url(ledger, "third-parties"), json=party)
    assert created.status_code == 201, created.text
    for index in range(5):
        await post_entry(
            client,
            ledger,
            [debit("411000", f"{10 + index}.00"), credit("706000", f"{10 + index}.00")],
            journal="VE",
            date="2026-03-03",
            reference=f"R-{index}",
        )


async def test_books_with_no_sealed_entry_verify(client: httpx.AsyncClient, ledger: str) -> None:
    assert await verify(client, ledger) == {"ok": True, "checked": 0, "first_broken_seq": None}


async def test_verifying_an_unknown_ledger_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(url("nosuchledger", "verify"))
    assert_problem(response, 404, "ledger-not-found")


async def test_a_viewer_may_verify(app: FastAPI, client: httpx.AsyncClient, ledger: str) -> None:
    await post_five(client, ledger)
    await seal(app)
    viewer = await issue_key(app, "viewer")

    response = await client.get(url(ledger, "verify"), headers=bearer(viewer))

    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "checked": 5, "first_broken_seq": None}


@pytest.mark.parametrize("how", sorted(TAMPERING))
async def test_tampering_with_a_sealed_entry_breaks_the_chain_at_its_seq(
    app: FastAPI, client: httpx.AsyncClient, ledger: str, how: str
) -> None:
    await post_five(client, ledger)
    await seal(app)
    assert (await verify(client, ledger))["ok"] is True

    await execute_sql(app, TAMPERING[how], ledger=ledger, reference="R-2")

    assert await verify(client, ledger) == {"ok": False, "checked": 3, "first_broken_seq": 3}
    audit = await client.get(url(ledger, "audit", "verify"))
    assert audit.json() == {"ok": False, "checked": 3, "first_broken": 3}


async def test_deleting_a_sealed_entry_breaks_the_chain_where_it_was(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    await post_five(client, ledger)
    await seal(app)

    await execute_sql(
        app, f"DELETE FROM entry_lines WHERE entry_id = {ENTRY_ID}", ledger=ledger, reference="R-1"
    )
    await execute_sql(
        app, f"DELETE FROM entries WHERE id = {ENTRY_ID}", ledger=ledger, reference="R-1"
    )

    assert (await verify(client, ledger))["first_broken_seq"] == 2


async def test_entries_sealed_after_a_break_do_not_mend_it(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    await post_five(client, ledger)
    await seal(app)
    await execute_sql(app, TAMPERING["label"], ledger=ledger, reference="R-0")
    await post_entry(client, ledger, [debit("512000", "1.00"), credit("706000", "1.00")])
    await seal(app)

    assert [e["seq"] for e in await entries_by_seq(client, ledger)] == [1, 2, 3, 4, 5, 6]
    assert await verify(client, ledger) == {"ok": False, "checked": 1, "first_broken_seq": 1}


async def test_the_verify_command_exits_1_on_a_broken_chain_and_0_on_an_intact_one(
    app: FastAPI, client: httpx.AsyncClient, ledger: str, tmp_path: Path
) -> None:
    await post_five(client, ledger)
    await seal(app)
    database_url = app.state.settings.database_url

    def run_verify() -> tuple[int, str]:
        # A real process, as an operator runs it; its fallback file lands in tmp_path.
        result = run_cli("verify", "--ledger", ledger, database_url=database_url, cwd=tmp_path)
        return result.returncode, result.stdout + result.stderr

    intact = await asyncio.to_thread(run_verify)
    assert intact[0] == 0, intact[1]
    assert "intact" in intact[1]
    assert "5 entries" in intact[1]

    await execute_sql(app, TAMPERING["line-amount"], ledger=ledger, reference="R-3")

    broken = await asyncio.to_thread(run_verify)
    assert broken[0] == 1, broken[1]
    assert "broken at seq 4" in broken[1]

    as_json = await asyncio.to_thread(
        lambda: run_cli(
            "verify", "--ledger", ledger, "--json", database_url=database_url, cwd=tmp_path
        )
    )
    assert as_json.returncode == 1, as_json.stderr
    assert json.loads(as_json.stdout) == {"ok": False, "checked": 4, "first_broken": 4}


async def test_the_verify_command_refuses_an_unknown_ledger(app: FastAPI, tmp_path: Path) -> None:
    result = await asyncio.to_thread(
        lambda: run_cli(
            "verify",
            "--ledger",
            "nosuchledger",
            database_url=app.state.settings.database_url,
            cwd=tmp_path,
        )
    )
    assert result.returncode == 1
    assert "nosuchledger" in result.stderr
