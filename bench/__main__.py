"""Grand Livre benchmarks: `python -m bench [posting | inprocess | load | scale | soak | failback]`.

Without an argument, every comparison runs (`make bench`): `posting`, `inprocess`, then `scale`.

    posting     served processes on a private PostgreSQL: pgbench, a hand-written FastAPI +
                asyncpg peer and `grandlivre serve`, loaded alike (bench/posting.py);
    inprocess   posting, the trial balance, replay and the mirror, measured inside this
                process against baselines of the same run (bench/inprocess.py);
    load        seed BENCH_ENTRIES entries into DATABASE_URL with COPY (bench/load.py,
                `make bench-load`); not a comparison, so not part of the default run;
    scale       the service on a private PostgreSQL of BENCH_ENTRIES (1,000,000) entries: the
                mirror's first copy against the probe, the reports, exports and a FEC import
                at that size (bench/scale.py, `make bench-scale`); about 15 minutes.
    soak        `grandlivre serve` under wrk for BENCH_SOAK_SECONDS (300), the resident memory
                of its largest process slice by slice (bench/soak.py, `make bench-soak`).
    failback    `grandlivre serve` under wrk while PostgreSQL is killed and started again: how
                soon every worker is primary again, and nothing lost, duplicated or failed
                (bench/failback.py, `make bench-failback`).

Every figure is printed next to the baseline it is compared with, measured in the same run.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from rich.console import Console

COMMANDS = ("posting", "inprocess", "load", "scale", "soak", "failback")


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds through every `finally`: servers and clusters are stopped, temp dirs
    # removed, as on Ctrl-C.
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> None:
    """Run the benchmarks named in `argv` (all comparisons when none is)."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    unknown = [name for name in argv if name not in COMMANDS]
    if unknown or len(argv) > 1:
        raise SystemExit(f"usage: python -m bench [{' | '.join(COMMANDS)}]")
    console = Console()
    if not console.is_terminal:
        # Piped (make bench | tee): wide enough for the tables, whatever COLUMNS says.
        console = Console(width=max(console.width, 130))
    chosen = argv or ["posting", "inprocess", "scale"]
    # Imported on demand: `load` and `posting` need no app in this process.
    if "posting" in chosen:
        from bench import posting

        posting.main(console)
    if "inprocess" in chosen:
        from bench import inprocess

        inprocess.main(console)
    if "load" in chosen:
        from bench import load

        load.main(console)
    if "scale" in chosen:
        from bench import scale

        scale.main(console)
    if "soak" in chosen:
        from bench import soak

        soak.main(console)
    if "failback" in chosen:
        from bench import failback

        failback.main(console)


if __name__ == "__main__":
    main(sys.argv[1:])
