"""A leader frozen past its lock's TTL (SIGSTOP 25 s) does no work once it wakes.

The finding: the frozen collector logged "leader lost" yet went on collecting and
evaluating beside the new leader, and left the lock empty when that leader stopped. Now
every leader write is fenced: `Fence.check` refuses locally once the lease may have run out
(the monotonic clock, which keeps running while a process is stopped, says how long it was
away), the evaluator's commit script compares the lock with the token, and the leader loop
steps down, without touching the new leader's lock.

The freeze is modelled on an injected clock (the monotonic clock jumps by 25 s, as it does
across SIGSTOP) and by expiring the key in Redis; real Redis throughout.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from services.alerts.leader import LeaderLock, LeaderLost
from services.keys import Keys
from services.store import MetricStore, Snapshot
from tests.clock import ManualClock
from tests.integration.alert_fixtures import alerts_service, save_btc
from tests.waiting import until

pytestmark = pytest.mark.redis
TTL_MS = 10_000
NOW = datetime(2024, 1, 3, 12, tzinfo=UTC)


def snapshot() -> Snapshot:
    return Snapshot(family="btc", asof="2024-01-03", computed_at="", sources=(),
                    stale=False, stale_reason="", payload={})


async def test_a_frozen_leader_writes_nothing_after_its_lock_is_gone(
        clean_real_redis: Redis, test_prefix: str) -> None:
    redis, keys, clock = clean_real_redis, Keys(test_prefix), ManualClock()
    service = alerts_service(redis, test_prefix, ("up", "btc.price above 100"))
    await service.subscribe("telegram:1", "all")
    await save_btc(redis, test_prefix, {"2024-01-02": 90, "2024-01-03": 104})
    frozen = LeaderLock(redis, keys, "collector", "frozen", ttl_ms=TTL_MS, clock=clock)
    assert await frozen.acquire()
    fence = frozen.fence()
    fence.check()  # leading: writes allowed

    clock.now += 25  # SIGSTOP 25 s: its clock moved on while it was stopped...
    await redis.delete(frozen.key)  # ...its key expired in Redis...
    successor = LeaderLock(redis, keys, "collector", "successor", ttl_ms=TTL_MS)
    assert await successor.acquire()  # ...and another process leads now

    store = MetricStore(redis, Keys(test_prefix + "m:"))
    store.write_guard = fence.check
    with pytest.raises(LeaderLost):
        await store.save_snapshot(snapshot())  # a collection in hand stops at its write
    assert await store.load_snapshot("btc") is None
    evaluator = service.evaluator(MetricStore(redis, Keys(test_prefix + "m:")))
    with pytest.raises(LeaderLost):
        await evaluator.evaluate(NOW, fence)
    assert await redis.xlen(keys.alert_rule_events()) == 0  # no alert from the old leader
    assert not await redis.hgetall(keys.alert_rule_state())
    assert await successor.holder() == "successor"


async def test_the_token_is_checked_in_redis_even_when_the_clock_says_all_is_well(
        clean_real_redis: Redis, test_prefix: str) -> None:
    """A pause the local clock cannot see (a VM frozen whole): the commit script itself
    compares the lock's value with the token."""
    redis, keys = clean_real_redis, Keys(test_prefix)
    service = alerts_service(redis, test_prefix, ("up", "btc.price above 100"))
    await service.subscribe("telegram:1", "all")
    await save_btc(redis, test_prefix, {"2024-01-02": 90, "2024-01-03": 104})
    old = LeaderLock(redis, keys, "collector", "old", ttl_ms=TTL_MS, clock=ManualClock())
    assert await old.acquire()
    await redis.set(old.key, "new", px=TTL_MS)  # taken over behind its back
    evaluator = service.evaluator(MetricStore(redis, Keys(test_prefix + "m:")))
    with pytest.raises(LeaderLost):
        await evaluator.evaluate(NOW, old.fence())
    assert await redis.xlen(keys.alert_rule_events()) == 0
    assert await redis.get(old.key) == "new"


async def test_a_leader_waking_past_its_ttl_stops_its_work_and_leaves_the_new_lock(
        clean_real_redis: Redis, test_prefix: str) -> None:
    redis, keys, clock = clean_real_redis, Keys(test_prefix), ManualClock()
    frozen = LeaderLock(redis, keys, "collector", "frozen", ttl_ms=TTL_MS, clock=clock)
    stopped = asyncio.Event()

    async def work() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    stop = asyncio.Event()
    run = asyncio.create_task(frozen.run_as_leader(work, stop))
    await until(lambda: frozen.leading and clock.sleepers >= 1)
    await redis.set(frozen.key, "successor", px=TTL_MS)  # expired and taken meanwhile
    clock.advance(25)  # it wakes 25 s later
    await until(stopped.is_set)
    assert not frozen.leading
    assert await redis.get(frozen.key) == "successor"  # the new leader's lock is left alone
    stop.set()
    clock.advance(TTL_MS / 1000)
    await run
