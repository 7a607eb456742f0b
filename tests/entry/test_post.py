"""Posting entries: what is accepted, how it reads back, and what is refused without a trace."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import assert_problem
from tests.entry.helpers import (
    DESIGN_ENTRY,
    credit,
    debit,
    design_entry,
    post_entry,
    snapshot,
    unsealed,
    url,
)


async def test_the_design_entry_is_posted_and_read_back_exactly(
    client: httpx.AsyncClient, ledger: str
) -> None:
    before = datetime.now(UTC)
    response = await client.post(url(ledger, "entries"), json=DESIGN_ENTRY)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {
        "id",
        "ledger",
        "journal",
        "date",
        "document_date",
        "label",
        "reference",
        "lines",
        "status",
        "origin",
        "created_at",
        "validated_at",
        "reverses",
        "reversed_by",
        "fiscal_year",
        "seq",
        "number",
        "hash",
        "role",
    }
    assert body["role"] is None  # only a closing's entries have one
    assert body["fiscal_year"] == 2026
    # Posted final: from a document of its own date, permanent from the moment it is posted.
    assert body["document_date"] == "2026-11-23"
    assert body["validated_at"] == body["created_at"]
    # Sealed later, by the background sealer, once the entry is certainly committed.
    assert (body["seq"], body["number"], body["hash"]) == (None, None, None)
    assert body["ledger"] == ledger
    assert body["journal"] == "VE"
    assert body["date"] == "2026-11-23"
    assert body["label"] == "Facture F-2026-001"
    assert body["reference"] == "F-2026-001"
    assert body["lines"] == [
        {
            "account": "411000",
            "debit": "120.00",
            "credit": None,
            "label": "Client Dupont",
            "third_party": None,
        },
        {
            "account": "706000",
            "debit": None,
            "credit": "100.00",
            "label": None,
            "third_party": None,
        },
        {"account": "445710", "debit": None, "credit": "20.00", "label": None, "third_party": None},
    ]
    assert body["status"] == "posted"
    assert body["origin"] == "primary"
    assert body["reverses"] is None
    assert body["reversed_by"] is None
    created_at = datetime.fromisoformat(body["created_at"])
    assert created_at.tzinfo is not None
    assert before - timedelta(seconds=5) <= created_at <= datetime.now(UTC) + timedelta(seconds=5)
    assert response.headers["location"] == url(ledger, "entries", body["id"])


async def test_an_entry_id_is_a_uuid7(client: httpx.AsyncClient, ledger: str) -> None:
    first = await post_entry(client, ledger, [debit("512000", "1.00"), credit("706000", "1.00")])
    second = await post_entry(client, ledger, [debit("512000", "1.00"), credit("706000", "1.00")])
    ids = [uuid.UUID(first["id"]), uuid.UUID(second["id"])]
    assert [i.version for i in ids] == [7, 7]
    assert ids[0] < ids[1], "UUIDv7 ids are time-ordered"


async def test_a_posted_entry_is_read_back_by_id(client: httpx.AsyncClient, ledger: str) -> None:
    posted = (await client.post(url(ledger, "entries"), json=DESIGN_ENTRY)).json()
    response = await client.get(url(ledger, "entries", posted["id"]))
    assert response.status_code == 200, response.text
    assert unsealed(response.json()) == unsealed(posted)


async def test_an_unknown_entry_is_not_found(client: httpx.AsyncClient, ledger: str) -> None:
    assert_problem(
        await client.get(url(ledger, "entries", str(uuid.uuid4()))), 404, "entry-not-found"
    )


async def test_an_entry_of_another_ledger_is_not_found(
    client: httpx.AsyncClient, ledger: str
) -> None:
    posted = (await client.post(url(ledger, "entries"), json=DESIGN_ENTRY)).json()
    assert_problem(await client.get(url("main", "entries", posted["id"])), 404, "entry-not-found")


async def test_an_entry_id_that_is_not_a_uuid_names_no_entry(
    client: httpx.AsyncClient, ledger: str
) -> None:
    # Entry routes take UUIDs only, so that /entries/batch is never read as an entry's id.
    assert_problem(await client.get(url(ledger, "entries", "42")), 404, "not-found")
    refused = await client.put(url(ledger, "entries", "batch"), json={})
    assert_problem(refused, 405, "method-not-allowed")
    assert refused.headers["allow"] == "POST"


async def test_an_entry_may_omit_reference_and_line_labels(
    client: httpx.AsyncClient, ledger: str
) -> None:
    entry = await post_entry(client, ledger, [debit("512000", "5"), credit("706000", "5.0")])
    assert entry["reference"] is None
    assert entry["lines"] == [
        {"account": "512000", "debit": "5.00", "credit": None, "label": None, "third_party": None},
        {"account": "706000", "debit": None, "credit": "5.00", "label": None, "third_party": None},
    ]


async def test_lines_with_an_explicit_null_side_are_accepted(
    client: httpx.AsyncClient, ledger: str
) -> None:
    # The read-back shape of a line (unused side null) is a valid way to post it.
    lines = [
        {"account": "512000", "debit": "12.00", "credit": None, "label": None, "third_party": None},
        {
            "account": "706000",
            "debit": None,
            "credit": "12.00",
            "label": "Vente",
            "third_party": None,
        },
    ]
    entry = await post_entry(client, ledger, lines)
    assert entry["lines"] == lines


async def test_one_account_may_appear_on_several_lines(
    client: httpx.AsyncClient, ledger: str
) -> None:
    entry = await post_entry(
        client,
        ledger,
        [debit("512000", "7.00"), debit("512000", "3.00"), credit("706000", "10.00")],
    )
    assert [line["account"] for line in entry["lines"]] == ["512000", "512000", "706000"]
    tb = (await client.get(url(ledger, "trial-balance"))).json()
    assert {i["account"]: i["debit"] for i in tb["items"]}["512000"] == "10.00"


Mutation = Callable[[dict[str, Any]], object]


def _set_line(index: int, **fields: Any) -> Mutation:
    def mutate(body: dict[str, Any]) -> None:
        body["lines"][index] = {**body["lines"][index], **fields}

    return mutate


def _drop_line_field(index: int, name: str) -> Mutation:
    return lambda body: body["lines"][index].pop(name)


def _set(**fields: Any) -> Mutation:
    return lambda body: body.update(fields)


def _drop(name: str) -> Mutation:
    return lambda body: body.pop(name)


INVALID: list[tuple[str, Mutation, int, str]] = [
    ("unbalanced", _set_line(1, credit="99.99"), 422, "unbalanced-entry"),
    ("unbalanced-by-one-cent", _set_line(0, debit="120.01"), 422, "unbalanced-entry"),
    (
        "all-debits",
        _set(lines=[debit("411000", "1.00"), debit("706000", "1.00")]),
        422,
        "unbalanced-entry",
    ),
    ("unknown-account", _set_line(2, account="445799"), 422, "unknown-account"),
    ("not-an-account-number", _set_line(2, account="abc"), 422, "validation-error"),
    ("unknown-journal", _set(journal="ZZ"), 422, "unknown-journal"),
    ("journal-in-lowercase", _set(journal="ve"), 422, "validation-error"),
    ("too-many-decimals", _set_line(0, debit="120.001"), 422, "invalid-amount"),
    ("json-number", _set_line(0, debit=120.00), 422, "invalid-amount"),
    ("json-integer", _set_line(0, debit=120), 422, "invalid-amount"),
    ("negative", _set_line(0, debit="-120.00"), 422, "invalid-amount"),
    ("zero", _set_line(0, debit="0.00"), 422, "invalid-amount"),
    (
        "zero-line-in-balanced-entry",
        lambda b: b["lines"].append(debit("512000", "0")),
        422,
        "invalid-amount",
    ),
    ("letters", _set_line(0, debit="abc"), 422, "invalid-amount"),
    ("exponent", _set_line(0, debit="1e3"), 422, "invalid-amount"),
    ("comma-decimal", _set_line(0, debit="120,00"), 422, "invalid-amount"),
    ("empty-amount", _set_line(0, debit=""), 422, "invalid-amount"),
    ("trailing-newline", _set_line(0, debit="120.00\n"), 422, "invalid-amount"),
    ("leading-space", _set_line(0, debit=" 120.00"), 422, "invalid-amount"),
    ("over-the-line-maximum", _set_line(0, debit="100000000000.01"), 422, "invalid-amount"),
    ("seventeen-digits", _set_line(0, debit="12345678901234567"), 422, "invalid-amount"),
    ("debit-and-credit", _set_line(0, credit="120.00"), 422, "invalid-line"),
    ("neither-debit-nor-credit", _drop_line_field(0, "debit"), 422, "invalid-line"),
    ("null-debit", _set_line(0, debit=None), 422, "invalid-line"),
    ("null-debit-and-credit", _set_line(0, debit=None, credit=None), 422, "invalid-line"),
    ("one-line", _set(lines=[debit("411000", "1.00")]), 422, "validation-error"),
    ("no-lines", _set(lines=[]), 422, "validation-error"),
    ("lines-missing", _drop("lines"), 422, "validation-error"),
    ("unknown-field", _set(posted_by="me"), 422, "validation-error"),
    ("unknown-line-field", _set_line(0, vat="20"), 422, "validation-error"),
    ("id-supplied", _set(id=str(uuid.uuid4())), 422, "validation-error"),
    ("status-supplied", _set(status="posted"), 422, "validation-error"),
    ("date-not-a-date", _set(date="not a date"), 422, "invalid-date"),
    ("date-impossible", _set(date="2026-02-30"), 422, "invalid-date"),
    ("date-as-number", _set(date=20261123), 422, "invalid-date"),
    ("date-with-time", _set(date="2026-11-23T10:00:00"), 422, "invalid-date"),
    ("date-missing", _drop("date"), 422, "validation-error"),
    ("date-before-1900", _set(date="1899-12-31"), 422, "invalid-date"),
    ("label-missing", _drop("label"), 422, "validation-error"),
    ("label-blank", _set(label="   "), 422, "invalid-text"),
    ("label-too-long", _set(label="x" * 501), 422, "validation-error"),
    ("account-missing", _drop_line_field(1, "account"), 422, "validation-error"),
    ("journal-missing", _drop("journal"), 422, "validation-error"),
    ("date-after-2999", _set(date="3000-01-01"), 422, "invalid-date"),
    ("reference-too-long", _set(reference="R" * 101), 422, "validation-error"),
    ("line-label-too-long", _set_line(0, label="x" * 501), 422, "validation-error"),
    (
        "too-many-lines",
        _set(lines=[debit("607000", "1.00")] * 1000 + [credit("401000", "1000.00")]),
        422,
        "validation-error",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "status", "type_"),
    [pytest.param(m, s, t, id=name) for name, m, s, t in INVALID],
)
async def test_an_invalid_entry_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, ledger: str, mutate: Mutation, status: int, type_: str
) -> None:
    await post_entry(client, ledger, [debit("512000", "50.00"), credit("706000", "50.00")])
    before = await snapshot(client, ledger)
    body = copy.deepcopy(DESIGN_ENTRY)
    mutate(body)
    response = await client.post(url(ledger, "entries"), json=body)
    problem = assert_problem(response, status, type_)
    assert problem["instance"] == url(ledger, "entries")
    assert problem["request_id"]
    assert await snapshot(client, ledger) == before


async def test_an_unbalanced_entry_reports_its_totals(
    client: httpx.AsyncClient, ledger: str
) -> None:
    body = design_entry(lines=[debit("411000", "120.00"), credit("706000", "100.00")])
    problem = assert_problem(
        await client.post(url(ledger, "entries"), json=body), 422, "unbalanced-entry"
    )
    assert (problem["debit"], problem["credit"], problem["difference"]) == (
        "120.00",
        "100.00",
        "20.00",
    )


async def test_an_unknown_account_is_named_in_the_problem(
    client: httpx.AsyncClient, ledger: str
) -> None:
    body = design_entry(lines=[debit("499998", "1.00"), credit("499999", "1.00")])
    problem = assert_problem(
        await client.post(url(ledger, "entries"), json=body), 422, "unknown-account"
    )
    assert problem["accounts"] == ["499998", "499999"]


async def test_an_inactive_account_refuses_the_entry_and_changes_nothing(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await post_entry(client, ledger, [debit("411000", "10.00"), credit("706000", "10.00")])
    await client.patch(url(ledger, "accounts", "445710"), json={"active": False})
    before = await snapshot(client, ledger)
    problem = assert_problem(
        await client.post(url(ledger, "entries"), json=DESIGN_ENTRY), 422, "inactive-account"
    )
    assert problem["accounts"] == ["445710"]
    assert await snapshot(client, ledger) == before


@pytest.mark.parametrize(
    "content",
    [b"{", b'{"journal": "VE",}', b"not json", b'{"journal": "VE"', b"\xff\xfe"],
    ids=["open-brace", "trailing-comma", "text", "truncated", "not-utf8"],
)
async def test_malformed_json_is_a_bad_request_and_changes_nothing(
    client: httpx.AsyncClient, ledger: str, content: bytes
) -> None:
    before = await snapshot(client, ledger)
    response = await client.post(
        url(ledger, "entries"), content=content, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "malformed-request")
    assert await snapshot(client, ledger) == before


@pytest.mark.parametrize("content", [b"[]", b'"entry"', b"null", b"42"])
async def test_a_body_that_is_not_an_object_is_refused(
    client: httpx.AsyncClient, ledger: str, content: bytes
) -> None:
    before = await snapshot(client, ledger)
    response = await client.post(
        url(ledger, "entries"), content=content, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422, "validation-error")
    assert await snapshot(client, ledger) == before


async def test_posting_to_an_unknown_ledger_is_not_found(client: httpx.AsyncClient) -> None:
    missing = f"x{uuid.uuid4().hex[:12]}"
    response = await client.post(url(missing, "entries"), json=DESIGN_ENTRY)
    assert_problem(response, 404, "ledger-not-found")


async def test_a_many_line_entry_is_posted(client: httpx.AsyncClient, ledger: str) -> None:
    lines = [debit("607000", "0.01") for _ in range(300)] + [credit("401000", "3.00")]
    entry = await post_entry(client, ledger, lines)
    assert len(entry["lines"]) == 301
    assert unsealed((await client.get(url(ledger, "entries", entry["id"]))).json()) == unsealed(
        entry
    )


async def test_the_largest_line_amount_is_accepted(client: httpx.AsyncClient, ledger: str) -> None:
    entry = await post_entry(
        client,
        ledger,
        [debit("512000", "100000000000.00"), credit("101000", "100000000000.00")],
    )
    assert entry["lines"][0]["debit"] == "100000000000.00"


@pytest.mark.parametrize(
    "value",
    [None, True, [], {}, 1.5, -1, "1.00.0", "٣", "1" * 40],
    ids=["null", "true", "list", "object", "float", "negative-int", "two-dots", "arabic", "long"],
)
async def test_an_amount_of_any_json_type_gets_a_problem_not_a_server_error(
    app: FastAPI, client: httpx.AsyncClient, ledger: str, value: object
) -> None:
    # A transport that hands back the 500 a real client would get instead of raising.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=client.headers
    ) as http:
        body = design_entry()
        body["lines"][1] = {"account": "706000", "credit": value}
        response = await http.post(url(ledger, "entries"), json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
