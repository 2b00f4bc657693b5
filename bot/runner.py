"""`run --role all|web|worker|collector`: the bot's long-running tasks under one TaskGroup.

collector: collect every interval and evaluate alerts once after each collection, only while
this process holds the collector lock (one leader across processes); and enqueue due daily
digests while it holds the digest lock. worker: a notifier delivering the alert outbox.
web: the Telegram and Discord front-ends. all: everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from bot.alerting import SenderSlot, build_notifier, process_id, run_collector, run_digests
from bot.app import App
from services.alerts.delivery import Sender
from services.settings import Secrets

logger = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 300.0
STORE_RETRY_S = 5.0
ROLES = ("all", "web", "worker", "collector")
Start = Callable[[], Awaitable[None]]
OpenSender = Callable[[], AbstractAsyncContextManager[Sender]]


@dataclass
class FrontendFailures:
    """How often each front-end failed (and was restarted), and its last error."""

    counts: Counter[str] = field(default_factory=Counter)
    last_error: dict[str, str] = field(default_factory=dict)

    def record(self, name: str, exc: Exception) -> None:
        self.counts[name] += 1
        self.last_error[name] = type(exc).__name__


async def isolated(name: str, start: Start, failures: FrontendFailures | None = None,
                   stop: asyncio.Event | None = None) -> None:
    """Run one front-end; if it fails, log and restart it with backoff, never taking the
    other front-ends or the collector down with it. Each failure is counted in `failures`
    once it has been logged. Once `stop` is set (SIGTERM) it is not restarted: a front-end
    failing at start (a rejected token) must not keep the process up."""
    stop = stop or asyncio.Event()
    backoff = 5.0
    while not stop.is_set():
        try:
            await start()
            logger.info("front-end stopped: %s", name)
            return
        except Exception as exc:
            logger.exception("front-end failed: %s; restarting in %.0fs", name, backoff)
            if failures is not None:
                failures.record(name, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


def platform_slots(secrets: Secrets) -> dict[str, SenderSlot]:
    """One sender slot per configured platform, filled once it connects."""
    names = [name for name, token in (("telegram", secrets.telegram_bot_token),
                                      ("discord", secrets.discord_bot_token)) if token]
    return {name: SenderSlot(name) for name in names}


def frontends(app: App, secrets: Secrets, stop: asyncio.Event,
              slots: dict[str, SenderSlot]) -> list[tuple[str, Start]]:
    """The configured chat front-ends; each fills its alert sender slot once connected."""
    found: list[tuple[str, Start]] = []
    if secrets.telegram_bot_token:
        from bot.telegram import check_config, run_telegram  # noqa: PLC0415 - optional SDK

        check_config(app.settings.telegram, secrets)
        telegram = slots.get("telegram")
        found.append(("telegram", lambda: run_telegram(
            app, secrets, stop, telegram.set if telegram else None)))
    if secrets.discord_bot_token:
        from bot.discord_app import run_discord  # noqa: PLC0415 - optional SDK
        from bot.discord_app.client import AnyClient  # noqa: PLC0415
        from bot.discord_app.sender import DiscordAlertSender  # noqa: PLC0415

        discord = slots.get("discord")

        def discord_ready(client: AnyClient | None) -> None:
            if discord is not None:
                discord.set(None if client is None else DiscordAlertSender(client))

        found.append(("discord", lambda: run_discord(app, secrets, stop, discord_ready)))
    return found


def standalone_senders(secrets: Secrets, slots: dict[str, SenderSlot]
                       ) -> list[tuple[str, OpenSender]]:
    """A worker without front-ends: its own platform clients, only to send alerts."""
    found: list[tuple[str, OpenSender]] = []
    if "telegram" in slots:
        from bot.telegram.sender import standalone_sender  # noqa: PLC0415 - optional SDK

        found.append(("telegram", lambda: standalone_sender(secrets)))
    if "discord" in slots:
        from bot.discord_app.sender import standalone_sender as discord_sender  # noqa: PLC0415

        found.append(("discord", lambda: discord_sender(secrets)))
    return found


async def hold_sender(name: str, open_sender: OpenSender, slot: SenderSlot,
                      stop: asyncio.Event) -> None:
    """Connect a platform's sender and keep it until `stop`. A platform that is down or
    answers 5xx at start (getMe 502) is retried with backoff, one line each time, while
    its alerts wait in the outbox; the worker itself keeps running."""
    backoff = 2.0
    while not stop.is_set():
        try:
            async with open_sender() as sender:
                slot.set(sender)
                try:
                    await stop.wait()
                finally:
                    slot.set(None)
                return
        except Exception as exc:  # one line: the traceback would only repeat it
            logger.warning("alert sender %s could not connect (%s: %s); retrying in %.0fs",
                           name, type(exc).__name__, exc, backoff)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


async def first_refresh(app: App) -> bool:
    """Collect once before serving; with Redis down, say so in one line and start anyway
    (commands answer "temporarily unavailable" until it is back)."""
    try:
        await app.refresh()
    except RedisError as exc:
        logger.warning("first collection skipped: store unavailable (%s); starting anyway", exc)
        return False
    return True


async def refresh_when_back(app: App, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), STORE_RETRY_S)
        if not stop.is_set() and await first_refresh(app):
            logger.info("store back: first collection done")
            return


async def run_forever(app: App, secrets: Secrets, role: str = "all") -> int:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # SIGTERM (process managers): stop cleanly
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    slots = platform_slots(secrets)
    web = frontends(app, secrets, stop, slots) if role in ("all", "web") else []
    collected = True
    if role == "all" or (role == "web" and app.hub.mode == "replay"):
        collected = await first_refresh(app)  # answer commands from the first moment
        if not web:
            logger.warning("no chat front-end configured (set TELEGRAM_BOT_TOKEN and/or "
                           "DISCORD_BOT_TOKEN)")
    async with asyncio.TaskGroup() as tasks:
        if role in ("all", "collector"):
            tasks.create_task(run_collector(app, stop,
                                            collect_first=role != "all" or not collected),
                              name="collector")
            tasks.create_task(run_digests(app, stop), name="digest")
        if role in ("all", "worker"):
            if role == "worker":
                for name, open_sender in standalone_senders(secrets, slots):
                    tasks.create_task(hold_sender(name, open_sender, slots[name], stop),
                                      name=f"sender-{name}")
            senders: dict[str, Sender] = dict(slots)
            notifier = build_notifier(app, senders, consumer=process_id())
            tasks.create_task(notifier.run(stop), name="notifier")
        if role == "web" and not collected:  # no collector here: keep trying ourselves
            tasks.create_task(refresh_when_back(app, stop), name="first-refresh")
        failures = FrontendFailures()
        for name, start in web:
            tasks.create_task(isolated(name, start, failures, stop), name=name)
    logger.info("run stopped: role=%s", role)
    return 0
