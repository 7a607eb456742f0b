"""Helpers of the sealer tests: sealing, reading entries in seq order, an independent hash."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from grandlivre.entry import sealer
from tests.entry.helpers import url, walk

GENESIS = "0" * 64


async def seal(app: FastAPI) -> int:
    """Seal everything committed so far, as the background sealer would; return how many."""
    return await sealer.seal_now(app.state.store)


async def entries_by_seq(client: httpx.AsyncClient, ledger: str) -> list[dict[str, Any]]:
    """Every entry of the ledger as the API shows it, sealed ones first in seq order."""
    entries, _ = await walk(client, url(ledger, "entries"), limit=500)
    return sorted(entries, key=lambda e: (e["seq"] is None, e["seq"] or 0))


async def verify(client: httpx.AsyncClient, ledger: str) -> dict[str, Any]:
    """GET the ledger's verification."""
    response = await client.get(url(ledger, "verify"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def signed_minor(line: dict[str, Any], decimals: int = 2) -> int:
    """A line's amount as signed minor units, debit positive, from its decimal strings."""
    if line["debit"] is not None:
        return int(Decimal(line["debit"]).scaleb(decimals))
    return -int(Decimal(line["credit"]).scaleb(decimals))


def expected_hash(entry: dict[str, Any], previous: str, decimals: int = 2) -> str:
    """Recompute an entry's hash from what the API shows, as an auditor would.

    Written from the documented canonical form, version 2 (docs/audit.md), not from its code:
    compact JSON with sorted keys, UTF-8, of the ledger code, seq, journal code, number, fiscal
    year, the three dates, label, reference, lines in order as [account, signed minor units,
    label, third party], the reversed entry's id, the version and the previous entry's hash.
    """
    body = {
        "ledger": entry["ledger"],
        "seq": entry["seq"],
        "journal": entry["journal"],
        "number": entry["number"],
        "date": entry["date"],
        "label": entry["label"],
        "reference": entry["reference"],
        "lines": [
            [line["account"], signed_minor(line, decimals), line["label"], line["third_party"]]
            for line in entry["lines"]
        ],
        "reverses": entry["reverses"],
        "previous": previous,
        "v": 2,
        "fiscal_year": entry["fiscal_year"],
        "document_date": entry["document_date"],
        "validated_at": entry["validated_at"],
    }
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def assert_sealed_books(entries: list[dict[str, Any]], decimals: int = 2) -> None:
    """Assert gapless seq from 1, gapless numbers per journal and fiscal year, and an intact
    chain."""
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1)), [
        e["seq"] for e in entries
    ]
    numbers: dict[tuple[str, int], list[int]] = defaultdict(list)
    previous = GENESIS
    for entry in entries:
        numbers[entry["journal"], entry["fiscal_year"]].append(entry["number"])
        assert entry["hash"] == expected_hash(entry, previous, decimals), entry
        previous = entry["hash"]
    for key, given in numbers.items():
        assert given == list(range(1, len(given) + 1)), (key, given)


async def execute_sql(app: FastAPI, statement: str, **params: Any) -> None:
    """Run SQL straight on the app's database, behind the API's back (to tamper with it)."""

    async def run(session: Any) -> None:
        await session.execute(text(statement), params)

    await app.state.store.write(run)
