"""The chart cache on real Redis and the embedded store: a hit never re-renders."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.charts.catalog import ChartData, draw_chart
from services.charts.service import CACHE_TTL_SECONDS, ChartService, DrawnChart
from services.settings import Settings
from services.sources.replay import ReplaySource
from services.store import MetricStore
from services.windows import SINCE_2024, YTD

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class CountingRenderer:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, data: ChartData) -> bytes:
        self.calls += 1
        return draw_chart(data)


@pytest.fixture
async def asof(store: MetricStore, settings: Settings) -> date:
    """The replay history saved into the store under test; returns its as-of date."""
    source = ReplaySource(settings.data_dir())
    day = (await source.load()).default_asof()
    await store.save_history(await source.fetch(day))
    return day


def service(store: MetricStore, settings: Settings, renderer: CountingRenderer,
            redis: Redis | None = None) -> ChartService:
    return ChartService(store, redis or store.redis, store.keys, settings.baskets,
                        renderer=renderer)


async def test_cache_hit_does_not_render_again(store: MetricStore, settings: Settings,
                                               asof: date) -> None:
    renderer = CountingRenderer()
    first = await service(store, settings, renderer).chart("btc", SINCE_2024, asof)
    again = await service(store, settings, renderer).chart("btc", SINCE_2024, asof)
    assert renderer.calls == 1
    assert again == first
    assert first.startswith(PNG_SIGNATURE)
    key = store.keys.chart("btc", SINCE_2024.label, asof.isoformat())
    assert key == f"{store.keys.prefix}{{c}}:chart:btc:since:2024-01-01:{asof.isoformat()}"
    cached = DrawnChart.decode(await store.redis.get(key))
    assert cached is not None
    assert cached.png == first
    assert cached.headline.startswith("BTC $")
    assert cached.data_from is None
    assert 0 < await store.redis.ttl(key) <= CACHE_TTL_SECONDS


async def test_window_and_asof_are_part_of_the_key(store: MetricStore, settings: Settings,
                                                   asof: date) -> None:
    renderer = CountingRenderer()
    charts = service(store, settings, renderer)
    await charts.chart("divergence", SINCE_2024, asof)
    await charts.chart("divergence", YTD, asof)
    await charts.chart("divergence", YTD, date(2026, 5, 1))
    await charts.chart("stablecoins", YTD, asof)
    assert renderer.calls == 4
    await charts.chart("divergence", YTD, date(2026, 5, 1))
    assert renderer.calls == 4


async def test_unreadable_cache_entry_is_rendered_again(store: MetricStore, settings: Settings,
                                                       asof: date) -> None:
    renderer = CountingRenderer()
    await store.redis.set(store.keys.chart("yields", YTD.label, asof.isoformat()), "not base64 !")
    png = await service(store, settings, renderer).chart("yields", YTD, asof)
    assert renderer.calls == 1
    assert png.startswith(PNG_SIGNATURE)


async def test_cache_outage_still_answers(store: MetricStore, settings: Settings,
                                          asof: date) -> None:
    renderer = CountingRenderer()
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        png = await service(store, settings, renderer, redis=down).chart("capex", YTD, asof)
    finally:
        await down.aclose()
    assert png.startswith(PNG_SIGNATURE)
    assert renderer.calls == 1


def test_ask_chart_writes_a_png_and_prints_its_path(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    out = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "/chart btc"], cwd=tmp_path, capture_output=True,
        text=True, timeout=60, env=env, check=False)
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("chart: ")]
    assert lines == ["chart: charts-out/btc-since-2024-01-01-2026-05-29.png"]
    png = (tmp_path / lines[0].removeprefix("chart: ")).read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    assert "as of 2026-05-29" in out.stdout
