"""What an operator sees of a failover: metrics and one structured log event per transition.

Prometheus counters are process-wide, and other tests run apps in this process too, so
counters are compared before and after rather than read as absolutes.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.failover.conftest import AppFactory
from tests.failover.support import (
    ENTRIES,
    client,
    entry,
    issue_key,
    log_events,
    wait_for_mirror,
    wait_for_primary_drained,
    wait_until,
)
from tests.ops.support import metric, scrape
from tests.pgcluster import PrivateCluster

TRANSITIONS = "grandlivre_storage_transitions_total"
REPLAYED = "grandlivre_replayed_operations_total"
PATH = [("primary", "fallback"), ("fallback", "recovering"), ("recovering", "primary")]
EVERY_PAIR = [
    (a, b)
    for a in ("embedded", "primary", "fallback", "recovering")
    for b in ("embedded", "primary", "fallback", "recovering")
    if a != b
]


def _transitions(exposition: str) -> dict[tuple[str, str], float]:
    return {(a, b): metric(exposition, TRANSITIONS, from_mode=a, to_mode=b) for a, b in EVERY_PAIR}


async def test_failover_and_recovery_are_counted_gauged_and_logged_once_each(
    cluster: PrivateCluster,
    database: str,
    app_factory: AppFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with asyncio.timeout(25), app_factory(cluster.url(database)) as app:
        key = await issue_key(app, "accountant")
        async with client(app, key) as http:
            assert (await http.post(ENTRIES, json=entry("OBS-0"))).status_code == 201
            await wait_for_mirror(app)
            before = await scrape(http)
            assert metric(before, "grandlivre_fallback_active") == 0
            capsys.readouterr()  # only the failover's log lines from here on

            await asyncio.to_thread(cluster.kill)
            for n in range(1, 4):
                written = await http.post(ENTRIES, json=entry(f"OBS-{n}"))
                assert written.status_code == 201, written.text

            async def outage_metrics() -> str | None:
                text = await scrape(http)
                return text if metric(text, "grandlivre_replay_pending") == 3 else None

            during = await wait_until(outage_metrics, within=3, what="replay_pending 3")
            assert metric(during, "grandlivre_fallback_active") == 1
            assert metric(during, "grandlivre_database_mode", mode="fallback") == 1
            assert metric(during, "grandlivre_database_mode", mode="primary") == 0
            assert metric(during, "grandlivre_replay_oldest_pending_age_seconds") > 0
            assert metric(during, "grandlivre_replay_conflicts") == 0

            await asyncio.to_thread(cluster.start)
            await wait_for_primary_drained(http, within=10)

            async def settled() -> str | None:
                text = await scrape(http)
                quiet = metric(text, "grandlivre_replay_pending") == 0
                return text if quiet and metric(text, "grandlivre_fallback_active") == 0 else None

            after = await wait_until(settled, within=3, what="gauges back to 0")
            assert metric(after, "grandlivre_database_mode", mode="primary") == 1
            assert metric(after, "grandlivre_replay_oldest_pending_age_seconds") == 0

    counted = _transitions(after)
    previously = _transitions(before)
    assert {pair: counted[pair] - previously[pair] for pair in EVERY_PAIR} == {
        pair: (1.0 if pair in PATH else 0.0) for pair in EVERY_PAIR
    }
    assert (
        metric(after, REPLAYED, outcome="applied") - metric(before, REPLAYED, outcome="applied")
        == 3
    )
    assert metric(after, REPLAYED, outcome="conflict") == metric(
        before, REPLAYED, outcome="conflict"
    )

    changes = log_events(capsys.readouterr().out, "storage_mode_changed")
    assert [(e["from_mode"], e["to_mode"]) for e in changes] == PATH
    for event in changes:
        assert event["level"] == "warning"
        assert event["logger"] == "grandlivre.store"
        assert event["reason"]
        assert event["timestamp"]
    assert changes[0]["fallback_since"] is not None
    assert changes[1]["fallback_since"] == changes[0]["fallback_since"]
    assert changes[2]["fallback_since"] is None
