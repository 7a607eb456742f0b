"""Drafts (brouillard): kept out of the books, edited, deleted, then validated, on both
databases."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import assert_problem
from tests.entry.helpers import balances, credit, debit, snapshot, url, walk
from tests.sealer.support import seal, verify


def draft(**changes: Any) -> dict[str, Any]:
    """A draft sale of 120.00 (100.00 + 20.00 VAT) on 2026-03-10 unless told otherwise."""
    body: dict[str, Any] = {
        "journal": "VE",
        "date": "2026-03-10",
        "label": "Facture F-100",
        "reference": "F-100",
        "status": "draft",
        "lines": [debit("411000", "120.00"), credit("706000", "100.00"), credit("445710", "20.00")],
    }
    body.update(changes)
    return body


async def create(client: httpx.AsyncClient, ledger: str, **changes: Any) -> dict[str, Any]:
    response = await client.post(url(ledger, "entries"), json=draft(**changes))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def read(client: httpx.AsyncClient, ledger: str, entry_id: str) -> dict[str, Any]:
    response = await client.get(url(ledger, "entries", entry_id))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def validate(client: httpx.AsyncClient, ledger: str, entry_id: str) -> dict[str, Any]:
    response = await client.post(url(ledger, "entries", entry_id, "validate"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- a draft is outside the books -------------------------------------------------------------


async def test_a_draft_is_kept_unnumbered_and_out_of_the_reports(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    entry = await create(client, ledger)
    assert entry["status"] == "draft"
    assert entry["validated_at"] is None
    assert entry["fiscal_year"] == 2026
    assert entry["document_date"] == "2026-03-10"

    await seal(app)
    again = await read(client, ledger, entry["id"])
    assert (again["seq"], again["number"], again["hash"]) == (None, None, None)
    assert again == entry

    assert await balances(client, ledger) == {}
    with_drafts = await balances(client, ledger, include_drafts="true")
    assert with_drafts == {"411000": "120.00", "445710": "-20.00", "706000": "-100.00"}
    gl = (await client.get(url(ledger, "accounts", "411000", "ledger"))).json()
    assert (gl["items"], gl["closing_balance"]) == ([], "0.00")
    gl = (
        await client.get(
            url(ledger, "accounts", "411000", "ledger"), params={"include_drafts": "true"}
        )
    ).json()
    assert [item["entry_id"] for item in gl["items"]] == [entry["id"]]
    assert gl["closing_balance"] == "120.00"
    balance = url(ledger, "accounts", "706000", "balance")
    assert (await client.get(balance)).json()["balance"] == "0.00"
    drafted = await client.get(balance, params={"include_drafts": "true"})
    assert drafted.json()["balance"] == "-100.00"


async def test_the_entry_list_shows_drafts_and_filters_by_status(
    client: httpx.AsyncClient, ledger: str
) -> None:
    kept = await create(client, ledger)
    posted = await create(client, ledger, status="validated", label="Facture F-101")
    assert posted["status"] == "posted"
    assert posted["validated_at"] == posted["created_at"]

    every, _ = await walk(client, url(ledger, "entries"))
    assert {e["id"] for e in every} == {kept["id"], posted["id"]}
    drafts, _ = await walk(client, url(ledger, "entries"), status="draft")
    assert [e["id"] for e in drafts] == [kept["id"]]
    finals, _ = await walk(client, url(ledger, "entries"), status="posted")
    assert [e["id"] for e in finals] == [posted["id"]]
    bad = await client.get(url(ledger, "entries"), params={"status": "brouillon"})
    assert_problem(bad, 422, "validation-error")


async def test_include_drafts_takes_true_or_false_only(
    client: httpx.AsyncClient, ledger: str
) -> None:
    for value in ("1", "yes", "True", ""):
        response = await client.get(url(ledger, "trial-balance"), params={"include_drafts": value})
        assert_problem(response, 422, "validation-error")


async def test_a_draft_is_checked_by_the_rules_of_a_posting(
    client: httpx.AsyncClient, ledger: str
) -> None:
    before = await snapshot(client, ledger)
    unbalanced = draft(lines=[debit("411000", "120.00"), credit("706000", "100.00")])
    assert_problem(
        await client.post(url(ledger, "entries"), json=unbalanced), 422, "unbalanced-entry"
    )
    unknown = draft(lines=[debit("411999", "1.00"), credit("706000", "1.00")])
    assert_problem(await client.post(url(ledger, "entries"), json=unknown), 422, "unknown-account")
    outside = draft(date="2031-01-01")
    assert_problem(await client.post(url(ledger, "entries"), json=outside), 422, "no-fiscal-year")
    for status in ("brouillon", None, "posted"):
        body = draft(status=status)
        assert_problem(
            await client.post(url(ledger, "entries"), json=body), 422, "validation-error"
        )
    assert await snapshot(client, ledger) == before


# -- editing and deleting ---------------------------------------------------------------------


async def test_patch_changes_only_the_fields_sent(client: httpx.AsyncClient, ledger: str) -> None:
    entry = await create(client, ledger)
    lines = [debit("411000", "60.00", "Acompte"), credit("706000", "60.00")]
    response = await client.patch(
        url(ledger, "entries", entry["id"]),
        json={"label": "Facture F-100 corrigée", "reference": None, "lines": lines},
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["label"] == "Facture F-100 corrigée"
    assert changed["reference"] is None
    assert changed["lines"] == [
        {
            "account": "411000",
            "debit": "60.00",
            "credit": None,
            "label": "Acompte",
            "third_party": None,
        },
        {"account": "706000", "debit": None, "credit": "60.00", "label": None, "third_party": None},
    ]
    assert (changed["journal"], changed["date"], changed["status"]) == ("VE", "2026-03-10", "draft")
    assert changed["created_at"] == entry["created_at"]
    assert await read(client, ledger, entry["id"]) == changed
    assert await balances(client, ledger, include_drafts="true") == {
        "411000": "60.00",
        "706000": "-60.00",
    }


async def test_a_default_document_date_follows_a_new_date(
    client: httpx.AsyncClient, ledger: str
) -> None:
    plain = await create(client, ledger)
    moved = await client.patch(url(ledger, "entries", plain["id"]), json={"date": "2026-04-02"})
    assert (moved.json()["date"], moved.json()["document_date"]) == ("2026-04-02", "2026-04-02")
    assert moved.json()["fiscal_year"] == 2026

    dated = await create(client, ledger, document_date="2026-03-01")
    kept = await client.patch(url(ledger, "entries", dated["id"]), json={"date": "2026-04-02"})
    assert kept.json()["document_date"] == "2026-03-01"
    reset = await client.patch(url(ledger, "entries", dated["id"]), json={"document_date": None})
    assert reset.json()["document_date"] == "2026-04-02"


async def test_a_patch_that_breaks_a_rule_changes_nothing(
    client: httpx.AsyncClient, ledger: str
) -> None:
    entry = await create(client, ledger)
    path = url(ledger, "entries", entry["id"])
    refusals = [
        ({"lines": [debit("411000", "1.00"), credit("706000", "2.00")]}, 422, "unbalanced-entry"),
        ({"journal": "ZZ"}, 422, "unknown-journal"),
        ({"date": "2031-01-01"}, 422, "no-fiscal-year"),
        ({}, 422, "validation-error"),
        ({"label": None}, 422, "validation-error"),
        ({"lines": None}, 422, "validation-error"),
        ({"lines": [debit("411000", "1.00")]}, 422, "validation-error"),
        ({"status": "validated"}, 422, "validation-error"),
        ({"date": "10/03/2026"}, 422, "invalid-date"),
    ]
    for body, status, type_ in refusals:
        assert_problem(await client.patch(path, json=body), status, type_)
    assert await read(client, ledger, entry["id"]) == entry


async def test_a_draft_is_deleted_and_a_posted_entry_is_not(
    client: httpx.AsyncClient, ledger: str
) -> None:
    entry = await create(client, ledger)
    deleted = await client.delete(url(ledger, "entries", entry["id"]))
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_problem(await client.get(url(ledger, "entries", entry["id"])), 404, "entry-not-found")
    assert_problem(await client.delete(url(ledger, "entries", entry["id"])), 404, "entry-not-found")
    assert await balances(client, ledger, include_drafts="true") == {}

    posted = await create(client, ledger, status="validated")
    for method in ("PATCH", "DELETE"):
        response = await client.request(
            method, url(ledger, "entries", posted["id"]), json={"label": "changed"}
        )
        assert_problem(response, 405, "entry-immutable")
    missing = url(ledger, "entries", str(uuid.uuid4()))
    assert_problem(await client.patch(missing, json={"label": "x"}), 404, "entry-not-found")


async def test_a_draft_is_patched_not_replaced(client: httpx.AsyncClient, ledger: str) -> None:
    entry = await create(client, ledger)
    response = await client.put(url(ledger, "entries", entry["id"]), json=draft())
    assert_problem(response, 405, "method-not-allowed")
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "PATCH", "DELETE"} <= allowed
    assert "PUT" not in allowed


async def test_a_draft_is_not_reversed(client: httpx.AsyncClient, ledger: str) -> None:
    entry = await create(client, ledger)
    response = await client.post(url(ledger, "entries", entry["id"], "reverse"))
    assert_problem(response, 409, "entry-is-draft")
    assert await read(client, ledger, entry["id"]) == entry


# -- validation -------------------------------------------------------------------------------


async def test_validation_makes_a_draft_permanent_and_numbers_it_in_validation_order(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    early = await create(client, ledger, date="2026-03-01", label="Brouillon du 1er")
    later = await create(client, ledger, status="validated", date="2026-03-20")
    await seal(app)

    validated = await validate(client, ledger, early["id"])
    assert validated["status"] == "posted"
    assert validated["validated_at"] is not None
    assert datetime.fromisoformat(validated["validated_at"]) > datetime.fromisoformat(
        early["created_at"]
    )
    assert validated["created_at"] == early["created_at"]
    assert await read(client, ledger, early["id"]) | {"seq": None} == validated | {"seq": None}

    await seal(app)
    numbered = {e["id"]: e["number"] for e in [await read(client, ledger, later["id"])]}
    numbered[early["id"]] = (await read(client, ledger, early["id"]))["number"]
    assert numbered == {later["id"]: 1, early["id"]: 2}
    assert await verify(client, ledger) == {"ok": True, "checked": 2, "first_broken_seq": None}
    assert await balances(client, ledger) == {
        "411000": "240.00",
        "445710": "-40.00",
        "706000": "-200.00",
    }
    for method in ("PATCH", "DELETE"):
        response = await client.request(
            method, url(ledger, "entries", early["id"]), json={"label": "changed"}
        )
        assert_problem(response, 405, "entry-immutable")


async def test_validating_twice_answers_the_entry_as_it_stands(
    client: httpx.AsyncClient, ledger: str
) -> None:
    entry = await create(client, ledger)
    first = await validate(client, ledger, entry["id"])
    second = await validate(client, ledger, entry["id"])
    assert second | {"seq": None, "number": None, "hash": None} == first | {
        "seq": None,
        "number": None,
        "hash": None,
    }
    missing = await client.post(url(ledger, "entries", str(uuid.uuid4()), "validate"))
    assert_problem(missing, 404, "entry-not-found")


async def test_a_draft_in_a_month_locked_since_is_not_validated(
    client: httpx.AsyncClient, ledger: str
) -> None:
    entry = await create(client, ledger)
    locked = await client.post(url(ledger, "periods", "2026-03", "lock"))
    assert locked.status_code == 200, locked.text
    response = await client.post(url(ledger, "entries", entry["id"], "validate"))
    assert_problem(response, 409, "period-locked")
    assert (await read(client, ledger, entry["id"]))["status"] == "draft"
    edit = await client.patch(url(ledger, "entries", entry["id"]), json={"label": "x"})
    assert_problem(edit, 409, "period-locked")
    moved = await client.patch(url(ledger, "entries", entry["id"]), json={"date": "2026-04-01"})
    assert moved.status_code == 200, moved.text
    assert (await validate(client, ledger, entry["id"]))["status"] == "posted"


async def test_drafts_up_to_a_date_are_validated_in_one_go(
    client: httpx.AsyncClient, ledger: str
) -> None:
    first = await create(client, ledger, date="2026-03-05")
    second = await create(
        client,
        ledger,
        date="2026-03-31",
        journal="AC",
        lines=[debit("607000", "50.00"), credit("401000", "50.00")],
    )
    after = await create(client, ledger, date="2026-04-01")
    path = url(ledger, "entries", "validate")

    only_sales = await client.post(path, json={"date_to": "2026-03-31", "journal": "VE"})
    assert only_sales.status_code == 200, only_sales.text
    assert only_sales.json() == {"validated": [first["id"]], "remaining": 0}
    every = await client.post(path, json={"date_to": "2026-03-31"})
    assert every.json() == {"validated": [second["id"]], "remaining": 0}
    again = await client.post(path, json={"date_to": "2026-03-31"})
    assert again.json() == {"validated": [], "remaining": 0}
    statuses = {e["id"]: e["status"] for e in (await walk(client, url(ledger, "entries")))[0]}
    assert statuses == {first["id"]: "posted", second["id"]: "posted", after["id"]: "draft"}

    for body in ({}, {"date_to": "2026-03-31", "journal": None}, {"to": "2026-03-31"}):
        assert_problem(await client.post(path, json=body), 422, "validation-error")
    unknown = await client.post(path, json={"date_to": "2026-03-31", "journal": "ZZ"})
    assert_problem(unknown, 422, "unknown-journal")


async def test_validation_of_several_drafts_is_all_or_nothing(
    client: httpx.AsyncClient, ledger: str
) -> None:
    good = await create(client, ledger, date="2026-03-05")
    bad = await create(
        client,
        ledger,
        date="2026-03-06",
        lines=[debit("411000", "10.00"), credit("708000", "10.00")],
    )
    off = await client.patch(url(ledger, "accounts", "708000"), json={"active": False})
    assert off.status_code == 200, off.text

    response = await client.post(url(ledger, "entries", "validate"), json={"date_to": "2026-03-31"})
    problem = assert_problem(response, 422, "drafts-refused")
    [refused] = problem["entries"]
    assert refused["id"] == bad["id"]
    assert refused["type"] == "inactive-account"
    for entry in (good, bad):
        assert (await read(client, ledger, entry["id"]))["status"] == "draft"
