"""Fiscal years and periods, as a client of the API meets them, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from grandlivre.clock import PARIS
from tests.conftest import assert_problem, bearer, issue_key
from tests.entry.helpers import (
    API,
    credit,
    debit,
    design_entry,
    new_ledger,
    open_year,
    post_entry,
    snapshot,
    url,
)
from tests.sealer.support import execute_sql


def code() -> str:
    return f"f{uuid.uuid4().hex[:12]}"


def months(first: str, count: int) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


async def lines_entry(client: httpx.AsyncClient, ledger: str, day: str) -> httpx.Response:
    return await client.post(url(ledger, "entries"), json=design_entry(date=day))


# -- a ledger's first fiscal year -------------------------------------------------------------


async def test_a_new_ledger_gets_the_calendar_year_by_default(client: httpx.AsyncClient) -> None:
    ledger = code()
    before = datetime.now(PARIS).year
    created = await client.post(API, json={"code": ledger, "name": "Défaut"})
    assert created.status_code == 201, created.text
    after = datetime.now(PARIS).year

    page = (await client.get(url(ledger, "fiscal-years"))).json()
    [year] = page["items"]
    assert page["next_cursor"] is None
    assert year["year"] in {before, after}
    assert (year["start"], year["end"]) == (f"{year['year']}-01-01", f"{year['year']}-12-31")
    assert year["status"] == "open"
    assert year["closed_at"] is None
    assert [p["period"] for p in year["periods"]] == months(f"{year['year']}-01", 12)
    assert all(not p["locked"] and p["fiscal_year"] == year["year"] for p in year["periods"])


async def test_a_first_year_from_a_start_day_ends_with_its_twelfth_month(
    client: httpx.AsyncClient,
) -> None:
    ledger = code()
    await new_ledger(client, ledger, fiscal_year_start="2026-03-17")

    year = (await client.get(url(ledger, "fiscal-years", "2027"))).json()
    assert (year["start"], year["end"]) == ("2026-03-17", "2027-02-28")
    assert [p["period"] for p in year["periods"]] == months("2026-03", 12)


@pytest.mark.parametrize(
    ("start", "end", "name"),
    [("2026-07-01", "2027-12-31", 2027), ("2026-01-01", "2026-06-30", 2026)],
)
async def test_a_first_year_may_run_from_6_to_24_months(
    client: httpx.AsyncClient, start: str, end: str, name: int
) -> None:
    ledger = code()
    created = await client.post(
        API,
        json={"code": ledger, "name": "Long", "fiscal_year_start": start, "fiscal_year_end": end},
    )
    assert created.status_code == 201, created.text
    [year] = (await client.get(url(ledger, "fiscal-years"))).json()["items"]
    assert (year["year"], year["start"], year["end"]) == (name, start, end)


@pytest.mark.parametrize(
    "end",
    ["2026-06-29", "2026-05-31", "2028-01-31", "2025-12-31"],
    ids=["not-a-month-end", "under-6-months", "over-24-months", "before-start"],
)
async def test_a_first_year_of_other_bounds_is_refused_and_no_ledger_made(
    client: httpx.AsyncClient, end: str
) -> None:
    ledger = code()
    refused = await client.post(
        API,
        json={
            "code": ledger,
            "name": "Mal borné",
            "fiscal_year_start": "2026-01-01",
            "fiscal_year_end": end,
        },
    )
    assert_problem(refused, 422, "invalid-fiscal-year")
    assert_problem(await client.get(f"{API}/{ledger}"), 404, "ledger-not-found")


# -- opening the next ones --------------------------------------------------------------------


async def test_the_next_year_runs_the_twelve_months_after_the_last(
    client: httpx.AsyncClient,
) -> None:
    ledger = code()
    await new_ledger(client, ledger, fiscal_year_start="2026-03-17")

    response = await client.post(url(ledger, "fiscal-years"), json={"year": 2028})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/ledgers/{ledger}/fiscal-years/2028"
    opened = response.json()
    assert (opened["start"], opened["end"], opened["status"]) == (
        "2027-03-01",
        "2028-02-29",
        "open",
    )
    assert [p["period"] for p in opened["periods"]] == months("2027-03", 12)
    listed = (await client.get(url(ledger, "fiscal-years"))).json()["items"]
    assert [y["year"] for y in listed] == [2027, 2028]


async def test_a_year_that_is_not_the_next_is_refused_and_says_which_is(
    client: httpx.AsyncClient, ledger: str
) -> None:
    skipped = await client.post(url(ledger, "fiscal-years"), json={"year": 2028})
    body = assert_problem(skipped, 409, "fiscal-year-not-next")
    assert body["next"] == 2027
    again = await client.post(url(ledger, "fiscal-years"), json={"year": 2026})
    assert_problem(again, 409, "fiscal-year-exists")
    assert len((await client.get(url(ledger, "fiscal-years"))).json()["items"]) == 1


@pytest.mark.parametrize(
    "body", [{}, {"year": "2027"}, {"year": True}, {"year": 2027.5}, {"year": 2027, "x": 1}]
)
async def test_a_year_must_be_named_by_a_json_integer(
    client: httpx.AsyncClient, ledger: str, body: dict[str, Any]
) -> None:
    assert_problem(
        await client.post(url(ledger, "fiscal-years"), json=body), 422, "validation-error"
    )


async def test_only_an_admin_opens_years_and_locks_periods(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    accountant = bearer(await issue_key(app, "accountant", "comptable"))
    viewer = bearer(await issue_key(app, "viewer", "lecteur"))
    assert (await client.get(url(ledger, "fiscal-years"), headers=viewer)).status_code == 200
    for headers in (accountant, viewer):
        opened = await client.post(
            url(ledger, "fiscal-years"), json={"year": 2027}, headers=headers
        )
        assert_problem(opened, 403, "forbidden")
        locked = await client.post(url(ledger, "periods", "2026-03", "lock"), headers=headers)
        assert_problem(locked, 403, "forbidden")
    year = (await client.get(url(ledger, "fiscal-years", "2026"))).json()
    assert not any(p["locked"] for p in year["periods"])


async def test_unknown_years_and_periods_are_404_and_bad_names_422(
    client: httpx.AsyncClient, ledger: str
) -> None:
    assert_problem(
        await client.get(url(ledger, "fiscal-years", "2030")), 404, "fiscal-year-not-found"
    )
    assert_problem(
        await client.post(url(ledger, "periods", "2031-01", "lock")), 404, "period-not-found"
    )
    for bad in ("2026-13", "2026-1", "26-01", "2026-00", "0000-01", "1899-12", "3000-01"):
        assert_problem(
            await client.post(url(ledger, "periods", bad, "lock")), 422, "validation-error"
        )
    for bad in ("twenty", "0999", "+2026"):
        assert_problem(await client.get(url(ledger, "fiscal-years", bad)), 422, "validation-error")
    assert_problem(await client.get(url("nope", "fiscal-years")), 404, "ledger-not-found")


# -- what an entry's date must fall in ---------------------------------------------------------


async def test_an_entry_outside_every_fiscal_year_is_refused_until_its_year_is_opened(
    client: httpx.AsyncClient, ledger: str
) -> None:
    before = await snapshot(client, ledger)
    for day in ("2025-12-31", "2027-01-01"):
        body = assert_problem(await lines_entry(client, ledger, day), 422, "no-fiscal-year")
        assert body["date"] == day
    assert await snapshot(client, ledger) == before

    await open_year(client, ledger, 2027)
    posted = await lines_entry(client, ledger, "2027-01-01")
    assert posted.status_code == 201, posted.text
    assert posted.json()["fiscal_year"] == 2027
    read = (await client.get(url(ledger, "entries", posted.json()["id"]))).json()
    assert read["fiscal_year"] == 2027


async def test_a_locked_period_refuses_entries_until_it_is_unlocked(
    client: httpx.AsyncClient, ledger: str
) -> None:
    locked = await client.post(url(ledger, "periods", "2026-11", "lock"))
    assert locked.status_code == 200, locked.text
    assert (locked.json()["period"], locked.json()["fiscal_year"]) == ("2026-11", 2026)
    assert locked.json()["locked"] is True
    locked_at = locked.json()["locked_at"]
    assert locked_at is not None
    # Locking again keeps the period as it was.
    assert (await client.post(url(ledger, "periods", "2026-11", "lock"))).json() == locked.json()

    before = await snapshot(client, ledger)
    for day in ("2026-11-01", "2026-11-30"):
        body = assert_problem(await lines_entry(client, ledger, day), 409, "period-locked")
        assert body["period"] == "2026-11"
    assert await snapshot(client, ledger) == before
    assert (await lines_entry(client, ledger, "2026-12-01")).status_code == 201
    assert (await lines_entry(client, ledger, "2026-10-31")).status_code == 201

    unlocked = await client.post(url(ledger, "periods", "2026-11", "unlock"))
    assert unlocked.status_code == 200, unlocked.text
    assert (unlocked.json()["locked"], unlocked.json()["locked_at"]) == (False, None)
    assert (await lines_entry(client, ledger, "2026-11-23")).status_code == 201
    year = (await client.get(url(ledger, "fiscal-years", "2026"))).json()
    assert not any(p["locked"] for p in year["periods"])


async def test_a_batch_with_one_entry_in_a_locked_period_posts_none(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await client.post(url(ledger, "periods", "2026-03", "lock"))
    before = await snapshot(client, ledger)
    batch = {
        "entries": [
            design_entry(date="2026-02-28"),
            design_entry(date="2026-03-15"),
            design_entry(date="2025-06-01"),
        ]
    }
    body = assert_problem(
        await client.post(url(ledger, "entries", "batch"), json=batch), 422, "entries-refused"
    )
    assert [(e["index"], e["type"]) for e in body["entries"]] == [
        (1, "period-locked"),
        (2, "no-fiscal-year"),
    ]
    assert await snapshot(client, ledger) == before


async def test_a_reversal_dated_in_a_locked_period_is_refused(
    client: httpx.AsyncClient, ledger: str
) -> None:
    entry = await post_entry(
        client, ledger, [debit("512000", "9.00"), credit("706000", "9.00")], date="2026-04-10"
    )
    await client.post(url(ledger, "periods", "2026-04", "lock"))
    reverse = url(ledger, "entries", entry["id"], "reverse")
    assert_problem(await client.post(reverse, json={}), 409, "period-locked")
    moved = await client.post(reverse, json={"date": "2026-05-02"})
    assert moved.status_code == 201, moved.text
    assert moved.json()["fiscal_year"] == 2026


async def test_a_closed_year_takes_no_entry_and_keeps_its_periods_locked(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    await client.post(url(ledger, "periods", "2026-06", "lock"))
    # Closing is the job of POST .../close; the year's status is what posting reads.
    await execute_sql(
        app,
        "UPDATE fiscal_years SET status = 'closed' WHERE year = 2026 AND ledger_id = "
        "(SELECT id FROM ledgers WHERE code = :code)",
        code=ledger,
    )
    body = assert_problem(
        await lines_entry(client, ledger, "2026-02-01"), 409, "fiscal-year-closed"
    )
    assert body["fiscal_year"] == 2026
    unlock = await client.post(url(ledger, "periods", "2026-06", "unlock"))
    assert_problem(unlock, 409, "fiscal-year-closed")
    year = (await client.get(url(ledger, "fiscal-years", "2026"))).json()
    assert year["status"] == "closed"
    assert [p["period"] for p in year["periods"] if p["locked"]] == ["2026-06"]


async def test_the_fiscal_year_of_an_entry_is_the_one_its_date_falls_in(
    client: httpx.AsyncClient,
) -> None:
    ledger = code()
    await new_ledger(client, ledger, fiscal_year_start="2025-10-01")  # 2025-10 .. 2026-09
    await open_year(client, ledger, 2027)  # 2026-10 .. 2027-09
    for day, year in (("2025-10-01", 2026), ("2026-09-30", 2026), ("2026-10-01", 2027)):
        posted = await post_entry(
            client, ledger, [debit("512000", "1.00"), credit("706000", "1.00")], date=day
        )
        assert posted["fiscal_year"] == year, (day, posted)


# -- the three dates of an entry --------------------------------------------------------------


async def test_an_entry_keeps_its_document_date_apart_from_its_accounting_date(
    client: httpx.AsyncClient, ledger: str
) -> None:
    body = design_entry(date="2026-12-02", document_date="2026-11-28")
    posted = await client.post(url(ledger, "entries"), json=body)
    assert posted.status_code == 201, posted.text
    entry = posted.json()
    assert (entry["date"], entry["document_date"]) == ("2026-12-02", "2026-11-28")
    assert entry["validated_at"] == entry["created_at"]
    read = (await client.get(url(ledger, "entries", entry["id"]))).json()
    assert (read["date"], read["document_date"], read["validated_at"]) == (
        "2026-12-02",
        "2026-11-28",
        entry["validated_at"],
    )
    # A document of a year that is closed or not open is fine: only the accounting date counts.
    older = await client.post(
        url(ledger, "entries"), json=design_entry(date="2026-01-05", document_date="2025-12-30")
    )
    assert older.status_code == 201, older.text
    # A reversal is a document of its own date.
    reversal = await client.post(
        url(ledger, "entries", entry["id"], "reverse"), json={"date": "2026-12-03"}
    )
    assert reversal.json()["document_date"] == "2026-12-03"


@pytest.mark.parametrize("value", [None, "2026-11-28T10:00:00", "28/11/2026", 20261128])
async def test_a_document_date_that_is_not_a_day_is_refused(
    client: httpx.AsyncClient, ledger: str, value: Any
) -> None:
    before = await snapshot(client, ledger)
    response = await client.post(url(ledger, "entries"), json=design_entry(document_date=value))
    assert response.status_code == 422, response.text
    assert response.json()["type"] in {"invalid-date", "validation-error"}
    assert await snapshot(client, ledger) == before
