"""Served processes for the benchmarks: start, wait until it answers, sample memory, stop.

A server is started in a session of its own, so that it and the workers it forks form one
process group whose id is the server's pid: stopping it signals that group and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class ServerFailed(RuntimeError):
    """A served process exited, or never answered, while the benchmark needed it."""


class Served:
    """A server process (and the workers it starts), its output kept in a log file."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log: Path,
    ) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                list(command),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.process.pid

    def tail(self, lines: int = 20) -> str:
        """Return the last lines the server wrote."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_until_answers(self, url: str, *, timeout: float = 90) -> None:
        """Poll `url` until it answers 2xx; fail if the server exits or the time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(
                    f"{self.name} exited with {self.process.returncode}:\n{self.tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if 200 <= response.status < 300:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise ServerFailed(
            f"{self.name} did not answer {url} within {timeout:.0f} s:\n{self.tail()}"
        )

    def check_alive(self) -> None:
        """Fail if the server has exited."""
        if self.process.poll() is not None:
            raise ServerFailed(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")

    def stop(self, timeout: float = 20) -> None:
        """Stop the server and its workers: SIGTERM to its group, SIGKILL what is left."""
        if self.process.poll() is None:
            _signal_group(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.pid, signal.SIGKILL)
                self.process.wait(5)
        # Workers outliving their supervisor are still in its group.
        if _group_exists(self.pid):
            _signal_group(self.pid, signal.SIGKILL)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _parents() -> dict[int, int]:
    """Map every process id to its parent's, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name, in parentheses, may hold spaces: the fields start after it.
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _rss(pid: int) -> int:
    try:
        resident = Path(f"/proc/{pid}/statm").read_text().split()[1]
    except (OSError, IndexError):
        return 0
    return int(resident) * PAGE_SIZE


@dataclass
class Memory:
    """Peak resident memory seen: of a server and its workers summed, and of its largest one."""

    total: int = 0
    largest: int = 0


class RssSampler:
    """Sample the resident memory of a process tree from /proc in a thread, keep the peaks."""

    def __init__(self, root: int, *, interval: float = 0.2) -> None:
        self.root = root
        self.interval = interval
        self.peak = Memory()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{root}", daemon=True)

    def sample(self) -> None:
        """Take one sample now."""
        sizes = [_rss(pid) for pid in _descendants(self.root)]
        self.peak.total = max(self.peak.total, sum(sizes))
        self.peak.largest = max(self.peak.largest, max(sizes, default=0))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    @contextlib.contextmanager
    def running(self) -> Iterator[Memory]:
        """Sample while the block runs; the peaks are final when it ends."""
        self._thread.start()
        try:
            yield self.peak
        finally:
            self._stop.set()
            self._thread.join(5)
            self.sample()
