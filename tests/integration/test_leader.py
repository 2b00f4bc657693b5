"""Leader election against real Redis: one leader, takeover within one retry of the expiry.

The lock's waits (renewal every ttl/3, followers' retries every ttl/5) run on a manual
clock the tests advance; the lock's expiry in Redis is modelled by changing the key (the
real TTL is long, so a slow machine never lets it lapse by accident).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from services.alerts.leader import LeaderLock
from services.keys import Keys
from tests.clock import ManualClock
from tests.waiting import until, until_async

TTL_MS = 60_000
RENEW_S, RETRY_S = TTL_MS / 3000, TTL_MS / 5000


def lock(redis: Redis, prefix: str, owner: str, clock: ManualClock | None = None
         ) -> LeaderLock:
    return LeaderLock(redis, Keys(prefix), "evaluator", owner, ttl_ms=TTL_MS,
                      clock=clock or ManualClock())


class Work:
    """Leader work that records who was active when (on the manual clock), and never ends
    by itself."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.active: set[str] = set()
        self.most_active = 0
        self.started: dict[str, float] = {}
        self.cancelled: dict[str, float] = {}

    def for_owner(self, owner: str) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            self.active.add(owner)
            self.most_active = max(self.most_active, len(self.active))
            self.started[owner] = self.clock.now
            try:
                await asyncio.Event().wait()
            finally:
                self.active.discard(owner)
                self.cancelled[owner] = self.clock.now
        return work


async def renewed(redis: Redis, key: str) -> bool:
    return bool(await redis.pttl(key) > TTL_MS * 0.8)


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
    key = Keys(test_prefix).leader_lock("evaluator")
    await matrix_redis.pexpire(key, TTL_MS // 4)  # most of its TTL has gone by
    assert await a.acquire()
    assert TTL_MS * 0.8 < await matrix_redis.pttl(key) <= TTL_MS  # a fresh TTL
    assert not await b.acquire()
    assert await a.holder() == "a"


async def test_follower_takes_over_on_its_first_retry_after_the_expiry(
        matrix_redis: Redis, test_prefix: str) -> None:
    clock = ManualClock()
    dead = lock(matrix_redis, test_prefix, "dead")
    assert await dead.acquire()  # then never renews: the process died
    work, stop = Work(clock), asyncio.Event()
    follower = lock(matrix_redis, test_prefix, "b", clock)
    run = asyncio.create_task(follower.run_as_leader(work.for_owner("b"), stop))
    for _ in range(3):  # the lock is still live: retrying never steals it
        await until(lambda: clock.sleepers >= 1)
        clock.advance(RETRY_S)
    await until(lambda: clock.sleepers >= 1)
    assert work.started == {} and not follower.leading
    await matrix_redis.delete(dead.key)  # its TTL ran out
    expired_at = clock.now
    clock.advance(RETRY_S)
    await until(lambda: "b" in work.started)
    assert work.started["b"] - expired_at <= RETRY_S
    assert follower.leading
    stop.set()
    await run
    assert "b" in work.cancelled and not follower.leading
    assert await matrix_redis.get(Keys(test_prefix).leader_lock("evaluator")) is None


async def test_two_runners_never_lead_together_and_hand_over_on_stop(
        matrix_redis: Redis, test_prefix: str) -> None:
    clock = ManualClock()
    work, stop_a, stop_b = Work(clock), asyncio.Event(), asyncio.Event()
    a = lock(matrix_redis, test_prefix, "a", clock)
    run_a = asyncio.create_task(a.run_as_leader(work.for_owner("a"), stop_a))
    await until(lambda: "a" in work.started)
    run_b = asyncio.create_task(
        lock(matrix_redis, test_prefix, "b", clock).run_as_leader(work.for_owner("b"),
                                                                      stop_b))
    for _ in range(4):  # several renewals by a, several retries by b
        await until(lambda: clock.sleepers >= 2)
        await matrix_redis.pexpire(a.key, TTL_MS // 10)  # the TTL runs down...
        clock.advance(RENEW_S)
        await until_async(lambda: renewed(matrix_redis, a.key))  # ...a renews it
        assert work.active == {"a"}
    stop_a.set()
    await run_a
    await until(lambda: clock.sleepers >= 1)  # b waits for its next retry
    clock.advance(RETRY_S)
    await until(lambda: "b" in work.started)
    assert work.started["b"] - work.cancelled["a"] <= RETRY_S
    stop_b.set()
    await run_b
    assert work.most_active == 1


async def test_leader_that_loses_the_lock_stops_its_work_at_its_next_renewal(
        matrix_redis: Redis, test_prefix: str) -> None:
    clock = ManualClock()
    work, stop = Work(clock), asyncio.Event()
    a = lock(matrix_redis, test_prefix, "a", clock)
    run_a = asyncio.create_task(a.run_as_leader(work.for_owner("a"), stop))
    await until(lambda: "a" in work.started and clock.sleepers >= 1)
    await matrix_redis.set(a.key, "intruder", px=TTL_MS)  # a paused past its expiry
    lost_at = clock.now
    clock.advance(RENEW_S)
    await until(lambda: "a" in work.cancelled)
    assert work.cancelled["a"] - lost_at <= RENEW_S
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
