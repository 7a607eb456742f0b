"""Matches and unmatches taken on the SQLite fallback replay to PostgreSQL exactly once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from grandlivre.db.tables import Match, MatchedLine
from grandlivre.entry import sealer
from grandlivre.store import mirror
from tests.conftest import assert_problem
from tests.failover.conftest import AppFactory
from tests.failover.support import (
    ENTRIES,
    client,
    fallback_file,
    healthz,
    issue_key,
    sqlite_rows,
    wait_for_mirror,
    wait_for_primary_drained,
    wait_until,
)
from tests.failover.test_mirror_progress import _engines
from tests.faults import LoopbackProxy
from tests.pgcluster import PrivateCluster

BOOKS = "/api/v1/ledgers/main"
MATCHES = f"{BOOKS}/accounts/411000/matches"


async def _pair(http: httpx.AsyncClient, reference: str, amount: str) -> list[dict[str, Any]]:
    """Post an invoice of DUPONT and its payment; return their 411000 lines, as a match names
    them."""
    sale = {
        "journal": "VE",
        "date": "2026-11-02",
        "label": f"Facture {reference}",
        "reference": reference,
        "lines": [
            {"account": "411000", "debit": amount, "third_party": "DUPONT"},
            {"account": "706000", "credit": amount},
        ],
    }
    paid = {
        "journal": "BQ",
        "date": "2026-11-20",
        "label": f"Règlement {reference}",
        "lines": [
            {"account": "512000", "debit": amount},
            {"account": "411000", "credit": amount, "third_party": "DUPONT"},
        ],
    }
    ids = []
    for body in (sale, paid):
        response = await http.post(ENTRIES, json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return [{"entry_id": ids[0], "position": 0}, {"entry_id": ids[1], "position": 1}]


async def test_matches_made_and_undone_on_the_fallback_replay_once(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with (
        asyncio.timeout(40),
        app_factory(cluster.url(database, port=proxy.port), replay_batch=2) as app,
    ):
        key = await issue_key(app, "accountant")
        async with client(app, key) as http:
            party = {"code": "DUPONT", "name": "Dupont SARL", "kind": "customer"}
            assert (await http.post(f"{BOOKS}/third-parties", json=party)).status_code == 201
            first = await _pair(http, "LT-1", "100.00")
            second = await _pair(http, "LT-2", "200.00")
            made = await http.post(MATCHES, json={"lines": first})
            assert (made.status_code, made.json()["code"]) == (201, "A")
            await wait_for_mirror(app)
            proxy.cut()

            # On the fallback: a match of lines PostgreSQL holds, the unmatch of one it holds,
            # and a match of lines posted on the fallback itself.
            offline = await http.post(MATCHES, json={"lines": second})
            assert offline.status_code == 201, offline.text
            assert offline.json()["code"] == "B"
            assert (await healthz(http))["fallback"] is True
            assert (await http.delete(f"{MATCHES}/A")).status_code == 204
            third = await _pair(http, "LT-3", "300.00")
            late = await http.post(MATCHES, json={"lines": third, "code": "LATE"})
            assert late.status_code == 201, late.text
            # The rules hold on the fallback too, and a refusal journals nothing.
            again = await http.post(MATCHES, json={"lines": second})
            assert_problem(again, 409, "line-already-matched")
            assert (await healthz(http))["replay_pending"] == 5

            proxy.restore()
            health = await wait_for_primary_drained(http, within=15)
            assert health["replay_conflicts"] == 0
            listed = (await http.get(MATCHES)).json()["items"]
            assert [(m["code"], m["id"]) for m in listed] == [
                ("B", offline.json()["id"]),
                ("LATE", late.json()["id"]),
            ]
            assert listed[0] == offline.json()
            items = (await http.get(f"{BOOKS}/accounts/411000/open-items")).json()["items"]
            assert [(i["entry_id"], i["position"]) for i in items] == [
                (line["entry_id"], line["position"]) for line in first
            ]

            # The mirror copies them back as PostgreSQL has them: the unmatch too.
            async def mirrored() -> list[tuple[str, int]] | None:
                local = sqlite_rows(
                    fallback_file(app),
                    "SELECT code, unmatched_at IS NULL AS live FROM matches ORDER BY code",
                )
                found = [(r["code"], r["live"]) for r in local]
                return found if found == [("A", 0), ("B", 1), ("LATE", 1)] else None

            await wait_until(mirrored, within=5, what="the fallback's matches as PostgreSQL's")

    rows = await cluster.fetch(
        database,
        "SELECT m.id::text AS id, m.code, m.unmatched_at IS NULL AS live, "
        "(SELECT count(*) FROM matched_lines l WHERE l.match_id = m.id) AS lines "
        "FROM matches m ORDER BY m.created_at, m.id",
    )
    assert [(r["id"], r["code"], r["live"], r["lines"]) for r in rows] == [
        (made.json()["id"], "A", False, 0),
        (offline.json()["id"], "B", True, 2),
        (late.json()["id"], "LATE", True, 2),
    ]
    released = await cluster.fetch(
        database, "SELECT count(*) AS n FROM matched_lines WHERE match_id IS NULL"
    )
    assert released[0]["n"] == 2


async def test_a_match_replayed_after_its_lines_were_matched_elsewhere_is_a_conflict(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with (
        asyncio.timeout(40),
        app_factory(cluster.url(database, port=proxy.port)) as app,
        app_factory(cluster.url(database)) as replica,
    ):
        key = await issue_key(app, "admin")
        async with client(app, key) as http, client(replica, key) as peer:
            party = {"code": "DUPONT", "name": "Dupont SARL", "kind": "customer"}
            assert (await http.post(f"{BOOKS}/third-parties", json=party)).status_code == 201
            pair = await _pair(http, "CF-1", "50.00")
            await wait_for_mirror(app)
            proxy.cut()
            # This replica matches on its fallback; the other, still on PostgreSQL, matches
            # the same lines meanwhile.
            mine = await http.post(MATCHES, json={"lines": pair})
            assert (mine.status_code, mine.json()["code"]) == (201, "A")
            theirs = await peer.post(MATCHES, json={"lines": pair, "code": "Z"})
            assert theirs.status_code == 201, theirs.text

            proxy.restore()
            health = await wait_for_primary_drained(http, within=15)
            assert health["replay_conflicts"] == 1
            (row,) = (await http.get("/api/v1/ops/replay")).json()["items"]
            assert (row["operation"], row["conflict_type"]) == (
                "lettering.match",
                "line-already-matched",
            )
            discard = await http.post(
                f"/api/v1/ops/replay/{row['id']}/discard",
                json={"reason": "matched on the other replica"},
            )
            assert discard.status_code == 200, discard.text
            listed = (await http.get(MATCHES)).json()["items"]
            assert [(m["code"], m["id"]) for m in listed] == [("Z", theirs.json()["id"])]
            await wait_for_mirror(app)
            local = sqlite_rows(
                fallback_file(app),
                "SELECT m.code, count(l.entry_id) AS lines FROM matches m "
                "LEFT JOIN matched_lines l ON l.match_id = m.id GROUP BY m.id",
            )
            assert [(r["code"], r["lines"]) for r in local] == [("Z", 2)]

    rows = await cluster.fetch(database, "SELECT id::text AS id, code FROM matches")
    assert [(r["id"], r["code"]) for r in rows] == [(theirs.json()["id"], "Z")]


async def test_the_mirror_copies_matches_whatever_comes_round_first(
    cluster: PrivateCluster, database: str, app_factory: AppFactory, tmp_path: Path
) -> None:
    """Matched lines copied before their entries (re-stamped since the pass began) bring the
    entries with them; a local live match that holds a code PostgreSQL gave another gives way,
    its lines released, and no unmatched match of the same code is taken for it."""
    async with asyncio.timeout(60), app_factory(cluster.url(database)) as app:
        key = await issue_key(app, "accountant")
        async with client(app, key) as http:
            party = {"code": "DUPONT", "name": "Dupont SARL", "kind": "customer"}
            assert (await http.post(f"{BOOKS}/third-parties", json=party)).status_code == 201
            first = await _pair(http, "MR-1", "10.00")
            second = await _pair(http, "MR-2", "20.00")
            third = await _pair(http, "MR-3", "30.00")
            fourth = await _pair(http, "MR-4", "40.00")
            assert (await http.post(MATCHES, json={"lines": first})).json()["code"] == "A"
            assert (await http.delete(f"{MATCHES}/A")).status_code == 204
            held = await http.post(MATCHES, json={"lines": second})
            assert held.json()["code"] == "B"
            await sealer.seal_now(app.state.store)

            fallback = tmp_path / "replica.db"
            now = datetime(2026, 12, 7, tzinfo=UTC)
            async with _engines(cluster.url(database), fallback) as (primary, local):
                started = await mirror.sync_once(primary, local, now, chunk_rows=1)
                assert not started.done
                # Re-stamped above the pass's horizon: the pass copies B's lines, not them.
                ids = [uuid.UUID(line["entry_id"]) for line in second]
                await cluster.fetch(
                    database, "UPDATE entries SET label = label WHERE id = ANY($1)", ids
                )
                await _finish_pass(primary, local, now, chunk_rows=200)
                # They came with B's lines, as those lines' parents, in the same pass.
                assert sqlite_rows(
                    fallback, "SELECT reference FROM entries WHERE reference = 'MR-2'"
                )
                whole = sqlite_rows(
                    fallback,
                    "SELECT count(*) AS n FROM matched_lines m JOIN entry_lines l "
                    "ON l.entry_id = m.entry_id AND l.position = m.position",
                )
                assert whole[0]["n"] == 4  # A's two, released, and B's two

                # A match written here alone holds code C and a line of MR-4; PostgreSQL gives
                # C to its match of MR-3, and A again (given) to MR-1's, in one round.
                theirs = sqlite_rows(fallback, "SELECT ledger_id, account_id FROM matches")[0]
                mine = uuid.uuid4()
                async with local.begin() as conn:
                    await conn.execute(
                        insert(Match).values(
                            id=mine,
                            ledger_id=uuid.UUID(theirs["ledger_id"]),
                            account_id=uuid.UUID(theirs["account_id"]),
                            code="C",
                            match_date=date(2026, 11, 20),
                            created_at=now,
                        )
                    )
                    await conn.execute(
                        insert(MatchedLine).values(
                            [
                                {
                                    "entry_id": uuid.UUID(x["entry_id"]),
                                    "position": x["position"],
                                    "match_id": mine,
                                }
                                for x in fourth[:1]
                            ]
                        )
                    )
                won = await http.post(MATCHES, json={"lines": third})
                assert won.json()["code"] == "C"
                again = await http.post(MATCHES, json={"lines": first, "code": "A"})
                assert again.status_code == 201, again.text
                # One round: both matches in one chunk, which the clash makes fail once.
                await _finish_pass(primary, local, now, chunk_rows=5000)

            found = sqlite_rows(
                fallback,
                "SELECT m.code, m.unmatched_at IS NULL AS live, count(l.entry_id) AS lines "
                "FROM matches m LEFT JOIN matched_lines l ON l.match_id = m.id "
                "GROUP BY m.id ORDER BY m.code, live",
            )
            assert [(r["code"], r["live"], r["lines"]) for r in found] == [
                ("A", 0, 0),
                ("A", 1, 2),
                ("B", 1, 2),
                ("C", 1, 2),
            ]
            local_ids = {r["id"] for r in sqlite_rows(fallback, "SELECT id FROM matches")}
            assert mine.hex not in local_ids
            # The line the local match held is open here again, not C's.
            released = sqlite_rows(
                fallback, "SELECT entry_id, position FROM matched_lines WHERE match_id IS NULL"
            )
            assert [(uuid.UUID(r["entry_id"]), r["position"]) for r in released] == [
                (uuid.UUID(fourth[0]["entry_id"]), 0)
            ]


async def _finish_pass(
    primary: AsyncEngine, local: AsyncEngine, now: datetime, *, chunk_rows: int
) -> None:
    """Run mirror rounds until the pass under way (or a new one) is done."""
    for _ in range(500):
        if (await mirror.sync_once(primary, local, now, chunk_rows=chunk_rows)).done:
            return
    raise AssertionError("the copy does not end")
