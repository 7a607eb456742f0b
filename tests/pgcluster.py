"""A private, throwaway PostgreSQL cluster that tests may kill and restart.

initdb and pg_ctl refuse to run as root, so when the tests run as root they run these as the
`postgres` user. The cluster listens on a free loopback port and a socket in its own
directory; killing it never touches the machine's shared server.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg


def _bin_dir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for candidate in candidates:
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise FileNotFoundError("initdb not found (install PostgreSQL server binaries)")


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateCluster:
    """initdb + pg_ctl on a temporary directory and a free port."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="gl-pgcluster-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self._as_postgres = getpass.getuser() == "root"
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.root}'\nfsync = off\n"
                "synchronous_commit = on\nfull_page_writes = off\nmax_connections = 100\n"
            )

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=60)

    def set_xid_epoch(self, epoch: int) -> None:
        """Give the stopped cluster's transaction ids an epoch, as a cluster that has wrapped
        around `epoch` times has: every transaction id then lies beyond 2**32."""
        self._run("pg_resetwal", "-e", str(epoch), "-D", str(self.data))

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")

    def kill(self) -> None:
        """Stop the server the hard way, as a crash would (`pg_ctl stop -m immediate`)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)

    def stop(self) -> None:
        """Stop the server cleanly."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def is_running(self) -> bool:
        """Tell whether the server answers."""
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def url(self, database: str = "postgres", *, port: int | None = None) -> str:
        """SQLAlchemy URL of a database of this cluster (optionally through another port)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{port or self.port}/{database}"

    async def create_database(self, name: str) -> str:
        """Create a database and return its name."""
        conn = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user="postgres", database="postgres", timeout=10
        )
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return name

    async def fetch(self, database: str, query: str, *args: object) -> list[asyncpg.Record]:
        """Run a query directly on the cluster (not through any proxy)."""
        conn = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user="postgres", database=database, timeout=10
        )
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    def destroy(self) -> None:
        """Kill the server and delete its files."""
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def wait_until_down(self, timeout: float = 10) -> None:
        """Wait until the server no longer runs."""
        deadline = time.monotonic() + timeout
        while self.is_running() and time.monotonic() < deadline:
            time.sleep(0.1)


def can_run_private_cluster() -> str | None:
    """Return why a private cluster cannot run here, or None when it can."""
    try:
        _bin_dir()
    except FileNotFoundError as exc:
        return str(exc)
    if getpass.getuser() == "root" and shutil.which("runuser") is None:
        return "running as root without runuser"
    if os.name != "posix":
        return "needs a POSIX system"
    return None
