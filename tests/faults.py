"""Real faults for tests: a loopback TCP proxy that can cut, blackhole or delay connections.

The proxy runs its own event loop in a thread, so it keeps forwarding while the test's loop is
busy, and works for clients in any thread or process. It only ever listens on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

PASS = "pass"
CUT = "cut"  # close every connection and refuse new ones (RST-like: connection lost)
BLACKHOLE = "blackhole"  # accept, then swallow everything (the far end looks hung)


class LoopbackProxy:
    """Forward 127.0.0.1:<port> to a target, with faults switched on and off at will."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = PASS
        self.delay = 0.0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loopback-proxy", daemon=True)

    def start(self) -> LoopbackProxy:
        """Start listening on a free loopback port."""
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        """Close everything and end the proxy's thread."""
        self._call(self._close_all, stop_server=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones until `restore`."""
        self.mode = CUT
        self._call(self._close_all, stop_server=False)

    def blackhole(self) -> None:
        """Keep connections open but forward nothing, in either direction."""
        self.mode = BLACKHOLE

    def restore(self) -> None:
        """Forward normally again."""
        self.mode = PASS
        self.delay = 0.0

    def set_delay(self, seconds: float) -> None:
        """Delay every forwarded chunk by `seconds`."""
        self.delay = seconds

    @contextlib.contextmanager
    def fault(self, mode: str) -> Iterator[None]:
        """Apply a fault for the duration of a `with` block."""
        {CUT: self.cut, BLACKHOLE: self.blackhole}[mode]()
        try:
            yield
        finally:
            self.restore()

    def _call(self, fn: object, **kwargs: object) -> None:
        future = asyncio.run_coroutine_threadsafe(fn(**kwargs), self._loop)  # type: ignore[operator]
        future.result(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _close_all(self, stop_server: bool) -> None:
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                if writer.can_write_eof():
                    writer.transport.abort()
                else:
                    writer.close()
        self._writers.clear()
        if stop_server and self._server is not None:
            self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == CUT:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update({writer, up_writer})
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )
        for w in (writer, up_writer):
            self._writers.discard(w)
            with contextlib.suppress(Exception):
                w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if self.mode == CUT:
                writer.transport.abort()
                break
            if self.mode == BLACKHOLE:
                continue
            if self.delay:
                await asyncio.sleep(self.delay)
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(Exception):
            writer.write_eof()
