"""Platform-wide pacing on one schedule in Redis shared by every notifier worker.

Each worker (a `Pacer` with a `SharedSchedule`, its own Redis client) stands for a process.
Where possible the asserts are on the slots the schedule handed out (what Redis recorded and
what each instance was told), not on wall-clock sleeps; the few time bounds are one-sided
and generous, since a loaded machine only makes things late.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import statistics
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import aiohttp
import pytest
from redis.asyncio import Redis

from services.alerts.attempts import NotifierSettings
from services.alerts.delivery import DeliveryResult
from services.alerts.events import AlertEvent
from services.alerts.notifier import Notifier
from services.alerts.outbox import RedisOutbox
from services.alerts.pacing import (
    HEADROOM,
    MAX_LATE_SLOTS,
    Pacer,
    PlatformLimits,
    Rate,
    SharedSchedule,
)
from services.clock import SystemClock
from services.keys import Keys
from tests.clock import ManualClock, drive
from tests.conftest import connect_real_redis
from tests.http_sender import HttpSender
from tests.integration.delivery_standin import DeliveryStandin
from tests.waiting import until

pytestmark = pytest.mark.timeout(20)

RATE = Rate(10, 1.0)  # slow enough that a loaded machine never runs behind the schedule
INTERVAL_S = RATE.interval(HEADROOM)  # 104.17 ms between platform-wide slots
INTERVAL_US = round(INTERVAL_S * 1e6)
LIMITS = {"telegram": PlatformLimits(overall=RATE)}


class RecordingSchedule(SharedSchedule):
    """A shared schedule that records every slot it hands out (and the interval asked for).

    """

    def __init__(self, redis: Redis, keys: Keys) -> None:
        super().__init__(redis, keys)
        self.takes: list[tuple[float, float]] = []  # (slot on the local clock, interval_s)

    async def take(self, platform: str, interval_s: float,
                   scopes: Sequence[tuple[str, str, float, int]] = ()) -> float:
        due = await super().take(platform, interval_s, scopes)
        self.takes.append((due, interval_s))
        return due


class BehindClock(SystemClock):
    """The system clock read `behind_s` late: a process that is always behind."""

    def __init__(self, behind_s: float) -> None:
        self.behind_s = behind_s

    def monotonic(self) -> float:
        return super().monotonic() + self.behind_s


@pytest.fixture
async def second_redis(clean_real_redis: Redis) -> AsyncIterator[Redis]:
    """Another connection to the same server: a second worker process's client."""
    client = await connect_real_redis()
    yield client
    await client.aclose()


async def schedule_us(redis: Redis, keys: Keys, platform: str = "telegram") -> int:
    """The schedule's next free slot as stored in Redis (microseconds on Redis' clock)."""
    return int(await redis.get(keys.alert_pacing(platform)) or 0)


def most_in_any_window(times: list[float], window_s: float) -> int:
    times = sorted(times)
    return max(bisect.bisect_left(times, t + window_s) - i for i, t in enumerate(times))


async def test_workers_together_keep_to_the_platform_rate(
        clean_real_redis: Redis, second_redis: Redis, test_prefix: str) -> None:
    keys = Keys(test_prefix)
    a, b = SharedSchedule(clean_real_redis, keys), SharedSchedule(second_redis, keys)
    # Slots start 2 s ahead, so a test machine stalled for more than one interval between
    # two takes cannot let the schedule go idle (and restart from "now") mid-test. Each
    # worker's pause is also its first, unhurried round trip, so its estimate of Redis' clock
    # is as good as a running worker's (25 calls at once, each waiting on new connections,
    # gave estimates ~50 ms off on a loaded machine: more than the 4% headroom absorbs).
    await a.pause("telegram", 2.0)
    await b.pause("telegram", 2.0)
    first = await a.take("telegram", INTERVAL_S)
    first_us = await schedule_us(clean_real_redis, keys) - INTERVAL_US
    # 49 more slots asked for at once, by both workers interleaved.
    rest = await asyncio.gather(*(s.take("telegram", INTERVAL_S) for s in [a, b] * 24 + [b]))
    # Every slot was charged once to the one schedule: 50 slots, 50 intervals, no overlap.
    assert await schedule_us(clean_real_redis, keys) == first_us + 50 * INTERVAL_US
    slots = [first, *rest]
    assert len(set(slots)) == 50
    # The slots both workers were told, on their own clocks, never put more than the
    # platform's count in any window of its period (each alone would have put ~10 in each).
    assert most_in_any_window(slots, RATE.period_s) <= RATE.count
    gaps = [y - x for x, y in itertools.pairwise(sorted(slots))]
    assert statistics.median(gaps) == pytest.approx(INTERVAL_S, abs=0.01)


async def test_a_lone_worker_gets_the_whole_rate(clean_real_redis: Redis,
                                                 test_prefix: str) -> None:
    schedule = RecordingSchedule(clean_real_redis, Keys(test_prefix))
    pacer = Pacer(LIMITS, workers=4)  # `workers` divides only the per-process (local) pacing
    pacer.share(schedule)
    for n in range(8):
        await pacer.slot("telegram", str(n))
    assert {interval for _, interval in schedule.takes} == {INTERVAL_S}
    gaps = [y - x for (x, _), (y, _) in itertools.pairwise(schedule.takes)]
    # Slots follow each other at the full rate's interval, not at 4 times it (a gap only
    # grows when this process woke up a whole interval late).
    assert statistics.median(gaps) < 1.5 * INTERVAL_S
    assert min(gaps) >= INTERVAL_S / 2


async def test_local_pacing_keeps_off_the_shared_schedule(clean_real_redis: Redis,
                                                          test_prefix: str) -> None:
    clock = ManualClock()
    pacer = Pacer(LIMITS, workers=2, clock=clock)  # `--local-pacing`: 1/2 of the rate here

    async def three_slots() -> None:
        for n in range(3):
            await pacer.slot("telegram", str(n))

    _, waits = await drive(clock, three_slots())
    assert waits == pytest.approx([2 * INTERVAL_S] * 2)  # at half the rate, on its own clock
    assert await clean_real_redis.exists(Keys(test_prefix).alert_pacing("telegram")) == 0


async def test_a_platform_wide_429_pushes_back_every_worker(
        clean_real_redis: Redis, second_redis: Redis, test_prefix: str) -> None:
    keys = Keys(test_prefix)
    pacer_a, pacer_b = Pacer(LIMITS), Pacer(LIMITS)
    pacer_a.share(SharedSchedule(clean_real_redis, keys))
    schedule_b = RecordingSchedule(second_redis, keys)
    pacer_b.share(schedule_b)

    await pacer_a.pause("telegram", "100", 30.0)  # one chat's 429 leaves the schedule alone
    started = time.monotonic()
    await pacer_b.slot("telegram", "200")
    assert time.monotonic() - started < 1.0

    await pacer_a.pause("telegram", None, 1.0)  # the platform's 429, seen by worker A
    await pacer_a.pause("telegram", None, 0.1)  # a shorter pause never brings slots forward
    asked = time.monotonic()
    await pacer_b.slot("telegram", "200")
    assert time.monotonic() - asked >= 0.9  # B waited the pause out
    pushed = schedule_b.takes[-1][0]
    assert 0.8 <= pushed - asked <= 1.5
    after = await schedule_b.take("telegram", INTERVAL_S)
    assert after - pushed == pytest.approx(INTERVAL_S, abs=0.01)  # then on at the rate


async def test_a_slot_reached_late_is_given_up_for_a_later_one() -> None:
    """A process whose loop was blocked (a GC pause, a slow callback) between slot and send
    wakes up late: it gives that slot up and takes the next, at once. On the manual clock
    the stall is a wake-up 400 ms past the deadline; late_ok is 1% of the period, 100 ms."""
    limits = {"telegram": PlatformLimits(overall=Rate(200, 10.0))}
    interval = limits["telegram"].overall.interval(HEADROOM)  # type: ignore[union-attr]
    clock = ManualClock()
    pacer = Pacer(limits, clock=clock)
    await pacer.slot("telegram", "100")  # the schedule was idle: at once
    late = asyncio.create_task(pacer.slot("telegram", "100"))
    await until(lambda: clock.waits() == pytest.approx([interval]))
    clock.advance(interval + 0.4)  # woke up 400 ms late
    await asyncio.wait_for(late, 5)  # the slot given up for one now: no further wait
    # The rate goes on from the retaken slot: the next is a whole interval after it.
    nxt = asyncio.create_task(pacer.slot("telegram", "100"))
    await until(lambda: clock.sleepers)
    assert clock.waits() == pytest.approx([interval])
    clock.advance(interval)
    await asyncio.wait_for(nxt, 5)


async def test_late_slots_are_given_up_at_most_a_few_times(clean_real_redis: Redis,
                                                           test_prefix: str) -> None:
    keys = Keys(test_prefix)
    schedule = RecordingSchedule(clean_real_redis, keys)
    # The pacer sees every slot as 100 s late (a process that is always behind).
    pacer = Pacer(LIMITS, clock=BehindClock(100))
    pacer.share(schedule)
    before_us = await schedule_us(clean_real_redis, keys)
    await pacer.slot("telegram", "100")
    assert len(schedule.takes) == MAX_LATE_SLOTS == 4  # then it went, late
    # The given-up slots stay used: the schedule moved on by one interval per slot taken.
    assert before_us == 0
    stored = await schedule_us(clean_real_redis, keys)
    redis_now_s, redis_now_us = await clean_real_redis.time()
    ahead_us = stored - (redis_now_s * 1_000_000 + redis_now_us)
    assert 2 * INTERVAL_US < ahead_us <= 4 * INTERVAL_US


@dataclass
class ChatLog:
    inside: dict[str, int] = field(default_factory=dict)
    most_inside: int = 0
    sent: list[tuple[str, float]] = field(default_factory=list)

    def times(self, chat_id: str) -> list[float]:
        return [at for chat, at in self.sent if chat == chat_id]


async def test_per_chat_one_send_at_a_time_charged_at_the_send(
        clean_real_redis: Redis, second_redis: Redis, test_prefix: str) -> None:
    per_chat = Rate(1, 0.3)
    pacer = Pacer({"telegram": PlatformLimits(overall=RATE, per_chat=per_chat)})
    keys = Keys(test_prefix)
    pacer.share(SharedSchedule(clean_real_redis, keys))
    # Another worker's platform-wide 429 holds the first send back for 0.5 s: the chat's
    # limit must count from when it was really sent, not from when its turn began.
    await SharedSchedule(second_redis, keys).pause("telegram", 0.5)
    log = ChatLog()

    async def send(chat_id: str) -> None:
        async with pacer.turn("telegram", chat_id):
            log.inside[chat_id] = log.inside.get(chat_id, 0) + 1
            log.most_inside = max(log.most_inside, log.inside[chat_id])
            await pacer.slot("telegram", chat_id)
            log.sent.append((chat_id, pacer.clock.monotonic()))
            await asyncio.sleep(0)  # the send itself: another task's turn
            log.inside[chat_id] -= 1

    started = time.monotonic()
    await asyncio.gather(*(send(c) for c in ("100", "100", "200", "100")))
    assert log.most_inside == 1
    to_100 = log.times("100")
    assert len(to_100) == 3
    assert to_100[0] - started >= 0.45
    # The schedule runs on Redis' clock; the local times differ from it by the offset the
    # pacer estimated from one round trip, so allow a few ms (charging at the turn instead of
    # the send would make the first gap about 0).
    gaps = [y - x for x, y in itertools.pairwise(to_100)]
    assert min(gaps) >= per_chat.interval(HEADROOM) - 0.01
    [to_200] = log.times("200")
    assert to_200 < to_100[1]  # another chat is not held up by this chat's limit


async def test_an_old_lease_is_renewed_before_the_send(clean_real_redis: Redis,
                                                       test_prefix: str) -> None:
    keys = Keys(test_prefix)
    outbox = RedisOutbox(clean_real_redis, keys)
    alert = AlertEvent("ev1", "r1", "firing", "telegram:100", "alert 1",
                       "2026-05-29T10:00:00+00:00", chart="btc")
    await outbox.ensure_group()
    await outbox.append(alert)
    rivals: list[str] = []

    class RivalProbe:
        """Sends nothing; at the send, another worker tries to take this alert's lease."""

        platform = "telegram"

        async def send(self, chat_id: str, text: str, image: bytes | None, *,
                       idempotency_key: str = "", event: object = None) -> DeliveryResult:
            rivals.append((await outbox.lease(alert, "rival:1", 5000)).status)
            return DeliveryResult.ok()

    clock = ManualClock()
    marker = keys.alert_sent(alert.event_id, alert.destination)

    async def slow_chart(_event: AlertEvent) -> bytes:
        # Drawing takes longer than the whole lease: on the notifier's clock, and in Redis,
        # where the lease it took is now past its deadline.
        clock.advance(0.6)
        owner = str(await outbox.redis.get(marker)).rsplit("|", 1)[0]
        await outbox.redis.set(marker, f"{owner}|0", keepttl=True)
        return b"png"

    async def ignore(*_args: str) -> None:
        return None

    settings = NotifierSettings(lease_ms=400, send_timeout_s=0.3, min_idle_ms=5000,
                                block_ms=100)
    notifier = Notifier(outbox, {"telegram": RivalProbe()}, Pacer({}), consumer="w1",
                        on_gone=ignore, on_migrated=ignore, settings=settings,
                        charts=slow_chart, clock=clock)
    assert await notifier.drain_once() == 1
    assert rivals == ["busy"]  # renewed: still this worker's while it sends
    assert await outbox.pending_count() == 0


async def test_the_schedule_key_comes_from_keys(clean_real_redis: Redis,
                                                test_prefix: str) -> None:
    keys = Keys(test_prefix)
    assert keys.alert_pacing("discord") == f"{test_prefix}{{pace:discord}}:all"
    await SharedSchedule(clean_real_redis, keys).take("discord", 0.02, [("chat", "7", 1.0, 1)])
    stored = sorted([k async for k in clean_real_redis.scan_iter(match=f"{test_prefix}*")])
    chat = keys.pacing_scope("discord", "chat", "7")
    assert chat == f"{test_prefix}{{pace:discord}}:chat:7"  # the platform's hash tag
    sent = keys.pacing_scope("discord", "chat-sent", "7")
    assert stored == sorted([keys.alert_pacing("discord"), chat, sent])
    # Each key lives about a second past its next free slot: the budget forgets idle chats.
    assert 0 < await clean_real_redis.pttl(keys.alert_pacing("discord")) <= 1_100
    assert 1_000 < await clean_real_redis.pttl(chat) <= 2_100
    assert 1_000 < await clean_real_redis.pttl(sent) <= 2_100


@pytest.mark.parametrize("shared", [True, False])
async def test_the_notifier_paces_on_the_shared_schedule_unless_told_not_to(
        clean_real_redis: Redis, test_prefix: str, shared: bool) -> None:
    keys = Keys(test_prefix)
    outbox = RedisOutbox(clean_real_redis, keys)
    await outbox.ensure_group()
    for n in range(3):
        await outbox.append(AlertEvent(f"ev{n}", "r1", "firing", f"telegram:{n}",
                                       f"alert {n}", "2026-05-29T10:00:00+00:00"))

    async def ignore(*_args: str) -> None:
        return None

    async with DeliveryStandin() as standin, aiohttp.ClientSession() as session:
        notifier = Notifier(outbox, {"telegram": HttpSender(session, standin.url, "telegram")},
                            Pacer(LIMITS), consumer="w1", on_gone=ignore, on_migrated=ignore,
                            settings=NotifierSettings(shared_pacing=shared, block_ms=100))
        assert await notifier.drain_once() == 3
    assert len(standin.delivered()) == 3
    stored = await schedule_us(clean_real_redis, keys)
    assert (stored > 0) is shared
