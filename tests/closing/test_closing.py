"""Closing and reopening fiscal years, as an accountant does it, on both databases."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import assert_problem
from tests.entry.helpers import balances, credit, debit, new_ledger, open_year, snapshot, url
from tests.sealer.support import seal

PROFIT_OPENING = [
    {"account": "120000", "third_party": None, "debit": None, "credit": "700.00"},
    {"account": "401000", "third_party": "MARTIN", "debit": None, "credit": "300.00"},
    {"account": "411000", "third_party": "DUPONT", "debit": "700.00", "credit": None},
    {"account": "445710", "third_party": None, "debit": None, "credit": "200.00"},
    {"account": "512000", "third_party": None, "debit": "500.00", "credit": None},
]


def party(line: dict[str, Any], code: str) -> dict[str, Any]:
    return {**line, "third_party": code}


async def books(client: httpx.AsyncClient) -> str:
    """A new ledger whose 2026 sold 1,000.00, bought 300.00 and was paid 500.00."""
    code = f"c{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code)
    for body in (
        {"code": "DUPONT", "name": "Dupont", "kind": "customer"},
        {"code": "MARTIN", "name": "Martin", "kind": "supplier"},
    ):
        assert (await client.post(url(code, "third-parties"), json=body)).status_code == 201
    for journal, day, lines in (
        (
            "VE",
            "2026-03-10",
            [
                party(debit("411000", "1200.00"), "DUPONT"),
                credit("706000", "1000.00"),
                credit("445710", "200.00"),
            ],
        ),
        (
            "AC",
            "2026-04-02",
            [debit("607000", "300.00"), party(credit("401000", "300.00"), "MARTIN")],
        ),
        (
            "BQ",
            "2026-05-20",
            [debit("512000", "500.00"), party(credit("411000", "500.00"), "DUPONT")],
        ),
    ):
        body = {"journal": journal, "date": day, "label": f"Écriture {journal}", "lines": lines}
        response = await client.post(url(code, "entries"), json=body)
        assert response.status_code == 201, response.text
    return code


async def close(client: httpx.AsyncClient, ledger: str, year: int, **params: str) -> httpx.Response:
    return await client.post(url(ledger, "fiscal-years", str(year), "close"), params=params)


async def test_a_dry_run_shows_the_closing_and_writes_nothing(client: httpx.AsyncClient) -> None:
    ledger = await books(client)
    before = await snapshot(client, ledger)
    response = await close(client, ledger, 2026, dry_run="true")
    assert response.status_code == 200, response.text
    plan = response.json()
    assert (plan["fiscal_year"], plan["dry_run"], plan["result"]) == (2026, True, "700.00")
    assert plan["closing"] == {
        "id": None,
        "journal": "OD",
        "date": "2026-12-31",
        "lines": [
            {"account": "607000", "third_party": None, "debit": None, "credit": "300.00"},
            {"account": "706000", "third_party": None, "debit": "1000.00", "credit": None},
            {"account": "120000", "third_party": None, "debit": None, "credit": "700.00"},
        ],
    }
    assert plan["opening_fiscal_year"] == 2027
    assert plan["opening"] == {
        "id": None,
        "journal": "AN",
        "date": "2027-01-01",
        "lines": PROFIT_OPENING,
    }
    assert await snapshot(client, ledger) == before
    years = (await client.get(url(ledger, "fiscal-years"))).json()["items"]
    assert [(y["year"], y["status"]) for y in years] == [(2026, "open")]
    bad = await close(client, ledger, 2026, dry_run="yes")
    assert_problem(bad, 422, "validation-error")


async def test_closing_zeroes_the_income_statement_and_opens_the_next_year(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ledger = await books(client)
    response = await close(client, ledger, 2026)
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["dry_run"] is False
    assert done["closing"]["id"] is not None
    assert done["opening"]["id"] is not None

    year = (await client.get(url(ledger, "fiscal-years", "2026"))).json()
    assert year["status"] == "closed"
    assert year["closed_at"] is not None
    following = (await client.get(url(ledger, "fiscal-years", "2027"))).json()
    assert (following["status"], following["start"]) == ("open", "2027-01-01")

    in_2026 = await balances(client, ledger, to="2026-12-31")
    assert (in_2026["607000"], in_2026["706000"], in_2026["120000"]) == ("0.00", "0.00", "-700.00")
    opening = await balances(client, ledger, **{"from": "2027-01-01"})
    assert opening == {
        "120000": "-700.00",
        "401000": "-300.00",
        "411000": "700.00",
        "445710": "-200.00",
        "512000": "500.00",
    }
    parties = (
        await client.get(url(ledger, "third-party-balance"), params={"from": "2027-01-01"})
    ).json()
    assert {(r["third_party"], r["balance"]) for r in parties["items"]} == {
        ("DUPONT", "700.00"),
        ("MARTIN", "-300.00"),
    }
    entry = (await client.get(url(ledger, "entries", done["opening"]["id"]))).json()
    assert entry["role"] == "opening"
    closing = (await client.get(url(ledger, "entries", done["closing"]["id"]))).json()
    assert (closing["role"], closing["journal"], closing["date"]) == ("closing", "OD", "2026-12-31")
    assert (entry["journal"], entry["date"], entry["fiscal_year"], entry["status"]) == (
        "AN",
        "2027-01-01",
        2027,
        "posted",
    )

    late = {
        "journal": "OD",
        "date": "2026-12-15",
        "label": "Trop tard",
        "lines": [debit("512000", "1.00"), credit("706000", "1.00")],
    }
    assert_problem(await client.post(url(ledger, "entries"), json=late), 409, "fiscal-year-closed")
    assert_problem(await close(client, ledger, 2026), 409, "fiscal-year-closed")
    reverse = await client.post(url(ledger, "entries", done["closing"]["id"], "reverse"))
    assert_problem(reverse, 409, "closing-entry")

    await seal(app)
    sealed = (await client.get(url(ledger, "fiscal-years", "2026"))).json()["seal"]
    assert (sealed["entries"], sealed["sealed"], sealed["debit"], sealed["credit"]) == (
        4,
        4,
        "3000.00",  # 1,200 + 300 + 500, and the closing's 1,000
        "3000.00",
    )
    last = (await client.get(url(ledger, "entries"), params={"journal": "OD"})).json()["items"][0]
    assert (sealed["last_seq"], sealed["last_hash"]) == (last["seq"], last["hash"])
    audit = (await client.get(url(ledger, "audit", "verify"))).json()
    assert audit == {"ok": True, "checked": 5, "first_broken": None}


async def test_a_year_closes_after_the_one_before_it_and_without_drafts(
    client: httpx.AsyncClient,
) -> None:
    ledger = await books(client)
    await open_year(client, ledger, 2027)
    assert_problem(await close(client, ledger, 2027), 409, "previous-year-open")
    drafted = {
        "journal": "OD",
        "date": "2026-06-01",
        "label": "Brouillon",
        "status": "draft",
        "lines": [debit("512000", "1.00"), credit("706000", "1.00")],
    }
    made = await client.post(url(ledger, "entries"), json=drafted)
    assert made.status_code == 201, made.text
    problem = assert_problem(await close(client, ledger, 2026), 409, "drafts-remain")
    assert problem["drafts"] == 1
    assert (await client.delete(url(ledger, "entries", made.json()["id"]))).status_code == 204
    assert (await close(client, ledger, 2026)).status_code == 200
    assert_problem(await close(client, ledger, 2031), 404, "fiscal-year-not-found")


async def test_closing_goes_through_locked_months(client: httpx.AsyncClient) -> None:
    ledger = await books(client)
    await open_year(client, ledger, 2027)
    for month in ("2026-12", "2027-01"):
        assert (await client.post(url(ledger, "periods", month, "lock"))).status_code == 200
    response = await close(client, ledger, 2026)
    assert response.status_code == 200, response.text
    assert response.json()["opening"]["lines"] == PROFIT_OPENING
    manual = {
        "journal": "OD",
        "date": "2027-01-05",
        "label": "Verrouillé",
        "lines": [debit("512000", "1.00"), credit("706000", "1.00")],
    }
    assert_problem(await client.post(url(ledger, "entries"), json=manual), 409, "period-locked")


async def test_reopening_reverses_the_closing_and_closing_again_opens_the_same(
    client: httpx.AsyncClient,
) -> None:
    ledger = await books(client)
    first = (await close(client, ledger, 2026)).json()
    response = await client.post(url(ledger, "fiscal-years", "2026", "reopen"))
    assert response.status_code == 200, response.text
    reopened = response.json()
    assert reopened["fiscal_year"] == 2026
    assert len(reopened["reversals"]) == 2
    assert (await client.get(url(ledger, "fiscal-years", "2026"))).json()["status"] == "open"
    for reversal in reopened["reversals"]:
        entry = (await client.get(url(ledger, "entries", reversal))).json()
        assert entry["reverses"] in {first["closing"]["id"], first["opening"]["id"]}
    opened = await balances(client, ledger, **{"from": "2027-01-01"})
    assert set(opened.values()) == {"0.00"}
    assert (await balances(client, ledger, to="2026-12-31"))["706000"] == "-1000.00"
    assert_problem(
        await client.post(url(ledger, "fiscal-years", "2026", "reopen")), 409, "fiscal-year-open"
    )

    second = (await close(client, ledger, 2026)).json()
    assert second["result"] == first["result"]
    assert second["closing"]["lines"] == first["closing"]["lines"]
    assert second["opening"]["lines"] == first["opening"]["lines"] == PROFIT_OPENING
    assert await balances(client, ledger, **{"from": "2027-01-01"}) == {
        "120000": "-700.00",
        "401000": "-300.00",
        "411000": "700.00",
        "445710": "-200.00",
        "512000": "500.00",
    }

    own = {
        "journal": "BQ",
        "date": "2027-02-01",
        "label": "Encaissement",
        "lines": [debit("512000", "100.00"), party(credit("411000", "100.00"), "DUPONT")],
    }
    assert (await client.post(url(ledger, "entries"), json=own)).status_code == 201
    refused = await client.post(url(ledger, "fiscal-years", "2026", "reopen"))
    assert_problem(refused, 409, "next-year-in-use")


async def test_a_loss_goes_to_129000(client: httpx.AsyncClient) -> None:
    code = f"c{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code)
    body = {
        "journal": "AC",
        "date": "2026-02-01",
        "label": "Achat",
        "lines": [debit("606100", "80.00"), credit("512000", "80.00")],
    }
    assert (await client.post(url(code, "entries"), json=body)).status_code == 201
    plan = (await close(client, code, 2026)).json()
    assert plan["result"] == "-80.00"
    assert plan["closing"]["lines"][-1] == {
        "account": "129000",
        "third_party": None,
        "debit": "80.00",
        "credit": None,
    }
    assert (await balances(client, code, **{"from": "2027-01-01"})) == {
        "129000": "80.00",
        "512000": "-80.00",
    }


SHEET = ["164000", "218300", "401000", "411000", "512000", "530000"]
INCOME = ["606100", "607000", "641100", "706000", "707000"]


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(SHEET + INCOME), st.sampled_from(SHEET + INCOME), st.integers(1, 10**7)
        ),
        min_size=1,
        max_size=10,
    )
)
async def test_the_opening_of_the_next_year_is_the_closing_balance_sheet(
    client: httpx.AsyncClient, moves: list[tuple[str, str, int]]
) -> None:
    code = f"c{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code)
    for debited, credited, cents in moves:
        if debited == credited:
            continue
        amount = f"{Decimal(cents).scaleb(-2):.2f}"
        body = {
            "journal": "OD",
            "date": "2026-06-30",
            "label": "Mouvement",
            "lines": [debit(debited, amount), credit(credited, amount)],
        }
        assert (await client.post(url(code, "entries"), json=body)).status_code == 201
    year_end = await balances(client, code, to="2026-12-31")
    result = -sum(Decimal(b) for a, b in year_end.items() if a[0] in "67")
    response = await close(client, code, 2026)
    assert response.status_code == 200, response.text
    assert Decimal(response.json()["result"]) == result

    expected = {a: Decimal(b) for a, b in year_end.items() if a[0] not in "67" and Decimal(b)}
    if result:
        key = "120000" if result > 0 else "129000"
        expected[key] = expected.get(key, Decimal(0)) - result
    opening = {
        a: Decimal(b) for a, b in (await balances(client, code, **{"from": "2027-01-01"})).items()
    }
    assert opening == expected
    closed = await balances(client, code, to="2026-12-31")
    assert all(Decimal(b) == 0 for a, b in closed.items() if a[0] in "67")
