"""Alert wiring for `run`: evaluate after each collection (leader only) and deliver the outbox.

Platform senders connect late (a front-end hands its sender over once it is logged in), so
each platform gets a `SenderSlot` from the start: until its sender arrives, sends to it are
answered "retry after", which keeps their entries pending in the outbox instead of
dead-lettering them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time

from redis.exceptions import RedisError

from bot.app import App
from bot.text import render_text
from handlers.digest import digest_reply
from handlers.registry import Chat
from handlers.reply import reply_to_json
from services.alerts.attempts import NotifierSettings
from services.alerts.delivery import ConsoleSender, DeliveryResult, Sender
from services.alerts.evaluator import AlertEvaluator
from services.alerts.events import AlertEvent, RuleEvent, destination_id, split_destination
from services.alerts.fanout import Progress
from services.alerts.leader import Fence, LeaderLock, LeaderLost
from services.alerts.notices import NoticeOnce
from services.alerts.notifier import Notifier
from services.alerts.outbox import RedisOutbox
from services.alerts.pacing import Pacer
from services.charts.catalog import CHARTS
from services.clock import SYSTEM_CLOCK
from services.clock import Clock as Timer
from services.digest.scheduler import DigestMessage, DigestScheduler
from services.digest.store import Clock, wall_clock
from services.keys import Keys

logger = logging.getLogger(__name__)
NOT_CONNECTED_WAIT_S = 2.0  # how long a send waits for its platform before "retry after"
DRAIN_S = 5.0  # on stop, how long the leader's collection or evaluation in hand may go on


def process_id() -> str:
    """A name unique to this process: consumer names and leader ids."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class SenderSlot:
    """A platform's sender that may not be connected yet (or any more)."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self._sender: Sender | None = None
        self._ready = asyncio.Event()

    def set(self, sender: Sender | None) -> None:
        """The front-end's hook: its sender once connected, None when it stops."""
        self._sender = sender
        if sender is None:
            self._ready.clear()
        else:
            self._ready.set()
        logger.info("alert sender %s: %s", self.platform, "connected" if sender else "gone")

    async def send(self, chat_id: str, text: str, image: bytes | None, *,
                   idempotency_key: str = "", event: AlertEvent | None = None
                   ) -> DeliveryResult:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), NOT_CONNECTED_WAIT_S)
        if self._sender is None:  # keep it pending; the whole platform waits, not the chat
            return DeliveryResult.rate_limited(1.0, global_limit=True)
        return await self._sender.send(chat_id, text, image, idempotency_key=idempotency_key,
                                       event=event)


def evaluation_time(app: App) -> datetime:
    """When the evaluator says it evaluated: the replay's as-of date, else now."""
    if app.hub.mode == "replay" and app.hub.asof is not None:
        return datetime.combine(app.hub.asof, time(0), UTC)
    return datetime.now(UTC)


def build_evaluator(app: App) -> AlertEvaluator:
    """The app's evaluator (built once, in bot/app.py)."""
    return app.evaluator


async def evaluate_once(app: App, evaluator: AlertEvaluator,
                        fence: Fence | None = None) -> list[RuleEvent]:
    """One evaluation pass: one event per rule transition, fanned out by the workers; then
    each chat whose mute ran out gets the summary of what fired while it was muted."""
    await app.hub.alerts.purge_parked()  # chats gone for 30 days lose what they had set up
    events = await evaluator.evaluate(evaluation_time(app), fence)
    await app.hub.alerts.release_ended_mutes(app.outbox.stream, app.outbox.max_length)
    app.evaluations += 1
    logger.info("alerts evaluated: events=%d", len(events))
    return events


async def collect_and_evaluate(app: App, stop: asyncio.Event, collect_first: bool = True,
                               fence: Fence | None = None) -> None:
    """The leader's loop: collect, then evaluate once, every interval until `stop`. With a
    `fence`, every store write checks it: a leader whose lock lapsed writes nothing."""
    app.store.write_guard = fence.check if fence else None
    try:
        await _collect_and_evaluate(app, stop, collect_first, fence)
    finally:
        app.store.write_guard = None


async def _collect_and_evaluate(app: App, stop: asyncio.Event, collect_first: bool,
                                fence: Fence | None) -> None:
    evaluator = build_evaluator(app)
    collect = collect_first
    while not stop.is_set():
        if collect:
            try:
                result = await app.refresh()
                await app.store.save_collector_run(datetime.now(UTC),
                                                   app.settings.collector.interval_seconds)
                logger.info("collected: asof=%s ok=%s stale=%s", result.asof,
                            result.families_ok, list(result.families_stale))
            except RedisError as exc:  # an outage: one line a pass, not a traceback
                app.collections_skipped += 1
                logger.warning("collection skipped: store unavailable (%s)", exc)
            except LeaderLost as exc:
                logger.warning("collection stopped: %s", exc)
                return
            except Exception:
                logger.exception("collection failed")
        collect = True
        if stop.is_set():
            return
        try:
            await evaluate_once(app, evaluator, fence)
        except RedisError as exc:
            app.evaluations_skipped += 1
            logger.warning("alert evaluation skipped: store unavailable (%s)", exc)
        except LeaderLost as exc:
            logger.warning("alert evaluation stopped: %s", exc)
            return
        except Exception:
            logger.exception("alert evaluation failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), app.settings.collector.interval_seconds)


async def run_collector(app: App, stop: asyncio.Event, collect_first: bool = True) -> None:
    """Collect and evaluate while this process holds the collector lock (one leader)."""
    lock = LeaderLock(app.redis, Keys(app.settings.store.prefix), "collector", process_id())
    lock.drain_s = DRAIN_S  # SIGTERM: the evaluation pass in hand finishes first
    await lock.run_as_leader(
        lambda: collect_and_evaluate(app, stop, collect_first, lock.fence()), stop)


def build_digest_scheduler(app: App, clock: Clock = wall_clock,
                           timer: Timer = SYSTEM_CLOCK) -> DigestScheduler:
    """The daily digest: the /brief (at the replay's as-of date in replay mode) as plain
    text and as a reply for the platforms to render, on the wall-clock schedule, into the
    alert outbox."""
    store = app.hub.digest

    async def compose(day: date) -> DigestMessage:
        reply = await digest_reply(app.context(Chat("digest", "digest")), day)
        return DigestMessage(render_text(reply), reply_to_json(reply))

    return DigestScheduler(store, app.outbox, compose, clock, timer)


async def run_digests(app: App, stop: asyncio.Event, clock: Clock = wall_clock,
                      timer: Timer = SYSTEM_CLOCK) -> None:
    """Enqueue due digests every `digest.tick_seconds` while this process holds the digest
    lock (one leader; the outbox transaction keeps a day single even if two overlap)."""
    lock = LeaderLock(app.redis, Keys(app.settings.store.prefix), "digest", process_id())
    scheduler = build_digest_scheduler(app, clock, timer)
    await lock.run_as_leader(lambda: scheduler.run(stop, app.settings.digest.tick_seconds),
                             stop)


def build_notifier(app: App, senders: dict[str, Sender], consumer: str, *,
                   pacer: Pacer | None = None, settings: NotifierSettings | None = None
                   ) -> Notifier:
    """A notifier on the app's outbox; gone chats are parked, migrated ones moved."""
    alerts, outbox, charts = app.hub.alerts, app.outbox, app.hub.charts

    async def chart(event: AlertEvent) -> bytes | None:
        """A rule's alert gets the rule's own chart (window, threshold, crossing)."""
        spec = CHARTS.get(event.chart)
        if spec is None:
            return None
        asof = app.hub.asof or datetime.now(UTC).date()
        if event.rule_id and event.kind in ("firing", "resolved"):
            return await alerts.rule_chart(event.rule_id, asof)
        return await charts.chart(spec.name, spec.default_window, asof)

    keys = Keys(app.settings.store.prefix)
    told_once = {p: NoticeOnce(p, s, app.redis, keys) for p, s in senders.items()}
    return Notifier(outbox, {"console": ConsoleSender(), **told_once}, pacer or Pacer(),
                    consumer=consumer, on_gone=alerts.park_destination,
                    on_migrated=alerts.move_destination, settings=settings, charts=chart,
                    fanout=alerts.fanout(outbox, consumer))


class ConsoleOutbox:
    """The terminal chat's outbox: its own alerts are printed at once, others are queued."""

    def __init__(self, forward: RedisOutbox, sender: ConsoleSender | None = None) -> None:
        self.forward = forward
        self.sender = sender or ConsoleSender()

    async def append_batch(self, events: list[AlertEvent], progress: Progress) -> bool:
        here = [e for e in events if split_destination(e.destination)[0] == "console"]
        if not await self.forward.append_batch([e for e in events if e not in here], progress):
            return False
        for event in here:
            await self.sender.send(split_destination(event.destination)[1], event.text, None)
        return True


def console_alerts(app: App) -> Callable[[], Awaitable[None]]:
    """The console's alert check: evaluate once (as a collection would) and print alerts,
    and the terminal's daily digest when it is due."""
    console = ConsoleOutbox(app.outbox)
    evaluator = app.evaluator
    fanout = app.hub.alerts.fanout(console, process_id())
    digests = build_digest_scheduler(app)

    async def check() -> None:
        try:
            await evaluate_once(app, evaluator)
            await fanout.drain_once()
        except Exception:
            logger.exception("alert evaluation failed")
        try:  # the terminal's own digest, printed here rather than queued
            if event := await digests.take_due(destination_id("console", "console")):
                await console.sender.send("console", event.text, None)
        except Exception:
            logger.exception("digest check failed")

    return check
