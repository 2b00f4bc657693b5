"""`run`: the collector loop and every configured front-end under one TaskGroup."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.app import App
from services.settings import Secrets

logger = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 300.0


async def collect_forever(app: App) -> None:
    interval = app.settings.collector.interval_seconds
    while True:
        try:
            result = await app.refresh()
            logger.info("collected: asof=%s ok=%s stale=%s", result.asof, result.families_ok,
                        list(result.families_stale))
        except Exception:
            logger.exception("collection failed")
        await asyncio.sleep(interval)


async def isolated(name: str, start: Callable[[], Awaitable[None]]) -> None:
    """Run one front-end; if it fails, log and restart it with backoff, never taking the
    other front-ends or the collector down with it."""
    backoff = 5.0
    while True:
        try:
            await start()
            logger.info("front-end stopped: %s", name)
            return
        except Exception:
            logger.exception("front-end failed: %s; restarting in %.0fs", name, backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


async def run_forever(app: App, secrets: Secrets) -> int:
    frontends: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    if secrets.telegram_bot_token:
        from bot.telegram import check_config, run_telegram  # noqa: PLC0415 - optional SDK

        check_config(app.settings.telegram, secrets)
        frontends.append(("telegram", lambda: run_telegram(app, secrets)))
    if secrets.discord_bot_token:
        from bot.discord_app import run_discord  # noqa: PLC0415 - optional SDK

        frontends.append(("discord", lambda: run_discord(app, secrets)))
    await app.refresh()
    if not frontends:
        logger.warning("no chat front-end configured (set TELEGRAM_BOT_TOKEN and/or "
                       "DISCORD_BOT_TOKEN); running the collector only")
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(collect_forever(app), name="collector")
        for name, start in frontends:
            tasks.create_task(isolated(name, start), name=name)
    return 0
