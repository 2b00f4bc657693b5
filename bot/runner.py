"""`run`: the collector loop and every configured front-end under one TaskGroup."""

from __future__ import annotations

import asyncio
import logging

from bot.app import App

logger = logging.getLogger(__name__)


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


async def run_forever(app: App) -> int:
    await app.refresh()
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(collect_forever(app), name="collector")
        logger.warning("no chat front-end configured yet; running the collector only")
    return 0
