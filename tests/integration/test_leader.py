"""Leader election against real Redis: one leader, takeover within one lock expiry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from services.alerts.leader import LeaderLock
from services.keys import Keys
from tests.integration.delivery_standin import wait_until

TTL_MS = 600


def lock(redis: Redis, prefix: str, owner: str) -> LeaderLock:
    return LeaderLock(redis, Keys(prefix), "evaluator", owner, ttl_ms=TTL_MS)


class Work:
    """Leader work that records who was active when, and never ends by itself."""

    def __init__(self) -> None:
        self.active: set[str] = set()
        self.most_active = 0
        self.started: dict[str, float] = {}
        self.cancelled: dict[str, float] = {}

    def for_owner(self, owner: str) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            self.active.add(owner)
            self.most_active = max(self.most_active, len(self.active))
            self.started[owner] = time.monotonic()
            try:
                await asyncio.Event().wait()
            finally:
                self.active.discard(owner)
                self.cancelled[owner] = time.monotonic()
        return work


async def test_only_the_owner_holds_renews_and_releases(matrix_redis: Redis,
                                                        test_prefix: str) -> None:
    a, b = lock(matrix_redis, test_prefix, "a"), lock(matrix_redis, test_prefix, "b")
    assert await a.acquire()
    assert not await b.acquire()
    assert not await b.renew()
    assert not await b.release()
    assert await a.holder() == "a"
    assert await a.renew()
    assert await a.release()
    assert await b.acquire()


async def test_a_lock_still_holding_its_own_id_is_taken_back_at_once(
        matrix_redis: Redis, test_prefix: str) -> None:
    """A leader whose renewal failed in a Redis outage finds its own id still there (AOF
    kept the key): it leads again without waiting for the lock to expire; others still
    cannot."""
    a, b = lock(matrix_redis, test_prefix, "a"), lock(matrix_redis, test_prefix, "b")
    assert await a.acquire()
    await asyncio.sleep(TTL_MS / 2000)
    assert await a.acquire()
    key = Keys(test_prefix).leader_lock("evaluator")
    assert TTL_MS * 0.8 < await matrix_redis.pttl(key) <= TTL_MS  # a fresh TTL
    assert not await b.acquire()
    assert await a.holder() == "a"


async def test_follower_takes_over_within_one_expiry(matrix_redis: Redis,
                                                     test_prefix: str) -> None:
    dead = lock(matrix_redis, test_prefix, "dead")
    assert await dead.acquire()  # then never renews: the process died
    acquired_at = time.monotonic()
    work, stop = Work(), asyncio.Event()
    follower = asyncio.create_task(
        lock(matrix_redis, test_prefix, "b").run_as_leader(work.for_owner("b"), stop))
    await wait_until(lambda: "b" in work.started)
    takeover = work.started["b"] - acquired_at
    assert TTL_MS / 1000 - 0.05 < takeover < TTL_MS / 1000 * 1.2 + 0.1
    stop.set()
    await follower
    assert "b" in work.cancelled
    assert await matrix_redis.get(Keys(test_prefix).leader_lock("evaluator")) is None


async def test_two_runners_never_lead_together_and_hand_over_on_stop(
        matrix_redis: Redis, test_prefix: str) -> None:
    work, stop_a, stop_b = Work(), asyncio.Event(), asyncio.Event()
    run_a = asyncio.create_task(
        lock(matrix_redis, test_prefix, "a").run_as_leader(work.for_owner("a"), stop_a))
    await asyncio.sleep(0.05)
    run_b = asyncio.create_task(
        lock(matrix_redis, test_prefix, "b").run_as_leader(work.for_owner("b"), stop_b))
    await asyncio.sleep(TTL_MS / 1000 * 2)  # several renewals
    assert work.active == {"a"}
    stop_a.set()
    await run_a
    await wait_until(lambda: "b" in work.started)
    assert work.started["b"] - work.cancelled["a"] < TTL_MS / 1000 / 5 + 0.1
    stop_b.set()
    await run_b
    assert work.most_active == 1


async def test_leader_that_loses_the_lock_stops_its_work(matrix_redis: Redis,
                                                         test_prefix: str) -> None:
    work, stop = Work(), asyncio.Event()
    a = lock(matrix_redis, test_prefix, "a")
    run_a = asyncio.create_task(a.run_as_leader(work.for_owner("a"), stop))
    await wait_until(lambda: "a" in work.started)
    await matrix_redis.set(a.key, "intruder", px=5000)  # a paused past its expiry
    lost_at = time.monotonic()
    await wait_until(lambda: "a" in work.cancelled)
    assert work.cancelled["a"] - lost_at < TTL_MS / 1000 / 3 + 0.1
    assert await a.holder() == "intruder"  # stepping down never deletes another's lock
    stop.set()
    await run_a


async def test_work_that_fails_releases_the_lock_and_raises(matrix_redis: Redis,
                                                            test_prefix: str) -> None:
    async def broken() -> None:
        raise RuntimeError("evaluator crashed")

    a = lock(matrix_redis, test_prefix, "a")
    with pytest.raises(RuntimeError, match="evaluator crashed"):
        await a.run_as_leader(broken, asyncio.Event())
    assert await a.holder() is None
