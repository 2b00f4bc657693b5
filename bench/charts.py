"""Charts: render time per chart on a cache miss vs the cache hit from real Redis.

Usage: .venv/bin/python -m bench.charts [--renders 3] [--hits 50] [--redis-url URL]
Every chart of services/charts/catalog.py at its default window and the replay as-of date,
through ChartService.chart, as a command would ask for it: a miss loads the history from
Redis and renders off the loop, then caches the PNG; a hit reads it back. The baseline is
the render (its cache entry deleted before each of --renders runs; the median is shown),
measured in the same run as the hits (median of --hits). One warm-up render comes first, so
matplotlib's one-time start-up is not charged to the first chart.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import date

from bench.common import REDIS_URL, bench_redis, bench_settings, machine, pct, table
from bot.app import build_app
from services.charts.catalog import CHARTS
from services.charts.service import ChartService
from services.settings import Secrets


async def timed(charts: ChartService, name: str, asof: date) -> tuple[float, int]:
    """Milliseconds to get the chart's PNG, and its size."""
    started = time.perf_counter()
    png = await charts.chart(name, CHARTS[name].default_window, asof)
    return (time.perf_counter() - started) * 1000, len(png)


async def main(args: argparse.Namespace) -> None:
    rows = []
    async with bench_redis(args.redis_url) as (redis, prefix):
        app = await build_app(bench_settings(prefix), Secrets(redis_url=args.redis_url))
        try:
            await app.refresh()
            charts, asof = app.hub.charts, app.hub.asof
            assert charts is not None and asof is not None
            await timed(charts, next(iter(CHARTS)), asof)  # warm-up
            for name, spec in CHARTS.items():
                key = charts.keys.chart(name, spec.default_window.label, asof.isoformat())
                renders = []
                for _ in range(args.renders):
                    await redis.delete(key)
                    renders.append((await timed(charts, name, asof))[0])
                hits = [(await timed(charts, name, asof))[0]
                        for _ in range(args.hits)]
                size = (await timed(charts, name, asof))[1]
                render, hit = statistics.median(renders), statistics.median(hits)
                rows.append((name, spec.default_window.label, f"{size / 1024:.0f} KB", render,
                             hit, pct(hits, 99), render / hit))
        finally:
            await app.aclose()
    print(machine())
    print(f"as-of {asof}, {args.renders} renders and {args.hits} hits per chart\n")
    print(table(("chart", "window", "PNG", "render ms (baseline)", "cache hit ms",
                 "hit p99 ms", "render / hit"), rows))
    total_render = sum(r[3] for r in rows)
    total_hit = sum(r[4] for r in rows)
    print(f"\nall {len(rows)} charts: render {total_render:.0f} ms, from cache "
          f"{total_hit:.1f} ms; ratio {total_render / total_hit:.0f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=3)
    parser.add_argument("--hits", type=int, default=50)
    parser.add_argument("--redis-url", default=REDIS_URL)
    asyncio.run(main(parser.parse_args()))
