"""Small builders shared by tests."""

from __future__ import annotations

from datetime import date

import pandas as pd
from aiohttp import web

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
