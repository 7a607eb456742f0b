"""The DESIGN.md §6 entry posts and shows in the trial balance, on both backends."""

import httpx

DESIGN_ENTRY = {
    "journal": "VE",
    "date": "2026-11-23",
    "label": "Facture F-2026-001",
    "reference": "F-2026-001",
    "lines": [
        {"account": "411000", "debit": "120.00", "label": "Client Dupont"},
        {"account": "706000", "credit": "100.00"},
        {"account": "445710", "credit": "20.00"},
    ],
}


async def test_design_entry_is_posted_and_shows_in_trial_balance(
    client: httpx.AsyncClient, ledger: str
) -> None:
    posted = await client.post(f"/api/v1/ledgers/{ledger}/entries", json=DESIGN_ENTRY)
    assert posted.status_code == 201, posted.text
    tb = (await client.get(f"/api/v1/ledgers/{ledger}/trial-balance")).json()
    balances = {item["account"]: item["balance"] for item in tb["items"]}
    assert balances == {"411000": "120.00", "445710": "-20.00", "706000": "-100.00"}
    assert tb["totals"] == {"debit": "120.00", "credit": "120.00", "balance": "0.00"}
