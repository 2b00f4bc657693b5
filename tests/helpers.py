"""Small builders shared by tests."""

from __future__ import annotations

from datetime import date

import pandas as pd
from aiohttp import web

from services.alerts.outbox import RedisOutbox
from services.series import TimeSeries


def series(key: str, points: dict[str, float], source: str = "test") -> TimeSeries:
    values = pd.Series(list(points.values()), index=pd.DatetimeIndex(list(points)))
    return TimeSeries.build(key, values, source)


def d(text: str) -> date:
    return date.fromisoformat(text)


async def serve_on_loopback(app: web.Application) -> tuple[web.AppRunner, int]:
    """Serve a local stand-in on 127.0.0.1 at a free port; the caller cleans the runner up."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, int(runner.addresses[0][1])


async def untouched_for(outbox: RedisOutbox, consumer: str, ms: int) -> None:
    """Make the entries `consumer` holds look untouched for `ms` (as after a crash), by
    setting their idle time in Redis instead of waiting it out."""
    pending = await outbox.redis.xpending_range(outbox.stream, outbox.group, "-", "+", 100,
                                                consumername=consumer)
    ids = [p["message_id"] for p in pending]
    await outbox.redis.xclaim(outbox.stream, outbox.group, consumer, 0, ids, idle=ms,
                              justid=True)
