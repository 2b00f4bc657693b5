"""Platform faults during alert fan-out: 429 storms, 403, 5xx bursts, slow answers.

Two local stand-ins of the platforms (tests/integration/delivery_standin.py, one each, so one
can be slow while the other is not) receive 200 alerts for subscribed Telegram chats and
Discord channels through the real notifier, outbox and alert service on real Redis:
Telegram answers its first 50 requests with 429 retry_after, Discord answers bursts of 5xx
and is slow (well inside the send timeout), two chats have blocked the bot (403). Every
(event, destination) must arrive exactly once, blocked chats are unsubscribed and are not
dead letters, and Discord finishes as fast as it does without the Telegram storm.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.app import App, build_app
from handlers.registry import Chat
from services.alerts.attempts import NotifierSettings
from services.alerts.events import AlertEvent, split_destination
from services.alerts.notifier import Notifier
from services.alerts.outbox import RedisOutbox
from services.alerts.pacing import DEFAULT_LIMITS, Pacer
from services.keys import Keys
from services.settings import Secrets, Settings
from tests.conftest import connect_real_redis
from tests.http_sender import HttpSender
from tests.integration.delivery_standin import (
    Answer,
    DeliveryStandin,
    forbidden,
    rate_limited,
    server_error,
)
from tests.waiting import until

pytestmark = pytest.mark.redis

TELEGRAM = [str(100 + n) for n in range(10)] + ["-1001", "-1002"]  # chats and two groups
DISCORD = [str(9000 + n) for n in range(10)]
DESTINATIONS = [f"telegram:{c}" for c in TELEGRAM] + [f"discord:{c}" for c in DISCORD]
GONE = {"telegram:105", "discord:9005"}  # blocked or removed the bot: 403
EVENTS = 200
STORM = 50  # Telegram's first requests answered 429
RETRY_AFTER_S = 0.6
DISCORD_DELAY_S = 0.15  # every Discord answer; the send timeout is 0.5 s
FIVE_XX = {c: 2 for c in DISCORD[:5]}  # a burst of 502s at the start of these channels
SETTINGS = NotifierSettings(block_ms=100, min_idle_ms=5000, lease_ms=5000, send_timeout_s=0.5,
                            backoff_s=0.05, max_attempts=5, concurrency=8)
SPEEDUP = 10  # the platforms' published pacing limits, ten times faster


class FirstRequests(dict[str, Answer]):
    """DeliveryStandin.failing that answers only the first `count` requests of a platform
    (whatever the chat) with `answer`; later requests fall through to the per-chat scripts."""

    def __init__(self, platform: str, count: int, answer: Answer) -> None:
        super().__init__()
        self.platform, self.left, self.answer = platform, count, answer

    def get(self, platform: str, default: Answer | None = None) -> Answer | None:  # type: ignore[override]
        if platform == self.platform and self.left > 0:
            self.left -= 1
            return self.answer
        return default


def events_for(destinations: list[str], count: int, tag: str = "") -> list[AlertEvent]:
    return [AlertEvent(f"ev{tag}{n}", "btc-drawdown", "firing", destinations[n % len(
        destinations)], f"alert {n}", "2026-05-29T10:00:00+00:00") for n in range(count)]


def key(e: AlertEvent) -> str:
    return f"{e.event_id}:{e.destination}"


@dataclass
class Rig:
    app: App
    telegram: DeliveryStandin
    discord: DeliveryStandin
    session: aiohttp.ClientSession

    def outbox(self, prefix: str) -> RedisOutbox:
        return RedisOutbox(self.app.redis, Keys(prefix))

    def notifier(self, outbox: RedisOutbox, settings: NotifierSettings = SETTINGS) -> Notifier:
        alerts = self.app.hub.alerts
        assert alerts is not None
        senders = {"telegram": HttpSender(self.session, self.telegram.url, "telegram"),
                   "discord": HttpSender(self.session, self.discord.url, "discord")}
        limits = {p: limit.faster(SPEEDUP) for p, limit in DEFAULT_LIMITS.items()}
        return Notifier(outbox, senders, Pacer(limits), consumer="storm",
                        on_gone=alerts.drop_destination, on_migrated=alerts.move_destination,
                        settings=settings)

    def received(self) -> list[tuple[str, int, float]]:
        """(idempotency key, status, arrival) of every request to either platform."""
        return [(r.key, r.status, r.at) for s in (self.telegram, self.discord)
                for r in s.received]


@pytest.fixture
async def rig(clean_real_redis: Redis, settings: Settings,
              test_prefix: str) -> AsyncIterator[Rig]:
    prefixed = settings.model_copy(update={
        "store": settings.store.model_copy(update={"prefix": test_prefix})})
    app = await build_app(prefixed, Secrets(), redis=await connect_real_redis())
    async with DeliveryStandin() as telegram, DeliveryStandin(DISCORD_DELAY_S) as discord, \
            aiohttp.ClientSession() as session:
        yield Rig(app, telegram, discord, session)
    await app.aclose()


async def subscribe_everyone(app: App) -> None:
    for destination in DESTINATIONS:
        platform, chat_id = split_destination(destination)
        ctx = app.context(Chat(platform, chat_id))
        reply = await app.registry.run_text(ctx, "/subscribe all")
        assert not reply.error, reply.title


async def subscribed(app: App, destination: str) -> set[str]:
    platform, chat_id = split_destination(destination)
    reply = await app.registry.run_text(app.context(Chat(platform, chat_id)), "/alerts")
    return {row[0] for row in reply.tables[0].rows if row[2] == "yes"}


async def deliver(rig: Rig, outbox: RedisOutbox, events: list[AlertEvent]) -> float:
    """Append and drain; the seconds from start until the last Discord acceptance."""
    await outbox.ensure_group()
    for e in events:
        await outbox.append(e)
    started = time.monotonic()
    await rig.notifier(outbox).drain_once()
    discord = [r.at for r in rig.discord.delivered()]
    return max(discord, default=started) - started


def script_faults(rig: Rig) -> None:
    for destination in GONE:
        platform, chat_id = split_destination(destination)
        standin = rig.telegram if platform == "telegram" else rig.discord
        standin.script(chat_id, *[forbidden()] * EVENTS)
    for channel, count in FIVE_XX.items():
        rig.discord.script(channel, *[server_error()] * count)


async def test_storms_lose_nothing_duplicate_nothing_and_stay_isolated(rig: Rig,
                                                                       test_prefix: str) -> None:
    # Baseline: Discord alone, same faults, its own outbox.
    script_faults(rig)
    discord_only = [d for d in DESTINATIONS if d.startswith("discord:")]
    alone = await deliver(rig, rig.outbox(f"{test_prefix}alone:"),
                          events_for(discord_only, EVENTS // 2, "alone"))
    rig.discord.received.clear()

    await subscribe_everyone(rig.app)
    script_faults(rig)
    rig.telegram.failing = FirstRequests("telegram", STORM, rate_limited(RETRY_AFTER_S))
    events = events_for(DESTINATIONS, EVENTS)
    outbox = rig.outbox(test_prefix)
    with_storm = await deliver(rig, outbox, events)

    received = rig.received()
    statuses = Counter(status for _, status, _ in received)
    assert statuses[429] == STORM
    assert statuses[502] == sum(FIVE_XX.values())
    expected = {key(e) for e in events if e.destination not in GONE}
    accepted = Counter(k for k, status, _ in received if status == 200)
    assert set(accepted) == expected, "an alert was lost"
    assert max(accepted.values()) == 1, "an alert was delivered twice"
    assert await outbox.pending_count() == 0
    assert await outbox.dead_letters() == []  # 403 is "gone", not a failure
    for destination in DESTINATIONS:
        assert bool(await subscribed(rig.app, destination)) == (destination not in GONE)
    telegram_done = max(r.at for r in rig.telegram.delivered())
    discord_done = max(r.at for r in rig.discord.delivered())
    assert discord_done < telegram_done, "Discord waited for Telegram's storm"
    assert with_storm < 2 * alone + 0.5, (with_storm, alone)
    print(f"storm: {len(events)} alerts, {sum(statuses.values())} requests {dict(statuses)}; "
          f"Discord done in {with_storm:.2f}s (alone {alone:.2f}s), Telegram "
          f"{telegram_done - discord_done:.2f}s after it")


async def test_answers_slower_than_the_send_timeout_lose_nothing(rig: Rig,
                                                                 test_prefix: str) -> None:
    """A send that times out may still have arrived: it is sent again under the same
    idempotency key (at-least-once). Nothing is lost; every repeat carries the key of a
    timed-out send, so a receiver that honours the key shows each alert once."""
    rig.discord.delay_s = 0.8  # over the 0.5 s send timeout, for the first sends
    events = events_for([d for d in DESTINATIONS if d.startswith("discord:")], 30, "slow")
    outbox = rig.outbox(test_prefix)
    await outbox.ensure_group()
    for e in events:
        await outbox.append(e)

    async def heal() -> float:  # after the first sends have met the slow platform
        await until(lambda: len(rig.discord.received) >= SETTINGS.concurrency)
        rig.discord.delay_s = 0.0
        return time.monotonic()

    healer = asyncio.create_task(heal())
    await rig.notifier(outbox, replace(SETTINGS, backoff_s=0.2)).drain_once()
    healed_at = await healer
    accepted = Counter(r.key for r in rig.discord.delivered())
    assert set(accepted) == {key(e) for e in events}
    assert await outbox.dead_letters() == []
    slow = {r.key for r in rig.discord.received if r.at < healed_at}
    repeated = {k for k, n in accepted.items() if n > 1}
    assert repeated, "no send timed out: the scenario did not happen"
    assert repeated <= slow, "a send that did not time out was repeated"
    print(f"slow platform: {len(events)} alerts, {len(rig.discord.received)} requests, "
          f"{len(repeated)} repeated after a timeout (same idempotency key)")


def established_to(port: int) -> int:
    """Open TCP connections from this machine to 127.0.0.1:`port` (Linux /proc/net/tcp)."""
    target = f"0100007F:{port:04X}"
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if row.split()[2] == target and row.split()[3] == "01")


async def test_a_rejected_telegram_token_leaves_no_connection_open() -> None:
    from bot.telegram import TelegramFrontend  # noqa: PLC0415 - the Telegram SDK
    from tests.e2e.telegram_standin import replay_app, running_standin  # noqa: PLC0415

    async with running_standin() as standin, replay_app() as app:
        frontend = TelegramFrontend(app, Secrets(telegram_bot_token="123:rejected-token",
                                                 telegram_api_base_url=standin.base_url))
        with pytest.raises(Exception, match="rejected by the server"):
            async with frontend:
                pass
        try:
            await until(lambda: established_to(standin.port) == 0, within=10,
                        describe=lambda: f"{established_to(standin.port)} connections open")
        finally:
            await frontend.application.bot.shutdown()
