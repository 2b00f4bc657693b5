"""Bounded growth: 1,000 alert cycles leave Redis as they found it after the first 100.

Each cycle a rule fires and resolves (one simulated day each), the evaluator records its
events, the notifier's fan-out turns them into one outbox entry per subscriber and delivers
them to a recording sender, on real Redis with an injected clock. A chat subscribes and
/unsubscribes every cycle. Everything kept per event must be gone once it is delivered (or
bounded per chat), so the key count after cycle 1,000 equals the count after cycle 100 and
the memory those keys take (MEMORY USAGE, so other tests on the server do not count) stays
within a small margin.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from redis.asyncio import Redis

from services.alerts.delivery import DeliveryResult
from services.alerts.notifier import Notifier
from services.alerts.outbox import RedisOutbox
from services.alerts.pacing import Pacer
from services.keys import Keys
from services.store import MetricStore
from tests.clock import ManualClock
from tests.helpers import series
from tests.integration.alert_fixtures import alerts_service

pytestmark = [pytest.mark.redis, pytest.mark.timeout(600)]
CYCLES, FIRST = 1_000, 100
CHATS = [f"telegram:{n}" for n in range(5)]
START = date(2020, 1, 1)


@dataclass
class Recorder:
    sent: Counter[str] = field(default_factory=Counter)

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: object = None) -> DeliveryResult:
        self.sent[idempotency_key] += 1
        return DeliveryResult.ok()


async def footprint(redis: Redis, prefix: str) -> tuple[dict[str, int], int]:
    """Keys under `prefix` by kind (the name with ids taken out), and their memory."""
    keys = [str(k) async for k in redis.scan_iter(match=f"{prefix}*", count=1000)]
    kinds = Counter(k.removeprefix(prefix).split(":")[1 if k.startswith(f"{prefix}{{") else 0]
                    for k in keys)
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.memory_usage(key, samples=0)
        sizes = await pipe.execute()
    return dict(kinds), sum(int(s or 0) for s in sizes)


async def test_a_thousand_alert_cycles_leave_keys_and_memory_flat(
        clean_real_redis: Redis, test_prefix: str) -> None:
    redis, keys = clean_real_redis, Keys(test_prefix)
    service = alerts_service(redis, test_prefix, ("up", "btc.price above 100 resolved=on"),
                             max_per_day=5)
    for chat in CHATS:
        await service.subscribe(chat, "all")
    store = MetricStore(redis, Keys(test_prefix + "m:"))
    evaluator = service.evaluator(store)
    outbox, sender, clock = RedisOutbox(redis, keys), Recorder(), ManualClock()
    notifier = Notifier(outbox, {"telegram": sender}, Pacer({}, clock=clock),
                        consumer="w", on_gone=service.park_destination,
                        on_migrated=service.move_destination, clock=clock,
                        fanout=service.fanout(outbox, "w", batch_size=2))
    after_first: tuple[dict[str, int], int] = ({}, 0)
    for cycle in range(CYCLES):
        passer_by = f"telegram:9{cycle % 7}"  # subscribes, sees one alert, unsubscribes
        await service.subscribe(passer_by, "all")
        for offset, price in ((0, 104.0), (1, 90.0)):  # fires, then resolves a day later
            day = START + timedelta(days=2 * cycle + offset)
            await store.save_history({"BTC": series("BTC", {
                (day - timedelta(days=1)).isoformat(): 95.0, day.isoformat(): price},
                "Coinbase")})
            await evaluator.evaluate(datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
            expected = len(CHATS) + (offset == 0)
            assert await notifier.drain_once() == expected, f"cycle {cycle}"
            if offset == 0:
                await service.unsubscribe(passer_by, "all")
        if cycle + 1 == FIRST:
            after_first = await footprint(redis, test_prefix)
    kinds, memory = await footprint(redis, test_prefix)
    assert sum(sender.sent.values()) == CYCLES * (2 * len(CHATS) + 1)
    assert set(sender.sent.values()) == {1}  # each delivery once
    assert kinds == after_first[0]  # the same keys, kind by kind
    assert memory <= after_first[1] * 1.05 + 2048, (memory, after_first[1])
