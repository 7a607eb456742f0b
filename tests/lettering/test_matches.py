"""Lettrage of an account's lines: match, read, unmatch, codes, and every refusal, on both
databases."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grandlivre.entry import sealer
from tests.conftest import assert_problem
from tests.entry.helpers import credit, debit, new_ledger, snapshot, url, walk
from tests.lettering.helpers import (
    invoice,
    key,
    line,
    make_party,
    match,
    matches_path,
    named,
    open_items,
    payment,
    post,
)


async def test_an_invoice_matched_with_two_partial_payments_leaves_the_open_items(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await make_party(client, ledger, "DUPONT")
    sale = await invoice(client, ledger, "DUPONT", "1200.00", date="2026-03-10")
    first = await payment(client, ledger, "DUPONT", "500.00", date="2026-04-02")
    second = await payment(client, ledger, "DUPONT", "700.00", date="2026-04-20")
    other = await invoice(client, ledger, "DUPONT", "80.00", date="2026-04-25")
    assert await open_items(client, ledger) == [
        key(sale, 0),
        key(first, 1),
        key(second, 1),
        key(other, 0),
    ]

    response = await match(client, ledger, [line(second, 1), line(sale, 0), line(first, 1)])
    assert response.status_code == 201, response.text
    made = response.json()
    assert response.headers["location"] == f"/api/v1/ledgers/{ledger}/accounts/411000/matches/A"
    assert {k: v for k, v in made.items() if k not in ("id", "created_at", "lines")} == {
        "code": "A",
        "account": "411000",
        "third_party": "DUPONT",
        "date": "2026-04-20",
        "amount": "1200.00",
    }
    # Lines in date order, whatever the order they were named in.
    assert [(x["entry_id"], x["position"], x["debit"], x["credit"]) for x in made["lines"]] == [
        (sale["id"], 0, "1200.00", None),
        (first["id"], 1, None, "500.00"),
        (second["id"], 1, None, "700.00"),
    ]
    assert made["lines"][0] == {
        "entry_id": sale["id"],
        "position": 0,
        "date": "2026-03-10",
        "journal": "VE",
        "label": "Pièce",
        "reference": "F-2026-03-10",
        "debit": "1200.00",
        "credit": None,
    }
    assert (await client.get(matches_path(ledger, "411000", "A"))).json() == made
    listed, _ = await walk(client, matches_path(ledger))
    assert listed == [made]
    assert await open_items(client, ledger) == [key(other, 0)]

    assert (await client.delete(matches_path(ledger, "411000", "A"))).status_code == 204
    assert await open_items(client, ledger) == [
        key(sale, 0),
        key(first, 1),
        key(second, 1),
        key(other, 0),
    ]
    assert (await walk(client, matches_path(ledger)))[0] == []
    gone = await client.get(matches_path(ledger, "411000", "A"))
    assert_problem(gone, 404, "match-not-found")
    again = await client.delete(matches_path(ledger, "411000", "A"))
    assert_problem(again, 404, "match-not-found")


async def test_codes_follow_a_b_and_a_code_is_given_or_never_reused_unasked(
    client: httpx.AsyncClient, ledger: str
) -> None:
    pairs = []
    for n in range(4):
        sale = await invoice(client, ledger, None, f"{n + 1}0.00", date="2026-02-01")
        paid = await payment(client, ledger, None, f"{n + 1}0.00", date="2026-02-05")
        pairs.append([line(sale, 0), line(paid, 1)])

    codes = []
    for lines in pairs[:2]:
        response = await match(client, ledger, lines)
        assert response.status_code == 201, response.text
        codes.append(response.json()["code"])
    assert codes == ["A", "B"]
    given_code = await match(client, ledger, pairs[2], code="ZZ", date="2026-02-28")
    assert given_code.status_code == 201, given_code.text
    assert (given_code.json()["code"], given_code.json()["date"]) == ("ZZ", "2026-02-28")
    # After ZZ comes AAA; a code freed by an unmatch is not given again unless asked for.
    assert (await client.delete(matches_path(ledger, "411000", "A"))).status_code == 204
    following = await match(client, ledger, pairs[3])
    assert following.json()["code"] == "AAA"
    reused = await match(client, ledger, pairs[0], code="A")
    assert reused.status_code == 201, reused.text
    listed, pages = await walk(client, matches_path(ledger), limit=2)
    assert [m["code"] for m in listed] == ["A", "B", "ZZ", "AAA"]
    assert pages == 3


async def test_every_refusal_names_its_rule_and_leaves_the_lines_open(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await make_party(client, ledger, "DUPONT")
    await make_party(client, ledger, "DURAND")
    sale = await invoice(client, ledger, "DUPONT", "100.00", date="2026-03-01")
    paid = await payment(client, ledger, "DUPONT", "100.00", date="2026-03-15")
    short = await payment(client, ledger, "DUPONT", "60.00", date="2026-03-16")
    theirs = await payment(client, ledger, "DURAND", "100.00", date="2026-03-17")
    anonymous = await payment(client, ledger, None, "100.00", date="2026-03-18")
    draft = await post(
        client,
        ledger,
        [debit("512000", "100.00"), named(credit("411000", "100.00"), "DUPONT")],
        date="2026-03-19",
        journal="BQ",
        status="draft",
    )
    taken = await invoice(client, ledger, "DUPONT", "100.00", date="2026-03-20")
    taker = await payment(client, ledger, "DUPONT", "100.00", date="2026-03-21")
    held = await match(client, ledger, [line(taken, 0), line(taker, 1)], code="Q")
    assert held.status_code == 201, held.text
    before = await open_items(client, ledger)
    books = await snapshot(client, ledger)
    good = [line(sale, 0), line(paid, 1)]

    refusals: list[tuple[dict[str, Any], int, str]] = [
        ({"lines": [line(sale, 0), line(paid, 0)]}, 422, "unknown-line"),  # 512000's line
        ({"lines": [line(sale, 0), line(paid, 7)]}, 422, "unknown-line"),
        (
            {"lines": [line(sale, 0), {"entry_id": str(uuid.uuid4()), "position": 1}]},
            422,
            "unknown-line",
        ),
        ({"lines": [line(sale, 0), line(draft, 1)]}, 422, "draft-line"),
        ({"lines": [line(sale, 0), line(theirs, 1)]}, 422, "match-third-party-mismatch"),
        ({"lines": [line(sale, 0), line(anonymous, 1)]}, 422, "match-third-party-mismatch"),
        ({"lines": good, "third_party": "DURAND"}, 422, "match-third-party-mismatch"),
        ({"lines": good, "third_party": "NOBODY"}, 422, "unknown-third-party"),
        ({"lines": [line(sale, 0), line(short, 1)]}, 422, "unbalanced-match"),
        ({"lines": good, "date": "2026-03-14"}, 422, "invalid-match-date"),
        ({"lines": [line(sale, 0), line(taker, 1)]}, 409, "line-already-matched"),
        ({"lines": good, "code": "Q"}, 409, "match-code-in-use"),
        ({"lines": [line(sale, 0)]}, 422, "validation-error"),
        ({"lines": [line(sale, 0), line(sale, 0)]}, 422, "validation-error"),
        ({"lines": good, "code": "a"}, 422, "validation-error"),
        ({"lines": good, "code": "ABCDEFGHI"}, 422, "validation-error"),
        ({"lines": good, "code": None}, 422, "validation-error"),
        ({"lines": good, "date": "2026-02-30"}, 422, "invalid-date"),
        (
            {"lines": [{"entry_id": sale["id"], "position": "0"}, line(paid, 1)]},
            422,
            "validation-error",
        ),
        ({"lines": good, "extra": 1}, 422, "validation-error"),
    ]
    path = matches_path(ledger)
    for body, status_code, type_ in refusals:
        problem = assert_problem(await client.post(path, json=body), status_code, type_)
        assert problem["instance"] == path
    unbalanced = await match(client, ledger, [line(sale, 0), line(short, 1)])
    assert assert_problem(unbalanced, 422, "unbalanced-match")["difference"] == "40.00"
    unknown = await match(client, ledger, [line(sale, 0), line(paid, 0)])
    assert assert_problem(unknown, 422, "unknown-line")["lines"] == [line(paid, 0)]
    already = await match(client, ledger, [line(sale, 0), line(taker, 1)])
    assert assert_problem(already, 409, "line-already-matched")["lines"] == [
        {**line(taker, 1), "code": "Q"}
    ]
    assert_problem(await match(client, ledger, good, "706000"), 422, "unknown-line")
    assert_problem(await match(client, ledger, good, "999999"), 404, "account-not-found")
    assert_problem(
        await client.post(url("nope", "accounts", "411000", "matches"), json={"lines": good}),
        404,
        "ledger-not-found",
    )

    assert await open_items(client, ledger) == before
    assert [m["code"] for m in (await walk(client, path))[0]] == ["Q"]
    assert await snapshot(client, ledger) == books
    assert (await match(client, ledger, good)).status_code == 201


async def test_lettering_leaves_the_entries_and_their_chain_as_they_were(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    await make_party(client, ledger, "DUPONT")
    sale = await invoice(client, ledger, "DUPONT", "300.00", date="2026-05-02")
    paid = await payment(client, ledger, "DUPONT", "300.00", date="2026-05-30")
    books = await snapshot(client, ledger)
    made = await match(client, ledger, [line(sale, 0), line(paid, 1)])
    assert made.status_code == 201, made.text
    assert await snapshot(client, ledger) == books
    assert (await client.delete(matches_path(ledger, "411000", made.json()["code"]))).is_success
    assert await snapshot(client, ledger) == books

    await sealer.seal_now(app.state.store)
    sealed = [(await client.get(url(ledger, "entries", e["id"]))).json() for e in (sale, paid)]
    assert all(e["hash"] for e in sealed)
    again = await match(client, ledger, [line(sale, 0), line(paid, 1)])
    assert again.status_code == 201, again.text
    assert [(await client.get(url(ledger, "entries", e["id"]))).json() for e in sealed] == sealed
    verdict = (await client.get(url(ledger, "audit", "verify"))).json()
    assert verdict["ok"] is True, verdict
    assert verdict["checked"] == 2, verdict


async def test_a_match_on_another_account_stands_apart(
    client: httpx.AsyncClient, ledger: str
) -> None:
    # Lettrage is not for customers only: a suspense account (471) cleared in two moves.
    into = await post(
        client, ledger, [debit("471000", "90.00"), credit("512000", "90.00")], date="2026-06-01"
    )
    out = await post(
        client, ledger, [debit("607000", "90.00"), credit("471000", "90.00")], date="2026-06-03"
    )
    made = await match(client, ledger, [line(into, 0), line(out, 1)], "471000")
    assert made.status_code == 201, made.text
    assert (made.json()["code"], made.json()["third_party"]) == ("A", None)
    assert await open_items(client, ledger, "471000") == []
    # Codes count per account: 411000 starts at A too.
    sale = await invoice(client, ledger, None, "5.00", date="2026-06-04")
    paid = await payment(client, ledger, None, "5.00", date="2026-06-05")
    assert (await match(client, ledger, [line(sale, 0), line(paid, 1)])).json()["code"] == "A"


# Amounts in cents, many of them round, so that subsets summing to zero come up often.
SIGNED = st.one_of(
    st.integers(-4, 4).filter(bool).map(lambda n: n * 100),
    st.integers(-(10**6), 10**6).filter(bool),
)
BOOKS = st.lists(SIGNED, min_size=2, max_size=8).flatmap(
    lambda xs: st.tuples(st.just(xs), st.lists(st.booleans(), min_size=len(xs), max_size=len(xs)))
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(BOOKS)
async def test_a_set_of_lines_is_matched_exactly_when_it_sums_to_zero(
    client: httpx.AsyncClient, books: tuple[list[int], list[bool]]
) -> None:
    amounts, picked = books
    code = f"l{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code)
    await make_party(client, code, "DUPONT")
    lines = []
    for cents in amounts:
        value = f"{Decimal(abs(cents)).scaleb(-2):.2f}"
        if cents > 0:
            lines.append(line(await invoice(client, code, "DUPONT", value, date="2026-07-01"), 0))
        else:
            lines.append(line(await payment(client, code, "DUPONT", value, date="2026-07-02"), 1))
    # A part of the lines, then the others: each is matched if and only if it sums to zero.
    for wanted in (True, False):
        part = [i for i, flag in enumerate(picked) if flag is wanted]
        if len(part) < 2:
            continue
        before = await open_items(client, code)
        response = await match(client, code, [lines[i] for i in part])
        total = sum(amounts[i] for i in part)
        if total == 0:
            assert response.status_code == 201, response.text
            closed = {(lines[i]["entry_id"], lines[i]["position"]) for i in part}
            assert await open_items(client, code) == [k for k in before if k not in closed]
        else:
            problem = assert_problem(response, 422, "unbalanced-match")
            assert Decimal(problem["difference"]) == Decimal(total).scaleb(-2)
            assert await open_items(client, code) == before
