"""Rate limits with the `limits` library: shared through Redis, or per process in memory.

When Redis is configured but does not answer, counting goes on in this process's memory (the
service keeps serving), the switch is logged once and shown in metrics and healthz, and Redis
is tried again every few seconds until it answers.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.exceptions import RedisError

from grandlivre.ops.metrics import RATE_LIMIT_SHARED

log = structlog.get_logger("grandlivre.ratelimit")

# Seconds between attempts to go back to Redis after it failed.
REDIS_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class Decision:
    """Whether a request may proceed, and what the RateLimit headers should say."""

    allowed: bool
    policy: str
    limit: int
    remaining: int
    reset_seconds: int
    window_seconds: int


def parse_limit(text: str) -> RateLimitItem:
    """Parse `600/minute`-style limits, raising ValueError on anything else."""
    return parse(text)


class RateLimiter:
    """Counts requests per identity against a limit, in Redis or in memory."""

    def __init__(self, redis_url: str | None, *, timeout: float, burst_threshold: int) -> None:
        self.memory: Storage = MemoryStorage()
        self.redis: Storage | None = None
        if redis_url:
            self.redis = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                wrap_exceptions=True,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
            )
        self.timeout = timeout
        self.burst_threshold = burst_threshold
        self._redis_ok = self.redis is not None
        self._retry_at = 0.0
        RATE_LIMIT_SHARED.set(1 if self._redis_ok else 0)

    @property
    def backend(self) -> str:
        """Say where counts live now: `redis`, `memory`, or `memory (redis unreachable)`."""
        if self.redis is None:
            return "memory"
        return "redis" if self._redis_ok else "memory (redis unreachable)"

    @property
    def is_shared(self) -> bool:
        """Tell whether counts are shared by every process through Redis right now."""
        return self.redis is not None and self._redis_ok

    async def hit(self, item: RateLimitItem, policy: str, identity: str) -> Decision:
        """Count one request of `identity` and say whether it is within `item`."""
        storage = await self._storage()
        try:
            return await self._hit(storage, item, policy, identity)
        except (StorageError, RedisError, OSError, TimeoutError) as exc:
            if storage is self.memory:
                raise
            self._degrade(exc)
            return await self._hit(self.memory, item, policy, identity)

    async def note_refusal(self, policy: str, identity: str, window_seconds: int) -> bool:
        """Count a 429; return True exactly once per window when they reach the burst threshold."""
        storage = await self._storage()
        key = f"burst/{policy}/{identity}"
        try:
            async with asyncio.timeout(self.timeout):
                count = await storage.incr(key, window_seconds)
        except (StorageError, RedisError, OSError, TimeoutError) as exc:
            if storage is self.memory:
                raise
            self._degrade(exc)
            count = await self.memory.incr(key, window_seconds)
        return count == self.burst_threshold

    async def probe(self) -> None:
        """Find out at start-up whether Redis answers, rather than at the first request."""
        if self.redis is None:
            return
        try:
            async with asyncio.timeout(self.timeout):
                healthy = await self.redis.check()
        except (StorageError, RedisError, OSError, TimeoutError):
            healthy = False
        if not healthy:
            self._degrade(ConnectionError("Redis did not answer at start-up"))

    async def close(self) -> None:
        """Release the Redis connections, if any."""
        if self.redis is not None:
            bridge = getattr(self.redis, "bridge", None)
            client = getattr(bridge, "storage", None)
            if client is not None and hasattr(client, "aclose"):
                await client.aclose()

    async def _hit(
        self, storage: Storage, item: RateLimitItem, policy: str, identity: str
    ) -> Decision:
        limiter = SlidingWindowCounterRateLimiter(storage)
        async with asyncio.timeout(self.timeout):
            allowed = await limiter.hit(item, policy, identity)
            stats = await limiter.get_window_stats(item, policy, identity)
        window = int(item.get_expiry())
        reset = max(1, min(window, math.ceil(stats.reset_time - time.time())))
        return Decision(
            allowed=allowed,
            policy=policy,
            limit=item.amount,
            remaining=max(0, stats.remaining),
            reset_seconds=reset,
            window_seconds=window,
        )

    async def _storage(self) -> Storage:
        if self.redis is None:
            return self.memory
        if self._redis_ok:
            return self.redis
        if time.monotonic() >= self._retry_at:
            self._retry_at = time.monotonic() + REDIS_RETRY_SECONDS
            try:
                async with asyncio.timeout(self.timeout):
                    healthy = await self.redis.check()
            except (StorageError, RedisError, OSError, TimeoutError):
                healthy = False
            if healthy:
                self._redis_ok = True
                RATE_LIMIT_SHARED.set(1)
                log.warning("rate_limit_shared_restored", backend="redis")
                return self.redis
        return self.memory

    def _degrade(self, exc: BaseException) -> None:
        if self._redis_ok:
            self._redis_ok = False
            self._retry_at = time.monotonic() + REDIS_RETRY_SECONDS
            RATE_LIMIT_SHARED.set(0)
            log.error(
                "rate_limit_shared_lost",
                backend="memory",
                error=type(exc).__name__,
                detail="Redis unreachable: counting per process until it answers again",
            )
