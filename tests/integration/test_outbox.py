"""The outbox stream against real Redis: read, ack, reclaim, touch, markers, dead letters."""

from __future__ import annotations

from redis.asyncio import Redis

from services.alerts.events import AlertEvent
from services.alerts.outbox import Lease, RedisOutbox
from services.keys import Keys
from tests.helpers import untouched_for


def event(n: int, destination: str = "telegram:100") -> AlertEvent:
    return AlertEvent(f"ev{n}", "r1", "firing", destination, f"alert {n}",
                      "2026-05-29T10:00:00+00:00")


async def test_append_read_ack(matrix_redis: Redis, test_prefix: str) -> None:
    outbox = RedisOutbox(matrix_redis, Keys(test_prefix))
    await outbox.append(event(0))  # before the group exists: still delivered
    await outbox.ensure_group()
    await outbox.ensure_group()  # idempotent
    await outbox.append(event(1))
    entries = await outbox.read("a", count=10)
    assert [e.event for e in entries] == [event(0), event(1)]
    assert await outbox.pending_count() == 2
    assert await outbox.read("b", count=10) == []  # each entry goes to one consumer
    await outbox.ack(entries[0].entry_id)
    assert await outbox.pending_count() == 1


async def test_unacked_entry_is_reclaimed_after_min_idle(matrix_redis: Redis,
                                                        test_prefix: str) -> None:
    outbox = RedisOutbox(matrix_redis, Keys(test_prefix))
    await outbox.ensure_group()
    await outbox.append(event(1))
    [taken] = await outbox.read("a", count=10)
    assert await outbox.claim_stale("b", min_idle_ms=60_000, count=10) == []
    await untouched_for(outbox, "a", 60_050)  # a died a minute ago
    [claimed] = await outbox.claim_stale("b", min_idle_ms=60_000, count=10)
    assert (claimed.entry_id, claimed.event, claimed.deliveries) == (taken.entry_id, event(1), 2)


async def test_touched_entry_is_not_reclaimed(matrix_redis: Redis, test_prefix: str) -> None:
    outbox = RedisOutbox(matrix_redis, Keys(test_prefix))
    await outbox.ensure_group()
    await outbox.append(event(1))
    [taken] = await outbox.read("a", count=10)
    await untouched_for(outbox, "a", 60_050)
    await outbox.touch("a", [taken.entry_id])  # a is alive and still on it
    assert await outbox.claim_stale("b", min_idle_ms=60_000, count=10) == []
    [pending] = await outbox.redis.xpending_range(outbox.stream, outbox.group, "-", "+", 10)
    assert pending["consumer"] == "a"


async def test_lease_then_sent_marker(matrix_redis: Redis, test_prefix: str) -> None:
    outbox = RedisOutbox(matrix_redis, Keys(test_prefix))
    await outbox.ensure_group()
    await outbox.append(event(1))
    [entry] = await outbox.read("a", count=10)
    assert await outbox.lease(event(1), "a:1", 5000) == Lease("ours")
    assert await outbox.lease(event(1), "a:1", 5000) == Lease("ours")  # renewed
    busy = await outbox.lease(event(1), "b:2", 5000)
    assert busy.status == "busy" and 4900 < busy.wait_ms <= 5000
    await outbox.release(event(1), "b:2")  # not the holder: no effect
    assert (await outbox.lease(event(1), "b:2", 5000)).status == "busy"
    await outbox.mark_sent_and_ack(entry.entry_id, event(1))
    # Delivered: the entry and its lease are gone; the entry's absence says "sent".
    assert not await outbox.redis.exists(outbox.keys.alert_sent("ev1", "telegram:100"))
    assert await outbox.lease(event(1), "b:2", 5000, entry_id=entry.entry_id) == Lease("sent")
    assert await outbox.pending_count() == 0
    assert await outbox.redis.xlen(outbox.stream) == 0


async def test_expired_lease_is_taken_over_knowingly(matrix_redis: Redis,
                                                    test_prefix: str) -> None:
    outbox = RedisOutbox(matrix_redis, Keys(test_prefix))
    assert await outbox.lease(event(1), "a:1", 60_000) == Lease("ours")
    assert (await outbox.lease(event(1), "b:2", 5000)).status == "busy"
    assert await outbox.lease(event(1), "a:1", 0) == Lease("ours")  # a died; its lease ran out
    assert await outbox.lease(event(1), "b:2", 5000) == Lease("taken-over")
    await outbox.release(event(1), "b:2")
    assert await outbox.lease(event(1), "c:3", 5000) == Lease("ours")  # released: nothing sent


async def test_dead_letter_acks_and_is_listed(matrix_redis: Redis, test_prefix: str) -> None:
    outbox = RedisOutbox(matrix_redis, Keys(test_prefix))
    await outbox.ensure_group()
    for n in range(3):
        await outbox.append(event(n))
    entries = await outbox.read("a", count=10)
    for entry in entries[:2]:
        await outbox.dead_letter(entry.entry_id, entry.event, f"gave up on {entry.entry_id}")
    assert await outbox.pending_count() == 1
    letters = await outbox.dead_letters(limit=1)
    assert [(d.entry_id, d.event) for d in letters] == [(entries[1].entry_id, event(1))]
    assert letters[0].reason == f"gave up on {entries[1].entry_id}"
