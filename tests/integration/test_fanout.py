"""Evaluator -> rule event -> fan-out -> outbox -> notifier, on real Redis and embedded.

One event per rule transition, one entry per subscriber, each delivered once; what was
delivered is gone from both streams (bounded growth); evaluating again changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import fakeredis
import pytest
from redis.asyncio import Redis

from services.alerts.delivery import DeliveryResult, Sender
from services.alerts.events import AlertEvent
from services.alerts.notifier import Notifier
from services.alerts.outbox import RedisOutbox
from services.alerts.pacing import Pacer
from services.alerts.service import AlertService
from services.keys import Keys
from services.store import MetricStore
from tests.conftest import connect_real_redis, drop_prefix
from tests.integration.alert_fixtures import alerts_service, save_btc

NOW = datetime(2024, 1, 3, 12, tzinfo=UTC)
RULES = [("up", "btc.price above 100"), ("down", "btc.price below 50")]


@dataclass
class Recorder:
    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: object = None) -> DeliveryResult:
        self.sent.append((chat_id, idempotency_key))
        return DeliveryResult.ok()


@pytest.fixture(params=["real", "embedded"])
async def redis(request: pytest.FixtureRequest, test_prefix: str) -> AsyncIterator[Redis]:
    if request.param == "real":
        client = await connect_real_redis()
        yield client
        await drop_prefix(client, test_prefix)
    else:
        client = fakeredis.FakeAsyncRedis(decode_responses=True)
        yield client
    await client.aclose()


def notifier(service: AlertService, outbox: RedisOutbox, sender: Sender,
             batch: int) -> Notifier:
    return Notifier(outbox, {"telegram": sender}, Pacer({}), consumer="w",
                    on_gone=service.drop_destination, on_migrated=service.move_destination,
                    fanout=service.fanout(outbox, "w", batch_size=batch))


async def test_one_event_per_transition_fanned_out_once_then_removed(
        redis: Redis, test_prefix: str) -> None:
    service = alerts_service(redis, test_prefix, *RULES)
    chats = [f"telegram:{n}" for n in range(57)]
    for chat in chats:
        await service.subscribe(chat, "all")
    await save_btc(redis, test_prefix, {"2024-01-02": 90, "2024-01-03": 104})
    evaluator = service.evaluator(MetricStore(redis, Keys(test_prefix + "m:")))
    events = await evaluator.evaluate(NOW)
    assert [(e.rule_id, e.kind) for e in events] == [("up", "firing")]  # one, not 57
    keys = Keys(test_prefix)
    assert await redis.xlen(keys.alert_rule_events()) == 1
    outbox, sender = RedisOutbox(redis, keys), Recorder()
    assert await notifier(service, outbox, sender, batch=10).drain_once() == len(chats)
    assert sorted(sender.sent) == sorted((c.split(":")[1], f"{events[0].event_id}:{c}")
                                         for c in chats)
    # delivered entries are deleted, the rule event too, with its cursor and audience
    assert await redis.xlen(keys.alert_outbox()) == 0
    assert await redis.xlen(keys.alert_rule_events()) == 0
    assert not await redis.keys(keys.alert_fanout_audience("*"))
    assert not await redis.keys(keys.alert_fanout_progress("*"))
    assert await evaluator.evaluate(NOW) == []  # edge-triggered, and nothing re-emitted
    assert await notifier(service, outbox, sender, batch=10).drain_once() == 0
    assert len(sender.sent) == len(chats)


async def test_a_dead_workers_fan_out_is_continued_where_it_stopped(
        redis: Redis, test_prefix: str) -> None:
    service = alerts_service(redis, test_prefix, *RULES)
    for n in range(30):
        await service.subscribe(f"telegram:{n}", "all")
    await save_btc(redis, test_prefix, {"2024-01-02": 90, "2024-01-03": 104})
    await service.evaluator(MetricStore(redis, Keys(test_prefix + "m:"))).evaluate(NOW)
    keys = Keys(test_prefix)
    outbox = RedisOutbox(redis, keys)
    first = service.fanout(outbox, "a", batch_size=7)
    first.stopping = True  # it stops after its first batch...
    assert len(await first.drain_once()) == 7
    await redis.delete(keys.alert_heartbeat("a"))  # ...and dies
    [(entry_id, fields)] = await redis.xrange(keys.alert_rule_events())
    second = service.fanout(outbox, "b", batch_size=7)
    assert len(await second.drain_once()) == 23  # from where the first one stopped
    rows = await redis.xrange(keys.alert_outbox())
    assert sorted(AlertEvent.from_fields(f).destination for _, f in rows) == sorted(
        f"telegram:{n}" for n in range(30))
    first.stopping = False
    assert await first.fan_out(entry_id, fields) == []  # a zombie finds it done
    assert await redis.xrange(keys.alert_outbox()) == rows
