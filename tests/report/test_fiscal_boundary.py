"""Balances across a closed fiscal year: the year is carried by the next one's opening entry
(à-nouveaux), and every report counts it once (report/window.py)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.closing.test_closing import books, close, party
from tests.entry.helpers import credit, debit, new_ledger, url
from tests.entry.test_properties import PROPERTY_SETTINGS
from tests.report.support import general_ledger_pages, get_json, joined_accounts

# Closing 2026 of tests/closing's books carries these to 2027-01-01 (the result to 120000).
CARRIED = {
    "120000": "-700.00",
    "401000": "-300.00",
    "411000": "700.00",
    "445710": "-200.00",
    "512000": "500.00",
}


async def closed_books(client: httpx.AsyncClient) -> str:
    """tests/closing's books with 2026 closed, and a payment of Dupont in 2027."""
    ledger = await books(client)
    response = await close(client, ledger, 2026)
    assert response.status_code == 200, response.text
    payment = {
        "journal": "BQ",
        "date": "2027-02-01",
        "label": "Règlement Dupont",
        "lines": [debit("512000", "100.00"), party(credit("411000", "100.00"), "DUPONT")],
    }
    assert (await client.post(url(ledger, "entries"), json=payment)).status_code == 201
    return ledger


def _columns(tb: dict[str, Any]) -> dict[str, tuple[str, str, str, str]]:
    return {
        i["account"]: (i["opening"], i["debit"], i["credit"], i["closing"]) for i in tb["items"]
    }


async def test_the_next_year_shows_each_balance_once(client: httpx.AsyncClient) -> None:
    ledger = await closed_books(client)
    tb = await get_json(client, ledger, "trial-balance", fiscal_year="2027")
    assert (tb["date_from"], tb["date_to"]) == ("2027-01-01", "2027-12-31")
    # Nothing stands before the year: its opening entry (dated its first day) is a movement.
    assert _columns(tb) == {
        "120000": ("0.00", "0.00", "700.00", "-700.00"),
        "401000": ("0.00", "0.00", "300.00", "-300.00"),
        "411000": ("0.00", "700.00", "100.00", "600.00"),
        "445710": ("0.00", "0.00", "200.00", "-200.00"),
        "512000": ("0.00", "600.00", "0.00", "600.00"),
    }
    assert [(c["class"], c["opening"], c["debit"], c["credit"], c["closing"])
            for c in tb["classes"]] == [
        (1, "0.00", "0.00", "700.00", "-700.00"),
        (4, "0.00", "700.00", "600.00", "100.00"),
        (5, "0.00", "600.00", "0.00", "600.00"),
    ]  # fmt: skip
    assert tb["totals"] == {"debit": "1300.00", "credit": "1300.00", "balance": "0.00"}

    # From February on, the opening is the à-nouveaux and January: not 2026 again.
    # The others carry their à-nouveaux through it unmoved.
    later = await get_json(client, ledger, "trial-balance", **{"from": "2027-02-01"})
    assert _columns(later) == {
        "120000": ("-700.00", "0.00", "0.00", "-700.00"),
        "401000": ("-300.00", "0.00", "0.00", "-300.00"),
        "411000": ("700.00", "0.00", "100.00", "600.00"),
        "445710": ("-200.00", "0.00", "0.00", "-200.00"),
        "512000": ("500.00", "100.00", "0.00", "600.00"),
    }
    for as_of, expected in (("2027-01-01", "500.00"), ("2027-12-31", "600.00")):
        bank = await get_json(client, ledger, "accounts", "512000", "balance", as_of=as_of)
        assert bank["balance"] == expected
    bank = await get_json(client, ledger, "accounts", "512000", "balance", as_of="2027-12-31")
    # Counted from the start of 2027: the à-nouveaux and the payment.
    assert (bank["debit"], bank["credit"]) == ("600.00", "0.00")
    # The last day of 2026 is still 2026's own balance, the closing entry included.
    year_end = await get_json(client, ledger, "accounts", "706000", "balance", as_of="2026-12-31")
    assert (year_end["debit"], year_end["credit"], year_end["balance"]) == (
        "1000.00",
        "1000.00",
        "0.00",
    )
    assert (await get_json(client, ledger, "accounts", "512000", "balance"))["balance"] == "600.00"


async def test_a_range_across_the_closed_year_counts_it_once(client: httpx.AsyncClient) -> None:
    ledger = await closed_books(client)
    every = await get_json(client, ledger, "trial-balance")
    closing = {a: c for a, (_, _, _, c) in _columns(every).items()}
    assert closing == {
        "120000": "-700.00",
        "401000": "-300.00",
        "411000": "600.00",
        "445710": "-200.00",
        "512000": "600.00",
        "607000": "0.00",
        "706000": "0.00",
    }
    # The à-nouveaux restate what the range holds: they are not among its movements.
    assert _columns(every)["512000"] == ("0.00", "600.00", "0.00", "600.00")
    across = await get_json(client, ledger, "trial-balance", **{"from": "2026-04-01"})
    assert _columns(across)["411000"] == ("1200.00", "0.00", "600.00", "600.00")
    assert _columns(across)["512000"] == ("0.00", "600.00", "0.00", "600.00")
    bank = await get_json(client, ledger, "accounts", "512000", "ledger")
    assert [(m["date"], m["debit"], m["balance"]) for m in bank["items"]] == [
        ("2026-05-20", "500.00", "500.00"),
        ("2027-02-01", "100.00", "600.00"),
    ]
    year = await get_json(client, ledger, "accounts", "512000", "ledger", fiscal_year="2027")
    assert (year["opening_balance"], year["closing_balance"]) == ("0.00", "600.00")
    assert [(m["date"], m["journal"], m["balance"]) for m in year["items"]] == [
        ("2027-01-01", "AN", "500.00"),
        ("2027-02-01", "BQ", "600.00"),
    ]
    march = await get_json(client, ledger, "accounts", "512000", "ledger", **{"from": "2027-03-01"})
    assert (march["opening_balance"], march["closing_balance"], march["items"]) == (
        "600.00",
        "600.00",
        [],
    )


async def test_third_party_balances_count_the_closed_year_once(client: httpx.AsyncClient) -> None:
    ledger = await closed_books(client)
    aux = await get_json(client, ledger, "third-party-balance", fiscal_year="2027")
    assert [
        (r["account"], r["third_party"], r["opening"], r["debit"], r["credit"], r["closing"])
        for r in aux["items"]
    ] == [
        ("401000", "MARTIN", "0.00", "0.00", "300.00", "-300.00"),
        ("411000", "DUPONT", "0.00", "700.00", "100.00", "600.00"),
    ]
    # Nobody moved after February: each third party carries its balance through March.
    later = await get_json(client, ledger, "third-party-balance", **{"from": "2027-03-01"})
    assert [
        (r["third_party"], r["opening"], r["debit"], r["credit"], r["closing"])
        for r in later["items"]
    ] == [
        ("MARTIN", "-300.00", "0.00", "0.00", "-300.00"),
        ("DUPONT", "600.00", "0.00", "0.00", "600.00"),
    ]
    everything = await get_json(client, ledger, "third-party-balance")
    assert {(r["third_party"], r["closing"]) for r in everything["items"]} == {
        ("MARTIN", "-300.00"),
        ("DUPONT", "600.00"),
    }
    dupont = await get_json(client, ledger, "third-parties", "DUPONT", "balance")
    assert (dupont["debit"], dupont["credit"], dupont["balance"]) == ("700.00", "100.00", "600.00")
    in_2026 = await get_json(
        client, ledger, "third-parties", "DUPONT", "balance", as_of="2026-12-31"
    )
    assert (in_2026["debit"], in_2026["credit"], in_2026["balance"]) == (
        "1200.00",
        "500.00",
        "700.00",
    )
    ledger_of_dupont = await get_json(
        client, ledger, "accounts", "411000", "ledger", third_party="DUPONT", fiscal_year="2027"
    )
    assert [m["balance"] for m in ledger_of_dupont["items"]] == ["700.00", "600.00"]
    assert ledger_of_dupont["closing_balance"] == "600.00"


async def test_a_reopened_year_is_counted_from_its_entries_again(
    client: httpx.AsyncClient,
) -> None:
    ledger = await books(client)
    assert (await close(client, ledger, 2026)).status_code == 200
    reopened = await client.post(url(ledger, "fiscal-years", "2026", "reopen"))
    assert reopened.status_code == 200, reopened.text
    tb = await get_json(client, ledger, "trial-balance", fiscal_year="2027")
    # 2026 is open again: its balances stand before 2027, whose à-nouveaux and their
    # reversal cancel out.
    assert _columns(tb)["512000"] == ("500.00", "500.00", "500.00", "500.00")
    assert (await get_json(client, ledger, "accounts", "512000", "balance"))["balance"] == "500.00"
    every = await get_json(client, ledger, "trial-balance")
    assert _columns(every)["706000"] == ("0.00", "1000.00", "2000.00", "-1000.00")


async def test_the_general_ledger_across_the_closed_year(client: httpx.AsyncClient) -> None:
    ledger = await closed_books(client)
    tb = await get_json(client, ledger, "trial-balance", **{"from": "2026-04-01"})
    pages = await general_ledger_pages(client, ledger, limit=2, **{"from": "2026-04-01"})
    joined = joined_accounts(pages)
    # The general ledger lists the accounts with a line in the range; 445710, unmoved since
    # its invoice of March, is only in the trial balance.
    moved = {i["account"]: i["closing"] for i in tb["items"] if i["account"] != "445710"}
    assert {a: i["closing"] for a, i in joined.items()} == moved
    assert _columns(tb)["445710"] == ("-200.00", "0.00", "0.00", "-200.00")
    assert all(m["journal"] != "AN" for i in joined.values() for m in i["movements"])


# -- the property -------------------------------------------------------------------------------

SHEET = ["101000", "164000", "401000", "411000", "512000"]
INCOME = ["606100", "607000", "706000"]
OPENED = date(2027, 1, 1)


def _lines(moves: list[tuple[str, str, int]]) -> list[dict[str, Any]]:
    return [
        line
        for debited, credited, cents in moves
        for line in (
            debit(debited, f"{Decimal(cents).scaleb(-2):.2f}"),
            credit(credited, f"{Decimal(cents).scaleb(-2):.2f}"),
        )
    ]


def _signed(line: dict[str, Any]) -> int:
    return int(Decimal(line.get("debit") or 0) * 100) - int(Decimal(line.get("credit") or 0) * 100)


entries_of_a_year = st.lists(
    st.tuples(
        st.integers(0, 364),
        st.lists(
            st.tuples(
                st.sampled_from(SHEET + INCOME),
                st.sampled_from(SHEET + INCOME),
                st.integers(1, 10**6),
            ).filter(lambda m: m[0] != m[1]),
            min_size=1,
            max_size=3,
        ),
    ),
    min_size=1,
    max_size=5,
)


@settings(PROPERTY_SETTINGS, max_examples=15)
@given(
    before=entries_of_a_year,
    after=entries_of_a_year,
    window=st.tuples(st.integers(0, 729), st.integers(0, 729)),
)
async def test_any_range_counts_a_closed_year_once(
    client: httpx.AsyncClient,
    backend: str,
    before: list[tuple[int, list[tuple[str, str, int]]]],
    after: list[tuple[int, list[tuple[str, str, int]]]],
    window: tuple[int, int],
) -> None:
    """Whatever the range: its opening is what was posted before it, its closing what was
    posted up to its end (the closing entry of 2026 included, its à-nouveaux not), and the
    à-nouveaux are a movement only of a range that starts on 2027-01-01."""
    code = f"b{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code)
    posted: list[tuple[date, int, str]] = []  # (date, signed cents, account)

    async def post(day: date, moves: list[tuple[str, str, int]]) -> None:
        body = {"journal": "OD", "date": day.isoformat(), "label": "Mouvement",
                "lines": _lines(moves)}  # fmt: skip
        response = await client.post(url(code, "entries"), json=body)
        assert response.status_code == 201, response.text
        posted.extend((day, _signed(line), line["account"]) for line in body["lines"])

    for offset, moves in before:
        await post(date(2026, 1, 1) + timedelta(days=offset), moves)
    closing = await close(client, code, 2026)
    assert closing.status_code == 200, closing.text
    plan = closing.json()
    carried = [(OPENED, _signed(line), line["account"]) for line in plan["opening"]["lines"]]
    posted.extend((date(2026, 12, 31), _signed(line), line["account"])
                  for line in plan["closing"]["lines"])  # fmt: skip
    for offset, moves in after:
        await post(OPENED + timedelta(days=offset), moves)

    start, end = (date(2026, 1, 1) + timedelta(days=d) for d in sorted(window))
    counted = posted + (carried if start == OPENED else [])
    opening: dict[str, int] = defaultdict(int)
    moved: dict[str, list[int]] = defaultdict(list)
    for day, amount, account in counted:
        if day < start and start != OPENED:
            opening[account] += amount
        elif start <= day <= end:
            moved[account].append(amount)

    def cents(text: str) -> int:
        return int(Decimal(text) * 100)

    span = {"from": start.isoformat(), "to": end.isoformat()}
    tb = await get_json(client, code, "trial-balance", **span)
    # The accounts moved in the range, and those that carry a balance through it unmoved.
    assert {i["account"] for i in tb["items"]} == set(moved) | {a for a, o in opening.items() if o}
    for item in tb["items"]:
        account = item["account"]
        assert cents(item["opening"]) == opening[account], account
        assert cents(item["debit"]) == sum(a for a in moved.get(account, []) if a > 0), account
        assert cents(item["credit"]) == -sum(a for a in moved.get(account, []) if a < 0), account
    as_of_end = {
        i["account"]: sum(x for d, x, b in posted if b == i["account"] and d <= end)
        for i in tb["items"]
    }
    for item in tb["items"]:
        assert cents(item["closing"]) == as_of_end[item["account"]], item
        balance = await get_json(
            client, code, "accounts", item["account"], "balance", as_of=end.isoformat()
        )
        assert balance["balance"] == item["closing"]
    joined = joined_accounts(await general_ledger_pages(client, code, limit=3, **span))
    assert {a: i["closing"] for a, i in joined.items()} == {
        i["account"]: i["closing"] for i in tb["items"] if i["account"] in moved
    }
