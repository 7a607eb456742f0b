"""Reports read sealed entries from day totals and unsealed ones from their lines: never both.

Whatever part of the books the sealer has reached, the trial balance, the balances and the
general ledger (every page, every running balance) equal sums computed here from what was
posted; and the day totals themselves equal the sums of the sealed entries' lines, on the
database of record (tests/failover/test_mirror_totals.py: in the SQLite fallback too).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from grandlivre.entry import sealer
from tests.entry.helpers import url
from tests.entry.test_properties import (
    ACCOUNTS,
    CURRENCIES,
    FIRST_DAY,
    LAST_DAY,
    PROPERTY_SETTINGS,
    Draft,
    Line,
    books,
    expected_trial_balance,
    open_ledger,
    read_trial_balance,
)

DAY_TOTALS = (
    "SELECT a.number, t.day, t.debit, t.credit, t.lines FROM account_day_totals t "
    "JOIN accounts a ON a.id = t.account_id JOIN ledgers l ON l.id = a.ledger_id "
    "WHERE l.code = :code ORDER BY a.number, t.day"
)


def _minor(text_amount: str | None, decimals: int) -> int:
    return int(Decimal(text_amount or "0").scaleb(decimals))


def _expected_days(drafts: list[Draft]) -> list[tuple[str, str, int, int, int]]:
    days: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for draft in drafts:
        for line in draft.lines:
            row = days[line.account, draft.day.isoformat()]
            row[0 if line.minor > 0 else 1] += abs(line.minor)
            row[2] += 1
    return [(account, day, *sums) for (account, day), sums in sorted(days.items())]  # type: ignore[misc]


async def _read_ledger_pages(
    client: httpx.AsyncClient, ledger: str, account: str, params: dict[str, str], limit: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    items: list[dict[str, Any]] = []
    first: dict[str, Any] | None = None
    cursor = None
    while True:
        query: dict[str, Any] = {**params, "limit": limit}
        if cursor:
            query["cursor"] = cursor
        response = await client.get(url(ledger, "accounts", account, "ledger"), params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        first = first or page
        assert (page["opening_balance"], page["closing_balance"]) == (
            first["opening_balance"],
            first["closing_balance"],
        )
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return first, items


async def _check_reports(
    client: httpx.AsyncClient,
    ledger: str,
    drafts: list[Draft],
    decimals: int,
    window: tuple[date, date],
    limit: int,
) -> None:
    assert await read_trial_balance(client, ledger) == expected_trial_balance(drafts, decimals)
    start, end = window
    span = {"from": start.isoformat(), "to": end.isoformat()}
    assert await read_trial_balance(client, ledger, **span) == expected_trial_balance(
        drafts, decimals, window
    )
    up_to_end, _ = expected_trial_balance(drafts, decimals, (FIRST_DAY, end))
    for account in ACCOUNTS:
        response = await client.get(
            url(ledger, "accounts", account, "balance"), params={"as_of": end.isoformat()}
        )
        zero = f"{Decimal(0).scaleb(-decimals):.{decimals}f}"
        body = response.json()
        assert (body["debit"], body["credit"], body["balance"]) == up_to_end.get(
            account, (zero, zero, zero)
        )
        # The general ledger over the window, page after page: every running balance is the
        # opening plus the lines before it, and the closing is what was posted up to `end`.
        page, items = await _read_ledger_pages(client, ledger, account, span, limit)
        opening = sum(
            line.minor
            for d in drafts
            if d.day < start
            for line in d.lines
            if line.account == account
        )
        assert _minor(page["opening_balance"], decimals) == opening
        running = opening
        for item in items:
            running += _minor(item["debit"], decimals) - _minor(item["credit"], decimals)
            assert _minor(item["balance"], decimals) == running
        in_window = sorted(
            line.minor
            for d in drafts
            if start <= d.day <= end
            for line in d.lines
            if line.account == account
        )
        seen = sorted(_minor(i["debit"], decimals) - _minor(i["credit"], decimals) for i in items)
        assert seen == in_window
        assert _minor(page["closing_balance"], decimals) == running


async def _day_totals(app: FastAPI, ledger: str) -> list[tuple[Any, ...]]:
    async def read(session: Any) -> list[tuple[Any, ...]]:
        rows = await session.execute(text(DAY_TOTALS), {"code": ledger})
        return [(r[0], str(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]

    result: list[tuple[Any, ...]] = await app.state.store.read(read)
    return result


@PROPERTY_SETTINGS
@given(
    book=books(),
    sealed_first=st.integers(0, 6),
    limit=st.integers(1, 4),
    reversals=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 40)), max_size=3),
)
async def test_reports_are_exact_whatever_part_of_the_books_is_sealed(
    client: httpx.AsyncClient,
    app: FastAPI,
    backend: str,
    book: tuple[str, list[Draft], tuple[date, date]],
    sealed_first: int,
    limit: int,
    reversals: list[tuple[int, int]],
) -> None:
    currency, drafts, window = book
    decimals = CURRENCIES[currency]
    ledger = await open_ledger(client, currency)
    cut = min(sealed_first, len(drafts))
    ids: list[str] = []
    for draft in drafts[:cut]:
        posted = await client.post(url(ledger, "entries"), json=draft.payload(decimals))
        assert posted.status_code == 201, posted.text
        ids.append(posted.json()["id"])
    await sealer.seal_now(app.state.store)
    # The rest stays unsealed until the background sealer gets to it: either way, exact.
    # Dates are drawn at random, so most are backdated before entries already sealed.
    for draft in drafts[cut:]:
        posted = await client.post(url(ledger, "entries"), json=draft.payload(decimals))
        assert posted.status_code == 201, posted.text
        ids.append(posted.json()["id"])
    # Reversals (extournes) of sealed and unsealed entries, some days later.
    booked = list(drafts)
    done: set[int] = set()
    for index, days_later in reversals:
        if index >= len(drafts) or index in done:
            continue  # an entry is reversed at most once
        original = drafts[index]
        on = min(LAST_DAY, original.day + timedelta(days=days_later))
        reversed_ = await client.post(
            url(ledger, "entries", ids[index], "reverse"), json={"date": on.isoformat()}
        )
        assert reversed_.status_code == 201, reversed_.text
        done.add(index)
        booked.append(
            Draft(
                day=on,
                journal=original.journal,
                lines=[Line(line.account, -line.minor) for line in original.lines],
            )
        )
    drafts = booked
    await _check_reports(client, ledger, drafts, decimals, window, limit)

    await sealer.seal_now(app.state.store)
    await _check_reports(client, ledger, drafts, decimals, window, limit)
    assert await _day_totals(app, ledger) == _expected_days(drafts)
