"""Redis stopped and started again mid-run, on a redis-server this test starts itself.

Before: a chat subscribes to every rule and adds a custom one, an alert waits in the outbox,
and the collector/evaluator loop (behind its leader lock) and a notifier loop are running.
During the outage every command that needs the store answers one line, "temporarily
unavailable", instead of the generic apology or a traceback; /start and /help still work.
After the restart on the same port and directory: commands answer normally (redis-py
reconnects by itself), the subscription, the rule and the queued alert are all still there,
the alert is delivered exactly once, and both loops carry on without a restart.

Run with AOF (appendfsync always) and a SIGKILL, and with an RDB snapshot on a graceful
SIGTERM: both lose nothing. Without persistence a restart loses everything, by design; the
notifier then re-creates its consumer group and delivers new alerts (tested at the end).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from bot.alerting import build_evaluator, build_notifier, collect_and_evaluate
from bot.app import App, build_app
from handlers.registry import APOLOGY, Chat
from handlers.reply import Reply
from services.alerts.attempts import NotifierSettings
from services.alerts.delivery import DeliveryResult
from services.alerts.events import AlertEvent
from services.alerts.leader import LeaderLock
from services.alerts.notifier import Notifier
from services.alerts.outbox import RedisOutbox
from services.alerts.pacing import Pacer
from services.keys import Keys
from services.redis_client import connect_redis
from services.settings import Secrets, Settings
from tests.reliability.redis_server import RedisServer, free_port, running_server
from tests.waiting import until, until_async

pytestmark = pytest.mark.redis

CHAT = Chat("telegram", "4040", "1")
NEEDS_STORE = ["/btc", "/divergence 30d", "/brief", "/status", "/alerts", "/subscribe all",
               "/unsubscribe btc-drawdown", "/alert add btc.drawdown below -25",
               "/alert rm c1", "/mute 1h", "/unmute", "/chart btc 90d", "/usage"]
NO_STORE = ["/start", "/help", "/help alert", "/alert metrics"]
LOOP = NotifierSettings(block_ms=100, min_idle_ms=500, lease_ms=2000, send_timeout_s=1.0,
                        backoff_s=0.05, redis_retry_s=0.05)


@dataclass
class Recorder:
    """A Sender that records what it was asked to deliver."""

    platform: str = "telegram"
    sent: list[tuple[str, str]] = field(default_factory=list)  # (chat id, text)

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: object = None) -> DeliveryResult:
        self.sent.append((chat_id, text))
        return DeliveryResult.ok()


async def _gone(_: str) -> None:
    raise AssertionError("nobody is gone here")


async def _moved(_: str, __: str) -> None:
    raise AssertionError("nobody migrated here")


def event(n: str, destination: str = "telegram:4040") -> AlertEvent:
    return AlertEvent(f"ev-{n}", "btc-drawdown", "firing", destination, f"alert {n}",
                      datetime.now(UTC).isoformat(timespec="seconds"))


async def ask(app: App, text: str) -> Reply:
    return await app.registry.run_text(app.context(CHAT), text)


@contextlib.asynccontextmanager
async def own_app(server: RedisServer, settings: Settings) -> AsyncIterator[App]:
    quick = settings.model_copy(update={  # unvalidated: collect every 0.3 s
        "collector": settings.collector.model_copy(update={"interval_seconds": 0.3})})
    # The production client (services/redis_client.py), so its reconnect settings are tested.
    app = await build_app(quick, Secrets(redis_url=server.url), redis=connect_redis(server.url))
    try:
        yield app
    finally:
        await app.aclose()


@dataclass
class Loops:
    outbox: RedisOutbox
    notifier: Notifier
    lock: LeaderLock

    def met_the_outage(self) -> bool:
        return self.notifier.redis_down and not self.lock.leading


@contextlib.asynccontextmanager
async def running_loops(app: App, recorder: Recorder) -> AsyncIterator[Loops]:
    """The collector loop behind a (short) leader lock, and a notifier loop on an outbox of
    its own (so it does not deliver the queued alert the restart must keep)."""
    stop = asyncio.Event()
    lock = LeaderLock(app.redis, Keys("loop:"), "collector", "test-leader", ttl_ms=1000)
    loop_outbox = RedisOutbox(app.redis, Keys("loop:"))
    notifier = Notifier(loop_outbox, {"telegram": recorder}, Pacer({}), consumer="loop",
                        on_gone=_gone, on_migrated=_moved, settings=LOOP)
    tasks = [asyncio.create_task(lock.run_as_leader(lambda: collect_and_evaluate(app, stop),
                                                    stop)),
             asyncio.create_task(notifier.run(stop))]
    try:
        yield Loops(loop_outbox, notifier, lock)
        for task in tasks:
            assert not task.done(), f"a loop died: {task.exception()}"
    finally:
        stop.set()
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()


async def answers_again(app: App, tries: int = 5) -> int:
    """Ask /btc until it answers normally; how many "temporarily unavailable" came first.
    Each pooled connection from before the restart fails once, on its first use (no retry
    configured: see test_first_command_after_a_restart_answers_normally)."""
    for failed in range(tries):
        reply = await ask(app, "/btc")
        if not reply.error:
            return failed
        assert "temporarily unavailable" in reply.title
    raise AssertionError(f"no normal answer in {tries} tries after the restart")


async def retried(call: Callable[[], Awaitable[object]], tries: int = 5) -> None:
    """A direct Redis call, tried again on the ConnectionError of a stale connection."""
    for attempt in range(tries):
        try:
            await call()
            return
        except RedisConnectionError:
            if attempt == tries - 1:
                raise


def rules_of(alerts: Reply) -> list[tuple[str, ...]]:
    """/alerts rows without the state column (evaluation moves it on): id, rule, subscribed."""
    return [row[:3] for row in alerts.tables[0].rows]


@pytest.mark.parametrize(("persistence", "how"), [("aof", signal.SIGKILL),
                                                  ("rdb", signal.SIGTERM)],
                         ids=["aof-sigkill", "rdb-sigterm"])
async def test_restart_loses_nothing_and_outage_answers_temporarily_unavailable(
        tmp_path: Path, settings: Settings, persistence: str, how: signal.Signals) -> None:
    async with (running_server(tmp_path, persistence) as server,
                own_app(server, settings) as app):
        await _restart_scenario(app, server, how)


async def _restart_scenario(app: App, server: RedisServer, how: signal.Signals) -> None:
    assert app.outbox is not None
    await app.refresh()
    subscribed = await ask(app, "/subscribe all")
    added = await ask(app, "/alert add btc.drawdown below -25 cooldown=1d")
    assert not subscribed.error and not added.error, (subscribed.title, added.title)
    rule_id = added.title.split()[2].rstrip(":")
    before = rules_of(await ask(app, "/alerts"))
    await app.outbox.append(event("queued"))  # waits for a notifier through the restart
    loop_recorder = Recorder()
    async with running_loops(app, loop_recorder) as loops:
        await until(lambda: app.collections >= 1)

        await server.stop(how)
        counts = app.registry.counts
        down_before, failed_before = counts.store_down, counts.failed
        for text in NEEDS_STORE:
            reply = await ask(app, text)
            assert reply.error and reply.title != APOLOGY, (text, reply.title)
            assert "temporarily unavailable" in reply.title, (text, reply.title)
            assert len(reply.title.splitlines()) == 1
        for text in NO_STORE:
            assert not (await ask(app, text)).error, text
        # Each counted as an outage (one line, no traceback), none as a failed command.
        assert counts.store_down - down_before == len(NEEDS_STORE)
        assert counts.failed == failed_before
        await until(loops.met_the_outage)  # the leader stepped down, the notifier waits

        await server.start()
        collected = app.collections
        await answers_again(app)
        assert rules_of(await ask(app, "/alerts")) == before
        assert rule_id in [row[0] for row in before]
        assert all(row[2] == "yes" for row in before)
        # Both loops are alive: the collector collects again, the notifier delivers.
        await until(lambda: app.collections > collected)
        await retried(lambda: loops.outbox.append(event("after", "telegram:5050")))
        await until(lambda: ("5050", "alert after") in loop_recorder.sent)

    # The evaluator queued real alerts for the subscribed chat meanwhile: all go out, once.
    recorder = Recorder()
    assert app.hub.delivery is not None
    assert (await app.hub.delivery.health()).pending >= 1  # what /status shows as waiting
    delivered = await build_notifier(app, {"telegram": recorder}, "after-restart").drain_once()
    assert recorder.sent.count(("4040", "alert queued")) == 1
    assert len(recorder.sent) == delivered == len(set(recorder.sent))
    assert await build_notifier(app, {"telegram": recorder}, "again").drain_once() == 0
    assert await app.outbox.dead_letters() == []


async def test_frozen_redis_answers_within_the_socket_timeout(
        tmp_path: Path, settings: Settings) -> None:
    """SIGSTOP: the port accepts but nothing answers (a hung server, a network partition)."""
    async with running_server(tmp_path, "none") as server, own_app(server, settings) as app:
        await app.refresh()
        server.freeze()
        started = asyncio.get_running_loop().time()
        reply = await ask(app, "/btc")
        waited = asyncio.get_running_loop().time() - started
        assert reply.error and "temporarily unavailable" in reply.title
        assert waited < 12, f"a command waited {waited:.1f}s on a frozen Redis"
        server.thaw()
        assert not (await ask(app, "/btc")).error


async def test_read_only_replica_serves_reads_and_refuses_writes_in_one_line(
        tmp_path: Path, settings: Settings) -> None:
    """Mid-failover the old primary is a replica: reads work, writes answer READONLY."""
    async with running_server(tmp_path, "none") as server, own_app(server, settings) as app:
        await app.refresh()
        # A replica of a primary that is not there (a closed local port): read-only.
        await app.redis.replicaof("127.0.0.1", free_port())
        assert not (await ask(app, "/btc")).error
        assert not (await ask(app, "/alerts")).error
        refused = await ask(app, "/subscribe all")
        assert refused.error and "temporarily unavailable" in refused.title
        await app.redis.replicaof("NO", "ONE")
        assert not (await ask(app, "/subscribe all")).error


async def test_notifier_recovers_after_a_restart_that_lost_the_group(
        tmp_path: Path, settings: Settings) -> None:
    async with running_server(tmp_path, "none") as server, own_app(server, settings) as app:
        recorder = Recorder()
        async with running_loops(app, recorder) as loops:
            await loops.outbox.append(event("before", "telegram:1"))
            await until(lambda: len(recorder.sent) == 1)
            await server.stop(signal.SIGTERM)
            await until(lambda: loops.notifier.redis_down)
            await server.start()  # empty: no stream, no group
            await retried(lambda: loops.outbox.append(event("after", "telegram:1")))
            await until(lambda: len(recorder.sent) == 2)
            assert recorder.sent == [("1", "alert before"), ("1", "alert after")]


async def test_first_command_after_a_restart_answers_normally(
        tmp_path: Path, settings: Settings) -> None:
    async with running_server(tmp_path, "aof") as server, own_app(server, settings) as app:
        await app.refresh()
        assert not (await ask(app, "/btc")).error
        await server.stop(signal.SIGTERM)
        await server.start()
        reply = await ask(app, "/btc")
        assert not reply.error, reply.title


async def test_notifier_started_during_an_outage_waits_for_redis(
        tmp_path: Path, settings: Settings) -> None:
    async with running_server(tmp_path, "none") as server, own_app(server, settings) as app:
        await server.stop(signal.SIGTERM)
        recorder, stop = Recorder(), asyncio.Event()
        outbox = RedisOutbox(app.redis, Keys("late:"))
        notifier = Notifier(outbox, {"telegram": recorder}, Pacer({}), consumer="late",
                            on_gone=_gone, on_migrated=_moved, settings=LOOP)
        task = asyncio.create_task(notifier.run(stop))
        await until(lambda: notifier.redis_down or task.done())
        await server.start()
        await retried(lambda: outbox.append(event("late", "telegram:1")))
        try:
            await until(lambda: recorder.sent or task.done())
            assert not task.done(), f"the notifier died: {task.exception()!r}"
            assert recorder.sent == [("1", "alert late")]
        finally:
            stop.set()
            await asyncio.wait([task], timeout=5)


async def test_an_outage_mid_evaluation_ends_the_pass_without_a_traceback_per_rule(
        tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """Redis dies while the evaluator walks its rules: the pass ends at the first failure
    instead of logging a traceback for each remaining rule; the loop counts the outage once
    a pass (collection and evaluation skipped), and the next pass after the restart fires
    every rule."""
    caplog.set_level(logging.INFO)
    async with running_server(tmp_path, "aof") as server, own_app(server, settings) as app:
        await app.refresh()
        for text in ("/alert add btc.price above 1", "/alert add btc.price above 2",
                     "/alert add btc.price above 3"):
            assert not (await ask(app, text)).error, text
        evaluator = build_evaluator(app)
        update = evaluator.states.commit

        async def dies_on_first_rule(*args: Any) -> Any:
            await server.stop(signal.SIGKILL)
            return await update(*args)

        evaluator.states.commit = dies_on_first_rule  # type: ignore[method-assign]
        caplog.clear()
        with pytest.raises(RedisError):
            await evaluator.evaluate(datetime.now(UTC))
        assert not [r for r in caplog.records if r.exc_info]

        stop = asyncio.Event()
        loop = asyncio.create_task(collect_and_evaluate(app, stop))
        await until(lambda: app.evaluations_skipped > 0)
        assert app.collections_skipped > 0
        assert not [r for r in caplog.records if r.exc_info]  # no traceback in the outage
        await server.start()
        evaluator.states.commit = update  # type: ignore[method-assign]
        await until_async(lambda: rule_events_hold(app, 3))
        stop.set()
        await asyncio.wait_for(loop, timeout=5)


async def rule_events_hold(app: App, count: int) -> bool:
    """The evaluator's record: `count` rule transitions recorded for the fan-out."""
    try:
        stream = Keys(app.settings.store.prefix).alert_rule_events()
        return bool(await app.redis.xlen(stream) >= count)
    except RedisError:
        return False


async def test_a_full_redis_answers_every_command_in_one_line(
        tmp_path: Path, settings: Settings) -> None:
    """Redis at `maxmemory` with `noeviction` refuses writes with OOM (a ResponseError, not a
    connection error): the finding was 66 of 128 commands answered with the apology and a
    traceback. Every command now answers normally or says "temporarily unavailable"."""
    async with running_server(tmp_path, "none") as server, own_app(server, settings) as app:
        await app.refresh()
        used = int((await app.redis.info("memory"))["used_memory"])
        await app.redis.config_set("maxmemory-policy", "noeviction")
        await app.redis.config_set("maxmemory", str(used // 2))  # full: every write refused
        failed_before = app.registry.counts.failed
        texts = ["/subscribe all", "/alert add btc.price above 1", "/mute 1h", "/unmute",
                 "/unsubscribe all", "/alerts", "/btc", "/status", "/digest 08:00"]
        replies = [await ask(app, text) for text in texts]
        for text, reply in zip(texts, replies, strict=True):
            assert "Sorry" not in reply.title, text
            assert not reply.error or "temporarily unavailable" in reply.title or (
                "usage" in reply.title), (text, reply.title)
        assert "temporarily unavailable" in replies[0].title
        assert app.registry.counts.failed == failed_before  # none logged with a traceback
        await app.redis.config_set("maxmemory", "0")
        assert not (await ask(app, "/subscribe all")).error
