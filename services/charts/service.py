"""Chart PNGs on demand: Redis cache first, else load history, build and render off-loop.

The PNG is cached base64-encoded in the app's one Redis client (decode_responses=True), so no
second connection (or second embedded store) is needed; it costs a third more memory per
chart (~150 KB), and reads also work on a bytes client because b64decode takes either.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.baskets import Baskets
from services.charts.catalog import CHARTS, ChartData, ChartSpec, draw_chart
from services.errors import Unavailable
from services.keys import Keys
from services.series import MarketData
from services.windows import Window

logger = logging.getLogger(__name__)

CACHE_TTL_SECONDS = 24 * 3600
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Renderer = Callable[[ChartData], bytes]


class HistoryReader(Protocol):
    async def load_history(self, keys: list[str]) -> MarketData: ...


class ChartService:
    def __init__(self, store: HistoryReader, redis: Redis, keys: Keys, baskets: Baskets,
                 renderer: Renderer = draw_chart,
                 ttl_seconds: int = CACHE_TTL_SECONDS) -> None:
        self.store = store
        self.redis = redis
        self.keys = keys
        self.baskets = baskets
        self.renderer = renderer
        self.ttl_seconds = ttl_seconds

    async def chart(self, name: str, window: Window, asof: date) -> bytes:
        """The PNG of chart `name` over `window` at `asof`; a cache failure only costs time."""
        spec = CHARTS.get(name)
        if spec is None:
            raise ValueError(f"unknown chart {name!r}")
        key = self.keys.chart(name, window.label, asof.isoformat())
        cached = await self._cached(key)
        if cached is not None:
            logger.debug("chart cache hit: chart=%s window=%s asof=%s", name, window.label, asof)
            return cached
        try:
            data = await self.store.load_history(spec.inputs(self.baskets))
        except RedisError as exc:
            raise Unavailable("data store temporarily unavailable; try again shortly") from exc
        started = time.perf_counter()
        png = await asyncio.to_thread(self._render, spec, data, asof, window)
        logger.info("chart rendered: chart=%s window=%s asof=%s bytes=%d ms=%.0f", name,
                    window.label, asof, len(png), (time.perf_counter() - started) * 1000)
        await self._save(key, png)
        return png

    def _render(self, spec: ChartSpec, data: MarketData, asof: date, window: Window) -> bytes:
        return self.renderer(spec.build(data, asof, window, self.baskets))

    async def _cached(self, key: str) -> bytes | None:
        try:
            raw = await self.redis.get(key)
        except RedisError:
            logger.warning("chart cache read failed: key=%s", key, exc_info=True)
            return None
        if raw is None:
            return None
        try:
            png = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            logger.warning("chart cache entry unreadable, re-rendering: key=%s", key)
            return None
        return png if png.startswith(PNG_SIGNATURE) else None

    async def _save(self, key: str, png: bytes) -> None:
        try:
            await self.redis.set(key, base64.b64encode(png).decode("ascii"), ex=self.ttl_seconds)
        except RedisError:
            logger.warning("chart cache write failed: key=%s", key, exc_info=True)
