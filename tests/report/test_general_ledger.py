"""The general ledger (grand livre) of every account: grouped by account, running balances,
cursor-paginated across accounts; its pages add up to the trial balance."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from grandlivre.entry import sealer
from grandlivre.pagination import encode_cursor
from grandlivre.report import general_ledger
from grandlivre.report.general_ledger import plan_slices, take_page
from grandlivre.report.repository import Movement, Slice
from tests.conftest import assert_problem
from tests.entry.helpers import credit, debit, url
from tests.entry.test_properties import (
    CURRENCIES,
    FIRST_DAY,
    LAST_DAY,
    PROPERTY_SETTINGS,
    Draft,
    balanced_drafts,
    open_ledger,
)
from tests.report.support import (
    CSV,
    XLSX,
    csv_rows,
    download_name,
    general_ledger_pages,
    get_json,
    joined_accounts,
    xlsx_sheets,
)
from tests.report.test_trial_balance import _post_quarter


def _moves(item: dict[str, Any]) -> list[tuple[str, str | None, str | None, str]]:
    return [(m["date"], m["debit"], m["credit"], m["balance"]) for m in item["movements"]]


async def test_the_general_ledger_groups_movements_by_account_with_running_balances(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    gl = await get_json(client, ledger, "general-ledger", **{"from": "2026-02-01"})
    assert (gl["date_from"], gl["date_to"], gl["next_cursor"]) == ("2026-02-01", None, None)
    # 445710 and 706000 did not move after January: they are not in it.
    assert [
        (i["account"], i["name"], i["opening"], i["debit"], i["credit"], i["closing"])
        for i in gl["items"]
    ] == [
        ("401000", "Fournisseurs", "0.00", "60.00", "60.00", "0.00"),
        ("411000", "Clients", "120.00", "0.00", "120.00", "0.00"),
        ("445660", "TVA déductible sur autres biens et services", "0.00", "10.00", "0.00",
         "10.00"),
        ("512000", "Banque", "0.00", "120.00", "60.00", "60.00"),
        ("607000", "Achats de marchandises", "0.00", "50.00", "0.00", "50.00"),
    ]  # fmt: skip
    assert [_moves(i) for i in gl["items"]] == [
        [("2026-03-01", None, "60.00", "-60.00"), ("2026-03-31", "60.00", None, "0.00")],
        [("2026-02-10", None, "120.00", "0.00")],
        [("2026-03-01", "10.00", None, "10.00")],
        [("2026-02-10", "120.00", None, "120.00"), ("2026-03-31", None, "60.00", "60.00")],
        [("2026-03-01", "50.00", None, "50.00")],
    ]
    first = gl["items"][0]["movements"][0]
    assert (first["journal"], first["label"], first["reference"]) == (
        "AC",
        "Écriture de test",
        None,
    )


async def test_pages_split_accounts_and_keep_their_running_balances(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    whole = await get_json(client, ledger, "general-ledger", **{"from": "2026-02-01"})
    pages = await general_ledger_pages(client, ledger, **{"from": "2026-02-01", "limit": 3})
    assert [[(i["account"], len(i["movements"])) for i in p["items"]] for p in pages] == [
        [("401000", 2), ("411000", 1)],
        [("445660", 1), ("512000", 2)],
        [("607000", 1)],
    ]
    joined = joined_accounts(pages)
    assert list(joined.values()) == whole["items"]
    # One line a page: the bank's second line starts from its first's balance.
    ones = await general_ledger_pages(client, ledger, account="512000", limit=1)
    assert [_moves(i) for p in ones for i in p["items"]] == [
        [("2026-02-10", "120.00", None, "120.00")],
        [("2026-03-31", None, "60.00", "60.00")],
    ]
    # A full page has a next_cursor: the last page, after the last line, is empty.
    assert [len(p["items"]) for p in ones] == [1, 1, 0]


async def test_the_general_ledger_of_one_account(client: httpx.AsyncClient, ledger: str) -> None:
    await _post_quarter(client, ledger)
    gl = await get_json(client, ledger, "general-ledger", account="411000", to="2026-01-31")
    assert [(i["account"], i["closing"], _moves(i)) for i in gl["items"]] == [
        ("411000", "120.00", [("2026-01-15", "120.00", None, "120.00")])
    ]
    quiet = await get_json(client, ledger, "general-ledger", account="530000")
    assert quiet == {"date_from": None, "date_to": None, "items": [], "next_cursor": None}
    missing = await client.get(url(ledger, "general-ledger"), params={"account": "499999"})
    assert_problem(missing, 404, "account-not-found")


async def test_drafts_are_left_out_unless_asked_for(client: httpx.AsyncClient, ledger: str) -> None:
    await _post_quarter(client, ledger)
    draft = {
        "journal": "OD",
        "date": "2026-03-15",
        "label": "Brouillon",
        "status": "draft",
        "lines": [debit("512000", "5.00"), credit("706000", "5.00")],
    }
    assert (await client.post(url(ledger, "entries"), json=draft)).status_code == 201
    without = await get_json(client, ledger, "general-ledger", account="512000")
    assert without["items"][0]["closing"] == "60.00"
    with_drafts = await get_json(
        client, ledger, "general-ledger", account="512000", include_drafts="true"
    )
    assert with_drafts["items"][0]["closing"] == "65.00"
    assert [m["balance"] for m in with_drafts["items"][0]["movements"]] == [
        "120.00",
        "125.00",
        "65.00",
    ]


@pytest.mark.parametrize(
    ("params", "type_"),
    [
        ({"cursor": "garbage!"}, "invalid-cursor"),
        ({"cursor": encode_cursor("account-ledger", ["2026-01-01", str(uuid.uuid4()), "1"])},
         "invalid-cursor"),
        ({"cursor": encode_cursor("general-ledger", ["x", "2026-01-01", str(uuid.uuid4()), "1"])},
         "invalid-cursor"),
        ({"cursor": encode_cursor("general-ledger", ["512000", "2026-13-01", "x", "1"])},
         "invalid-cursor"),
        ({"account": "512000",
          "cursor": encode_cursor("general-ledger", ["411000", "2026-01-15", str(uuid.uuid4()),
                                                     "0"])},
         "invalid-cursor"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "invalid-date-range"),
        ({"fiscal_year": "2026", "from": "2026-01-01"}, "invalid-date-range"),
        ({"limit": "0"}, "validation-error"),
        ({"limit": "501"}, "validation-error"),
        ({"account": "41a"}, "validation-error"),
        ({"fiscal_year": "26"}, "validation-error"),
        ({"reference": "F-1"}, "validation-error"),
        ({"limit": "5", "cursor": "x", "limit ": "6"}, "validation-error"),
    ],
    ids=["garbage", "other-list", "bad-number", "bad-date", "other-account", "reversed",
         "year-and-dates", "limit-0", "limit-501", "account-pattern", "year-range",
         "unknown-parameter", "unknown-spaced-parameter"],
)  # fmt: skip
async def test_a_bad_general_ledger_query_is_refused(
    client: httpx.AsyncClient, ledger: str, params: dict[str, str], type_: str
) -> None:
    response = await client.get(url(ledger, "general-ledger"), params=params)
    assert_problem(response, 422, type_)


async def test_the_general_ledger_of_an_unknown_year_or_ledger_is_not_found(
    client: httpx.AsyncClient, ledger: str
) -> None:
    response = await client.get(url(ledger, "general-ledger"), params={"fiscal_year": "2031"})
    assert_problem(response, 404, "fiscal-year-not-found")
    assert_problem(await client.get(url("nope", "general-ledger")), 404, "ledger-not-found")


# -- as a spreadsheet -------------------------------------------------------------------------


async def test_the_general_ledger_csv_holds_the_whole_range(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    response = await client.get(
        url(ledger, "general-ledger"),
        params={"from": "2026-02-01", "to": "2026-03-31"},
        headers={"Accept": CSV},
    )
    assert download_name(response) == f"grand-livre-{ledger}-2026-02-01-2026-03-31.csv"
    rows = csv_rows(response)
    assert rows[0] == [
        "Compte", "Intitulé", "Date", "Journal", "Pièce", "Libellé", "Débit", "Crédit", "Solde",
    ]  # fmt: skip
    label = "Écriture de test"
    assert rows[1:] == [
        ["401000", "Fournisseurs", "01/02/2026", "", "", "Solde d'ouverture", "", "", "0,00"],
        ["401000", "Fournisseurs", "01/03/2026", "AC", "", label, "", "60,00", "-60,00"],
        ["401000", "Fournisseurs", "31/03/2026", "OD", "", label, "60,00", "", "0,00"],
        ["401000", "Fournisseurs", "31/03/2026", "", "", "Total du compte", "60,00", "60,00",
         "0,00"],
        ["411000", "Clients", "01/02/2026", "", "", "Solde d'ouverture", "", "", "120,00"],
        ["411000", "Clients", "10/02/2026", "OD", "", label, "", "120,00", "0,00"],
        ["411000", "Clients", "31/03/2026", "", "", "Total du compte", "0,00", "120,00", "0,00"],
        ["445660", "TVA déductible sur autres biens et services", "01/02/2026", "", "",
         "Solde d'ouverture", "", "", "0,00"],
        ["445660", "TVA déductible sur autres biens et services", "01/03/2026", "AC", "", label,
         "10,00", "", "10,00"],
        ["445660", "TVA déductible sur autres biens et services", "31/03/2026", "", "",
         "Total du compte", "10,00", "0,00", "10,00"],
        ["512000", "Banque", "01/02/2026", "", "", "Solde d'ouverture", "", "", "0,00"],
        ["512000", "Banque", "10/02/2026", "OD", "", label, "120,00", "", "120,00"],
        ["512000", "Banque", "31/03/2026", "OD", "", label, "", "60,00", "60,00"],
        ["512000", "Banque", "31/03/2026", "", "", "Total du compte", "120,00", "60,00",
         "60,00"],
        ["607000", "Achats de marchandises", "01/02/2026", "", "", "Solde d'ouverture", "", "",
         "0,00"],
        ["607000", "Achats de marchandises", "01/03/2026", "AC", "", label, "50,00", "",
         "50,00"],
        ["607000", "Achats de marchandises", "31/03/2026", "", "", "Total du compte", "50,00",
         "0,00", "50,00"],
    ]  # fmt: skip


async def test_the_general_ledger_xlsx_has_typed_cells(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    response = await client.get(
        url(ledger, "general-ledger"), params={"account": "512000"}, headers={"Accept": XLSX}
    )
    assert download_name(response) == f"grand-livre-{ledger}-debut-fin.xlsx"
    sheets = xlsx_sheets(response)
    assert list(sheets) == ["Grand livre"]
    rows = sheets["Grand livre"]
    assert rows[0][:3] == ("Compte", "Intitulé", "Date")
    opening, first, second, total = rows[1:]
    assert opening == ("512000", "Banque", None, None, None, "Solde d'ouverture", None, None, 0)
    assert first[2].date() == date(2026, 2, 10)
    assert (first[6], first[7], first[8]) == (120, None, 120)
    assert (second[6], second[7], second[8]) == (None, 60, 60)
    assert total[5:] == ("Total du compte", 120, 60, 60)


async def test_a_spreadsheet_is_the_whole_range_not_a_page(
    client: httpx.AsyncClient, ledger: str
) -> None:
    for params in ({"limit": "2"}, {"cursor": "abc"}):
        response = await client.get(
            url(ledger, "general-ledger"), params=params, headers={"Accept": CSV}
        )
        problem = assert_problem(
            response, 422, "invalid-cursor" if "cursor" in params else "validation-error"
        )
        assert "whole range" in problem["detail"]


async def test_a_spreadsheet_streams_in_chunks_across_accounts(
    client: httpx.AsyncClient, ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks of 2 lines: every account boundary and chunk boundary is crossed.
    await _post_quarter(client, ledger)
    whole = csv_rows(await client.get(url(ledger, "general-ledger"), headers={"Accept": CSV}))
    monkeypatch.setattr(general_ledger, "CHUNK_LINES", 2)
    chunked = csv_rows(await client.get(url(ledger, "general-ledger"), headers={"Accept": CSV}))
    assert chunked == whole
    assert len(whole) == 1 + 7 * 2 + 10  # header, opening and total per account, 10 lines


# -- the pages, planned -------------------------------------------------------------------------

A, B, C, D = (uuid.UUID(int=n) for n in range(1, 5))
KEY = (date(2026, 1, 1), uuid.UUID(int=9), 0)


def test_a_page_is_at_most_three_slices_whatever_the_accounts() -> None:
    slices, covered = plan_slices([(A, 1), (B, 2), (C, 1), (D, 9)], KEY, 6)
    assert slices == [
        (Slice((A,), KEY, 2), 1),  # what is left of the cursor's account, and one more
        (Slice((B, C), None, 4), 3),  # the accounts that fit, together
        (Slice((D,), None, 2), 2),  # the first lines of the one that does not
    ]
    assert covered is False
    assert plan_slices([(A, 1), (B, 2)], None, 6) == ([(Slice((A, B), None, 4), 3)], True)
    assert plan_slices([(A, 9)], KEY, 3) == ([(Slice((A,), KEY, 3), 3)], False)
    assert plan_slices([(A, 3)], None, 3) == ([(Slice((A,), None, 3), 3)], True)


def _movement(account: uuid.UUID, n: int) -> Movement:
    return Movement(account, uuid.UUID(int=n), 0, date(2026, 1, 1), "OD", "x", None, None, n)


def test_a_page_stops_after_a_slice_that_held_more_than_counted() -> None:
    planned = [(Slice((A,), KEY, 2), 1), (Slice((B, C), None, 4), 3)]
    more = [[_movement(A, 1), _movement(A, 2)], [_movement(B, 3)]]
    assert take_page(planned, more, 10) == ([_movement(A, 1), _movement(A, 2)], True)
    fewer = [[], [_movement(B, 3)]]
    assert take_page(planned, fewer, 10) == ([_movement(B, 3)], False)


# -- the property -------------------------------------------------------------------------------


def _minor(text: str | None, decimals: int) -> int:
    return int(Decimal(text or "0").scaleb(decimals))


@PROPERTY_SETTINGS
@given(
    currency=st.sampled_from(sorted(CURRENCIES)),
    drafts=st.lists(balanced_drafts(), min_size=1, max_size=8),
    sealed_first=st.integers(0, 8),
    limit=st.integers(1, 7),
    window=st.tuples(st.dates(FIRST_DAY, LAST_DAY), st.dates(FIRST_DAY, LAST_DAY)),
)
async def test_general_ledger_pages_add_up_to_the_trial_balance(
    app: FastAPI,
    client: httpx.AsyncClient,
    backend: str,
    currency: str,
    drafts: list[Draft],
    sealed_first: int,
    limit: int,
    window: tuple[date, date],
) -> None:
    decimals = CURRENCIES[currency]
    ledger = await open_ledger(client, currency)
    for index, draft in enumerate(drafts):
        if index == sealed_first:
            await sealer.seal_now(app.state.store)
        posted = await client.post(url(ledger, "entries"), json=draft.payload(decimals))
        assert posted.status_code == 201, posted.text
    start, end = sorted(window)
    span = {"from": start.isoformat(), "to": end.isoformat()}

    pages = await general_ledger_pages(client, ledger, limit=limit, **span)
    assert all(sum(len(i["movements"]) for i in p["items"]) <= limit for p in pages)
    joined = joined_accounts(pages)
    whole = await get_json(client, ledger, "general-ledger", limit=500, **span)
    assert list(joined.values()) == whole["items"]
    # What was posted, summed here: the opening before the window, each line in it.
    opening: dict[str, int] = defaultdict(int)
    lines: dict[str, list[int]] = defaultdict(list)
    for draft in drafts:
        for line in draft.lines:
            if draft.day < start:
                opening[line.account] += line.minor
            elif draft.day <= end:
                lines[line.account].append(line.minor)
    assert set(joined) == set(lines)

    # The trial balance has the general ledger's accounts, and those that carry a balance
    # through the window unmoved, which the general ledger leaves out (no line to show).
    tb = await get_json(client, ledger, "trial-balance", **span)
    assert {i["account"]: (i["opening"], i["debit"], i["credit"], i["closing"])
            for i in tb["items"] if i["account"] in joined} == {
        a: (i["opening"], i["debit"], i["credit"], i["closing"]) for a, i in joined.items()
    }  # fmt: skip
    unmoved = {i["account"]: i for i in tb["items"] if i["account"] not in joined}
    assert set(unmoved) == {a for a, o in opening.items() if o and a not in lines}
    for account, item in unmoved.items():
        assert _minor(item["opening"], decimals) == opening[account]
        assert _minor(item["closing"], decimals) == opening[account]
        assert _minor(item["debit"], decimals) == _minor(item["credit"], decimals) == 0
    for account, item in joined.items():
        running = _minor(item["opening"], decimals)
        assert running == opening[account]
        seen = []
        for movement in item["movements"]:
            amount = _minor(movement["debit"], decimals) - _minor(movement["credit"], decimals)
            running += amount
            seen.append(amount)
            assert _minor(movement["balance"], decimals) == running
        assert sorted(seen) == sorted(lines[account])
        assert _minor(item["closing"], decimals) == running
        keys = [m["date"] for m in item["movements"]]
        assert keys == sorted(keys)
