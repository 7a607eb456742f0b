"""The entry list: filters, date order and cursor pagination."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import assert_problem
from tests.entry.helpers import credit, debit, post_entry, unsealed, url, walk

# (date, journal, debit account, credit account, amount)
BOOK = [
    ("2026-01-10", "VE", "411000", "706000", "100.00"),
    ("2026-01-05", "BQ", "512000", "411000", "40.00"),
    ("2026-02-01", "AC", "607000", "401000", "70.00"),
    ("2026-01-10", "BQ", "512000", "411000", "60.00"),
    ("2026-03-15", "OD", "471000", "512000", "5.00"),
    ("2026-01-10", "VE", "411000", "706000", "30.00"),
    ("2026-02-28", "BQ", "401000", "512000", "70.00"),
]


async def _post_book(client: httpx.AsyncClient, ledger: str) -> list[dict[str, Any]]:
    posted = []
    for day, journal, debited, credited, amount in BOOK:
        posted.append(
            await post_entry(
                client,
                ledger,
                [debit(debited, amount), credit(credited, amount)],
                journal=journal,
                date=day,
            )
        )
    return posted


def _in_order(entries: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(entries, key=lambda e: (e["date"], uuid.UUID(e["id"])))
    return [e["id"] for e in ordered]


async def test_entries_are_listed_in_date_then_id_order(
    client: httpx.AsyncClient, ledger: str
) -> None:
    posted = await _post_book(client, ledger)
    response = await client.get(url(ledger, "entries"))
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    assert [e["id"] for e in page["items"]] == _in_order(posted)
    in_order = sorted(posted, key=lambda e: (e["date"], uuid.UUID(e["id"])))
    assert [unsealed(e) for e in page["items"]] == [unsealed(e) for e in in_order]


async def test_pagination_walks_every_entry_exactly_once_in_order(
    client: httpx.AsyncClient, ledger: str
) -> None:
    posted = await _post_book(client, ledger)
    walked, pages = await walk(client, url(ledger, "entries"), limit=2)
    assert [e["id"] for e in walked] == _in_order(posted)
    assert pages == 4


async def test_a_full_last_page_is_followed_by_an_empty_one(
    client: httpx.AsyncClient, ledger: str
) -> None:
    posted = await _post_book(client, ledger)
    walked, pages = await walk(client, url(ledger, "entries"), limit=len(posted))
    assert len(walked) == len(posted)
    assert pages <= 2


async def test_entries_are_filtered_by_date_range_inclusively(
    client: httpx.AsyncClient, ledger: str
) -> None:
    posted = await _post_book(client, ledger)
    params = {"from": "2026-01-10", "to": "2026-02-28"}
    walked, _ = await walk(client, url(ledger, "entries"), **params)
    expected = [e for e in posted if "2026-01-10" <= e["date"] <= "2026-02-28"]
    assert [e["id"] for e in walked] == _in_order(expected)
    assert len(walked) == 5

    since, _ = await walk(client, url(ledger, "entries"), **{"from": "2026-02-01"})
    assert {e["date"] for e in since} == {"2026-02-01", "2026-02-28", "2026-03-15"}
    until, _ = await walk(client, url(ledger, "entries"), to="2026-01-05")
    assert [e["date"] for e in until] == ["2026-01-05"]


async def test_a_single_day_range_is_allowed(client: httpx.AsyncClient, ledger: str) -> None:
    await _post_book(client, ledger)
    walked, _ = await walk(
        client, url(ledger, "entries"), **{"from": "2026-01-10", "to": "2026-01-10"}
    )
    assert [e["date"] for e in walked] == ["2026-01-10"] * 3


async def test_entries_are_filtered_by_journal(client: httpx.AsyncClient, ledger: str) -> None:
    posted = await _post_book(client, ledger)
    walked, _ = await walk(client, url(ledger, "entries"), journal="BQ")
    assert [e["id"] for e in walked] == _in_order([e for e in posted if e["journal"] == "BQ"])
    assert len(walked) == 3


async def test_entries_are_filtered_by_account(client: httpx.AsyncClient, ledger: str) -> None:
    posted = await _post_book(client, ledger)
    walked, _ = await walk(client, url(ledger, "entries"), account="512000", limit=2)
    expected = [e for e in posted if any(line["account"] == "512000" for line in e["lines"])]
    assert [e["id"] for e in walked] == _in_order(expected)
    assert len(walked) == 4
    # Lines of the listed entries are complete, not only those on the filtered account.
    assert all(len(e["lines"]) == 2 for e in walked)


async def test_filters_combine(client: httpx.AsyncClient, ledger: str) -> None:
    await _post_book(client, ledger)
    walked, _ = await walk(
        client, url(ledger, "entries"), journal="BQ", account="411000", to="2026-01-09"
    )
    assert [(e["date"], e["journal"]) for e in walked] == [("2026-01-05", "BQ")]


async def test_filters_on_unknown_journal_or_account_match_nothing(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_book(client, ledger)
    for params in ({"journal": "ZZ"}, {"account": "499999"}):
        response = await client.get(url(ledger, "entries"), params=params)
        assert response.status_code == 200, response.text
        assert response.json() == {"items": [], "next_cursor": None}


async def test_a_range_ending_before_it_starts_is_refused(
    client: httpx.AsyncClient, ledger: str
) -> None:
    response = await client.get(
        url(ledger, "entries"), params={"from": "2026-02-01", "to": "2026-01-31"}
    )
    assert_problem(response, 422, "invalid-date-range")


@pytest.mark.parametrize(
    "cursor", ["garbage", "!!!", "W10", "eyJhIjoxfQ", "WyJlbnRyaWVzIiwieCIsInkiXQ"]
)
async def test_a_cursor_the_service_did_not_issue_is_refused(
    client: httpx.AsyncClient, ledger: str, cursor: str
) -> None:
    response = await client.get(url(ledger, "entries"), params={"cursor": cursor})
    assert_problem(response, 422, "invalid-cursor")


async def test_a_cursor_of_another_list_is_refused(client: httpx.AsyncClient, ledger: str) -> None:
    accounts = (await client.get(url(ledger, "accounts"), params={"limit": 1})).json()
    response = await client.get(url(ledger, "entries"), params={"cursor": accounts["next_cursor"]})
    assert_problem(response, 422, "invalid-cursor")


@pytest.mark.parametrize("limit", [1, 100, 500])
async def test_page_sizes_up_to_at_least_100_are_accepted(
    client: httpx.AsyncClient, ledger: str, limit: int
) -> None:
    response = await client.get(url(ledger, "entries"), params={"limit": limit})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("limit", ["0", "-1", "ten"])
async def test_a_page_size_below_one_is_refused(
    client: httpx.AsyncClient, ledger: str, limit: str
) -> None:
    response = await client.get(url(ledger, "entries"), params={"limit": limit})
    assert_problem(response, 422, "validation-error")


@pytest.mark.parametrize("param", ["from", "to"])
async def test_a_filter_date_that_is_not_a_date_is_refused(
    client: httpx.AsyncClient, ledger: str, param: str
) -> None:
    response = await client.get(url(ledger, "entries"), params={param: "2026-13-01"})
    assert_problem(response, 422, "invalid-date")


async def test_an_empty_ledger_lists_no_entries(client: httpx.AsyncClient, ledger: str) -> None:
    response = await client.get(url(ledger, "entries"))
    assert response.json() == {"items": [], "next_cursor": None}
