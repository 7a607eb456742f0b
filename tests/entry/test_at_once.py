"""A posting in one statement (PostEntry.apply_at_once) answers what the transaction would.

On PostgreSQL a live POST .../entries is first tried as one statement on an autocommit
connection, which checks what the posting context holds (ledger, decimals, journal, accounts
known and active, the Idempotency-Key unanswered) and writes only if all of it holds. Here the
same operation is first applied in a transaction that is rolled back (what `apply` answers, or
the rule it refuses), then at once: it must post exactly that, or write nothing and leave the
answer to `apply`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from grandlivre.app import create_app
from grandlivre.entry.operations import LEDGER_DECIMALS, IdempotencyArgs, PostEntry
from grandlivre.entry.service import EntryDraft, LineDraft
from grandlivre.errors import DomainError
from grandlivre.idempotency.service import Outcome
from grandlivre.store import LIVE, unit
from tests.conftest import PostgresDatabases, bearer, database_url_for, issue_key, make_settings
from tests.entry.helpers import credit, debit, design_entry, post_entry, unsealed, url
from tests.entry.test_properties import PROPERTY_SETTINGS

KNOWN = ["411000", "445710", "706000", "512000"]
INACTIVE = "471500"
COUNTS = (
    "SELECT (SELECT count(*) FROM entries) AS entries, "
    "(SELECT count(*) FROM entry_lines) AS lines, "
    "(SELECT count(*) FROM idempotency_keys) AS keys"
)


@pytest.fixture(scope="module")
async def pg_app(tmp_root: Path, pg_databases: PostgresDatabases) -> AsyncIterator[FastAPI]:
    """A PostgreSQL app whose ledger `main` has an inactive account and a stored key."""
    url_ = await database_url_for("postgres", tmp_root, pg_databases)
    application = create_app(make_settings(url_))
    async with application.router.lifespan_context(application):
        key = await issue_key(application, "admin")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application),
            base_url="http://testserver",
            headers=bearer(key),
        ) as http:
            created = await http.post(
                url("main", "accounts"), json={"number": INACTIVE, "name": "Attente"}
            )
            assert created.status_code == 201, created.text
            off = await http.patch(url("main", "accounts", INACTIVE), json={"active": False})
            assert off.status_code == 200, off.text
            await post_entry(http, "main", [debit("512000", "1.00"), credit("706000", "1.00")])
            stored = await http.post(
                url("main", "entries"),
                json={
                    "journal": "VE",
                    "date": "2026-01-02",
                    "label": "Déjà payé",
                    "lines": [debit("512000", "2.00"), credit("706000", "2.00")],
                },
                headers={"Idempotency-Key": "answered-already"},
            )
            assert stored.status_code == 201, stored.text
        yield application


async def _counts(app: FastAPI) -> dict[str, int]:
    async with app.state.store.engine.connect() as conn:
        return dict((await conn.execute(text(COUNTS))).mappings().one())


def _op(
    app: FastAPI,
    *,
    ledger: str,
    journal: str,
    lines: list[tuple[str, str, str]],
    key: str | None,
) -> PostEntry:
    draft = EntryDraft(
        journal=journal,
        date=date(2026, 3, 14),
        label="Écriture",
        reference="R-1",
        lines=[
            LineDraft(account, **({side: amount}), label=None)  # type: ignore[arg-type]
            for account, side, amount in lines
        ],
    )
    return PostEntry(
        ledger=ledger,
        entry_id=app.state.ids.new(),
        draft=draft,
        now=datetime.now(UTC),
        idempotency=IdempotencyArgs(f"ledger:{ledger}", key, f"fp-{key}") if key else None,
    )


async def _dry_run(app: FastAPI, op: PostEntry) -> Outcome | DomainError:
    """What `apply` answers in a transaction that is rolled back."""
    try:
        return await unit.run(app.state.store.engine, lambda s: op.apply(s, LIVE), write=False)
    except DomainError as exc:
        return exc


amounts = st.sampled_from(["10.00", "10", "2.50", "7.50", "0.01", "10.001", "abc"])
accounts = st.sampled_from([*KNOWN, INACTIVE, "999999"])


@st.composite
def postings(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly valid entries, some with one thing wrong (unbalanced, an inexact amount, an
    unknown or inactive account or journal, an unknown ledger, a key answered already)."""
    first = draw(amounts)
    lines = [(draw(accounts), "debit", first), (draw(accounts), "credit", first)]
    if draw(st.booleans()):
        lines.append((draw(accounts), draw(st.sampled_from(["debit", "credit"])), "2.50"))
        lines.append((draw(accounts), "credit" if lines[-1][1] == "debit" else "debit", "2.50"))
    return {
        "ledger": draw(st.sampled_from(["main"] * 5 + ["nowhere"])),
        "journal": draw(st.sampled_from(["VE", "AC", "OD", "ZZ"])),
        "lines": lines,
        "key": draw(st.sampled_from([None, "fresh", "answered-already"])),
    }


@settings(PROPERTY_SETTINGS, max_examples=100)
@given(posting=postings(), hint=st.sampled_from([2, 2, 2, 3]))
async def test_at_once_posts_what_the_transaction_would_and_nothing_else(
    pg_app: FastAPI, posting: dict[str, Any], hint: int
) -> None:
    key = posting["key"]
    if key == "fresh":
        key = f"fresh-{uuid.uuid4().hex}"
    op = _op(
        pg_app,
        ledger=posting["ledger"],
        journal=posting["journal"],
        lines=posting["lines"],
        key=key,
    )
    expected = await _dry_run(pg_app, op)  # which teaches the hint: set it after
    LEDGER_DECIMALS.learn(posting["ledger"], hint)
    before = await _counts(pg_app)

    done = await unit.run_at_once(pg_app.state.store.engine, op.apply_at_once)

    after = await _counts(pg_app)
    if done is None:
        event(f"left to the transaction: {type(expected).__name__}")
        assert after == before
        assert isinstance(expected, DomainError) or expected.replayed or hint != 2
        return
    event("posted at once")
    assert isinstance(expected, Outcome), expected
    assert not expected.replayed
    assert hint == 2
    assert (done.status_code, done.body, done.replayed) == (201, expected.body, False)
    grown = {"entries": 1, "lines": len(op.draft.lines), "keys": 1 if key else 0}
    assert after == {name: before[name] + grown[name] for name in before}


async def test_an_entry_posted_at_once_reads_back_and_its_key_replays(pg_app: FastAPI) -> None:
    LEDGER_DECIMALS.learn("main", 2)
    key = await issue_key(pg_app, "accountant")
    body = design_entry()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=pg_app), base_url="http://testserver", headers=bearer(key)
    ) as http:
        before = await _counts(pg_app)
        first, again = await asyncio.gather(
            *(
                http.post(url("main", "entries"), json=body, headers={"Idempotency-Key": "twice"})
                for _ in range(2)
            )
        )
        assert (first.status_code, again.status_code) == (201, 201), (first.text, again.text)
        assert first.json() == again.json()
        assert await _counts(pg_app) == {
            "entries": before["entries"] + 1,
            "lines": before["lines"] + 3,
            "keys": before["keys"] + 1,
        }
        read = await http.get(url("main", "entries", first.json()["id"]))
        assert read.status_code == 200, read.text
        assert unsealed(read.json()) == unsealed(first.json())
