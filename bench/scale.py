"""`make bench-scale` (`python -m bench scale`): the service on a PostgreSQL of BENCH_ENTRIES.

Issue 8 at scale, on a private PostgreSQL (tests/pgcluster.py) loaded with bench/load.py
(BENCH_ENTRIES sealed 3-line entries, 1,000,000 by default):

1. `grandlivre serve --workers 2` starts on it with a new fallback file, so its mirror has the
   whole database to copy. While the first copy runs, healthz is asked every 0.2 s: its latency,
   the mode it reports, the copy's progress. The baseline is the same healthz, asked the same
   way, on the same server once the copy is done (same run). A copy that starves the probe shows
   as a ratio well above 1, and as mode changes (counted from the server's log).
2. The reads at that size, on PostgreSQL: the trial balance, an account's balance, a page of its
   general ledger, the balance sheet and the income statement of the year through the API, each
   next to the plain SQL that computes the same answer (or, for the statements, the per-account
   sums of the year they are laid out from) on the same database (the baseline).
3. The exports of the year's million entries, on PostgreSQL: the FEC and the Beancount ledger
   streamed through the API, each next to a plain `COPY (SELECT ...) TO STDOUT` of the same
   rows in the same order (the baseline), with the server's memory while they stream.
4. A FEC import of BENCH_IMPORT_LINES lines (100,000): the first days of the exported year, cut
   at a day so every entry is whole, posted into a new empty ledger through the API, next to a
   plain `COPY ... FROM STDIN` of the same file into a table of 18 text columns (the baseline:
   PostgreSQL storing the lines and checking nothing). Then the new ledger's own export, once
   its sealer has numbered the entries, must be the imported file byte for byte.
5. PostgreSQL stopped: the service serves from its mirror; the trial balance from SQLite next to
   the plain SQL over the same SQLite file.

Peak resident memory of the server's largest process is printed with the rest.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import sqlite3
import statistics
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from tests.pgcluster import PrivateCluster, free_port

from bench import load as loader
from bench.posting import (
    LEDGER,
    grandlivre_command,
    grandlivre_env,
    run_cli,
)
from bench.processes import RssSampler, Served, ServerFailed

COPY_TIMEOUT = float(os.environ.get("BENCH_SCALE_TIMEOUT", "1800"))
BASELINE_SECONDS = 10.0
SAMPLE_EVERY = 0.2
READS = int(os.environ.get("BENCH_SCALE_READS", "7"))
IMPORT_LINES = int(os.environ.get("BENCH_IMPORT_LINES", "100000"))
IMPORT_LEDGER = "imported"
SEAL_TIMEOUT = 600.0
API = f"/api/v1/ledgers/{LEDGER}"
# What the API computes, in plain SQL on the same tables: the baselines of part 2 and 3.
TRIAL_BALANCE_SQL = (
    "SELECT a.number, sum(CASE WHEN l.amount > 0 THEN l.amount ELSE 0 END), "
    "sum(CASE WHEN l.amount < 0 THEN -l.amount ELSE 0 END) "
    "FROM entry_lines l JOIN entries e ON e.id = l.entry_id "
    "JOIN accounts a ON a.id = l.account_id JOIN ledgers g ON g.id = e.ledger_id "
    "WHERE g.code = 'main' GROUP BY a.number ORDER BY a.number"
)
BALANCE_SQL = (
    "SELECT sum(l.amount) FROM entry_lines l JOIN accounts a ON a.id = l.account_id "
    "JOIN ledgers g ON g.id = a.ledger_id WHERE g.code = 'main' AND a.number = '411000'"
)
# The rows each export writes, in its order, as PostgreSQL alone would stream them.
FEC_SQL = (
    "SELECT j.code, j.name, e.number, e.entry_date, a.number, a.name, t.code, t.name, "
    "e.reference, e.document_date, coalesce(l.label, e.label), l.amount, e.validated_at "
    "FROM entries e JOIN journals j ON j.id = e.journal_id "
    "JOIN entry_lines l ON l.entry_id = e.id JOIN accounts a ON a.id = l.account_id "
    "LEFT JOIN third_parties t ON t.id = l.third_party_id JOIN ledgers g ON g.id = e.ledger_id "
    "WHERE g.code = 'main' AND e.fiscal_year = {year} AND e.role IS DISTINCT FROM 'closing' "
    "ORDER BY j.code, e.number, l.position"
)
ENTRIES_SQL = (
    "SELECT e.entry_date, e.id, j.code, e.number, e.label, e.reference, a.number, a.name, "
    "l.label, l.amount FROM entries e JOIN journals j ON j.id = e.journal_id "
    "JOIN entry_lines l ON l.entry_id = e.id JOIN accounts a ON a.id = l.account_id "
    "JOIN ledgers g ON g.id = e.ledger_id WHERE g.code = 'main' AND e.status <> 'draft' "
    "ORDER BY e.entry_date, e.id, l.position"
)
# What a balance sheet and an income statement are laid out from: each account's sum over the
# year's lines.
YEAR_BALANCES_SQL = (
    "SELECT a.number, sum(l.amount) FROM entry_lines l JOIN entries e ON e.id = l.entry_id "
    "JOIN accounts a ON a.id = l.account_id JOIN ledgers g ON g.id = e.ledger_id "
    "WHERE g.code = 'main' AND e.fiscal_year = {year} GROUP BY a.number ORDER BY a.number"
)
FEC_COLUMNS = 18
FEC_LINE_END = b"\r\n"  # as the export writes it
LEDGER_PAGE_SQL = (
    "SELECT e.entry_date, e.id, l.position, l.amount FROM entry_lines l "
    "JOIN entries e ON e.id = l.entry_id JOIN accounts a ON a.id = l.account_id "
    "JOIN ledgers g ON g.id = a.ledger_id WHERE g.code = 'main' AND a.number = '411000' "
    "ORDER BY e.entry_date, e.id, l.position LIMIT 100"
)


@dataclass
class Probe:
    """One healthz answer: how long it took and what it said."""

    at: float
    ms: float
    mode: str
    complete: bool | None
    rows: int


@dataclass
class Figures:
    """What the run measured."""

    entries: int = 0
    rows_copied: int = 0
    copy_seconds: float | None = None
    during: list[Probe] = field(default_factory=list)
    after: list[Probe] = field(default_factory=list)
    mode_changes: list[str] = field(default_factory=list)
    peak_rss: int = 0
    peak_rss_total: int = 0
    reads: list[tuple[str, float, float]] = field(default_factory=list)  # what, API ms, SQL ms
    exports: list[tuple[str, float, int, float, int]] = field(default_factory=list)
    imports: list[tuple[str, float, int, float]] = field(
        default_factory=list
    )  # what, s, lines, COPY s
    export_rss: int = 0  # the largest process while the exports streamed
    import_rss: int = 0  # the largest process while the import ran
    notes: list[str] = field(default_factory=list)


def _healthz(base: str) -> Probe:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(f"{base}/api/v1/healthz", timeout=10) as response:
            body = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return Probe(
            time.monotonic(), (time.perf_counter() - started) * 1000, f"error {exc}", None, 0
        )
    progress = body.get("mirror_progress") or {}
    return Probe(
        time.monotonic(),
        (time.perf_counter() - started) * 1000,
        str(body.get("mode")),
        body.get("mirror_complete"),
        int(progress.get("rows_copied") or 0),
    )


def _get(base: str, path: str, key: str) -> float:
    """GET `path` with the key; return its duration in ms (fails on anything but 200)."""
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {key}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status}")
    return (time.perf_counter() - started) * 1000


def _get_json(base: str, path: str, key: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        body: dict[str, Any] = json.load(response)
    return body


def _api_trial_balance(base: str, key: str) -> dict[str, tuple[int, int]]:
    body = _get_json(base, f"{API}/trial-balance", key)
    return {
        item["account"]: (
            int(Decimal(item["debit"]).scaleb(2)),
            int(Decimal(item["credit"]).scaleb(2)),
        )
        for item in body["items"]
    }


def _pg_trial_balance(cluster: PrivateCluster, database: str) -> dict[str, tuple[int, int]]:
    rows = asyncio.run(cluster.fetch(database, TRIAL_BALANCE_SQL))
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def _median_ms(run: Callable[[], object], times: int) -> float:
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        durations.append((time.perf_counter() - started) * 1000)
    return statistics.median(durations)


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


def _sample_until(base: str, done: Callable[[Probe], bool], timeout: float) -> list[Probe]:
    probes: list[Probe] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = _healthz(base)
        probes.append(probe)
        if done(probe):
            break
        time.sleep(SAMPLE_EVERY)
    return probes


def _pg_sql_ms(cluster: PrivateCluster, database: str, query: str) -> float:
    async def timed() -> float:
        import asyncpg

        conn = await asyncpg.connect(
            host="127.0.0.1", port=cluster.port, user="postgres", database=database
        )
        try:
            await conn.fetch(query)  # warm
            durations = []
            for _ in range(READS):
                started = time.perf_counter()
                await conn.fetch(query)
                durations.append((time.perf_counter() - started) * 1000)
            return statistics.median(durations)
        finally:
            await conn.close()

    return asyncio.run(timed())


def _sqlite_sql_ms(path: Path, query: str) -> float:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute(query).fetchall()  # warm
        return _median_ms(lambda: conn.execute(query).fetchall(), READS)
    finally:
        conn.close()


def _api_ms(base: str, path: str, key: str) -> float:
    """Median time of GET `path` on one kept-alive connection, as an API client would hold.

    A connection per request would add the TCP handshake and the client's set-up to every
    figure (about as much as a balance read costs the server).
    """
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=120)
    headers = {"Authorization": f"Bearer {key}"}

    def get() -> float:
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status}")
        return (time.perf_counter() - started) * 1000

    try:
        get()  # warm
        return statistics.median(get() for _ in range(READS))
    finally:
        conn.close()


def _download_seconds(
    base: str, path: str, key: str, into: Path | None = None
) -> tuple[float, int]:
    """Stream GET `path` to nowhere (or `into`); return the seconds it took and the bytes."""
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=1800)
    try:
        started = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {response.read()[:300]!r}")
        size = 0
        with open(into or os.devnull, "wb") as sink:
            while chunk := response.read(1 << 20):
                size += len(chunk)
                sink.write(chunk)
        return time.perf_counter() - started, size
    finally:
        conn.close()


def _copy_seconds(cluster: PrivateCluster, database: str, query: str) -> tuple[float, int]:
    """COPY the query's rows out of PostgreSQL as text; return the seconds and the bytes."""

    async def timed() -> tuple[float, int]:
        import asyncpg

        conn = await asyncpg.connect(
            host="127.0.0.1", port=cluster.port, user="postgres", database=database
        )
        size = 0

        async def sink(data: bytes) -> None:
            nonlocal size
            size += len(data)

        try:
            started = time.perf_counter()
            await conn.copy_from_query(query, output=sink)
            return time.perf_counter() - started, size
        finally:
            await conn.close()

    return asyncio.run(timed())


def _exports(base: str, key: str, cluster: PrivateCluster, figures: Figures, fec: Path) -> None:
    """Time each export next to a COPY of its rows; keep the FEC in `fec`."""
    year = loader.YEAR
    for what, path, sql, into in (
        ("FEC", f"{API}/exports/fec?fiscal_year={year}", FEC_SQL.format(year=year), fec),
        ("Beancount", f"{API}/exports/beancount", ENTRIES_SQL, None),
        ("entries CSV", f"{API}/exports/entries", ENTRIES_SQL, None),
    ):
        seconds, size = _download_seconds(base, path, key, into)
        sql_seconds, sql_size = _copy_seconds(cluster, "scale", sql)
        figures.exports.append((what, seconds, size, sql_seconds, sql_size))


def _first_days(fec: Path, lines: int, into: Path) -> int:
    """Write into `into` the header and the lines of the FEC's first days, at least `lines` of
    them, cut at a day: an entry has one EcritureDate, so each is whole, and each journal's
    numbers run from 1 without a gap. Return how many lines it holds."""
    header, *body = fec.read_bytes().removesuffix(FEC_LINE_END).split(FEC_LINE_END)
    per_day = Counter(row.split(b"|", 4)[3] for row in body)
    taken, last = 0, b""
    for day in sorted(per_day):
        taken, last = taken + per_day[day], day
        if taken >= lines:
            break
    kept = [row for row in body if row.split(b"|", 4)[3] <= last]
    into.write_bytes(FEC_LINE_END.join([header, *kept]) + FEC_LINE_END)
    return len(kept)


def _request(base: str, method: str, path: str, key: str, body: bytes, kind: str) -> bytes:
    request = urllib.request.Request(
        f"{base}{path}",
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": kind},
    )
    with urllib.request.urlopen(request, timeout=1800) as response:
        answer: bytes = response.read()
        return answer


def _copy_into_seconds(cluster: PrivateCluster, database: str, path: Path) -> float:
    """COPY the FEC file's lines into a new table of 18 text columns; return the seconds."""

    async def timed() -> float:
        import asyncpg

        conn = await asyncpg.connect(
            host="127.0.0.1", port=cluster.port, user="postgres", database=database
        )
        columns = ", ".join(f"c{k} text" for k in range(FEC_COLUMNS))
        try:
            await conn.execute(f"CREATE TABLE fec_copy ({columns})")
            started = time.perf_counter()
            await conn.copy_to_table(
                "fec_copy",
                source=path,
                format="csv",
                delimiter="|",
                quote="\x01",
                header=True,
                encoding="LATIN9",
            )
            seconds = time.perf_counter() - started
            await conn.execute("DROP TABLE fec_copy")
            return seconds
        finally:
            await conn.close()

    return asyncio.run(timed())


def _fec_import(
    base: str, key: str, cluster: PrivateCluster, figures: Figures, fec: Path, tmp: Path
) -> None:
    """Import the FEC's first days into a new ledger; time it next to a COPY of the file."""
    cut = tmp / "first-days.txt"
    lines = _first_days(fec, IMPORT_LINES, cut)
    ledger = {
        "code": IMPORT_LEDGER,
        "name": "Imported",
        "fiscal_year_start": f"{loader.YEAR}-01-01",
    }
    _request(base, "POST", "/api/v1/ledgers", key, json.dumps(ledger).encode(), "application/json")
    imported = f"/api/v1/ledgers/{IMPORT_LEDGER}"
    _request(
        base,
        "PATCH",
        imported,
        key,
        json.dumps({"siren": "732829320"}).encode(),
        "application/json",
    )
    started = time.perf_counter()
    report = json.loads(
        _request(base, "POST", f"{imported}/imports/fec", key, cut.read_bytes(), "text/plain")
    )
    seconds = time.perf_counter() - started
    copy_seconds = _copy_into_seconds(cluster, "scale", cut)
    figures.imports.append(("FEC import", seconds, lines, copy_seconds))
    if report.get("lines") != lines:
        figures.notes.append(f"the FEC import wrote {report.get('lines')} lines of {lines}")
    # The sealer numbers the imported entries in the background; the export shows them when it
    # has: the round trip holds once the export gives the file back.
    again = tmp / "imported-fec.txt"
    path = f"{imported}/exports/fec?fiscal_year={loader.YEAR}"
    deadline = time.monotonic() + SEAL_TIMEOUT
    same = False
    while time.monotonic() < deadline:
        _download_seconds(base, path, key, again)
        if again.read_bytes() == cut.read_bytes():
            same = True
            break
        time.sleep(2)
    sealed = time.perf_counter() - started
    figures.notes.append(
        "the imported ledger's FEC export is the imported file byte for byte: "
        + (f"yes, {sealed:.0f} s after the import was sent (sealed by then)" if same else "NO")
    )


def measure(console: Console) -> Figures:
    """Load, serve, watch the first copy, time the reads; stop everything."""
    figures = Figures(entries=loader.ENTRIES)
    with tempfile.TemporaryDirectory(prefix="gl-bench-scale-") as tmp_name:
        tmp = Path(tmp_name)
        cluster = PrivateCluster()
        server: Served | None = None
        try:
            cluster.start()
            console.print(f"private PostgreSQL on 127.0.0.1:{cluster.port}; loading the books")
            url = cluster.url("scale")
            asyncio.run(cluster.create_database("scale"))
            # The ledger's first fiscal year is the one the load fills (BENCH_YEAR), not the
            # posting benchmark's.
            env = {
                **grandlivre_env(url, tmp, "scale"),
                "SEED_FISCAL_YEAR_START": f"{loader.YEAR}-01-01",
            }
            run_cli(["migrate"], env, tmp)
            run_cli(["seed"], env, tmp)
            asyncio.run(loader.load(url, console))
            key = run_cli(["keys", "create", "--name", "bench", "--role", "admin"], env, tmp)
            key = key.strip().splitlines()[-1]
            # A new fallback file: the mirror has everything to copy.
            fallback = tmp / "replica-fallback.db"
            env["FALLBACK_DATABASE_URL"] = f"sqlite+aiosqlite:///{fallback}"
            metrics_dir = tmp / "metrics"
            metrics_dir.mkdir()
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            server = Served(
                "grandlivre",
                [
                    grandlivre_command(),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    "2",
                ],
                env={**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "LOG_LEVEL": "INFO"},
                cwd=tmp,
                log=tmp / "server.log",
            )
            sampler = RssSampler(server.pid)
            with sampler.running() as peak:
                server.wait_until_answers(f"{base}/api/v1/healthz")
                started = time.monotonic()
                console.print("served; watching healthz while the mirror's first copy runs")
                figures.during = _sample_until(base, lambda p: p.complete is True, COPY_TIMEOUT)
                if figures.during and figures.during[-1].complete:
                    figures.copy_seconds = time.monotonic() - started
                    figures.rows_copied = figures.during[-1].rows
                else:
                    figures.notes.append(f"the first copy did not complete in {COPY_TIMEOUT:.0f} s")
                figures.after = _sample_until(base, lambda p: False, BASELINE_SECONDS)

                console.print("reads on PostgreSQL")
                # A probe through the same kept-alive connection, for scale: it reads the
                # replica's state from the SQLite file, three small queries.
                figures.reads.append(
                    ("healthz, same connection", _api_ms(base, "/api/v1/healthz", key), 0.0)
                )
                for what, path, sql in (
                    ("trial balance", f"{API}/trial-balance", TRIAL_BALANCE_SQL),
                    ("balance of 411000", f"{API}/accounts/411000/balance", BALANCE_SQL),
                    (
                        "general ledger page, 411000",
                        f"{API}/accounts/411000/ledger?limit=100",
                        LEDGER_PAGE_SQL,
                    ),
                    (
                        "balance sheet of the year",
                        f"{API}/reports/balance-sheet?fiscal_year={loader.YEAR}",
                        YEAR_BALANCES_SQL.format(year=loader.YEAR),
                    ),
                    (
                        "income statement of the year",
                        f"{API}/reports/income-statement?fiscal_year={loader.YEAR}",
                        YEAR_BALANCES_SQL.format(year=loader.YEAR),
                    ),
                ):
                    figures.reads.append(
                        (
                            f"{what} (PostgreSQL)",
                            _api_ms(base, path, key),
                            _pg_sql_ms(cluster, "scale", sql),
                        )
                    )

                first = _get_json(base, f"{API}/accounts/411000/ledger?limit=100", key)
                page_two = f"{API}/accounts/411000/ledger?limit=100&cursor={first['next_cursor']}"
                figures.reads.append(
                    (
                        "general ledger, next page by cursor (PostgreSQL)",
                        _api_ms(base, page_two, key),
                        _pg_sql_ms(cluster, "scale", LEDGER_PAGE_SQL + " OFFSET 100"),
                    )
                )
                books = _pg_trial_balance(cluster, "scale")
                same = _api_trial_balance(base, key) == books
                figures.notes.append(
                    "the API's trial balance equals the plain SQL sum over every line: "
                    + ("yes" if same else "NO")
                )

                console.print("exports of the year, streamed")
                siren = urllib.request.Request(
                    f"{base}{API}",
                    data=json.dumps({"siren": "732829320"}).encode(),
                    method="PATCH",
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                )
                urllib.request.urlopen(siren, timeout=30).close()
                fec = tmp / "year-fec.txt"
                with RssSampler(server.pid).running() as during_exports:
                    _exports(base, key, cluster, figures, fec)
                figures.export_rss = during_exports.largest

                console.print(f"a FEC import of {IMPORT_LINES:,} lines into a new ledger")
                with RssSampler(server.pid).running() as during_import:
                    _fec_import(base, key, cluster, figures, fec, tmp)
                figures.import_rss = during_import.largest

                console.print("PostgreSQL stopped: reads from the mirror")
                cluster.stop()
                _sample_until(base, lambda p: p.mode == "fallback", 30)
                figures.notes.append(
                    "the fallback's trial balance equals PostgreSQL's: "
                    + ("yes" if _api_trial_balance(base, key) == books else "NO")
                )
                figures.reads.append(
                    (
                        "trial balance (SQLite fallback)",
                        _api_ms(base, f"{API}/trial-balance", key),
                        _sqlite_sql_ms(fallback, TRIAL_BALANCE_SQL),
                    )
                )
            figures.peak_rss, figures.peak_rss_total = peak.largest, peak.total
            log = (tmp / "server.log").read_text(errors="replace")
            figures.mode_changes = [
                f"{m.group(1)} -> {m.group(2)}"
                for m in re.finditer(r'"from_mode": "(\w+)", "to_mode": "(\w+)"', log)
            ]
        except ServerFailed as exc:
            console.print(f"[red]{exc}[/red]")
            raise
        finally:
            if server is not None:
                server.stop()
            cluster.destroy()
    return figures


def _ratio(measured: float, baseline: float) -> str:
    if not baseline:
        return ""
    ratio = measured / baseline
    return f"x{ratio:.1f}" if ratio >= 0.1 else f"x{ratio:.3f}"


def render(figures: Figures, console: Console) -> None:
    """Print the figures, each next to its baseline."""
    during = [p.ms for p in figures.during]
    after = [p.ms for p in figures.after] or [float("nan")]
    copy = (
        f"{figures.copy_seconds:.0f} s, {figures.rows_copied:,} rows "
        f"({figures.rows_copied / figures.copy_seconds:,.0f} rows/s)"
        if figures.copy_seconds
        else "did not complete"
    )
    table = Table(title=f"grandlivre serve -w 2 on {figures.entries:,} entries")
    for column in ("what", "measured", "baseline (same run)", "ratio"):
        table.add_column(column)
    table.add_row("mirror's first copy", copy, "", "")
    for label, percent in (("healthz p50", 50), ("healthz p99", 99), ("healthz max", 100)):
        measured, base = _percentile(during, percent), _percentile(after, percent)
        table.add_row(
            f"{label} during the copy",
            f"{measured:.1f} ms",
            f"{base:.1f} ms once done",
            _ratio(measured, base),
        )
    not_primary = sum(1 for p in figures.during if p.mode != "primary")
    table.add_row(
        "healthz answers not `primary` during the copy",
        f"{not_primary} of {len(figures.during)}",
        "0",
        "",
    )
    for what, api_ms, sql_ms in figures.reads:
        baseline = f"{sql_ms:.1f} ms plain SQL" if sql_ms else "(a probe, for scale)"
        table.add_row(what, f"{api_ms:.1f} ms", baseline, _ratio(api_ms, sql_ms))
    for what, seconds, size, sql_seconds, sql_size in figures.exports:
        table.add_row(
            f"{what} export, {size / 2**20:,.0f} MB",
            f"{seconds:.1f} s ({figures.entries / seconds:,.0f} entries/s)",
            f"{sql_seconds:.1f} s COPY of its rows ({sql_size / 2**20:,.0f} MB)",
            _ratio(seconds, sql_seconds),
        )
    if figures.exports:
        table.add_row(
            "largest process while the exports streamed",
            f"{figures.export_rss / 2**20:.0f} MB",
            "",
            "",
        )
    for what, seconds, lines, copy_seconds in figures.imports:
        table.add_row(
            f"{what}, {lines:,} lines",
            f"{seconds:.1f} s ({lines / seconds:,.0f} lines/s)",
            f"{copy_seconds:.2f} s COPY of the file into a table",
            _ratio(seconds, copy_seconds),
        )
    if figures.imports:
        table.add_row(
            "largest process while the import ran", f"{figures.import_rss / 2**20:.0f} MB", "", ""
        )
    table.add_row(
        "peak RSS, largest process / all",
        f"{figures.peak_rss / 2**20:.0f} MB / {figures.peak_rss_total / 2**20:.0f} MB",
        "",
        "",
    )
    console.print(table)
    console.print(
        "mode changes in the server's log: "
        + (", ".join(figures.mode_changes) or "none")
        + " (the last one is the stop of PostgreSQL in part 5)"
    )
    for note in figures.notes:
        console.print(f"note: {note}")


def main(console: Console | None = None) -> None:
    """Run and print."""
    console = console or Console()
    render(measure(console), console)
