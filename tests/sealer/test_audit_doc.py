"""The verifier printed in docs/audit.md, run as written on books the service sealed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from tests.entry.helpers import credit, debit, url, walk
from tests.sealer.support import execute_sql, seal

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


def verifier() -> str:
    """The script between the doc's verifier markers."""
    found = re.search(
        r"<!-- verifier -->\n```python\n(.*?)```\n<!-- /verifier -->", DOC.read_text(), re.S
    )
    assert found is not None, "docs/audit.md lost its verifier"
    return found.group(1)


def run(entries: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", verifier()],
        input=json.dumps(entries),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


async def test_the_documented_verifier_is_short_and_checks_the_chain_as_sealed(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    assert len(verifier().strip().splitlines()) <= 30
    party = {"code": "DOC", "name": "Client « doc »", "kind": "customer"}
    assert (await client.post(url(ledger, "third-parties"), json=party)).status_code == 201
    bodies = [
        {
            "journal": "VE",
            "date": "2026-03-03",
            "label": "Facture é",
            "reference": "D-1",
            "document_date": "2026-02-27",
            "lines": [
                {**debit("411000", "120.00", "Ligne"), "third_party": "DOC"},
                credit("706000", "100.00"),
                credit("445710", "20.00"),
            ],
        },
        {
            "journal": "BQ",
            "date": "2026-03-05",
            "label": "Règlement",
            "lines": [
                debit("512000", "120.00"),
                {**credit("411000", "120.00"), "third_party": "DOC"},
            ],
        },
        {
            "journal": "VE",
            "date": "2026-03-06",
            "label": "Brouillon validé",
            "status": "draft",
            "lines": [debit("411000", "0.10"), credit("706000", "0.10")],
        },
    ]
    ids = []
    for body in bodies:
        response = await client.post(url(ledger, "entries"), json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    assert (await client.post(url(ledger, "entries", ids[2], "validate"))).status_code == 200
    assert (await client.post(url(ledger, "entries", ids[0], "reverse"))).status_code == 201
    await seal(app)

    entries, _ = await walk(client, url(ledger, "entries"), limit=500)
    last = max(entries, key=lambda e: e["seq"])
    intact = run(entries)
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.strip() == f"ok: 4 entries, last hash {last['hash']}"
    audit = (await client.get(url(ledger, "audit", "verify"))).json()
    assert audit == {"ok": True, "checked": 4, "first_broken": None}

    await execute_sql(
        app,
        "UPDATE entries SET document_date = '2026-02-28' WHERE reference = 'D-1' AND "
        "reverses_id IS NULL AND ledger_id = (SELECT id FROM ledgers WHERE code = :ledger)",
        ledger=ledger,
    )
    altered, _ = await walk(client, url(ledger, "entries"), limit=500)
    broken = run(altered)
    assert broken.returncode == 1
    assert broken.stderr.strip() == "broken at seq 1"
    audit = (await client.get(url(ledger, "audit", "verify"))).json()
    assert audit == {"ok": False, "checked": 1, "first_broken": 1}
