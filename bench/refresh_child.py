"""One measured piece of bench.refresh, in its own process so its peak memory is its own.

    python -m bench.refresh_child live|collect|monthly|backtest --data-dir D --prefix P
Prints one JSON line: seconds, RSS at start and peak RSS (MB), and a detail.
- live: build the app in live mode against a local server answering every upstream with the
  recorded responses (tests/sources), then one full refresh: fetch, store history, compute
  and store every metric family.
- collect: the same refresh in replay mode, from the snapshot at --data-dir.
- monthly: a replay over the whole snapshot: every family, every window, computed at every
  month end from the first to the last as-of date, from the data up to that date only.
- backtest: every default alert rule of config.yaml backtested over the whole snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
from datetime import date, timedelta
from pathlib import Path

from aiohttp import web

from bench.common import REDIS_URL, bench_settings
from bot.app import build_app
from services.alerts.backtest import run_backtest
from services.alerts.rules import parse_rule
from services.engine import build_catalog
from services.families import FAMILIES
from services.settings import Secrets
from services.sources.replay import ReplaySource
from services.windows import STANDARD_WINDOWS, YTD
from tests.helpers import serve_on_loopback
from tests.sources.conftest import FakeUpstream
from tests.sources.test_live import local_config, serve_everything


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def live(args: argparse.Namespace) -> str:
    fake = FakeUpstream()
    serve_everything(fake)
    server = web.Application()
    server.router.add_route("GET", "/{tail:.*}", fake.handle)
    runner, port = await serve_on_loopback(server)
    url = f"http://127.0.0.1:{port}"
    settings = bench_settings(args.prefix).model_copy(
        update={"mode": "live", "sources": local_config(url)})
    try:
        return await refresh(build_app(settings, Secrets(redis_url=args.redis_url)))
    finally:
        await runner.cleanup()


async def collect(args: argparse.Namespace) -> str:
    settings = bench_settings(args.prefix, Path(args.data_dir))
    return await refresh(build_app(settings, Secrets(redis_url=args.redis_url)))


async def refresh(building) -> str:  # type: ignore[no-untyped-def]
    app = await building
    try:
        result = await app.refresh()
    finally:
        await app.aclose()
    stale = ", ".join(f"{k} ({v[:40]})" for k, v in result.families_stale.items())
    failed = ", ".join(result.failed_sources)
    return (f"{len(result.families_ok)}/{len(FAMILIES)} families fresh"
            f"{'; stale: ' + stale if stale else ''}{'; failed: ' + failed if failed else ''}")


async def monthly(args: argparse.Namespace) -> str:
    settings = bench_settings(args.prefix, Path(args.data_dir))
    snapshot = await ReplaySource(settings.data_dir()).load()
    asof, day = snapshot.default_asof(), snapshot.first_date()
    computed = failed = months = 0
    while day <= asof:
        month_end = date(day.year + day.month // 12, day.month % 12 + 1, 1) - timedelta(days=1)
        data = snapshot.upto(min(month_end, asof))
        for family in FAMILIES:
            for window in STANDARD_WINDOWS if family.windowed else (YTD,):
                try:
                    family.compute(data, min(month_end, asof), settings.baskets, window)
                    computed += 1
                except Exception:  # a family without data yet that early: as the collector
                    failed += 1
        months, day = months + 1, month_end + timedelta(days=1)
    return f"{months} month ends, {computed} readings computed, {failed} without data"


async def backtest(args: argparse.Namespace) -> str:
    settings = bench_settings(args.prefix, Path(args.data_dir))
    found = []
    for default in settings.alerts.defaults:
        catalog = build_catalog(settings.baskets, settings.thesis)
        result = await run_backtest(settings, catalog, parse_rule(default.rule), None, None)
        found.append(f"{default.id} {result.firings}")
    return f"{len(found)} rules from {result.start} to {result.end}; firings: {', '.join(found)}"


async def main(args: argparse.Namespace) -> None:
    work = {"live": live, "collect": collect, "monthly": monthly, "backtest": backtest}
    start_mb = rss_mb()
    started = time.perf_counter()
    detail = await work[args.work](args)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "start_mb": start_mb, "peak_mb": peak_mb,
                      "detail": detail}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", choices=("live", "collect", "monthly", "backtest"))
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--redis-url", default=REDIS_URL)
    asyncio.run(main(parser.parse_args()))
