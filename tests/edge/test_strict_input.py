"""Typed values at the edge: what would have to be guessed is refused, and books nothing.

Dates are YYYY-MM-DD and nothing else, booleans are JSON booleans, a field that may be left
out is not thereby nullable, a refused amount is named in the message, and a currency or a
line the API cannot keep is refused before anything is written (issue 7, findings 1 and 6).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import assert_problem
from tests.entry.helpers import (
    API,
    DESIGN_ENTRY,
    credit,
    debit,
    design_entry,
    new_ledger,
    post_entry,
    snapshot,
    url,
    walk,
)

# Everything a lenient parser would have read as a day: Unix timestamps (as text and as a
# JSON number), unpadded or unseparated days, a datetime, a day the calendar does not have,
# and days outside 1900-2999.
BAD_DATES: list[Any] = [
    "0",
    "1764547200",
    "4102444800",
    1764547200,
    "2026-1-5",
    "2026-02-30",
    "20261123",
    "2026-11-23T00:00:00",
    "1899-12-31",
    "3000-01-01",
]
# A query string has no JSON numbers: the text forms are the whole list there.
BAD_QUERY_DATES = [value for value in BAD_DATES if isinstance(value, str)]

DATE_QUERIES = [
    ("entries", "from"),
    ("entries", "to"),
    ("trial-balance", "from"),
    ("trial-balance", "to"),
    ("accounts/411000/ledger", "from"),
    ("accounts/411000/ledger", "to"),
    ("accounts/411000/balance", "as_of"),
]

# A placeholder left unformatted in a message: `{value}`, `{value!r}`, `{first}`. A regex
# quantifier such as `{1,8}` in a quoted pattern is not one.
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(![rsa])?(:[^}]*)?\}")


def messages(problem: dict[str, Any]) -> list[str]:
    """Every human message of a problem: its detail and the msg of each error."""
    return [problem["detail"], *(str(e.get("msg", "")) for e in problem.get("errors") or [])]


async def read_account(client: httpx.AsyncClient, ledger: str, number: str) -> dict[str, Any]:
    response = await client.get(url(ledger, "accounts", number))
    assert response.status_code == 200, response.text
    account: dict[str, Any] = response.json()
    return account


def with_first_line(**fields: Any) -> dict[str, Any]:
    """The DESIGN.md entry with its first line's fields replaced."""
    body = design_entry()
    body["lines"][0] = {**body["lines"][0], **fields}
    return body


# -- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", BAD_DATES, ids=repr)
async def test_an_entry_dated_other_than_yyyy_mm_dd_is_refused_and_books_nothing(
    client: httpx.AsyncClient, ledger: str, bad: Any
) -> None:
    before = await snapshot(client, ledger)
    response = await client.post(url(ledger, "entries"), json=design_entry(date=bad))
    problem = assert_problem(response, 422, "invalid-date")
    assert problem["errors"][0]["loc"] == ["body", "date"]
    assert await snapshot(client, ledger) == before
    assert before["entries"] == []


@pytest.mark.parametrize(("path", "param"), DATE_QUERIES, ids=lambda v: str(v))
async def test_a_date_query_other_than_yyyy_mm_dd_is_refused(
    client: httpx.AsyncClient, ledger: str, path: str, param: str
) -> None:
    wrong = []
    for bad in BAD_QUERY_DATES:
        response = await client.get(url(ledger, path), params={param: bad})
        if response.status_code != 422 or response.json().get("type") != "invalid-date":
            wrong.append((bad, response.status_code, response.text[:200]))
            continue
        problem = assert_problem(response, 422, "invalid-date")
        assert problem["errors"][0]["loc"] == ["query", param], problem
    assert wrong == [], f"{param} on {path} took what is not YYYY-MM-DD"


@pytest.mark.parametrize("bad", BAD_DATES, ids=repr)
async def test_a_reversal_dated_other_than_yyyy_mm_dd_is_refused_and_books_nothing(
    client: httpx.AsyncClient, ledger: str, bad: Any
) -> None:
    original = await post_entry(client, ledger, DESIGN_ENTRY["lines"], date="2026-11-23")
    before = await snapshot(client, ledger)
    response = await client.post(
        url(ledger, "entries", original["id"], "reverse"), json={"date": bad}
    )
    problem = assert_problem(response, 422, "invalid-date")
    assert problem["errors"][0]["loc"] == ["body", "date"]
    assert await snapshot(client, ledger) == before


async def test_a_yyyy_mm_dd_date_is_taken_in_bodies_and_queries(
    client: httpx.AsyncClient, ledger: str
) -> None:
    entry = await post_entry(client, ledger, DESIGN_ENTRY["lines"], date="2026-11-23")
    assert entry["date"] == "2026-11-23"
    day = {"from": "2026-11-23", "to": "2026-11-23"}

    listed, _ = await walk(client, url(ledger, "entries"), **day)
    assert [e["id"] for e in listed] == [entry["id"]]
    assert (await walk(client, url(ledger, "entries"), **{"from": "2026-11-24"}))[0] == []

    tb = await client.get(url(ledger, "trial-balance"), params=day)
    assert tb.status_code == 200, tb.text
    assert {i["account"]: i["balance"] for i in tb.json()["items"]}["411000"] == "120.00"

    moves = await client.get(url(ledger, "accounts/411000/ledger"), params=day)
    assert moves.status_code == 200, moves.text
    assert [m["entry_id"] for m in moves.json()["items"]] == [entry["id"]]

    for as_of, balance in (("2026-11-22", "0.00"), ("2026-11-23", "120.00")):
        read = await client.get(url(ledger, "accounts/411000/balance"), params={"as_of": as_of})
        assert read.status_code == 200, read.text
        assert (read.json()["as_of"], read.json()["balance"]) == (as_of, balance)

    reversal = await client.post(
        url(ledger, "entries", entry["id"], "reverse"), json={"date": "2026-11-30"}
    )
    assert reversal.status_code == 201, reversal.text
    assert reversal.json()["date"] == "2026-11-30"


@pytest.mark.parametrize("day", ["1900-01-01", "2999-12-31", "2028-02-29"])
async def test_the_days_at_the_ends_of_the_range_and_a_leap_day_are_taken(
    client: httpx.AsyncClient, day: str
) -> None:
    # In books whose first fiscal year is the calendar year of that day.
    ledger = f"d{uuid.uuid4().hex[:12]}"
    await new_ledger(client, ledger, fiscal_year_start=day[:4] + "-01-01")
    entry = await post_entry(
        client, ledger, [debit("512000", "1.00"), credit("706000", "1.00")], date=day
    )
    assert entry["date"] == day
    read = await client.get(url(ledger, "entries", entry["id"]))
    assert read.json()["date"] == day


# -- booleans and nulls ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["no", "false", 0, 1], ids=repr)
async def test_an_active_flag_that_is_not_a_json_boolean_is_refused(
    client: httpx.AsyncClient, ledger: str, value: Any
) -> None:
    before = await read_account(client, ledger, "411000")
    response = await client.patch(url(ledger, "accounts", "411000"), json={"active": value})
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["body", "active"]
    assert await read_account(client, ledger, "411000") == before
    assert before["active"] is True


async def test_active_false_deactivates_an_account(client: httpx.AsyncClient, ledger: str) -> None:
    response = await client.patch(url(ledger, "accounts", "411000"), json={"active": False})
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert (await read_account(client, ledger, "411000"))["active"] is False


@pytest.mark.parametrize("value", ["no", "1", "yes", "True", ""], ids=repr)
async def test_an_active_query_other_than_true_or_false_is_refused(
    client: httpx.AsyncClient, ledger: str, value: str
) -> None:
    response = await client.get(url(ledger, "accounts"), params={"active": value})
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["query", "active"]


async def test_an_active_query_of_true_or_false_filters(
    client: httpx.AsyncClient, ledger: str
) -> None:
    deactivated = await client.patch(url(ledger, "accounts", "411000"), json={"active": False})
    assert deactivated.status_code == 200, deactivated.text
    everything, _ = await walk(client, url(ledger, "accounts"), limit=500)
    inactive, _ = await walk(client, url(ledger, "accounts"), limit=500, active="false")
    active, _ = await walk(client, url(ledger, "accounts"), limit=500, active="true")
    assert [a["number"] for a in inactive] == ["411000"]
    assert "411000" not in {a["number"] for a in active}
    assert len(active) == len(everything) - 1


@pytest.mark.parametrize("body", [{"active": None}, {"name": None}, {}], ids=repr)
async def test_an_account_update_of_null_or_nothing_is_refused(
    client: httpx.AsyncClient, ledger: str, body: dict[str, Any]
) -> None:
    before = await read_account(client, ledger, "411000")
    response = await client.patch(url(ledger, "accounts", "411000"), json=body)
    assert_problem(response, 422, "validation-error")
    assert await read_account(client, ledger, "411000") == before


@pytest.mark.parametrize("body", [{"date": None}, {"label": None}], ids=repr)
async def test_a_reversal_option_sent_as_null_is_refused(
    client: httpx.AsyncClient, ledger: str, body: dict[str, Any]
) -> None:
    original = await post_entry(client, ledger, DESIGN_ENTRY["lines"])
    before = await snapshot(client, ledger)
    response = await client.post(url(ledger, "entries", original["id"], "reverse"), json=body)
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["body", *body]
    assert await snapshot(client, ledger) == before


async def test_a_reversal_with_no_options_takes_the_defaults(
    client: httpx.AsyncClient, ledger: str
) -> None:
    original = await post_entry(client, ledger, DESIGN_ENTRY["lines"], date="2026-03-02")
    response = await client.post(url(ledger, "entries", original["id"], "reverse"), json={})
    assert response.status_code == 201, response.text
    reversal = response.json()
    assert reversal["reverses"] == original["id"]
    assert reversal["date"] == original["date"]
    assert original["label"] in reversal["label"]


# -- amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (True, "the JSON boolean true"),
        (False, "the JSON boolean false"),
        ({}, "a JSON object"),
        ([], "a JSON array"),
        (12.5, "the JSON number 12.5"),
        (120, "the JSON number 120"),
        ("1.0.0", "'1.0.0'"),
        ("-5", "'-5'"),
    ],
    ids=repr,
)
async def test_a_refused_amount_is_named_in_the_message(
    client: httpx.AsyncClient, ledger: str, value: Any, named: str
) -> None:
    before = await snapshot(client, ledger)
    response = await client.post(url(ledger, "entries"), json=with_first_line(debit=value))
    problem = assert_problem(response, 422, "invalid-amount")
    assert problem["errors"][0]["loc"] == ["body", "lines", "0", "debit"]
    assert named in problem["detail"], problem["detail"]
    for message in messages(problem):
        assert PLACEHOLDER.search(message) is None, message
        if not isinstance(value, int | float) or isinstance(value, bool):
            assert "JSON number" not in message, message
    assert await snapshot(client, ledger) == before


async def test_no_refusal_message_shows_a_raw_placeholder(
    client: httpx.AsyncClient, ledger: str
) -> None:
    original = await post_entry(client, ledger, DESIGN_ENTRY["lines"])
    before = await snapshot(client, ledger)
    entries = url(ledger, "entries")
    refused = [
        await client.post(entries, json=design_entry(date="0")),
        await client.post(entries, json=design_entry(date=1764547200)),
        await client.post(entries, json=design_entry(date="2026-02-30")),
        await client.post(entries, json=design_entry(date="3000-01-01")),
        await client.post(entries, json=design_entry(label="a\u202eb")),
        await client.post(entries, json=design_entry(label="\u200b")),
        await client.post(entries, json=design_entry(label="x" * 501)),
        await client.post(entries, json=design_entry(label=12)),
        await client.post(entries, json=design_entry(journal="ve")),
        await client.post(entries, json=design_entry(extra=1)),
        await client.post(entries, json=with_first_line(debit=True)),
        await client.post(entries, json=with_first_line(debit=[1])),
        await client.post(entries, json=with_first_line(debit="1.001")),
        await client.post(entries, json=with_first_line(credit="1.00")),
        await client.post(entries, json=design_entry(lines=DESIGN_ENTRY["lines"][:1])),
        await client.post(url(ledger, "entries", original["id"], "reverse"), json={"date": None}),
        await client.patch(url(ledger, "accounts", "411000"), json={"active": "no"}),
        await client.patch(url(ledger, "accounts", "411000"), json={}),
        await client.get(entries, params={"limit": "+5"}),
        await client.get(entries, params={"limit": "0"}),
        await client.get(entries, params={"from": "2026-12-01", "to": "2026-01-01"}),
        await client.get(entries, params={"reference": "F-2026-101"}),
        await client.get(entries, params={"cursor": "bm90LWEtY3Vyc29y"}),
        await client.get(url(ledger, "accounts"), params={"active": "yes"}),
        await client.post(
            API, json={"code": f"t{uuid.uuid4().hex[:12]}", "name": "x", "currency": "VDM"}
        ),
        await client.post("/api/v1/keys", json={"name": "a\tb"}),
    ]
    for response in refused:
        assert 400 <= response.status_code < 500, (response.request.url, response.text)
        for message in messages(response.json()):
            assert PLACEHOLDER.search(message) is None, (response.request.url, message)
    assert await snapshot(client, ledger) == before


# -- currencies and lines -------------------------------------------------------------------


async def test_an_unknown_currency_is_refused_and_no_ledger_is_made(
    client: httpx.AsyncClient,
) -> None:
    code = f"t{uuid.uuid4().hex[:12]}"
    response = await client.post(API, json={"code": code, "name": "Test", "currency": "VDM"})
    problem = assert_problem(response, 422, "unknown-currency")
    assert "EUR" in problem["supported"]
    assert "VDM" not in problem["supported"]
    assert_problem(await client.get(f"{API}/{code}"), 404, "ledger-not-found")


@pytest.mark.parametrize(
    "line",
    [
        {"account": "411000", "debit": "120.00", "credit": "120.00"},
        {"account": "411000", "debit": "120.00", "credit": "0.00"},
        {"account": "411000"},
        {"account": "411000", "debit": None, "credit": None},
    ],
    ids=["both", "both-one-zero", "neither", "both-null"],
)
async def test_a_line_without_exactly_one_side_is_refused(
    client: httpx.AsyncClient, ledger: str, line: dict[str, Any]
) -> None:
    before = await snapshot(client, ledger)
    body = design_entry()
    body["lines"][0] = line
    response = await client.post(url(ledger, "entries"), json=body)
    problem = assert_problem(response, 422, "invalid-line")
    assert problem["errors"][0]["loc"][:3] == ["body", "lines", "0"]
    assert await snapshot(client, ledger) == before
