"""`python -m bench soak` (`make bench-soak`): memory of `grandlivre serve` under sustained load.

Issue 8, item 6: at most 150 MB resident per worker under sustained load, flat over a
5-minute soak. On a private PostgreSQL (tests/pgcluster.py), `grandlivre serve --workers 2`
is loaded by wrk (2 threads, 32 connections, bench/post_entry.lua, a fresh Idempotency-Key
per request) for BENCH_SOAK_SECONDS (300) in slices of BENCH_SOAK_SLICE (30) seconds. Every
slice prints its rate and the peak resident memory of the largest process of the server; the
baseline is the first slice's peak (the workers warmed up), and the verdict compares the
last slice's with it: growth is what a leak looks like.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table
from tests.pgcluster import PrivateCluster

from bench.posting import (
    ENTRY_PATH,
    WORKERS,
    Round,
    Wrk,
    prepare_database,
    serve_grandlivre,
)
from bench.processes import Served

SECONDS = int(os.environ.get("BENCH_SOAK_SECONDS", "300"))
SLICE = int(os.environ.get("BENCH_SOAK_SLICE", "30"))
LIMIT_MB = 150
# Growth of the largest process from the first slice to the last that still reads as flat.
FLAT_MB = 10
MB = 1024 * 1024


def measure(console: Console) -> list[Round]:
    """Serve on a private cluster, load it slice after slice; return each slice's figures."""
    slices: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="gl-bench-soak-") as tmp_name:
        tmp = Path(tmp_name)
        cluster = PrivateCluster()
        served: Served | None = None
        try:
            with (cluster.data / "postgresql.conf").open("a") as conf:
                conf.write("max_connections = 200\n")
            cluster.start()
            prepare_database(cluster, "grandlivre", tmp)
            served, base, key = serve_grandlivre(cluster, tmp, "grandlivre")
            load = Wrk(
                "grandlivre",
                f"grandlivre serve -w {WORKERS}",
                served,
                f"{base}{ENTRY_PATH}",
                key=key,
            )
            run_id = uuid.uuid4().hex[:8]
            console.print(
                f"soak: {SECONDS} s in slices of {SLICE} s, `grandlivre serve -w {WORKERS}` on "
                f"a private PostgreSQL {cluster.bin.parent.name}, wrk 2 threads 32 connections"
            )
            for number in range(max(1, SECONDS // SLICE)):
                figures = load.run(SLICE, f"{run_id}-{number}")
                slices.append(figures)
                assert figures.memory is not None
                console.print(
                    f"  slice {number + 1}: {figures.rate:,.0f} entries/s, "
                    f"{figures.errors} errors, largest process "
                    f"{figures.memory.largest / MB:.0f} MB"
                )
        finally:
            if served is not None:
                served.stop()
            cluster.destroy()
    return slices


def render(slices: list[Round], console: Console) -> None:
    """Print the slices and the verdict against item 6."""
    table = Table(title=f"Soak: `grandlivre serve -w {WORKERS}` under wrk, slices of {SLICE} s")
    for column in ("slice", "entries/s", "p99 ms", "errors", "largest MB", "all MB"):
        table.add_column(column, justify="right")
    for number, figures in enumerate(slices, 1):
        assert figures.memory is not None
        table.add_row(
            str(number),
            f"{figures.rate:,.0f}",
            f"{figures.p99_ms:.0f}",
            str(figures.errors),
            f"{figures.memory.largest / MB:.0f}",
            f"{figures.memory.total / MB:.0f}",
        )
    console.print(table)
    peaks = [figures.memory.largest / MB for figures in slices if figures.memory is not None]
    first, last, highest = peaks[0], peaks[-1], max(peaks)
    bounded = "yes" if highest <= LIMIT_MB else "misses"
    flat = "yes" if last - first <= FLAT_MB else "misses"
    console.print(
        f"largest process: {highest:.0f} MB at most (target ≤ {LIMIT_MB} MB: {bounded}); "
        f"last slice {last:.0f} MB against the first's {first:.0f} MB, "
        f"×{last / first:.2f} (flat within {FLAT_MB} MB: {flat}); "
        f"{sum(figures.errors for figures in slices)} errors"
    )


def main(console: Console | None = None) -> None:
    """Measure and print."""
    console = console or Console()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    render(measure(console), console)
