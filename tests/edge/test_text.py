"""Free text (labels, references, names) cannot corrupt an export or a report.

Control characters (TAB, LF and CR included), DEL and the C1 controls, the line and paragraph
separators, bidirectional overrides and isolates, and text with nothing visible are refused
with `invalid-text` naming the character; accepted text is stripped of surrounding spaces and
stored in NFC (issue 7, finding 5). The same rule holds in every text field.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import assert_problem
from tests.entry.helpers import API, design_entry, snapshot, url, walk

# Each refused character and the code point the problem must name.
FORBIDDEN = {
    "TAB": "\t",
    "LF": "\n",
    "CR": "\r",
    "U+0001": "\x01",
    "DEL": "\x7f",
    "U+0085": "\x85",
    "U+202E": "\u202e",
    "U+2066": "\u2066",
    "U+2028": "\u2028",
    "U+2029": "\u2029",
}
# Text a reader sees as empty.
INVISIBLE = {"zero-width space": "\u200b", "BOM": "\ufeff", "spaces and ZWSP": "   \u200b  "}
# What no accepted text may hold, stated here independently of the code under test: C0 and
# C1 controls, DEL, U+2028/U+2029, the bidi embeddings/overrides and isolates.
NEVER_STORED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


Send = Callable[[httpx.AsyncClient, str, str], Awaitable[httpx.Response]]
Stored = Callable[[httpx.AsyncClient, str, httpx.Response], Awaitable[str]]
State = Callable[[httpx.AsyncClient, str], Awaitable[Any]]


@dataclass(frozen=True)
class TextField:
    """How to send text in one field, read back what was stored, and see what exists."""

    name: str
    loc: list[str]
    send: Send
    stored: Stored
    state: State


async def _read(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _entry(client: httpx.AsyncClient, ledger: str, response: httpx.Response) -> Any:
    return await _read(client, url(ledger, "entries", response.json()["id"]))


async def _books(client: httpx.AsyncClient, ledger: str) -> Any:
    return await snapshot(client, ledger)


async def _accounts(client: httpx.AsyncClient, ledger: str) -> Any:
    return (await walk(client, url(ledger, "accounts"), limit=500))[0]


async def _journals(client: httpx.AsyncClient, ledger: str) -> Any:
    return (await walk(client, url(ledger, "journals"), limit=500))[0]


async def _ledgers(client: httpx.AsyncClient, ledger: str) -> Any:
    return [item["code"] for item in (await walk(client, API, limit=500))[0]]


async def _keys(client: httpx.AsyncClient, ledger: str) -> Any:
    return (await walk(client, "/api/v1/keys", limit=500))[0]


async def _send_entry_label(client: httpx.AsyncClient, ledger: str, text: str) -> httpx.Response:
    return await client.post(url(ledger, "entries"), json=design_entry(label=text))


async def _send_line_label(client: httpx.AsyncClient, ledger: str, text: str) -> httpx.Response:
    body = design_entry()
    body["lines"][1] = {**body["lines"][1], "label": text}
    return await client.post(url(ledger, "entries"), json=body)


async def _send_reference(client: httpx.AsyncClient, ledger: str, text: str) -> httpx.Response:
    return await client.post(url(ledger, "entries"), json=design_entry(reference=text))


async def _send_account_name(client: httpx.AsyncClient, ledger: str, text: str) -> httpx.Response:
    return await client.post(url(ledger, "accounts"), json={"number": "411999", "name": text})


async def _send_journal_name(client: httpx.AsyncClient, ledger: str, text: str) -> httpx.Response:
    return await client.post(url(ledger, "journals"), json={"code": "ZZ", "name": text})


async def _send_ledger_name(client: httpx.AsyncClient, ledger: str, text: str) -> httpx.Response:
    return await client.post(API, json={"code": f"t{uuid.uuid4().hex[:12]}", "name": text})


async def _send_key_name(client: httpx.AsyncClient, ledger: str, text: str) -> httpx.Response:
    return await client.post("/api/v1/keys", json={"name": text})


async def _stored_entry_label(c: httpx.AsyncClient, ledger: str, r: httpx.Response) -> str:
    return str((await _entry(c, ledger, r))["label"])


async def _stored_line_label(c: httpx.AsyncClient, ledger: str, r: httpx.Response) -> str:
    return str((await _entry(c, ledger, r))["lines"][1]["label"])


async def _stored_reference(c: httpx.AsyncClient, ledger: str, r: httpx.Response) -> str:
    return str((await _entry(c, ledger, r))["reference"])


async def _stored_account_name(c: httpx.AsyncClient, ledger: str, r: httpx.Response) -> str:
    return str((await _read(c, url(ledger, "accounts", "411999")))["name"])


async def _stored_journal_name(c: httpx.AsyncClient, ledger: str, r: httpx.Response) -> str:
    journals = await _journals(c, ledger)
    return str(next(j["name"] for j in journals if j["code"] == "ZZ"))


async def _stored_ledger_name(c: httpx.AsyncClient, ledger: str, r: httpx.Response) -> str:
    return str((await _read(c, f"{API}/{r.json()['code']}"))["name"])


async def _stored_key_name(c: httpx.AsyncClient, ledger: str, r: httpx.Response) -> str:
    keys = await _keys(c, ledger)
    return str(next(k["name"] for k in keys if k["id"] == r.json()["id"]))


FIELDS = [
    TextField("entry label", ["body", "label"], _send_entry_label, _stored_entry_label, _books),
    TextField(
        "line label", ["body", "lines", "1", "label"], _send_line_label, _stored_line_label, _books
    ),
    TextField("reference", ["body", "reference"], _send_reference, _stored_reference, _books),
    TextField(
        "account name", ["body", "name"], _send_account_name, _stored_account_name, _accounts
    ),
    TextField(
        "journal name", ["body", "name"], _send_journal_name, _stored_journal_name, _journals
    ),
    TextField("ledger name", ["body", "name"], _send_ledger_name, _stored_ledger_name, _ledgers),
    TextField("key name", ["body", "name"], _send_key_name, _stored_key_name, _keys),
]
FIELD_IDS = [f.name.replace(" ", "-") for f in FIELDS]


@pytest.mark.parametrize("field", FIELDS, ids=FIELD_IDS)
async def test_a_control_separator_or_bidi_character_is_refused_and_named(
    client: httpx.AsyncClient, ledger: str, field: TextField
) -> None:
    before = await field.state(client, ledger)
    wrong = []
    for name, char in FORBIDDEN.items():
        for text in (f"Facture{char}F-101", char + "Facture", "Facture" + char):
            response = await field.send(client, ledger, text)
            body = response.json()
            if response.status_code != 422 or body.get("type") != "invalid-text":
                wrong.append((name, repr(text), response.status_code, body.get("type")))
                continue
            problem = assert_problem(response, 422, "invalid-text")
            assert problem["errors"][0]["loc"] == field.loc, problem
            if code_point(char) not in problem["detail"]:
                wrong.append((name, repr(text), "detail does not name it", problem["detail"]))
    assert wrong == [], f"{field.name}: {wrong}"
    assert await field.state(client, ledger) == before


@pytest.mark.parametrize("field", FIELDS, ids=FIELD_IDS)
async def test_text_with_nothing_visible_is_refused(
    client: httpx.AsyncClient, ledger: str, field: TextField
) -> None:
    before = await field.state(client, ledger)
    wrong = []
    for name, text in INVISIBLE.items():
        response = await field.send(client, ledger, text)
        if response.status_code != 422 or response.json().get("type") != "invalid-text":
            wrong.append((name, response.status_code, response.text[:200]))
            continue
        problem = assert_problem(response, 422, "invalid-text")
        assert problem["errors"][0]["loc"] == field.loc, problem
    assert wrong == [], f"{field.name}: {wrong}"
    assert await field.state(client, ledger) == before


@pytest.mark.parametrize("field", FIELDS, ids=FIELD_IDS)
async def test_text_is_stored_stripped_and_in_nfc(
    client: httpx.AsyncClient, ledger: str, field: TextField
) -> None:
    response = await field.send(client, ledger, "  Cafe\u0301 \u200bde\u0301j\u00e0  ")
    assert response.status_code == 201, response.text
    stored = await field.stored(client, ledger, response)
    assert stored == "Café \u200bdéjà"
    assert stored == unicodedata.normalize("NFC", stored)


PROPERTY = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(text=st.text())
async def test_any_label_is_refused_whole_or_stored_clean_and_composed(
    client: httpx.AsyncClient, ledger: str, text: str
) -> None:
    reference = f"P-{uuid.uuid4().hex[:16]}"
    response = await client.post(
        url(ledger, "entries"), json=design_entry(label=text, reference=reference)
    )
    if response.status_code == 422:
        problem = response.json()
        event(f"refused: {problem['type']}")
        assert problem["type"] in {"invalid-text", "validation-error"}, problem
        assert_problem(response, 422, problem["type"])
        booked, _ = await walk(client, url(ledger, "entries"), limit=500)
        assert reference not in {e["reference"] for e in booked}
        return
    assert response.status_code == 201, response.text
    event("accepted")
    stored = (await _read(client, url(ledger, "entries", response.json()["id"])))["label"]
    assert stored == unicodedata.normalize("NFC", text.strip())
    assert NEVER_STORED.search(stored) is None, repr(stored)
