"""Leader election on one Redis key, so exactly one collector/evaluator runs at a time.

The leader holds `leader_lock(role)` (set when absent, with a TTL) and renews it every
ttl/3, but only while the value is still its own id; it steps down (cancelling its work) the
moment a renewal fails. A lock still holding this process's own id (a renewal lost in a
Redis outage that kept the key) is taken back at once: nobody else can hold it. Followers
retry every ttl/5, so when a leader dies another takes over at most ttl + ttl/5 after the
dead leader's last renewal.

Fencing: the lock alone is advisory (a leader frozen past its TTL, SIGSTOP or a long pause,
wakes up still believing it leads). So every write the leader makes is fenced (`fence()`):
`check()` refuses locally once the lock's TTL has run out since the last renewal that
Redis confirmed (measured from before that renewal was sent, on the monotonic clock, so it
expires no later than the key), and the evaluator's commit script also compares the lock's
value with this process's token. A frozen leader that wakes writes nothing and stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.clock import SYSTEM_CLOCK, Clock, wait_any, wait_event
from services.keys import Keys

logger = logging.getLogger(__name__)

_ACQUIRE = """
local holder = redis.call('get', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class LeaderLost(RuntimeError):
    """A fenced write refused: the lock is no longer this process's."""


@dataclass(frozen=True)
class Fence:
    """The leader's lock key and token, and the local check of its lease."""

    key: str
    token: str
    check: Callable[[], None]  # raises LeaderLost once the lease may have run out


class LeaderLock:
    def __init__(self, redis: Redis, keys: Keys, role: str, owner_id: str,
                 ttl_ms: int = 10_000, clock: Clock = SYSTEM_CLOCK) -> None:
        self.redis, self.role, self.owner_id, self.ttl_ms = redis, role, owner_id, ttl_ms
        self.clock = clock
        self.leading = False  # while this process runs the leader's work
        self.key = keys.leader_lock(role)
        self.clock = clock
        self._valid_until = 0.0  # monotonic: the lease surely holds until then
        self.drain_s = 0.0  # on stop, how long work in hand may run on (while the lease holds)
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def acquire(self) -> bool:
        """Take the lock if it is free or already ours."""
        sent = self.clock.monotonic()
        held = bool(await self._acquire(keys=[self.key], args=[self.owner_id, self.ttl_ms]))
        self._valid_until = sent + self.ttl_ms / 1000 if held else 0.0
        return held

    async def renew(self) -> bool:
        """Extend the lock if it is still ours."""
        sent = self.clock.monotonic()
        held = bool(await self._renew(keys=[self.key], args=[self.owner_id, self.ttl_ms]))
        self._valid_until = sent + self.ttl_ms / 1000 if held else 0.0
        return held

    async def release(self) -> bool:
        """Give the lock up if it is still ours."""
        self._valid_until = 0.0
        return bool(await self._release(keys=[self.key], args=[self.owner_id]))

    def check(self) -> None:
        """Raise LeaderLost unless the lease surely still holds (no Redis round trip)."""
        if self.clock.monotonic() >= self._valid_until:
            raise LeaderLost(f"leader lock {self.role} lapsed for {self.owner_id}")

    def fence(self) -> Fence:
        return Fence(self.key, self.owner_id, self.check)

    async def holder(self) -> str | None:
        value = await self.redis.get(self.key)
        return None if value is None else str(value)

    async def run_as_leader(self, work: Callable[[], Awaitable[None]],
                            stop: asyncio.Event) -> None:
        """Run `work` whenever this process leads, until `stop` is set or `work` returns.

        Losing the lock cancels `work`; this process then waits to lead again.
        """
        while not stop.is_set():
            if await self._safely(self.acquire) and await self._lead(work, stop):
                return
            await wait_event(self.clock, stop, self.ttl_ms / 5000)

    async def _lead(self, work: Callable[[], Awaitable[None]], stop: asyncio.Event) -> bool:
        """Run `work` while renewing; True when it finished by itself or on stop."""
        logger.info("leader acquired role=%s owner=%s", self.role, self.owner_id)
        task: asyncio.Future[None] = asyncio.ensure_future(work())
        self.leading = True
        try:
            finished = await self._hold(task, stop)
            if finished and not task.done() and self.drain_s > 0:  # let the pass finish
                await wait_any(self.clock, max(0.0, min(
                    self.drain_s, self._valid_until - self.clock.monotonic())), task)
        finally:
            task.cancel()
            await asyncio.wait([task])  # the work has stopped before anyone else may lead
            self.leading = False
            await self._safely(self.release)
        if finished and not task.cancelled() and (error := task.exception()) is not None:
            raise error
        return finished

    async def _hold(self, task: asyncio.Future[None], stop: asyncio.Event) -> bool:
        stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        try:
            while True:
                left = self._valid_until - self.clock.monotonic()
                await wait_any(self.clock, max(0.0, min(self.ttl_ms / 3000, left)), task,
                               stopping)
                if task.done() or stop.is_set():
                    return True
                if self.clock.monotonic() >= self._valid_until:  # frozen past the TTL
                    logger.warning("leader lost role=%s owner=%s (lease lapsed)", self.role,
                                   self.owner_id)
                    return False
                if not await self._safely(self.renew):
                    logger.warning("leader lost role=%s owner=%s", self.role, self.owner_id)
                    return False
        finally:
            stopping.cancel()
            await asyncio.wait([stopping])

    async def _safely(self, step: Callable[[], Awaitable[bool]]) -> bool:
        try:
            return await step()
        except RedisError as exc:  # cannot tell: act as if not leading
            logger.warning("leader lock role=%s %s failed: %s", self.role, step.__name__, exc)
            return False
