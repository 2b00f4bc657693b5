"""A Cluster master dies in the middle of a fan-out: nothing is lost, and only the sends in
flight when it died may go out twice.

A local Cluster of the test's own (3 masters, 3 replicas; the killed master is not given
back). One rule event, 60 subscribed chats, two workers fanning out and delivering to a
recording stand-in. Mid-way, with the fan-out held after its fourth batch and the sends
that reached the platform held open, the writes so far reach the replica and the master
owning the alert keys (`{a}`) is killed; then everything is let go. redis-server missing
fails the test in CI (tests/redis_topology.py), as for every real-server test.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from services.alerts.attempts import NotifierSettings
from services.alerts.delivery import DeliveryResult
from services.alerts.events import AlertEvent
from services.alerts.fanout import Progress
from services.alerts.notifier import Notifier
from services.alerts.outbox import RedisOutbox
from services.alerts.outcomes import Sent
from services.alerts.pacing import Pacer
from services.keys import Keys
from services.redis_client import connect_redis
from services.store import MetricStore
from tests.integration.alert_fixtures import alerts_service, save_btc
from tests.redis_topology import Cluster, running_cluster
from tests.waiting import until, until_async

pytestmark = [pytest.mark.redis, pytest.mark.timeout(180)]
CHATS = [f"telegram:{n}" for n in range(60)]
SETTINGS = NotifierSettings(min_idle_ms=1000, lease_ms=12_000, send_timeout_s=10.0,
                            block_ms=100, backoff_s=0.05, redis_retry_s=0.2)
HELD_AFTER_SENDS, HELD_AFTER_BATCHES = 10, 4


@dataclass
class Platform:
    """Records every send as it reaches the platform; once `HELD_AFTER_SENDS` have, later
    ones are held open (in flight) until `resume`."""

    resume: asyncio.Event = field(default_factory=asyncio.Event)
    sent: list[str] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)
    platform: str = "telegram"

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: object = None) -> DeliveryResult:
        self.sent.append(idempotency_key)
        if len(self.sent) > HELD_AFTER_SENDS and not self.resume.is_set():
            self.in_flight.append(idempotency_key)
            await self.resume.wait()
        return DeliveryResult.ok()


@dataclass
class HeldFanOut:
    """The outbox as the fan-out's sink, holding it after a few batches until `resume`."""

    outbox: RedisOutbox
    resume: asyncio.Event
    batches: int = 0

    async def append_batch(self, events: list[AlertEvent], progress: Progress) -> bool:
        if self.batches >= HELD_AFTER_BATCHES:
            await self.resume.wait()
        written = await self.outbox.append_batch(events, progress)
        self.batches += written
        return written


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[Cluster, Redis]]:
    with running_cluster(tmp_path) as started:
        client = connect_redis(started.url)
        await client.ping()
        try:
            yield started, client
        finally:
            await client.aclose()


async def caught_up(master: Redis) -> bool:
    """The master's replica has every write the master has."""
    info = await master.info("replication")
    replica = info.get("slave0")
    return bool(replica) and int(replica["offset"]) == int(info["master_repl_offset"])


async def test_a_master_killed_mid_fan_out_loses_nothing(
        cluster: tuple[Cluster, Redis], test_prefix: str) -> None:
    topology, redis = cluster
    assert isinstance(redis, RedisCluster)
    keys = Keys(test_prefix)
    service = alerts_service(redis, test_prefix, ("up", "btc.price above 100"))
    for chat in CHATS:
        await service.subscribe(chat, "all")
    await save_btc(redis, test_prefix, {"2024-01-02": 90, "2024-01-03": 104})
    [rule_event] = await service.evaluator(MetricStore(redis, Keys(test_prefix + "m:"))
                                           ).evaluate(datetime(2024, 1, 3, 12, tzinfo=UTC))
    owner = redis.get_node_from_key(keys.alert_outbox())
    master = next(n for n in topology.nodes if n.port == owner.port)
    resume = asyncio.Event()
    platform, outbox = Platform(resume), RedisOutbox(redis, keys)
    sinks = [HeldFanOut(outbox, resume) for _ in range(2)]
    workers = [Notifier(outbox, {"telegram": platform}, Pacer({}), consumer=f"w{n}",
                        on_gone=service.park_destination, on_migrated=service.move_destination,
                        settings=SETTINGS,
                        fanout=service.fanout(sink, f"w{n}", batch_size=5))
               for n, sink in enumerate(sinks)]
    stop = asyncio.Event()
    running = [asyncio.create_task(w.run(stop)) for w in workers]
    try:
        # Mid-way: some sends done (and acknowledged), some in flight, the fan-out held.
        await until(lambda: len(platform.sent) > HELD_AFTER_SENDS
                    and sum(len(w.recent) for w in workers) == HELD_AFTER_SENDS
                    and sum(s.batches for s in sinks) == HELD_AFTER_BATCHES)
        direct = Redis(port=master.port, decode_responses=True)
        try:
            await until_async(lambda: caught_up(direct))
        finally:
            await direct.aclose()
        master.kill()
        resume.set()
        expected = {f"{rule_event.event_id}:{chat}" for chat in CHATS}
        await until(lambda: set(platform.sent) >= expected, within=120,
                    describe=lambda: f"{len(set(platform.sent))} of {len(CHATS)} delivered")
        await until_async(lambda: _drained(outbox), within=60)
    finally:
        stop.set()
        await asyncio.gather(*running, return_exceptions=True)
    assert set(platform.sent) == expected  # nothing lost, nothing else sent
    in_flight = set(platform.in_flight)  # held open when the master died
    repeats = Counter(k for k, n in Counter(platform.sent).items() for _ in range(n - 1))
    assert set(repeats) <= in_flight  # only a send in flight at the kill may go out twice
    assert sum(repeats.values()) <= len(in_flight) <= 2 * SETTINGS.concurrency
    flagged = [o for w in workers for _, o in w.recent
               if isinstance(o, Sent) and o.possible_repeat]
    assert len(flagged) == sum(repeats.values())  # each one recorded as a possible repeat
    assert redis.get_node_from_key(keys.alert_outbox()).port != master.port  # failed over


async def _drained(outbox: RedisOutbox) -> bool:
    return await outbox.pending_count() == 0 and await outbox.redis.xlen(outbox.stream) == 0
