"""Chart PNGs on demand: Redis cache first, else load history, build and render off-loop.

The PNG is cached base64-encoded in a small JSON value (with the chart's headline and data start)
in the app's one Redis client (decode_responses=True), so no second connection (or second
embedded store) is needed; it costs a third more memory per chart (~150 KB).

One render per chart key at a time: concurrent requests for the same chart, window and as-of
date in this process share one render (a single flight). Across processes the Redis cache
still saves every later request; two replicas asked in the same second may both draw it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class DrawnChart:
    png: bytes
    headline: str  # the chart's number: "BTC $73,512, -41.2% from its high"
    data_from: date | None = None  # set when the window reaches back before the data

    def encode(self) -> str:
        return json.dumps({"png": base64.b64encode(self.png).decode("ascii"),
                           "headline": self.headline,
                           "data_from": self.data_from.isoformat() if self.data_from else None})

    @classmethod
    def decode(cls, raw: str | bytes) -> DrawnChart | None:
        """The cached chart, or None when the entry is unreadable (then it is drawn again)."""
        try:
            fields = json.loads(raw)
            png = base64.b64decode(fields["png"], validate=True)
            since = fields["data_from"]
            drawn = cls(png, str(fields["headline"]), date.fromisoformat(since) if since else None)
        except (ValueError, TypeError, KeyError, binascii.Error):
            return None
        return drawn if png.startswith(PNG_SIGNATURE) else None


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
        self._inflight: dict[str, asyncio.Future[DrawnChart]] = {}

    async def chart(self, name: str, window: Window, asof: date) -> bytes:
        """The PNG of chart `name` over `window` at `asof`; a cache failure only costs time."""
        return (await self.drawn(name, window, asof)).png

    async def drawn(self, name: str, window: Window, asof: date) -> DrawnChart:
        """The chart with its headline and data start: from the cache, from a render already under
        way for the same key, or rendered now."""
        spec = CHARTS.get(name)
        if spec is None:
            raise ValueError(f"unknown chart {name!r}")
        key = self.keys.chart(name, window.label, asof.isoformat())
        cached = await self._cached(key)
        if cached is not None:
            logger.debug("chart cache hit: chart=%s window=%s asof=%s", name, window.label, asof)
            return cached
        flight = self._inflight.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._render_and_save(spec, key, window, asof))
            self._inflight[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        else:
            logger.debug("chart render shared: chart=%s window=%s asof=%s", name,
                         window.label, asof)
        # shielded: one asker giving up (a cancelled command) must not cancel the others'
        return await asyncio.shield(flight)

    def _landed(self, key: str, flight: asyncio.Future[DrawnChart]) -> None:
        self._inflight.pop(key, None)
        if not flight.cancelled():
            flight.exception()  # retrieved here, so an error nobody awaited is not reported

    async def _render_and_save(self, spec: ChartSpec, key: str, window: Window,
                               asof: date) -> DrawnChart:
        try:
            data = await self.store.load_history(spec.inputs(self.baskets))
        except RedisError as exc:
            raise Unavailable("data store temporarily unavailable; try again shortly") from exc
        started = time.perf_counter()
        drawn = await asyncio.to_thread(self._render, spec, data, asof, window)
        logger.info("chart rendered: chart=%s window=%s asof=%s bytes=%d ms=%.0f", spec.name,
                    window.label, asof, len(drawn.png), (time.perf_counter() - started) * 1000)
        await self._save(key, drawn)
        return drawn

    def _render(self, spec: ChartSpec, data: MarketData, asof: date,
                window: Window) -> DrawnChart:
        chart = spec.build(data, asof, window, self.baskets)
        return DrawnChart(self.renderer(chart), chart.meta.headline, chart.meta.data_from)

    async def _cached(self, key: str) -> DrawnChart | None:
        try:
            raw = await self.redis.get(key)
        except RedisError:
            logger.warning("chart cache read failed: key=%s", key, exc_info=True)
            return None
        if raw is None:
            return None
        drawn = DrawnChart.decode(raw)
        if drawn is None:
            logger.warning("chart cache entry unreadable, re-rendering: key=%s", key)
        return drawn

    async def _save(self, key: str, drawn: DrawnChart) -> None:
        try:
            await self.redis.set(key, drawn.encode(), ex=self.ttl_seconds)
        except RedisError:
            logger.warning("chart cache write failed: key=%s", key, exc_info=True)
