"""Request heads are capped by the served protocol: 431 problem+json before they are held whole.

Each test serves Grand Livre for real (`grandlivre serve` on a free loopback port, embedded
SQLite in the test's tmp dir) and talks to it through raw sockets: an HTTP client library would
not send what these tests send, nor say how much it had sent when the server closed.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import assert_problem
from tests.ops.support import (
    GRANDLIVRE,
    app_records,
    cli_env,
    events,
    free_port,
    sqlite_url,
    stop,
    wait_until_ready,
)

pytestmark = pytest.mark.slow

MAX_HEADER_BYTES = 16_384  # the defaults
MAX_HEADER_LINE_BYTES = 8192
PROBLEM_TYPE = "request-header-fields-too-large"
HEALTHZ = "/api/v1/healthz"
GUARDED = "/api/v1/ledgers"  # 401 without a key: a 431 there was never seen by the app
STREAM_MAX_BYTES = 100_000_000
STREAM_MAX_SECONDS = 30.0
RESPONSE_MAX_BYTES = 1_048_576
RSS_GROWTH_MAX_KIB = 4096


@dataclass
class Server:
    """A served Grand Livre: its port, its process (the worker, or the workers' parent), its log."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The served process and every process under it (the workers)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def rss_kib(self) -> int:
        """Resident memory of the served process and its workers, in KiB."""
        total = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += sum(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
            )
        return total

    def refusals(self) -> list[dict[str, object]]:
        """The `request_headers_too_large` lines logged so far."""
        time.sleep(0.3)  # let the workers write their last lines
        return events(app_records(self.log.read_text()), "request_headers_too_large")


@contextmanager
def serving(tmp_path: Path, *, workers: int = 1, **env: str) -> Iterator[Server]:
    """Run `grandlivre serve` on a free port around the block, then stop it by its pid."""
    port = free_port()
    log = tmp_path / "server.log"
    environment = {
        name: value
        for name, value in cli_env(sqlite_url(tmp_path), TMPDIR=str(tmp_path), **env).items()
        if name in env or name not in {"MAX_HEADER_BYTES", "MAX_HEADER_LINE_BYTES"}
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(GRANDLIVRE), "serve", "--workers", str(workers), "--port", str(port)],
            env=environment,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        server = Server(port=port, process=process, log=log)
        wait_until_ready(server.base_url, process, log)
        yield server
    finally:
        stop(process)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    """Grand Livre served with the default header limits."""
    with serving(tmp_path) as server:
        yield server


def request_line(path: str) -> bytes:
    """The request line and Host header of a GET of `path`."""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()


def head_of_size(size: int, *, path: str = HEALTHZ, line_max: int = 1000) -> bytes:
    """A GET head of exactly `size` bytes, padded with header lines of at most `line_max` bytes."""
    start = request_line(path)
    room = size - len(start) - 2
    lines = -(-room // (line_max + 2))
    share, spare = divmod(room, lines)
    padding = []
    for i in range(lines):
        name = f"X-Pad-{i:03d}: ".encode()
        padding.append(name + b"a" * (share + (i < spare) - 2 - len(name)) + b"\r\n")
    head = start + b"".join(padding) + b"\r\n"
    assert len(head) == size
    return head


def head_with_line(line: int, *, path: str = HEALTHZ) -> bytes:
    """A GET head with one header line (`X-Long: aaa...`) of exactly `line` bytes."""
    name = b"X-Long: "
    return request_line(path) + name + b"a" * (line - len(name)) + b"\r\n\r\n"


class Connection:
    """A raw loopback connection that reads HTTP/1.1 responses back, bounded in time and bytes."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""
        self.reset = False

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def _fill(self) -> bool:
        """Read more into the buffer; False when the server has closed."""
        if self.reset or len(self.buffer) > RESPONSE_MAX_BYTES:
            return False
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            self.reset = True
            return False
        self.buffer += data
        return bool(data)

    def response(self) -> httpx.Response:
        """Read the next response (status line, headers, Content-Length body)."""
        deadline = time.monotonic() + 10
        while b"\r\n\r\n" not in self.buffer:
            assert time.monotonic() < deadline, f"no response within 10 s: {self.buffer!r}"
            assert self._fill(), f"closed before a response: {self.buffer!r}"
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        fields = [line.partition(": ") for line in header_lines]
        headers = httpx.Headers([(name, value) for name, _, value in fields])
        length = int(headers["content-length"])
        while len(self.buffer) < length:
            assert time.monotonic() < deadline, f"no whole body within 10 s: {self.buffer!r}"
            assert self._fill(), f"closed within the body: {self.buffer!r}"
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return httpx.Response(int(status_line.split()[1]), headers=headers, content=body)

    def is_closed_by_server(self) -> bool:
        """Tell whether the server closes the connection (within 5 s) with nothing more to say."""
        self.sock.settimeout(5)
        try:
            return not self._fill() and not self.buffer
        except TimeoutError:
            return False


def exchange(server: Server, data: bytes) -> tuple[httpx.Response, bool]:
    """Send `data` on a fresh connection; return the response and whether the server closed."""
    with Connection(server.port) as conn:
        conn.sock.sendall(data)
        response = conn.response()
        return response, response.status_code == 431 and conn.is_closed_by_server()


@dataclass
class Streamed:
    """How a streamed head ended: bytes sent before the server answered or closed, the answer."""

    sent: int
    response: httpx.Response


def stream_header(server: Server, *, chunk: int, pause: float) -> Streamed:
    """Send one header that never ends, `chunk` bytes at a time, until the server answers.

    Between chunks the client waits `pause` seconds for the server to speak; it gives up at
    STREAM_MAX_BYTES or STREAM_MAX_SECONDS.
    """
    start = request_line(HEALTHZ) + b"X-Request-ID: streamed-1\r\nX-Endless: "
    with Connection(server.port) as conn:
        conn.sock.sendall(start)
        sent = len(start)
        payload = b"a" * chunk
        deadline = time.monotonic() + STREAM_MAX_SECONDS
        while sent < STREAM_MAX_BYTES and time.monotonic() < deadline:
            readable, _, _ = select.select([conn.sock], [], [], pause)
            if readable:
                break
            try:
                sent += conn.sock.send(payload)
            except OSError:  # reset by the server: what it answered is still to be read
                break
        response = conn.response()
        assert conn.is_closed_by_server()
        return Streamed(sent=sent, response=response)


def assert_refused(response: httpx.Response, limit_bytes: int, path: str = HEALTHZ) -> str:
    """Assert the 431 problem of the header limits, naming `limit_bytes`; return its detail."""
    body = assert_problem(response, 431, PROBLEM_TYPE)
    assert body["title"] == "Request header fields too large"
    assert body["instance"] == path
    assert str(limit_bytes) in body["detail"]
    assert response.headers["connection"] == "close"
    return str(body["detail"])


def test_a_head_over_the_total_limit_gets_431_without_a_key(served: Server) -> None:
    response, closed = exchange(served, head_of_size(20 * 1024, path=GUARDED))

    detail = assert_refused(response, MAX_HEADER_BYTES, path=GUARDED)
    assert "in total" in detail
    assert closed
    (refusal,) = served.refusals()
    assert refusal["limit"] == "total"
    assert refusal["limit_bytes"] == MAX_HEADER_BYTES
    assert refusal["client_ip"] == "127.0.0.1"
    assert refusal["level"] == "warning"
    assert refusal["request_id"] == response.headers["x-request-id"]
    access = events(app_records(served.log.read_text()), "request")
    assert not [line for line in access if line["path"] == GUARDED]  # the app never saw it


def test_one_header_line_over_the_line_limit_gets_431(served: Server) -> None:
    response, closed = exchange(served, head_with_line(10 * 1024, path=GUARDED))

    detail = assert_refused(response, MAX_HEADER_LINE_BYTES, path=GUARDED)
    assert "x-long header line" in detail
    assert closed
    assert [r["limit"] for r in served.refusals()] == ["line"]


def test_heads_up_to_the_limits_are_served(served: Server) -> None:
    for head in (head_of_size(MAX_HEADER_BYTES), head_with_line(MAX_HEADER_LINE_BYTES)):
        response, _ = exchange(served, head)
        assert response.status_code == 200, response.text
        assert response.json()["ok"] is True

    over, _ = exchange(served, head_of_size(MAX_HEADER_BYTES + 1))
    assert_refused(over, MAX_HEADER_BYTES)
    long_line, _ = exchange(served, head_with_line(MAX_HEADER_LINE_BYTES + 1))
    assert_refused(long_line, MAX_HEADER_LINE_BYTES)


def test_keep_alive_and_pipelined_heads_near_the_limit_are_served(served: Server) -> None:
    near = head_of_size(MAX_HEADER_BYTES - 100)
    with Connection(served.port) as conn:
        conn.sock.sendall(near + near + request_line(HEALTHZ) + b"\r\n")
        assert [conn.response().status_code for _ in range(3)] == [200, 200, 200]
        conn.sock.sendall(near)
        assert conn.response().status_code == 200
        conn.sock.sendall(head_of_size(MAX_HEADER_BYTES + 100))
        assert_refused(conn.response(), MAX_HEADER_BYTES)
        assert conn.is_closed_by_server()


def test_a_header_streamed_slowly_is_cut_off_at_the_limit(served: Server) -> None:
    exchange(served, head_of_size(20 * 1024))  # warm the refusal path up before measuring
    before = served.rss_kib()

    streamed = stream_header(served, chunk=1024, pause=0.005)

    body = assert_problem(streamed.response, 431, PROBLEM_TYPE)
    assert body["request_id"] == "streamed-1"
    assert body["instance"] == HEALTHZ
    assert str(MAX_HEADER_BYTES) in body["detail"]
    assert streamed.sent <= 2 * MAX_HEADER_BYTES, streamed.sent
    assert served.rss_kib() - before <= RSS_GROWTH_MAX_KIB


def test_other_clients_are_answered_while_huge_headers_are_streamed(served: Server) -> None:
    exchange(served, head_of_size(20 * 1024))
    before = served.rss_kib()

    def flood() -> list[Streamed]:
        results: list[Streamed] = []
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and len(results) < 50:
            results.append(stream_header(served, chunk=65536, pause=0))
        return results

    latencies: list[float] = []
    with ThreadPoolExecutor(max_workers=2) as pool, httpx.Client(timeout=5) as http:
        floods = [pool.submit(flood) for _ in range(2)]
        while not all(f.done() for f in floods) and len(latencies) < 200:
            started = time.monotonic()
            assert http.get(f"{served.base_url}{HEALTHZ}").status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.02)
        streams = [s for f in floods for s in f.result()]

    assert streams
    for streamed in streams:
        assert streamed.response.status_code == 431
        assert streamed.sent < STREAM_MAX_BYTES // 10, streamed.sent
    assert latencies
    assert max(latencies) < 1.0, max(latencies)
    assert served.rss_kib() - before <= RSS_GROWTH_MAX_KIB


def test_the_limits_are_read_from_the_environment(tmp_path: Path) -> None:
    with serving(tmp_path, MAX_HEADER_BYTES="4096", MAX_HEADER_LINE_BYTES="2048") as server:
        total, closed = exchange(server, head_of_size(6 * 1024))
        assert "4096 bytes in total" in assert_refused(total, 4096)
        assert closed
        line, _ = exchange(server, head_with_line(3 * 1024))
        assert_refused(line, 2048)
        for head in (head_of_size(4096, line_max=2048), head_with_line(2048)):
            served_response, _ = exchange(server, head)
            assert served_response.status_code == 200
        streamed = stream_header(server, chunk=512, pause=0.005)
        assert_refused(streamed.response, 4096)
        assert streamed.sent <= 2 * 4096


def worker_of(server: Server, conn: Connection) -> int | None:
    """The process holding the server's end of `conn`, once it has accepted it (within 5 s)."""
    client_port = conn.sock.getsockname()[1]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        inodes = set()
        for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = row.split()
            local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
            if int(local, 16) == server.port and int(remote, 16) == client_port:
                inodes.add(f"socket:[{fields[9]}]")
        for pid in server.pids():
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(fd) in inodes:
                        return pid
                except OSError:
                    continue
        time.sleep(0.05)
    return None


def refused_by(server: Server, limit: int) -> int | None:
    """Send a head over `limit` on a fresh connection; return the worker that refused it."""
    head = head_of_size(limit + 2048)
    with Connection(server.port) as conn:
        conn.sock.sendall(head[:100])
        worker = worker_of(server, conn)
        conn.sock.sendall(head[100:])
        assert_refused(conn.response(), limit)
        assert conn.is_closed_by_server()
    return worker


def test_every_worker_refuses_with_the_configured_limit(tmp_path: Path) -> None:
    with serving(tmp_path, workers=2, MAX_HEADER_BYTES="4096") as server:
        workers: set[int | None] = set()
        sent = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            # Keep refusing until both workers have refused some (the kernel picks who accepts).
            while len(workers - {None, server.process.pid}) < 2:
                assert sent < 400, f"every connection went to {workers}"
                workers.update(pool.map(lambda _: refused_by(server, 4096), range(40)))
                sent += 40
        response, _ = exchange(server, head_of_size(4000))
        assert response.status_code == 200
        assert len(server.refusals()) == sent
