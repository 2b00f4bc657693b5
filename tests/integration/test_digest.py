"""The daily digest on real Redis: scheduler ticks at injected times, the outbox transaction,
a restart after downtime, delivery through the real notifier, gone and migrated chats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import aiohttp
import pytest

from bot.alerting import build_digest_scheduler, build_notifier, console_alerts, run_digests
from bot.app import App, build_app
from bot.text import render_text
from handlers.registry import Chat
from services.alerts.delivery import DeliveryResult
from services.alerts.events import AlertEvent
from services.digest.scheduler import DigestScheduler
from services.digest.store import DigestStore
from services.errors import Unavailable
from services.settings import Secrets, Settings, StoreSettings
from tests.clock import ManualClock
from tests.conftest import connect_real_redis, drop_prefix
from tests.http_sender import HttpSender
from tests.integration.delivery_standin import DeliveryStandin, forbidden, migrated
from tests.waiting import until, until_async

pytestmark = pytest.mark.redis
CHAT = Chat("telegram", "-100500", "7", is_group=True)
DEST = "telegram:-100500"
DAY1, DAY2, DAY3 = date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: at(DAY1, 7))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """Processes on one Redis prefix: each `start()` is a fresh app on its own connection."""

    start: Callable[[], Awaitable[App]]
    clock: Clock = field(default_factory=Clock)


@pytest.fixture
async def world(settings: Settings, test_prefix: str) -> AsyncIterator[World]:
    isolated = settings.model_copy(update={"store": StoreSettings(prefix=test_prefix)})
    opened: list[App] = []
    clock = Clock()

    async def start() -> App:
        app = await build_app(isolated, Secrets(), redis=await connect_real_redis(),
                              replay=True)
        if not opened:
            await app.refresh()  # the metrics stay in Redis for the later "processes"
        assert app.hub.digest is not None
        app.hub = replace(app.hub, digest=DigestStore(app.redis, app.hub.digest.keys, clock))
        opened.append(app)
        return app

    yield World(start, clock)
    cleanup = await connect_real_redis()
    await drop_prefix(cleanup, test_prefix)
    await cleanup.aclose()
    for app in opened:
        await app.aclose()


async def ask(app: App, text: str, chat: Chat = CHAT) -> str:
    reply = await app.registry.run_text(app.context(chat), text)
    assert not reply.error, reply.title
    return render_text(reply)


async def queued(app: App) -> list[AlertEvent]:
    assert app.outbox is not None
    entries = await app.redis.xrange(app.outbox.stream)
    return [AlertEvent.from_fields(fields) for _, fields in entries]


async def switch_on(world: World, app: App, when: datetime, command: str) -> None:
    world.clock.now = when
    await ask(app, command)


class NotingSender:
    """The HTTP sender to the stand-in, noting the image each send carried."""

    platform = "telegram"

    def __init__(self, inner: HttpSender) -> None:
        self.inner = inner
        self.images: list[bytes | None] = []

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: object = None) -> DeliveryResult:
        self.images.append(image)
        return await self.inner.send(chat_id, text, image, idempotency_key=idempotency_key)


@pytest.fixture
async def standin() -> AsyncIterator[DeliveryStandin]:
    async with DeliveryStandin() as running:
        yield running


async def deliver(app: App, standin: DeliveryStandin) -> NotingSender:
    async with aiohttp.ClientSession() as session:
        sender = NotingSender(HttpSender(session, standin.url, "telegram"))
        await build_notifier(app, {"telegram": sender}, consumer="w1").drain_once()
    return sender


async def test_due_digest_is_enqueued_once_with_the_brief_and_the_chart(world: World) -> None:
    app = await world.start()
    await switch_on(world, app, at(DAY1, 7), "/digest on 08:00 UTC")
    scheduler = build_digest_scheduler(app, world.clock)
    assert await scheduler.tick(at(DAY1, 7, 59)) == []
    assert await queued(app) == []

    [event] = await scheduler.tick(at(DAY1, 8))
    assert (event.event_id, event.kind, event.destination, event.chart) == (
        f"digest|{DEST}|2026-06-01", "digest", DEST, "divergence")
    assert event.text.startswith("flowwatch daily digest, Mon 01 Jun 2026")
    brief = await app.registry.run_text(app.context(CHAT), "/brief")
    for _, value in brief.tables[0].rows:
        assert value in event.text
    assert "+548.0 pp" in event.text and brief.footer in event.text
    assert await queued(app) == [event]

    assert await scheduler.tick(at(DAY1, 8, 1)) == []
    other = build_digest_scheduler(await world.start(), world.clock)
    assert await other.tick(at(DAY1, 23, 59)) == []
    assert len(await queued(app)) == 1


async def test_concurrent_ticks_enqueue_a_day_once(world: World) -> None:
    app = await world.start()
    await switch_on(world, app, at(DAY1, 7), "/digest on 08:00")
    schedulers = [build_digest_scheduler(a, world.clock) for a in (app, await world.start())]
    for day in (DAY1, DAY2):
        ticks = [s.tick(at(day, 8, 0)) for s in schedulers * 2]
        results = await asyncio.gather(*ticks)
        assert sum(len(r) for r in results) == 1
    assert [e.event_id for e in await queued(app)] == [
        f"digest|{DEST}|2026-06-01", f"digest|{DEST}|2026-06-02"]


async def test_a_digest_due_during_downtime_is_sent_once_after_restart(
        world: World, standin: DeliveryStandin) -> None:
    before = await world.start()
    await switch_on(world, before, at(DAY1, 7), "/digest on 08:00 UTC")
    assert await build_digest_scheduler(before, world.clock).tick(at(DAY1, 7, 30)) == []
    await before.aclose()  # down from 07:30 on day 1 until day 3, 09:00

    after = await world.start()
    scheduler = build_digest_scheduler(after, world.clock)
    [event] = await scheduler.tick(at(DAY3, 9))  # only the latest missed day
    assert event.event_id == f"digest|{DEST}|2026-06-03"
    assert await scheduler.tick(at(DAY3, 9, 1)) == []

    sender = await deliver(after, standin)
    [sent] = standin.delivered()
    assert (sent.chat_id, sent.key) == ("-100500", f"digest|{DEST}|2026-06-03:{DEST}")
    assert sent.text.startswith("flowwatch daily digest, Wed 03 Jun 2026")
    [image] = sender.images
    assert image is not None and image.startswith(b"\x89PNG")  # the divergence chart

    await deliver(after, standin)
    assert len(standin.received) == 1
    assert after.outbox is not None and await after.outbox.pending_count() == 0


async def test_switched_on_after_todays_time_waits_for_tomorrow(world: World) -> None:
    app = await world.start()
    await switch_on(world, app, at(DAY1, 9), "/digest on 08:00")
    scheduler = build_digest_scheduler(app, world.clock)
    assert await scheduler.tick(at(DAY1, 9, 1)) == []
    assert await scheduler.tick(at(DAY2, 7, 59)) == []
    assert [e.event_id for e in await scheduler.tick(at(DAY2, 8))] == [
        f"digest|{DEST}|2026-06-02"]


async def test_off_stops_it_even_while_a_tick_is_building_the_text(world: World) -> None:
    app = await world.start()
    await switch_on(world, app, at(DAY1, 7), "/digest on 08:00")
    scheduler = build_digest_scheduler(app, world.clock)
    assert len(await scheduler.tick(at(DAY1, 8))) == 1
    await ask(app, "/digest off")
    assert await scheduler.tick(at(DAY2, 8)) == []

    await switch_on(world, app, at(DAY2, 9), "/digest on 08:00")
    assert app.hub.digest is not None and app.outbox is not None
    store = app.hub.digest

    async def off_meanwhile(day: date) -> str:  # /digest off lands between read and write
        await store.switch_off(DEST)
        return "text"

    racing = DigestScheduler(store, app.outbox, off_meanwhile, world.clock)
    assert await racing.tick(at(DAY3, 8)) == []
    assert len(await queued(app)) == 1


async def test_a_day_whose_brief_is_unavailable_stays_due(world: World) -> None:
    app = await world.start()
    await switch_on(world, app, at(DAY1, 7), "/digest on 08:00")
    assert app.hub.digest is not None and app.outbox is not None
    composed: list[date] = []

    async def not_collected_at_first(day: date) -> str:
        composed.append(day)
        if len(composed) == 1:
            raise Unavailable("nothing collected yet; try again in a minute")
        return "text"

    scheduler = DigestScheduler(app.hub.digest, app.outbox, not_collected_at_first,
                                world.clock)
    with pytest.raises(Unavailable):
        await scheduler.tick(at(DAY1, 8))
    assert await queued(app) == []
    assert [e.event_id for e in await scheduler.tick(at(DAY1, 8, 1))] == [
        f"digest|{DEST}|2026-06-01"]


async def test_a_gone_chat_parks_its_digest_until_it_is_back(world: World,
                                                           standin: DeliveryStandin) -> None:
    app = await world.start()
    await switch_on(world, app, at(DAY1, 7), "/digest on 08:00")
    scheduler = build_digest_scheduler(app, world.clock)
    await scheduler.tick(at(DAY1, 8))
    standin.script("-100500", forbidden())
    await deliver(app, standin)
    assert standin.delivered() == []
    assert app.hub.digest is not None and await app.hub.digest.get(DEST) is None
    assert await scheduler.tick(at(DAY2, 8)) == []
    assert app.hub.alerts is not None
    assert await app.hub.alerts.restore_destination(DEST) is not None
    back = await app.hub.digest.get(DEST)
    assert back is not None and back.at.strftime("%H:%M") == "08:00"


async def test_a_migrated_group_keeps_its_digest(world: World,
                                                 standin: DeliveryStandin) -> None:
    app = await world.start()
    await switch_on(world, app, at(DAY1, 5), "/digest on 08:00 Europe/Berlin")
    scheduler = build_digest_scheduler(app, world.clock)
    assert len(await scheduler.tick(at(DAY1, 6))) == 1  # 08:00 CEST
    standin.script("-100500", migrated("-1009"))
    await deliver(app, standin)
    assert [r.chat_id for r in standin.delivered()] == ["-1009"]
    assert app.hub.digest is not None and await app.hub.digest.get(DEST) is None
    moved = await app.hub.digest.get("telegram:-1009")
    assert moved is not None and moved.zone == "Europe/Berlin"
    assert await scheduler.tick(at(DAY1, 12)) == []  # day 1 went out already
    [event] = await scheduler.tick(at(DAY2, 6))
    assert event.destination == "telegram:-1009"


async def test_run_digests_enqueues_once_under_the_leader_lock(world: World) -> None:
    app = await world.start()
    await switch_on(world, app, at(DAY1, 7), "/digest on 08:00")
    world.clock.now = at(DAY1, 8, 5)
    stop = asyncio.Event()
    runners = [asyncio.create_task(run_digests(a, stop, world.clock))
               for a in (app, await world.start())]
    assert app.outbox is not None
    outbox = app.outbox

    async def enqueued_or_ended() -> bool:
        return bool(await app.redis.xlen(outbox.stream)) or any(r.done() for r in runners)

    try:
        await until_async(enqueued_or_ended)  # the leader's first tick has enqueued
    finally:
        stop.set()
        await asyncio.gather(*runners)
    assert [e.event_id for e in await queued(app)] == [f"digest|{DEST}|2026-06-01"]


async def test_the_scheduler_ticks_every_interval_on_its_timer(world: World) -> None:
    app = await world.start()
    await switch_on(world, app, at(DAY1, 7), "/digest on 08:00")
    world.clock.now = at(DAY1, 8, 5)
    timer = ManualClock()
    scheduler = build_digest_scheduler(app, world.clock, timer)
    stop = asyncio.Event()
    running = asyncio.create_task(scheduler.run(stop, 60))

    async def days_queued() -> list[str]:
        return [e.event_id.rsplit("|", 1)[1] for e in await queued(app)]

    try:
        await until(lambda: timer.waits() == [60] or running.done())  # ticked, now waiting
        assert await days_queued() == ["2026-06-01"]
        world.clock.now = at(DAY2, 8, 5)
        timer.advance(59)
        assert timer.waits() == [1]  # still waiting: no tick before the interval is up
        timer.advance(1)
        await until_async(lambda: has_len(days_queued(), 2))
        assert await days_queued() == ["2026-06-01", "2026-06-02"]
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


async def has_len(items: Awaitable[list[str]], n: int) -> bool:
    return len(await items) == n


async def test_the_terminal_prints_its_own_digest_once(
        replay_app: App, capsys: pytest.CaptureFixture[str]) -> None:
    assert replay_app.hub.digest is not None
    earlier = DigestStore(replay_app.redis, replay_app.hub.digest.keys,
                          clock=lambda: datetime.now(UTC) - timedelta(days=2))
    await earlier.switch_on("console:console", at(DAY1, 0).time(), "UTC")
    check = console_alerts(replay_app)
    await check()
    await check()
    printed = capsys.readouterr().out
    assert printed.count("[alert → console] flowwatch daily digest") == 1
    assert "AI minus crypto since 2024" in printed
    assert await queued(replay_app) == []
