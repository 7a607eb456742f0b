"""`python -m bench failback` (`make bench-failback`): PostgreSQL lost and back under full load.

Issue 8, item 4: with clients writing at full speed the whole time, the service is back on
`primary` within 10 s of PostgreSQL's return, with 0 lost, 0 duplicated and 0 failed writes.
On a private PostgreSQL (tests/pgcluster.py), `grandlivre serve --workers 2` with its default
probe settings is loaded by wrk (2 threads, 32 connections, a fresh Idempotency-Key per
request) for BENCH_FAILBACK_SECONDS (60). After a quarter of it PostgreSQL is killed
(`pg_ctl stop -m immediate`), a quarter later started again. healthz is asked every 0.1 s
throughout; each answer comes from one of the workers, so the service is back when no worker
answers anything but `primary` any more. The baseline is the time the same service took to
notice the loss (the probes' own timing).

Then, once the journal has drained and the sealer caught up: every acknowledged entry must be
in PostgreSQL (lost: acknowledged minus found), each exactly once (every request carried its
own key, so entries and stored keys must match one to one).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rich.console import Console
from tests.pgcluster import PrivateCluster

from bench.posting import (
    CLIENTS,
    ENTRY_PATH,
    LUA,
    THREADS,
    WORKERS,
    fetch,
    prepare_database,
    serve_grandlivre,
    settle,
)
from bench.processes import Served

SECONDS = int(os.environ.get("BENCH_FAILBACK_SECONDS", "60"))
TARGET_SECONDS = 10.0


@dataclass
class Timeline:
    """Every healthz answer: (seconds since the load began, mode or what went wrong)."""

    answers: list[tuple[float, str]] = field(default_factory=list)

    def last_other_than_primary(self) -> float | None:
        """When a worker last answered anything but `primary`."""
        others = [at for at, mode in self.answers if mode != "primary"]
        return max(others) if others else None

    def first(self, mode: str, after: float) -> float | None:
        """When a worker first answered `mode` after `after`."""
        return next((at for at, seen in self.answers if seen == mode and at >= after), None)


@dataclass
class Outcome:
    """What the run measured."""

    killed_at: float = 0.0
    returned_at: float = 0.0
    noticed_after: float | None = None
    back_after: float | None = None
    acknowledged: int = 0
    refused: int = 0
    socket_errors: int = 0
    first_refused: str = ""
    entries: int = 0
    keys: int = 0
    unsealed: int = 0
    # Each worker's mode changes: (seconds since the load began, worker pid, from, to, reason).
    transitions: list[tuple[float, int, str, str, str]] = field(default_factory=list)


def _watch(url: str, started: float, timeline: Timeline, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                mode = str(json.load(response).get("mode", "?"))
        except OSError as exc:
            mode = f"unanswered: {type(exc).__name__}"
        timeline.answers.append((time.monotonic() - started, mode))
        stop.wait(0.1)


def measure(console: Console) -> Outcome:
    """Serve, load, kill PostgreSQL and bring it back; return what was seen and found."""
    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="gl-bench-failback-") as tmp_name:
        tmp = Path(tmp_name)
        cluster = PrivateCluster()
        served: Served | None = None
        try:
            with (cluster.data / "postgresql.conf").open("a") as conf:
                conf.write("max_connections = 200\n")
            cluster.start()
            prepare_database(cluster, "grandlivre", tmp)
            served, base, key = serve_grandlivre(cluster, tmp, "grandlivre")
            console.print(
                f"failback: {SECONDS} s of wrk ({THREADS} threads, {CLIENTS} connections) on "
                f"`grandlivre serve -w {WORKERS}`; PostgreSQL killed at {SECONDS // 4} s, "
                f"started again at {SECONDS // 2} s"
            )
            timeline = Timeline()
            stop = threading.Event()
            wrk = subprocess.Popen(
                [
                    "wrk",
                    *("-t", str(THREADS), "-c", str(CLIENTS), "-d", f"{SECONDS}s"),
                    *("--timeout", "30s", "-s", str(LUA), f"{base}{ENTRY_PATH}"),
                    *("--", uuid.uuid4().hex[:8], key),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            started, started_wall = time.monotonic(), time.time()
            watcher = threading.Thread(
                target=_watch, args=(f"{base}/api/v1/healthz", started, timeline, stop)
            )
            watcher.start()
            try:
                time.sleep(SECONDS / 4)
                outcome.killed_at = time.monotonic() - started
                cluster.kill()
                time.sleep(SECONDS / 4)
                outcome.returned_at = time.monotonic() - started
                cluster.start()
                out, err = wrk.communicate(timeout=SECONDS + 60)
            finally:
                stop.set()
                watcher.join(5)
                if wrk.poll() is None:
                    wrk.kill()
            if wrk.returncode != 0:
                raise RuntimeError(f"wrk failed ({wrk.returncode}):\n{err[-2000:]}")
            noticed = timeline.first("fallback", outcome.killed_at)
            outcome.noticed_after = noticed - outcome.killed_at if noticed is not None else None
            last = timeline.last_other_than_primary()
            if last is not None and last >= outcome.returned_at:
                outcome.back_after = last - outcome.returned_at
            elif last is not None:
                outcome.back_after = 0.0
            _read_wrk(out, outcome)
            served.check_alive()
            outcome.transitions = _transitions(served.log, started_wall)
            settle(cluster, "grandlivre")
            ((outcome.entries,),) = fetch(cluster, "grandlivre", "SELECT count(*) FROM entries")
            ((outcome.keys,),) = fetch(
                cluster, "grandlivre", "SELECT count(*) FROM idempotency_keys"
            )
            ((outcome.unsealed,),) = fetch(
                cluster, "grandlivre", "SELECT count(*) FROM entries WHERE seq IS NULL"
            )
        finally:
            if served is not None:
                served.stop()
            cluster.destroy()
    return outcome


def _transitions(log: Path, since: float) -> list[tuple[float, int, str, str, str]]:
    """The storage_mode_changed events of the server's log, timed from `since`."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if "storage_mode_changed" not in line or not line.startswith("{"):
            continue
        event = json.loads(line)
        at = datetime.fromisoformat(event["timestamp"]).timestamp() - since
        found.append(
            (at, int(event.get("pid", 0)), event["from_mode"], event["to_mode"], event["reason"])
        )
    return found


def _read_wrk(out: str, outcome: Outcome) -> None:
    for line in out.splitlines():
        if line.startswith("BENCH "):
            figures = {k: int(v) for k, v in (pair.split("=") for pair in line[6:].split())}
            outcome.acknowledged = figures["ok"]
            outcome.refused = figures["bad"]
            outcome.socket_errors = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
        elif line.startswith("BENCH_FIRST_REFUSED "):
            outcome.first_refused = line[len("BENCH_FIRST_REFUSED ") :][:300]


def render(outcome: Outcome, console: Console) -> None:
    """Print the figures and the verdict against item 4."""
    noticed = f"{outcome.noticed_after:.1f} s" if outcome.noticed_after is not None else "never"
    if outcome.back_after is None:
        back, verdict = "not within the run", "misses"
    else:
        back = f"{outcome.back_after:.1f} s"
        verdict = "yes" if outcome.back_after <= TARGET_SECONDS else "misses"
    lost = max(0, outcome.acknowledged - outcome.entries)
    twice = outcome.entries - outcome.keys
    failed = outcome.refused + outcome.socket_errors
    console.print(
        f"PostgreSQL killed at {outcome.killed_at:.1f} s: fallback seen after {noticed} "
        "(the probes' timing, the baseline)"
    )
    console.print(
        f"PostgreSQL back at {outcome.returned_at:.1f} s: every worker primary again after "
        f"{back} (target ≤ {TARGET_SECONDS:.0f} s: {verdict})"
    )
    console.print(
        f"writes: {outcome.acknowledged:,} acknowledged, {failed} failed "
        f"({outcome.refused} refused, {outcome.socket_errors} socket errors), "
        f"{outcome.entries:,} entries in PostgreSQL for {outcome.keys:,} keys: "
        f"{lost} lost, {twice} without their own key (duplicated), {outcome.unsealed} unsealed"
    )
    if outcome.first_refused:
        console.print(f"first refused: {outcome.first_refused}")
    for at, pid, before, after, reason in outcome.transitions:
        console.print(f"  {at:6.1f} s  worker {pid}: {before} → {after} ({reason[:60]})")


def main(console: Console | None = None) -> None:
    """Measure and print."""
    console = console or Console()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    render(measure(console), console)
