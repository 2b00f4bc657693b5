"""The notifier against real Redis and a local HTTP stand-in of the platforms."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

import aiohttp
import pytest
from redis.asyncio import Redis

from services.alerts.attempts import NotifierSettings
from services.alerts.events import AlertEvent
from services.alerts.heartbeat import Heartbeat
from services.alerts.notifier import Notifier
from services.alerts.outbox import RedisOutbox
from services.alerts.outcomes import AlreadySent, DeliveryCounts, Final, Sent
from services.alerts.pacing import Pacer, PlatformLimits, Rate
from services.clock import SYSTEM_CLOCK, Clock
from services.keys import Keys
from tests.clock import ManualClock
from tests.helpers import untouched_for
from tests.http_sender import HttpSender
from tests.integration.delivery_standin import (
    DeliveryStandin,
    forbidden,
    migrated,
    rate_limited,
    server_error,
)
from tests.waiting import until, until_async

FAST = NotifierSettings(min_idle_ms=300, lease_ms=2500, send_timeout_s=2.0, backoff_s=0.01,
                        block_ms=100)


def event(n: int, destination: str = "telegram:100") -> AlertEvent:
    return AlertEvent(f"ev{n}", "r1", "firing", destination, f"alert {n}",
                      "2026-05-29T10:00:00+00:00")


def key(e: AlertEvent) -> str:
    return f"{e.event_id}:{e.destination}"


@dataclass
class Rig:
    outbox: RedisOutbox
    standin: DeliveryStandin
    session: aiohttp.ClientSession
    gone: list[str] = field(default_factory=list)
    moves: list[tuple[str, str]] = field(default_factory=list)

    def notifier(self, settings: NotifierSettings = FAST, pacer: Pacer | None = None,
                 clock: Clock = SYSTEM_CLOCK) -> Notifier:
        senders = {p: HttpSender(self.session, self.standin.url, p)
                   for p in ("telegram", "discord")}
        return Notifier(self.outbox, senders, pacer or Pacer({}), consumer="w1",
                        on_gone=self._on_gone, on_migrated=self._on_migrated, settings=settings,
                        clock=clock)

    async def append(self, *events: AlertEvent) -> None:
        await self.outbox.ensure_group()
        for e in events:
            await self.outbox.append(e)

    async def _on_gone(self, destination: str) -> None:
        self.gone.append(destination)

    async def _on_migrated(self, old: str, new: str) -> None:
        self.moves.append((old, new))


@pytest.fixture
async def rig(clean_real_redis: Redis, test_prefix: str) -> AsyncIterator[Rig]:
    async with DeliveryStandin() as standin, aiohttp.ClientSession() as session:
        yield Rig(RedisOutbox(clean_real_redis, Keys(test_prefix)), standin, session)


async def test_each_event_is_sent_once_and_acked(rig: Rig) -> None:
    events = [event(1), event(2, "discord:55"), event(3, "telegram:-100")]
    await rig.append(*events)
    assert await rig.notifier().drain_once() == 3
    assert sorted(r.key for r in rig.standin.received) == sorted(map(key, events))
    assert await rig.outbox.pending_count() == 0
    assert await rig.notifier().drain_once() == 0
    assert len(rig.standin.received) == 3


def outcomes(notifier: Notifier) -> list[Final]:
    return [outcome for _, outcome in notifier.recent]


async def test_an_entry_delivered_by_another_worker_is_not_sent_again(rig: Rig) -> None:
    """A worker stalls holding an entry; another reclaims and delivers it (deleting it and
    its lease: nothing is kept per delivered event). The stalled one wakes and finds the
    entry gone from the outbox: it only acknowledges."""
    await rig.append(event(1))
    [held] = await rig.outbox.read("stalled", count=10)
    await untouched_for(rig.outbox, "stalled", FAST.min_idle_ms + 50)
    notifier = rig.notifier()
    assert await notifier.drain_once() == 1
    assert outcomes(notifier) == [Sent()]
    assert not await rig.outbox.redis.exists(rig.outbox.keys.alert_sent("ev1", "telegram:100"))
    assert await rig.notifier().delivery.deliver(held) == (AlreadySent(), 0)
    assert [r.key for r in rig.standin.received] == [key(event(1))]
    assert notifier.counts == DeliveryCounts(sent=1)
    assert await rig.outbox.pending_count() == 0


async def test_a_fresh_entry_of_another_worker_is_not_reclaimed(rig: Rig) -> None:
    await rig.append(event(1))
    await rig.outbox.read("alive", count=10)  # another worker is on it
    await Heartbeat(rig.outbox.redis, rig.outbox.keys, "alive").beat()
    assert await rig.notifier(replace(FAST, min_idle_ms=60_000)).drain_once() == 0
    assert rig.standin.received == []
    assert await rig.outbox.pending_count() == 1


async def test_lease_of_a_stuck_worker_is_waited_out(rig: Rig) -> None:
    """A worker whose heartbeat still beats but that stopped touching its entry: the entry
    is reclaimed after `min_idle_ms`, and its send lease is waited out."""
    await rig.append(event(1))
    await rig.outbox.read("stuck", count=10)
    await Heartbeat(rig.outbox.redis, rig.outbox.keys, "stuck", ttl_ms=600_000).beat()
    await rig.outbox.lease(event(1), "stuck:abc", 60_000)  # it stalled while sending
    await untouched_for(rig.outbox, "stuck", FAST.min_idle_ms + 50)
    clock = ManualClock()
    notifier = rig.notifier(clock=clock)
    drain = asyncio.create_task(notifier.drain_once())
    # The reclaiming worker finds the lease busy and waits (on its clock) for it to end.
    await until(lambda: any(w > 50 for w in clock.waits()))
    assert rig.standin.received == []  # not before the stuck worker's lease ran out
    await rig.outbox.lease(event(1), "stuck:abc", 0)  # ...which it now has
    clock.advance(60)
    assert await drain == 1
    [received] = rig.standin.received
    assert received.key == key(event(1))
    assert outcomes(notifier) == [Sent(possible_repeat=True)]


async def test_a_dead_workers_entry_and_lease_are_taken_over_at_once(rig: Rig) -> None:
    """No heartbeat: the worker is dead. Its entry is claimed without waiting for it to go
    idle, and its send lease (a minute long) is void: the entry goes out without the
    notifier's clock moving at all."""
    await rig.append(event(1))
    await rig.outbox.read("crashed", count=10)
    await rig.outbox.lease(event(1), "crashed:abc:1-0", 60_000)  # it died while sending
    notifier = rig.notifier(replace(FAST, min_idle_ms=600_000), clock=ManualClock())
    assert await asyncio.wait_for(notifier.drain_once(), 30) == 1
    assert [r.key for r in rig.standin.received] == [key(event(1))]
    assert outcomes(notifier) == [Sent(possible_repeat=True)]
    assert notifier.counts == DeliveryCounts(sent=1, possible_repeats=1)
    assert await rig.outbox.pending_count() == 0


class LosesFirstAck(RedisOutbox):
    """The outbox as a failover leaves it: the first "sent and acked" write was accepted by
    a master that died before its replica had it, so the entry is pending again."""

    lost = 0

    async def mark_sent_and_ack(self, entry_id: str, event: AlertEvent) -> None:
        if not self.lost:
            self.lost += 1
            return
        await super().mark_sent_and_ack(entry_id, event)


async def test_a_worker_taking_back_its_own_entry_reports_a_possible_repeat(
        rig: Rig, test_prefix: str) -> None:
    """The same worker hands its own entry out again (its ack was lost): the lease its
    earlier hand-out left is a take-over, and the send is recorded as a possible repeat."""
    rig.outbox = LosesFirstAck(rig.outbox.redis, Keys(test_prefix))
    await rig.append(event(1))
    notifier = rig.notifier()
    assert await notifier.drain_once() == 1
    assert await rig.outbox.pending_count() == 1  # the ack was lost
    await untouched_for(rig.outbox, "w1", FAST.min_idle_ms + 50)
    assert await asyncio.wait_for(notifier.drain_once(), 30) == 1  # no lease waited out
    assert outcomes(notifier) == [Sent(), Sent(possible_repeat=True)]
    assert [r.key for r in rig.standin.received] == [key(event(1))] * 2
    assert await rig.outbox.pending_count() == 0


async def test_retry_after_is_honoured_and_nothing_is_lost(rig: Rig) -> None:
    rig.standin.script("100", rate_limited(0.3))
    await rig.append(event(1), event(2), event(3, "telegram:200"))
    paced = Pacer({"telegram": PlatformLimits(per_chat=Rate(1, 0.05))})
    await rig.notifier(pacer=paced).drain_once()
    to_100 = [r for r in rig.standin.received if r.chat_id == "100"]
    assert [r.status for r in to_100] == [429, 200, 200]
    assert to_100[1].at - to_100[0].at >= 0.28
    [to_200] = [r for r in rig.standin.received if r.chat_id == "200"]
    assert to_200.at < to_100[1].at  # the pause was for that chat only
    assert {r.key for r in rig.standin.delivered()} == {key(event(n)) for n in (1, 2)} | {
        key(event(3, "telegram:200"))}
    assert await rig.outbox.dead_letters() == []


async def test_server_errors_are_retried_then_dead_lettered(rig: Rig) -> None:
    rig.standin.script("100", *[server_error()] * 3)
    rig.standin.script("200", server_error(), server_error())
    await rig.append(event(1), event(2, "telegram:200"))
    notifier = rig.notifier(replace(FAST, max_attempts=3))
    await notifier.drain_once()
    assert notifier.counts == DeliveryCounts(sent=1, dead_lettered=1)
    assert [r.status for r in rig.standin.received if r.chat_id == "100"] == [502] * 3
    assert [r.key for r in rig.standin.delivered()] == [key(event(2, "telegram:200"))]
    [letter] = await rig.outbox.dead_letters()
    assert letter.event == event(1)
    assert letter.reason == "3 failed attempts; last: Bad Gateway"
    assert await rig.outbox.pending_count() == 0


async def test_send_timeouts_count_as_failures(rig: Rig) -> None:
    rig.standin.delay_s = 0.3  # slower than the send timeout
    await rig.append(event(1))
    await rig.notifier(replace(FAST, send_timeout_s=0.1, max_attempts=2)).drain_once()
    assert len(rig.standin.received) == 2  # (a timed-out send may still have arrived)
    [letter] = await rig.outbox.dead_letters()
    assert letter.reason == "2 failed attempts; last: send timed out"


async def test_blocked_chat_is_reported_gone(rig: Rig) -> None:
    rig.standin.script("100", forbidden())
    await rig.append(event(1))
    notifier = rig.notifier()
    await notifier.drain_once()
    assert notifier.counts == DeliveryCounts(gone=1)
    assert rig.gone == ["telegram:100"]
    assert rig.standin.delivered() == []
    assert await rig.outbox.pending_count() == 0
    assert await rig.outbox.dead_letters() == []


async def test_migrated_group_is_sent_to_its_new_id(rig: Rig) -> None:
    rig.standin.script("-100", migrated("-1009"))
    await rig.append(event(1, "telegram:-100"))
    await rig.notifier().drain_once()
    assert rig.moves == [("telegram:-100", "telegram:-1009")]
    [sent] = rig.standin.delivered()
    assert (sent.chat_id, sent.key) == ("-1009", "ev1:telegram:-100")


async def test_failing_platform_does_not_delay_the_other(rig: Rig) -> None:
    rig.standin.failing["discord"] = server_error()
    events = [event(n, f"{p}:{n}") for n in range(20) for p in ("discord", "telegram")]
    await rig.append(*events)
    stop = asyncio.Event()
    task = asyncio.create_task(rig.notifier(replace(FAST, backoff_s=0.1)).run(stop))
    await until(lambda: len(rig.standin.delivered("telegram")) == 20)
    assert await rig.outbox.dead_letters() == []  # discord is still being retried
    await until_async(lambda: dead_letters_reach(rig.outbox, 20))
    stop.set()
    await task
    assert len(await rig.outbox.dead_letters(limit=50)) == 20
    assert len(rig.standin.received) == 20 + 20 * FAST.max_attempts


async def test_pacing_keeps_per_chat_and_group_limits(rig: Rig) -> None:
    limits = PlatformLimits(overall=Rate(200, 1.0), per_chat=Rate(1, 0.2),
                            per_group=Rate(2, 0.6))
    events = [event(n, d) for n in range(4) for d in ("telegram:7", "telegram:-5")]
    await rig.append(*events)
    await rig.notifier(pacer=Pacer({"telegram": limits})).drain_once()
    times = {chat: [r.at for r in rig.standin.delivered() if r.chat_id == chat]
             for chat in ("7", "-5")}
    for chat, spacing in (("7", 0.2), ("-5", 0.3)):
        assert len(times[chat]) == 4
        assert min(b - a for a, b in itertools.pairwise(times[chat])) >= spacing - 0.03
    assert times["-5"][0] < times["7"][-1]  # the two chats were paced side by side


async def dead_letters_reach(outbox: RedisOutbox, count: int) -> bool:
    return len(await outbox.dead_letters(limit=50)) >= count
