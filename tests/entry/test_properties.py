"""Property tests of double entry through the API, on both backends.

Hypothesis drives `async def` tests itself here: pytest-asyncio runs each example's coroutine
on the session loop (its AsyncHypothesisTest item). The `client` fixture is shared by the
examples of one test, so each example opens its own ledger and examples stay independent.
"""

from __future__ import annotations

import copy
import csv
import io
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import resources
from itertools import pairwise
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import assert_problem
from tests.entry.helpers import API, snapshot, url

PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

ACCOUNTS = ["411000", "401000", "445710", "512000", "607000", "706000"]
CURRENCIES = {"EUR": 2, "JPY": 0, "KWD": 3}
FIRST_DAY = date(2026, 1, 1)
LAST_DAY = date(2026, 12, 31)
MAX_LINE = 10**13  # the largest amount a line may carry, in minor units

NOT_DECIMALS = ["-1.00", "abc", "1e3", "", " 1", "1,5", "0x1F", "1.", ".5", "1.00\n", "١"]

# How many examples each property ran, per backend: a guard that they ran at all.
EXAMPLES_RUN: dict[str, int] = defaultdict(int)


def shipped_accounts() -> frozenset[str]:
    text = resources.files("grandlivre.data").joinpath("pcg.csv").read_text(encoding="utf-8")
    return frozenset(row["number"] for row in csv.DictReader(io.StringIO(text)))


PCG = shipped_accounts()


def text_of(minor: int, decimals: int, padding: int = 0) -> str:
    """Write positive minor units as a decimal string, independently of the code under test."""
    text = f"{Decimal(minor).scaleb(-decimals):.{decimals}f}"
    if padding:
        text += ("" if decimals else ".") + "0" * padding
    return text


@dataclass
class Line:
    account: str
    minor: int  # signed: debit positive
    padding: int = 0

    def payload(self, decimals: int) -> dict[str, Any]:
        side = "debit" if self.minor > 0 else "credit"
        return {"account": self.account, side: text_of(abs(self.minor), decimals, self.padding)}


@dataclass
class Draft:
    day: date
    journal: str
    lines: list[Line] = field(default_factory=list)

    def payload(self, decimals: int) -> dict[str, Any]:
        return {
            "journal": self.journal,
            "date": self.day.isoformat(),
            "label": "Écriture générée",
            "lines": [line.payload(decimals) for line in self.lines],
        }


def split(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    """Split a positive total into `parts` positive integers."""
    parts = min(parts, total)
    cuts = sorted(
        draw(st.sets(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1))
        if parts > 1
        else set()
    )
    bounds = [0, *cuts, total]
    return [b - a for a, b in pairwise(bounds)]


@st.composite
def balanced_drafts(draw: st.DrawFn) -> Draft:
    """An entry of 2 to 6 lines over a handful of accounts whose lines sum to zero."""
    n_debits = draw(st.integers(1, 3))
    debits = draw(st.lists(st.integers(1, 10**9), min_size=n_debits, max_size=n_debits))
    credits = split(draw, sum(debits), draw(st.integers(1, 3)))
    amounts = debits + [-c for c in credits]
    lines = [
        Line(draw(st.sampled_from(ACCOUNTS)), amount, draw(st.integers(0, 2))) for amount in amounts
    ]
    return Draft(
        day=draw(st.dates(FIRST_DAY, LAST_DAY)),
        journal=draw(st.sampled_from(["VE", "AC", "BQ", "OD"])),
        lines=draw(st.permutations(lines)),
    )


@st.composite
def books(draw: st.DrawFn) -> tuple[str, list[Draft], tuple[date, date]]:
    """A currency, a few balanced entries and a date window to report on."""
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    drafts = draw(st.lists(balanced_drafts(), min_size=1, max_size=6))
    a, b = draw(st.dates(FIRST_DAY, LAST_DAY)), draw(st.dates(FIRST_DAY, LAST_DAY))
    return currency, drafts, (min(a, b), max(a, b))


async def open_ledger(client: httpx.AsyncClient, currency: str) -> str:
    code = f"p{uuid.uuid4().hex[:12]}"
    response = await client.post(API, json={"code": code, "name": code, "currency": currency})
    assert response.status_code == 201, response.text
    return code


def expected_trial_balance(
    drafts: list[Draft], decimals: int, window: tuple[date, date] | None = None
) -> tuple[dict[str, tuple[str, str, str]], dict[str, str]]:
    """Sum what was posted, per account, as the trial balance should show it."""
    debit: dict[str, int] = defaultdict(int)
    credit: dict[str, int] = defaultdict(int)
    opening: dict[str, int] = defaultdict(int)
    for draft in drafts:
        if window is not None and draft.day < window[0]:
            for line in draft.lines:
                opening[line.account] += line.minor
        if window is not None and not window[0] <= draft.day <= window[1]:
            continue
        for line in draft.lines:
            if line.minor > 0:
                debit[line.account] += line.minor
            else:
                credit[line.account] -= line.minor

    def fmt(minor: int) -> str:
        return f"{Decimal(minor).scaleb(-decimals):.{decimals}f}"

    items = {
        account: (fmt(debit[account]), fmt(credit[account]), fmt(debit[account] - credit[account]))
        # An account that carries a balance into the window unmoved is listed with no movement.
        for account in sorted(debit.keys() | credit.keys() | {a for a, o in opening.items() if o})
    }
    total = fmt(sum(debit.values()))
    return items, {"debit": total, "credit": fmt(sum(credit.values())), "balance": fmt(0)}


async def read_trial_balance(
    client: httpx.AsyncClient, ledger: str, **params: str
) -> tuple[dict[str, tuple[str, str, str]], dict[str, str]]:
    response = await client.get(url(ledger, "trial-balance"), params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    items = {i["account"]: (i["debit"], i["credit"], i["balance"]) for i in body["items"]}
    return items, body["totals"]


@PROPERTY_SETTINGS
@given(book=books())
async def test_posted_entries_always_balance_and_sum_per_account(
    client: httpx.AsyncClient, backend: str, book: tuple[str, list[Draft], tuple[date, date]]
) -> None:
    EXAMPLES_RUN[f"valid-{backend}"] += 1
    currency, drafts, (start, end) = book
    decimals = CURRENCIES[currency]
    event(f"currency {currency}")
    ledger = await open_ledger(client, currency)
    for draft in drafts:
        response = await client.post(url(ledger, "entries"), json=draft.payload(decimals))
        assert response.status_code == 201, response.text
        event(f"{len(draft.lines)} lines")

    items, totals = await read_trial_balance(client, ledger)
    assert (items, totals) == expected_trial_balance(drafts, decimals)
    assert totals["debit"] == totals["credit"]
    assert Decimal(totals["balance"]) == 0
    assert sum(Decimal(balance) for _, _, balance in items.values()) == 0

    window = {"from": start.isoformat(), "to": end.isoformat()}
    assert await read_trial_balance(client, ledger, **window) == expected_trial_balance(
        drafts, decimals, (start, end)
    )

    up_to_end, _ = expected_trial_balance(drafts, decimals, (FIRST_DAY, end))
    for account in ACCOUNTS:
        response = await client.get(
            url(ledger, "accounts", account, "balance"), params={"as_of": end.isoformat()}
        )
        body = response.json()
        zero = f"{Decimal(0).scaleb(-decimals):.{decimals}f}"
        assert (body["debit"], body["credit"], body["balance"]) == up_to_end.get(
            account, (zero, zero, zero)
        )


@st.composite
def invalid_cases(draw: st.DrawFn) -> tuple[str, list[Draft], dict[str, Any], str]:
    """A currency, a few valid entries, then one refused entry and the problem type it earns."""
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    decimals = CURRENCIES[currency]
    prior = draw(st.lists(balanced_drafts(), min_size=0, max_size=2))
    draft = draw(balanced_drafts())
    index = draw(st.integers(0, len(draft.lines) - 1))
    kind = draw(
        st.sampled_from(
            ["unbalanced", "unknown-account", "too-many-decimals", "zero", "too-large", "not-text",
             "not-a-decimal"]
        )
    )  # fmt: skip
    event(kind)
    if kind == "unbalanced":
        line = draft.lines[index]
        nudge = draw(st.integers(1, 10**6))
        line.minor += nudge if line.minor > 0 else -nudge
        return currency, prior, draft.payload(decimals), "unbalanced-entry"
    if kind == "unknown-account":
        # A well-formed number (classes 1 to 8) that the chart does not have.
        number = draw(
            st.integers(10, 89_999_999).map(str).filter(lambda n: n[0] != "9" and n not in PCG)
        )
        draft.lines[index].account = number
        return currency, prior, draft.payload(decimals), "unknown-account"

    body = draft.payload(decimals)
    line_body = body["lines"][index]
    side = "debit" if "debit" in line_body else "credit"
    bad: Any
    if kind == "too-many-decimals":
        extra = draw(st.integers(1, 12 - decimals))
        last = draw(st.integers(1, 9))
        bad = text_of(abs(draft.lines[index].minor), decimals)
        bad += ("" if decimals else ".") + "0" * (extra - 1) + str(last)
    elif kind == "zero":
        bad = draw(st.sampled_from(["0", "0.0", "00", "0.000000"]))
    elif kind == "too-large":
        bad = text_of(draw(st.integers(MAX_LINE + 1, 10**16 - 1)), decimals)
    elif kind == "not-text":
        bad = draw(
            st.one_of(
                st.integers(),
                st.floats(allow_nan=False, allow_infinity=False),
                st.booleans(),
                st.lists(st.integers(), max_size=2),
            )
        )
    else:
        bad = draw(
            st.one_of(
                st.sampled_from(NOT_DECIMALS),
                st.from_regex(r"\A-[0-9]{1,6}(\.[0-9]{1,2})?\Z"),
            )
        )
    line_body[side] = bad
    return currency, prior, body, "invalid-amount"


@PROPERTY_SETTINGS
@given(case=invalid_cases())
async def test_invalid_entries_are_refused_and_change_nothing(
    client: httpx.AsyncClient,
    backend: str,
    case: tuple[str, list[Draft], dict[str, Any], str],
) -> None:
    EXAMPLES_RUN[f"invalid-{backend}"] += 1
    currency, prior, body, problem_type = case
    decimals = CURRENCIES[currency]
    ledger = await open_ledger(client, currency)
    for draft in prior:
        response = await client.post(url(ledger, "entries"), json=draft.payload(decimals))
        assert response.status_code == 201, response.text
    before = await snapshot(client, ledger)
    response = await client.post(url(ledger, "entries"), json=copy.deepcopy(body))
    assert_problem(response, 422, problem_type)
    assert await snapshot(client, ledger) == before


async def test_the_properties_ran_their_examples(
    backend: str, request: pytest.FixtureRequest
) -> None:
    # Pytest keeps file order within a backend, so the properties of this backend ran before
    # this test if they were selected; each must then have run its body at least once.
    items = request.session.items
    earlier = {item.name for item in items[: items.index(request.node)]}
    properties = {
        "valid": test_posted_entries_always_balance_and_sum_per_account.__name__,
        "invalid": test_invalid_entries_are_refused_and_change_nothing.__name__,
    }
    selected = {k: v for k, v in properties.items() if f"{v}[{backend}]" in earlier}
    if not selected:
        pytest.skip("no property test of this backend ran in this session")
    for kind in selected:
        assert EXAMPLES_RUN[f"{kind}-{backend}"] > 0, f"the {kind} property ran no example"
