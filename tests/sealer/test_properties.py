"""Property: whatever is posted, reversed and sealed in whatever rhythm, the books seal gapless.

Hypothesis drives the `async def` test itself (see tests/entry/test_properties.py); each example
opens its own ledger, so examples do not see each other's entries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.entry.helpers import credit, debit, new_ledger, open_year, url
from tests.sealer.support import assert_sealed_books, entries_by_seq, seal, verify


@dataclass(frozen=True)
class Post:
    journal: str
    day: str
    cents: int
    label: str


@dataclass(frozen=True)
class Reverse:
    which: int  # index into what was posted so far, modulo its length


@dataclass(frozen=True)
class Seal:
    pass


@dataclass(frozen=True)
class Draft:
    post: Post


@dataclass(frozen=True)
class Validate:
    which: int  # index into the drafts not validated yet, modulo their count


Step = Post | Reverse | Seal | Draft | Validate

posts = st.builds(
    Post,
    journal=st.sampled_from(["VE", "AC", "OD"]),
    day=st.sampled_from(["2024-12-31", "2025-01-01", "2025-06-15", "2026-02-28"]),
    cents=st.integers(1, 10**12),
    label=st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=30).filter(
        lambda s: s.strip() == s and s
    ),
)
steps = st.lists(
    st.one_of(
        posts,
        posts,
        st.builds(Reverse, st.integers(0, 100)),
        st.just(Seal()),
        st.builds(Draft, posts),
        st.builds(Validate, st.integers(0, 100)),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=steps)
async def test_any_history_seals_into_a_gapless_verifying_chain(
    app: FastAPI, client: httpx.AsyncClient, plan: list[Step]
) -> None:
    ledger = f"h{uuid.uuid4().hex[:12]}"
    # Fiscal years 2025 (2024-07-01 to 2025-06-30) and 2026: numbers count in those.
    await new_ledger(client, ledger, fiscal_year_start="2024-07-01")
    await open_year(client, ledger, 2026)
    committed: list[str] = []  # ids in the order they were validated (posted final or not)
    reversible: list[str] = []
    drafts: list[str] = []
    for step in plan:
        if isinstance(step, Seal):
            await seal(app)
        elif isinstance(step, Post | Draft):
            post = step.post if isinstance(step, Draft) else step
            amount = f"{post.cents // 100}.{post.cents % 100:02d}"
            body = {
                "journal": post.journal,
                "date": post.day,
                "label": post.label,
                "lines": [debit("411000", amount), credit("706000", amount, post.label)],
            }
            if isinstance(step, Draft):
                body["status"] = "draft"
            response = await client.post(url(ledger, "entries"), json=body)
            assert response.status_code == 201, response.text
            (drafts if isinstance(step, Draft) else committed).append(response.json()["id"])
            if isinstance(step, Post):
                reversible.append(response.json()["id"])
        elif isinstance(step, Validate):
            if drafts:
                target = drafts.pop(step.which % len(drafts))
                response = await client.post(url(ledger, "entries", target, "validate"))
                assert response.status_code == 200, response.text
                committed.append(target)
                reversible.append(target)
        elif reversible:
            target = reversible.pop(step.which % len(reversible))
            response = await client.post(url(ledger, "entries", target, "reverse"))
            assert response.status_code == 201, response.text
            committed.append(response.json()["id"])

    await seal(app)

    everything = await entries_by_seq(client, ledger)
    # Drafts left as drafts stay out of the chain.
    assert {e["id"] for e in everything if e["seq"] is None} == set(drafts)
    entries = [e for e in everything if e["seq"] is not None]
    # One request after the other: each committed before the next began, so seq is that order.
    assert [e["id"] for e in entries] == committed
    assert_sealed_books(entries)
    assert await verify(client, ledger) == {
        "ok": True,
        "checked": len(committed),
        "first_broken_seq": None,
    }
