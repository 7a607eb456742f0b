"""Property: whatever drafts, postings, edits, deletions and validations happen before and
during a fallback window, once replayed the books seal into one gapless, verifying chain
holding every entry validated, once."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grandlivre.entry import sealer
from tests.entry.helpers import credit, debit, new_ledger, url
from tests.failover.conftest import AppFactory
from tests.failover.support import client, issue_key, wait_for_mirror, wait_for_primary_drained
from tests.faults import LoopbackProxy
from tests.pgcluster import PrivateCluster
from tests.sealer.support import assert_sealed_books, entries_by_seq

KINDS = ("post", "draft", "validate", "edit", "delete")
steps = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 50)), max_size=8)


@dataclass
class Books:
    code: str
    drafts: list[str] = field(default_factory=list)
    validated: list[str] = field(default_factory=list)


async def play(
    http: httpx.AsyncClient, books: Books, plan: list[tuple[str, int]], *, cut: bool = False
) -> None:
    for kind, pick in plan:
        if kind in ("post", "draft"):
            body = {
                "journal": "VE",
                "date": "2026-05-04",
                "label": f"{kind} {pick}",
                "lines": [debit("411000", f"{pick + 1}.00"), credit("706000", f"{pick + 1}.00")],
            }
            if kind == "draft":
                body["status"] = "draft"
            made = await http.post(url(books.code, "entries"), json=body)
            assert made.status_code == 201, made.text
            posted = "pending_replay" if cut else "posted"
            assert made.json()["status"] == ("draft" if kind == "draft" else posted)
            (books.drafts if kind == "draft" else books.validated).append(made.json()["id"])
            continue
        if not books.drafts:
            continue
        target = books.drafts[pick % len(books.drafts)]
        path = url(books.code, "entries", target)
        if kind == "validate":
            response = await http.post(f"{path}/validate")
            books.drafts.remove(target)
            books.validated.append(target)
        elif kind == "edit":
            response = await http.patch(path, json={"label": f"edited {pick}"})
        else:
            response = await http.delete(path)
            books.drafts.remove(target)
        assert response.is_success, response.text


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=steps, during=steps)
async def test_any_history_across_a_fallback_window_seals_into_one_chain(
    cluster: PrivateCluster,
    database: str,
    proxy: LoopbackProxy,
    app_factory: AppFactory,
    before: list[tuple[str, int]],
    during: list[tuple[str, int]],
) -> None:
    async with (
        asyncio.timeout(60),
        app_factory(cluster.url(database, port=proxy.port)) as app,
    ):
        key = await issue_key(app, "admin")
        async with client(app, key) as http:
            books = Books(f"w{uuid.uuid4().hex[:12]}")
            await new_ledger(http, books.code)
            await play(http, books, before)
            await wait_for_mirror(app)
            proxy.cut()
            try:
                await play(http, books, during, cut=True)
            finally:
                proxy.restore()
            health = await wait_for_primary_drained(http, within=15)
            assert health["replay_conflicts"] == 0
            await sealer.seal_now(app.state.store)

            entries = await entries_by_seq(http, books.code)
            assert {e["id"] for e in entries if e["seq"] is None} == set(books.drafts)
            sealed = [e for e in entries if e["seq"] is not None]
            assert sorted(e["id"] for e in sealed) == sorted(books.validated)
            assert_sealed_books(sealed)
            verdict = (await http.get(url(books.code, "audit", "verify"))).json()
            assert verdict == {"ok": True, "checked": len(sealed), "first_broken": None}
