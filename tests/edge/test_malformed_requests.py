"""Requests that cannot be read one way only are refused with 400 `malformed-request`.

A JSON member named twice (`{"debit": "1000.00", "debit": "1.00"}` would post the last one),
two `Idempotency-Key` headers, a body that is not UTF-8, JSON nested absurdly deep, and the
non-JSON constants Python's parser would take (`NaN`, `Infinity`): none of them books anything
(issue 7, findings 3 and 7).
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import assert_problem
from tests.entry.helpers import DESIGN_ENTRY, post_entry, snapshot, url

JSON = {"Content-Type": "application/json"}

# A balanced entry but for the line's duplicate member: last-one-wins would post 1.00 / 1.00.
LINE_DUPLICATE = (
    b'{"journal": "VE", "date": "2026-11-23", "label": "Facture F-2026-101", "lines": ['
    b'{"account": "411000", "debit": "1000.00", "debit": "1.00"}, '
    b'{"account": "706000", "credit": "1.00"}]}'
)
TOP_LEVEL_DUPLICATE = (
    b'{"journal": "VE", "date": "2026-11-23", "date": "2026-11-24", '
    b'"label": "Facture F-2026-101", "lines": ['
    b'{"account": "411000", "debit": "1.00"}, {"account": "706000", "credit": "1.00"}]}'
)


async def post_raw(
    client: httpx.AsyncClient, path: str, content: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST bytes as they are, declared as JSON."""
    return await client.post(path, content=content, headers={**JSON, **(headers or {})})


@pytest.mark.parametrize(
    ("body", "member", "without"),
    [
        (LINE_DUPLICATE, "debit", LINE_DUPLICATE.replace(b'"debit": "1000.00", ', b"")),
        (TOP_LEVEL_DUPLICATE, "date", TOP_LEVEL_DUPLICATE.replace(b'"date": "2026-11-24", ', b"")),
    ],
    ids=["in-a-line", "at-the-top-level"],
)
async def test_an_entry_naming_a_member_twice_is_refused_and_books_nothing(
    client: httpx.AsyncClient, ledger: str, body: bytes, member: str, without: bytes
) -> None:
    before = await snapshot(client, ledger)
    problem = assert_problem(
        await post_raw(client, url(ledger, "entries"), body), 400, "malformed-request"
    )
    assert repr(member) in problem["detail"] or f'"{member}"' in problem["detail"], problem
    assert await snapshot(client, ledger) == before
    # The same bytes without the repetition are a valid entry: the duplicate alone was refused.
    assert (await post_raw(client, url(ledger, "entries"), without)).status_code == 201


async def test_an_account_update_naming_a_member_twice_is_refused(
    client: httpx.AsyncClient, ledger: str
) -> None:
    before = (await client.get(url(ledger, "accounts", "411000"))).json()
    response = await client.patch(
        url(ledger, "accounts", "411000"),
        content=b'{"active": true, "active": false}',
        headers=JSON,
    )
    problem = assert_problem(response, 400, "malformed-request")
    assert "active" in problem["detail"]
    assert (await client.get(url(ledger, "accounts", "411000"))).json() == before


async def test_a_reversal_naming_a_member_twice_is_refused(
    client: httpx.AsyncClient, ledger: str
) -> None:
    original = await post_entry(client, ledger, DESIGN_ENTRY["lines"])
    before = await snapshot(client, ledger)
    response = await post_raw(
        client,
        url(ledger, "entries", original["id"], "reverse"),
        b'{"label": "Extourne", "label": "Autre"}',
    )
    problem = assert_problem(response, 400, "malformed-request")
    assert "label" in problem["detail"]
    assert await snapshot(client, ledger) == before


async def test_two_idempotency_keys_are_refused_and_book_nothing(
    client: httpx.AsyncClient, ledger: str
) -> None:
    before = await snapshot(client, ledger)
    response = await client.post(
        url(ledger, "entries"),
        json=DESIGN_ENTRY,
        headers=[("Idempotency-Key", "edge-a"), ("Idempotency-Key", "edge-b")],
    )
    assert response.request.headers.get_list("idempotency-key") == ["edge-a", "edge-b"]
    problem = assert_problem(response, 400, "malformed-request")
    assert "idempotency-key" in problem["detail"].lower()
    assert await snapshot(client, ledger) == before
    # Neither key was spent: each posts afresh, not as a replay.
    again = await client.post(
        url(ledger, "entries"), json=DESIGN_ENTRY, headers={"Idempotency-Key": "edge-a"}
    )
    assert again.status_code == 201, again.text
    assert "idempotent-replayed" not in again.headers


async def test_a_body_that_is_not_utf8_is_refused(client: httpx.AsyncClient, ledger: str) -> None:
    before = await snapshot(client, ledger)
    body = json.dumps(DESIGN_ENTRY).encode().replace(b"Facture", b"Fact\xff\xfeure")
    response = await post_raw(client, url(ledger, "entries"), body)
    problem = assert_problem(response, 400, "malformed-request")
    assert "UTF-8" in problem["detail"]
    assert await snapshot(client, ledger) == before


async def test_json_nested_a_hundred_deep_is_refused(
    client: httpx.AsyncClient, ledger: str
) -> None:
    before = await snapshot(client, ledger)
    entry = json.dumps({**DESIGN_ENTRY, "label": "PLACE"}).encode()
    body = entry.replace(b'"PLACE"', b"[" * 100 + b"]" * 100)
    response = await post_raw(client, url(ledger, "entries"), body)
    assert_problem(response, 400, "malformed-request")
    assert await snapshot(client, ledger) == before


async def test_json_nested_a_few_levels_is_read_and_judged_on_its_content(
    client: httpx.AsyncClient, ledger: str
) -> None:
    entry = json.dumps({**DESIGN_ENTRY, "label": "PLACE"}).encode()
    body = entry.replace(b'"PLACE"', b"[" * 5 + b"]" * 5)
    assert_problem(await post_raw(client, url(ledger, "entries"), body), 422, "validation-error")


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"], ids=bytes.decode)
async def test_a_non_json_number_constant_is_refused(
    client: httpx.AsyncClient, ledger: str, constant: bytes
) -> None:
    before = await snapshot(client, ledger)
    body = LINE_DUPLICATE.replace(b'"debit": "1000.00", "debit": "1.00"', b'"debit": ' + constant)
    response = await post_raw(client, url(ledger, "entries"), body)
    assert_problem(response, 400, "malformed-request")
    assert await snapshot(client, ledger) == before
