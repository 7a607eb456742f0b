"""`python -m bench posting`: Grand Livre's served POST against the physical limit and a peer.

Issue 8, "How it is measured". On a private PostgreSQL cluster (tests/pgcluster.py), three
databases with the Grand Livre schema (`grandlivre migrate` then `grandlivre seed`), one per
contender so that none inherits another's rows (Grand Livre's sealer and mirror would work
on them). Each contender posts the DESIGN §6 entry, 3 lines, with 32 clients:

    pgbench      the entry as plain SQL: a header insert and one insert per line in one
                 transaction (bench/post_entry.sql, -M prepared, 2 threads): the physical limit;
    peer         bench/peer.py, a hand-written FastAPI + asyncpg handler without checks,
                 `uvicorn --workers 2 --http httptools`: the peer to beat;
    grandlivre   `grandlivre serve --workers 2`, POST /api/v1/ledgers/main/entries with an
                 accountant key, a fresh Idempotency-Key per request and everything on;
    gl-batch     the same server, POST .../entries/batch with BENCH_BATCH (100) entries per
                 request (entries/s counts the entries of 2xx answers), against item 2's
                 target of 3x pgbench's single-entry transactions.

The served two are loaded by wrk (2 threads, 32 connections, bench/post_entry.lua). Rounds
alternate (pgbench, peer, grandlivre, pgbench, ...) after one unmeasured warm-up each; the
table shows the median entries/s (2xx only: refusals and socket errors are counted apart),
the median of the rounds' p50 and p99 latencies (wrk's histogram; pgbench's per-transaction
log), and the peak resident memory of each server with its workers, sampled from /proc.

Between rounds Grand Livre's sealer is let finish what the round left (bounded): its backlog
at the end of each round is reported, since work deferred past a round is not in its rate.

BENCH_SECONDS (10), BENCH_ROUNDS (3) and BENCH_WARMUP (2) change the timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.table import Table
from tests.pgcluster import PrivateCluster, free_port

from bench.processes import Memory, RssSampler, Served, ServerFailed

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
CLIENTS = 32
THREADS = 2
WORKERS = 2
LEDGER = "main"
ENTRY_PATH = f"/api/v1/ledgers/{LEDGER}/entries"
ACCOUNTS = ("411000", "706000", "445710")
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LUA = HERE / "post_entry.lua"
SQL = HERE / "post_entry.sql"
# Grand Livre's rate over each baseline, and the least issue 8 asks of it; its batches against
# pgbench's single-entry transactions.
TARGETS = {"peer": 1.0, "pgbench": 0.5}
BATCH_TARGET = 3.0
BATCH = int(os.environ.get("BENCH_BATCH", "100"))
BATCH_NAME = "gl-batch"
SETTLE_TIMEOUT = 60.0
DATABASES = ("pgbench", "peer", "grandlivre")


@dataclass(frozen=True)
class Round:
    """One measured run of one contender."""

    ok: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    memory: Memory | None = None
    refused: str = ""

    @property
    def rate(self) -> float:
        """Entries per second: acknowledged (2xx, or committed) ones only."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0


class Contender(Protocol):
    """Something that posts the entry under load and says how it went."""

    name: str
    title: str

    def run(self, seconds: int, token: str) -> Round:
        """Load it for `seconds`; `token` makes this run's idempotency keys unique."""
        ...

    def after_round(self) -> str | None:
        """Let deferred work finish between rounds; return what is worth noting."""
        ...


@dataclass
class Pgbench:
    """The entry as plain SQL, through pgbench."""

    cluster: PrivateCluster
    ids: dict[str, str]
    tmp: Path
    name: str = "pgbench"
    title: str = "pgbench, plain SQL"

    def run(self, seconds: int, token: str) -> Round:
        prefix = self.tmp / f"pgbench-{token}"
        command = [
            str(self.cluster.bin / "pgbench"),
            "--no-vacuum",
            *("-h", "127.0.0.1", "-p", str(self.cluster.port), "-U", "postgres"),
            *("-c", str(CLIENTS), "-j", str(THREADS), "-T", str(seconds)),
            *("-M", "prepared", "-f", str(SQL)),
            *(arg for name, value in self.ids.items() for arg in ("-D", f"{name}={value}")),
            "--log",
            f"--log-prefix={prefix}",
            self.name,
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed ({done.returncode}):\n{done.stderr[-2000:]}")
        tps = _number(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
        processed = int(_number(r"actually processed: (\d+)", done.stdout))
        failed = int(_number(r"number of failed transactions: (\d+)", done.stdout, default=0))
        latencies: list[int] = []
        for log in sorted(self.tmp.glob(f"{prefix.name}.*")):
            # client_id transaction_no time_us script_no epoch epoch_us: the third is latency
            # ("failed" for a transaction that failed, counted apart).
            for line in log.read_text().splitlines():
                elapsed = line.split()[2]
                if elapsed.isdigit():
                    latencies.append(int(elapsed))
            log.unlink()
        return Round(
            ok=processed,
            errors=failed,
            seconds=processed / tps if tps else float(seconds),
            p50_ms=_percentile(latencies, 50) / 1000,
            p99_ms=_percentile(latencies, 99) / 1000,
        )

    def after_round(self) -> str | None:
        return None


@dataclass
class Wrk:
    """A served process loaded by wrk with bench/post_entry.lua."""

    name: str
    title: str
    served: Served
    url: str
    key: str = ""
    follow_up: Callable[[], str] | None = None
    # Entries per request: 0 posts one entry to .../entries, N a batch of N to .../batch.
    batch: int = 0

    def run(self, seconds: int, token: str) -> Round:
        self.served.check_alive()
        command = [
            "wrk",
            *("-t", str(THREADS), "-c", str(CLIENTS), "-d", f"{seconds}s", "--timeout", "10s"),
            *("-s", str(LUA), self.url, "--", token, self.key, str(self.batch)),
        ]
        with RssSampler(self.served.pid).running() as memory:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=seconds + 60, check=False
            )
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stderr[-2000:]}")
        self.served.check_alive()
        found = re.search(r"^BENCH (.*)$", done.stdout, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"wrk printed no BENCH line:\n{done.stdout[-2000:]}")
        figures = {k: int(v) for k, v in (pair.split("=") for pair in found.group(1).split())}
        refused = re.search(r"^BENCH_FIRST_REFUSED (.*)$", done.stdout, re.MULTILINE)
        socket_errors = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
        return Round(
            ok=figures["ok"] * max(1, self.batch),
            errors=figures["bad"] + socket_errors,
            seconds=figures["duration_us"] / 1e6,
            p50_ms=figures["p50_us"] / 1000,
            p99_ms=figures["p99_us"] / 1000,
            memory=Memory(memory.total, memory.largest),
            refused=refused.group(1)[:300] if refused else "",
        )

    def after_round(self) -> str | None:
        return self.follow_up() if self.follow_up is not None else None


@dataclass
class Outcome:
    """Every round of every contender, and what was noticed on the way."""

    rounds: dict[str, list[Round]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def median(self, name: str, attribute: str) -> float:
        """Median over the rounds of one contender of one figure."""
        return statistics.median(getattr(r, attribute) for r in self.rounds[name])


def _number(pattern: str, text: str, *, default: float | None = None) -> float:
    found = re.search(pattern, text)
    if found is None:
        if default is None:
            raise RuntimeError(f"pgbench output lacks {pattern!r}:\n{text[-2000:]}")
        return default
    return float(found.group(1))


def _percentile(values: list[int], percent: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return float(ordered[rank - 1])


def _load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine shows in them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def grandlivre_command() -> str:
    """The `grandlivre` console script of the running interpreter's environment."""
    beside = Path(sys.executable).with_name("grandlivre")
    found = str(beside) if beside.exists() else shutil.which("grandlivre")
    if not found:
        raise RuntimeError("no `grandlivre` command: run `make install`")
    return found


def fallback_file(tmp: Path, name: str) -> Path:
    """The SQLite fallback file of the `grandlivre` process named `name`."""
    return tmp / f"{name}-fallback.db"


def grandlivre_env(url: str, tmp: Path, name: str) -> dict[str, str]:
    """Environment of a `grandlivre` process on database `url`, its files kept in `tmp`."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "FALLBACK_DATABASE_URL": f"sqlite+aiosqlite:///{fallback_file(tmp, name)}",
        "SEED_LEDGER": LEDGER,
        # The entry posted is dated 2026-11-23 (DESIGN §6): books that hold that day.
        "SEED_FISCAL_YEAR_START": "2026-01-01",
        "RATE_LIMIT": "1000000/minute",
        "RATE_LIMIT_ANONYMOUS": "1000000/minute",
    }


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run a `grandlivre` command to completion; return its stdout."""
    done = subprocess.run(
        [grandlivre_command(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"grandlivre {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def fetch(cluster: PrivateCluster, database: str, query: str, *args: object) -> list[tuple]:
    """Run one query on the private cluster; return its rows as tuples."""
    return [tuple(row) for row in asyncio.run(cluster.fetch(database, query, *args))]


def prepare_database(cluster: PrivateCluster, name: str, tmp: Path) -> dict[str, str]:
    """Create a database with the Grand Livre schema and seed; return the ids the SQL needs."""
    asyncio.run(cluster.create_database(name))
    env = grandlivre_env(cluster.url(name), tmp, name)
    run_cli(["migrate"], env, tmp)
    run_cli(["seed"], env, tmp)
    ((ledger,),) = fetch(cluster, name, "SELECT id FROM ledgers WHERE code = $1", LEDGER)
    ((journal,),) = fetch(
        cluster, name, "SELECT id FROM journals WHERE ledger_id = $1 AND code = 'VE'", ledger
    )
    accounts = dict(
        fetch(
            cluster,
            name,
            "SELECT number, id FROM accounts WHERE ledger_id = $1 AND number = ANY($2)",
            ledger,
            list(ACCOUNTS),
        )
    )
    return {
        "ledger": str(ledger),
        "journal": str(journal),
        **{f"account_{number}": str(accounts[number]) for number in ACCOUNTS},
    }


def unsealed(cluster: PrivateCluster, database: str) -> int:
    """Count the entries Grand Livre's sealer has not sealed yet."""
    ((count,),) = fetch(cluster, database, "SELECT count(*) FROM entries WHERE seq IS NULL")
    return int(count)


def settle(cluster: PrivateCluster, database: str) -> tuple[int, float | None]:
    """Wait (bounded) for the sealer to seal everything; return the backlog and the wait."""
    backlog = unsealed(cluster, database)
    started = time.monotonic()
    while unsealed(cluster, database):
        if time.monotonic() - started > SETTLE_TIMEOUT:
            return backlog, None
        time.sleep(0.25)
    return backlog, time.monotonic() - started


def mirror_settle(
    cluster: PrivateCluster, database: str, fallback: Path
) -> tuple[int, float | None]:
    """Wait (bounded) until the fallback file holds every entry of `database` sealed; return
    how many it lacked and the wait (None if it did not catch up in time)."""

    def behind() -> int:
        ((total,),) = fetch(cluster, database, "SELECT count(*) FROM entries")
        with contextlib.closing(sqlite3.connect(f"file:{fallback}?mode=ro", uri=True)) as local:
            (copied,) = local.execute(
                "SELECT count(*) FROM entries WHERE seq IS NOT NULL"
            ).fetchone()
        return max(0, int(total) - int(copied))

    first = behind()
    started = time.monotonic()
    while behind():
        if time.monotonic() - started > SETTLE_TIMEOUT:
            return first, None
        time.sleep(0.25)
    return first, time.monotonic() - started


def mode_of(base_url: str) -> str:
    """Grand Livre's storage mode, from its healthz."""
    try:
        with urllib.request.urlopen(f"{base_url}/api/v1/healthz", timeout=5) as response:
            return str(json.load(response).get("mode", "?"))
    except OSError as exc:
        return f"unanswered ({exc})"


def serve_grandlivre(cluster: PrivateCluster, tmp: Path, database: str) -> tuple[Served, str, str]:
    """Start `grandlivre serve` on a prepared database with an accountant key; wait until it
    is ready. Return the server (the caller stops it), its base URL and the key."""
    env = grandlivre_env(cluster.url(database), tmp, database)
    key = run_cli(["keys", "create", "--name", "bench", "--role", "accountant"], env, tmp)
    metrics = tmp / "metrics"
    metrics.mkdir(exist_ok=True)
    port = free_port()
    served = Served(
        "grandlivre",
        [
            grandlivre_command(),
            "serve",
            *("--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)),
        ],
        env={**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
        cwd=tmp,
        log=tmp / "grandlivre.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        served.wait_until_answers(f"{base}/readyz")
    except BaseException:
        served.stop()
        raise
    return served, base, key.strip().splitlines()[-1]


def start_servers(
    cluster: PrivateCluster, tmp: Path, servers: list[Served]
) -> tuple[Wrk, Wrk, Wrk]:
    """Start the peer and Grand Livre, each with 2 workers; wait until both answer. Return the
    peer's load, Grand Livre's single posts and its batches (same server)."""
    peer_port, gl_port = free_port(), free_port()
    peer = Served(
        "peer",
        [
            sys.executable,
            *("-m", "uvicorn", "bench.peer:app", "--app-dir", str(REPO)),
            *("--host", "127.0.0.1", "--port", str(peer_port), "--workers", str(WORKERS)),
            *("--http", "httptools", "--no-access-log", "--log-level", "warning"),
        ],
        env={
            **os.environ,
            "PEER_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{cluster.port}/peer",
        },
        cwd=tmp,
        log=tmp / "peer.log",
    )
    servers.append(peer)
    env = grandlivre_env(cluster.url("grandlivre"), tmp, "grandlivre")
    fallback = fallback_file(tmp, "grandlivre")
    key = run_cli(["keys", "create", "--name", "bench", "--role", "accountant"], env, tmp)
    metrics = tmp / "metrics"
    metrics.mkdir()
    gl = Served(
        "grandlivre",
        [
            grandlivre_command(),
            "serve",
            *("--host", "127.0.0.1", "--port", str(gl_port), "--workers", str(WORKERS)),
        ],
        env={**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
        cwd=tmp,
        log=tmp / "grandlivre.log",
    )
    servers.append(gl)
    peer.wait_until_answers(f"http://127.0.0.1:{peer_port}/healthz")
    gl.wait_until_answers(f"http://127.0.0.1:{gl_port}/readyz")

    def follow_up() -> str:
        mode = mode_of(f"http://127.0.0.1:{gl_port}")
        backlog, waited = settle(cluster, "grandlivre")
        if not backlog:
            sealed = "every entry sealed already"
        else:
            took = (
                f"in {waited:.1f} s" if waited is not None else f"not within {SETTLE_TIMEOUT:.0f} s"
            )
            sealed = f"{backlog} entries left to seal (sealed {took})"
        # The mirror copies the round's entries (and again once sealed) into the fallback file:
        # work of this round that would otherwise run during the next contender's.
        behind, caught_up = mirror_settle(cluster, "grandlivre", fallback)
        copied = (
            "the mirror caught up already"
            if not behind
            else f"{behind} entries left to mirror (copied "
            + (f"in {caught_up:.1f} s)" if caught_up is not None else "not in time)")
        )
        return f"mode {mode} after the round, {sealed}, {copied}"

    return (
        Wrk(
            "peer",
            "peer, FastAPI + asyncpg",
            peer,
            f"http://127.0.0.1:{peer_port}{ENTRY_PATH}",
        ),
        Wrk(
            "grandlivre",
            f"grandlivre serve -w {WORKERS}",
            gl,
            f"http://127.0.0.1:{gl_port}{ENTRY_PATH}",
            key=key.strip().splitlines()[-1],
            follow_up=follow_up,
        ),
        Wrk(
            BATCH_NAME,
            f"grandlivre serve -w {WORKERS}, batches of {BATCH}",
            gl,
            f"http://127.0.0.1:{gl_port}{ENTRY_PATH}/batch",
            key=key.strip().splitlines()[-1],
            follow_up=follow_up,
            batch=BATCH,
        ),
    )


def alternate(contenders: list[Contender], console: Console, outcome: Outcome) -> dict[str, int]:
    """Warm each contender up, then run the rounds in turn; return the 2xx counts, warm-ups too."""
    run_id = uuid.uuid4().hex[:8]
    acknowledged = dict.fromkeys((c.name for c in contenders), 0)
    for contender in contenders:
        outcome.titles[contender.name] = contender.title
        outcome.rounds[contender.name] = []
        acknowledged[contender.name] += contender.run(WARMUP, f"{run_id}-warm-{contender.name}").ok
        contender.after_round()
    for number in range(1, ROUNDS + 1):
        for contender in contenders:
            result = contender.run(SECONDS, f"{run_id}-{number}-{contender.name}")
            acknowledged[contender.name] += result.ok
            outcome.rounds[contender.name].append(result)
            console.print(
                f"round {number}/{ROUNDS} {contender.name:10} {result.rate:8,.0f} entries/s"
                f"  p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms"
                f"  errors {result.errors}"
            )
            if result.refused:
                outcome.notes.append(
                    f"{contender.name} round {number}, first refusal: {result.refused}"
                )
            noticed = contender.after_round()
            if noticed:
                outcome.notes.append(f"{contender.name} round {number}: {noticed}")
    return acknowledged


def measure(console: Console) -> Outcome:
    """Set everything up, run the alternated rounds, stop everything; return the figures."""
    outcome = Outcome()
    servers: list[Served] = []
    load_before = _load()
    with tempfile.TemporaryDirectory(prefix="gl-bench-posting-") as tmp_name:
        tmp = Path(tmp_name)
        cluster = PrivateCluster()
        try:
            with (cluster.data / "postgresql.conf").open("a") as conf:
                # pgbench's 32 clients and both servers' pools, at once.
                conf.write("max_connections = 200\n")
            cluster.start()
            console.print(
                f"private PostgreSQL {cluster.bin.parent.name} on 127.0.0.1:{cluster.port} "
                "(tests/pgcluster.py: fsync off); migrating and seeding 3 databases"
            )
            ids = {name: prepare_database(cluster, name, tmp) for name in DATABASES}
            peer, gl, gl_batch = start_servers(cluster, tmp, servers)
            pgbench = Pgbench(cluster, ids["pgbench"], tmp)
            acknowledged = alternate([pgbench, peer, gl, gl_batch], console, outcome)
            # Both of Grand Livre's loads post into its one database.
            acknowledged["grandlivre"] += acknowledged.pop(BATCH_NAME)
            outcome.notes.extend(check_rows(cluster, acknowledged))
            outcome.notes.append(f"load average {load_before} before, {_load()} after")
        except ServerFailed as exc:
            console.print(f"[red]{exc}[/red]")
            raise
        finally:
            for server in reversed(servers):
                server.stop()
            cluster.destroy()
    return outcome


def check_rows(cluster: PrivateCluster, acknowledged: dict[str, int]) -> list[str]:
    """Compare the rows each database holds with the entries acknowledged to its clients."""
    notes = []
    for name, count in acknowledged.items():
        ((entries, lines),) = fetch(
            cluster,
            name,
            "SELECT (SELECT count(*) FROM entries), (SELECT count(*) FROM entry_lines)",
        )
        # wrk stops with requests in flight: those may commit unacknowledged, never the reverse.
        verdict = "ok" if entries >= count and lines == 3 * entries else "[red]MISMATCH[/red]"
        notes.append(
            f"{name} database: {entries} entries, {lines} lines for {count} acknowledged "
            f"(warm-up included): {verdict}"
        )
    return notes


LEGEND = (
    f"pgbench: header + 3 line inserts in 1 transaction, {CLIENTS} clients, {THREADS} threads, "
    "-M prepared",
    f"peer: bench/peer.py, FastAPI + asyncpg without checks, uvicorn {WORKERS} workers, httptools",
    f"grandlivre: `grandlivre serve --workers {WORKERS}`, accountant key, fresh Idempotency-Key",
    f"batches: {BATCH} entries per POST .../entries/batch to the same server; entries/s counts "
    "the entries of 2xx batches",
    f"served ones loaded by wrk, {THREADS} threads, {CLIENTS} connections; entries/s counts 2xx",
)


def render(outcome: Outcome, console: Console) -> None:
    """Print the comparison table and the ratios against issue 8's targets."""
    table = Table(
        title=(
            f"Served posting: the DESIGN §6 entry (3 lines), {ROUNDS} alternated rounds "
            f"of {SECONDS} s, medians"
        ),
        title_justify="left",
        caption="\n".join(LEGEND),
        caption_justify="left",
    )
    table.add_column("what")
    table.add_column("entries/s", justify="right")
    table.add_column("rounds", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("errors", justify="right")
    table.add_column("peak RSS MB\n(server+workers)", justify="right")
    table.add_column("largest\nprocess MB", justify="right")
    for name, rounds in outcome.rounds.items():
        memories = [r.memory for r in rounds if r.memory is not None]
        table.add_row(
            outcome.titles[name],
            f"{outcome.median(name, 'rate'):,.0f}",
            " / ".join(f"{r.rate:,.0f}" for r in rounds),
            f"{outcome.median(name, 'p50_ms'):.1f}",
            f"{outcome.median(name, 'p99_ms'):.1f}",
            str(sum(r.errors for r in rounds)),
            f"{max(m.total for m in memories) / 2**20:.0f}" if memories else "—",
            f"{max(m.largest for m in memories) / 2**20:.0f}" if memories else "—",
        )
    console.print(table)

    ratios = Table(title="Ratios (medians)", title_justify="left")
    for column in ("ratio", "value", "target", "verdict"):
        ratios.add_column(column, justify="left" if column == "ratio" else "right")
    gl = outcome.median("grandlivre", "rate")
    for baseline, target in TARGETS.items():
        value = gl / outcome.median(baseline, "rate")
        verdict = "[green]meets[/green]" if value >= target else "[red]misses[/red]"
        ratios.add_row(f"grandlivre / {baseline}", f"{value:.2f}×", f"≥ {target:.1f}×", verdict)
    batched = outcome.median(BATCH_NAME, "rate") / outcome.median("pgbench", "rate")
    verdict = "[green]meets[/green]" if batched >= BATCH_TARGET else "[red]misses[/red]"
    ratios.add_row(
        "grandlivre batches / pgbench", f"{batched:.2f}×", f"≥ {BATCH_TARGET:.1f}×", verdict
    )
    peer_share = outcome.median("peer", "rate") / outcome.median("pgbench", "rate")
    ratios.add_row("peer / pgbench", f"{peer_share:.2f}×", "", "(for reference)")
    console.print(ratios)
    for note in outcome.notes:
        console.print(f"  · {note}")


def main(console: Console | None = None) -> None:
    """Measure and print."""
    console = console or Console()
    missing = [tool for tool in ("wrk",) if shutil.which(tool) is None]
    if missing:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    render(measure(console), console)


if __name__ == "__main__":
    main()
