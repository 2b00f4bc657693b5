"""Live mode against the behaving stand-ins (tests/standins): calls per provider from the
default schedule against each free tier, collection time, and answers with no network.

1. budget: one steady-state pass (every chain due, history already stored) counted per
   provider at the stand-in, times the passes a day each chain's cadence allows (the
   collector ticks every collector.interval_seconds). Target: every provider under 50% of
   each free-tier window (minute: one pass's calls; hour, day, month: the schedule's).
2. collection: the first collection (bundled backfill, then providers) and the second one
   five minutes later (prices due), both with the default request spacing. Target: the
   second under 10 s.
3. offline: every provider at a loopback port nobody listens on; `python -m bot ask` for
   every command, one process each, wall time; then `doctor`. Targets: every answer within
   5 s, doctor exits non-zero with one line per unreachable provider.

    .venv/bin/python -m bench.live [--redis-url URL] [--skip-offline]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from bench.common import REDIS_URL, ROOT, bench_redis, bench_settings, machine, table
from handlers.catalog import build_registry
from services.settings import Secrets
from services.sources.budget import FREE_TIERS, WINDOWS
from services.sources.live import tier_name
from tests.standins.apis import DEMO_KEY
from tests.standins.apps import Clock, live_app
from tests.standins.server import StandIn, running_standin

TODAY = date(2026, 5, 29)
DEMO = Secrets(coingecko_api_key=DEMO_KEY)
PASSES_PER = {"hour": 3600, "day": 86400, "month": 30 * 86400}


def passes(window: str, cadence_min: int, tick_s: int) -> float:
    return PASSES_PER[window] / max(cadence_min * 60, tick_s)


TAG_CHAIN = {"yahoo": "equities", "coinbase": "crypto", "kraken": "crypto",
             "binance": "crypto", "coingecko": "marketcaps",
             "defillama-stablecoins": "stablecoins", "defillama-yields": "yields",
             "defillama-fees": "fees", "fred": "rates", "sec": "capex"}
TAG_TIER = {"defillama-stablecoins": "defillama", "defillama-yields": "defillama",
            "defillama-fees": "defillama"}


async def budget(redis_url: str) -> bool:
    async with bench_redis(redis_url) as (_, prefix), running_standin(TODAY) as standin:
        settings = bench_settings(prefix)
        clock = Clock(TODAY)
        async with live_app(settings, standin, prefix, secrets=DEMO, clock=clock) as app:
            await app.refresh()
            standin.hits.clear()
            clock.now += timedelta(days=1)  # every chain due, and the daily cross-checks
            await app.refresh()
            with_checks = Counter(h.provider for h in standin.hits)
            standin.hits.clear()
            clock.now += timedelta(days=1, minutes=-5)  # every chain due, no cross-check
            await app.refresh()
        steady = Counter(h.provider for h in standin.hits)
    cadence = settings.sources.cadence_minutes.model_dump()
    tick = settings.collector.interval_seconds
    calls: dict[str, Counter[str]] = {}
    for tag, chain in TAG_CHAIN.items():
        tier = TAG_TIER.get(tag, tag)
        checks = max(0, with_checks[tag] - steady[tag])
        count = calls.setdefault(tier, Counter())
        count["minute"] += steady[tag] + checks  # one pass, conservatively in one minute
        for window, seconds in PASSES_PER.items():
            count[window] += round(steady[tag] * passes(window, cadence[chain], tick)
                                   + checks * seconds / 86400)
    rows, ok = [], True
    for provider, count in sorted(calls.items()):
        tier = FREE_TIERS[tier_name(provider, {"COINGECKO_API_KEY": DEMO_KEY})]
        use = {w: count[w] / lim for w, _, _ in WINDOWS if (lim := tier.limit(w))}
        worst = max(use.values(), default=0.0)
        ok &= worst < 0.5
        rows.append((provider, count["minute"], count["day"], count["month"],
                     ", ".join(f"{tier.limit(w)}/{w}" for w, _, _ in WINDOWS
                               if tier.limit(w)) or "none published", f"{worst:.1%}"))
    print("calls from the default schedule (CoinGecko with a demo key; per pass = the most "
          "one collection sends, cross-checks included):")
    print(table(("provider", "per pass", "per day", "per month", "free tier", "worst use"),
                rows))
    print(f"target: every provider < 50% of each window: {'met' if ok else 'MISSED'}\n")
    return ok


async def collection(redis_url: str) -> bool:
    async with bench_redis(redis_url) as (_, prefix), running_standin(TODAY) as standin:
        settings = bench_settings(prefix)
        clock = Clock(TODAY)
        cfg = default_spacing(standin)
        async with live_app(settings, standin, prefix, cfg=cfg, secrets=DEMO,
                            clock=clock) as app:
            started = time.perf_counter()
            await app.refresh()
            first = time.perf_counter() - started
            clock.now += timedelta(minutes=5)
            started = time.perf_counter()
            second = await app.refresh()
            took = time.perf_counter() - started
    print(table(("collection", "seconds", "chains run"), [
        ("first (bundled backfill, then providers)", first, "all 8"),
        ("second, 5 minutes later", took, ", ".join(sorted(second.chains_run)))]))
    print(f"ratio second/first: {took / first:.2f}; target second < 10 s: "
          f"{'met' if took < 10 else 'MISSED'}\n")
    return took < 10


def default_spacing(standin: StandIn):  # type: ignore[no-untyped-def]
    """The stand-in URLs with every provider's own default spacing and retries."""
    cfg = standin.config()
    defaults = type(cfg)()
    return cfg.model_copy(update={
        name: getattr(cfg, name).model_copy(update={
            k: getattr(getattr(defaults, name), k) for k in (
                "min_interval_seconds", "backoff_seconds", "max_retry_after_seconds")})
        for name in ("yahoo", "coinbase", "kraken", "binance", "coingecko", "defillama",
                     "fred", "sec")})


def offline() -> bool:
    from tests.sources.test_doctor import PROVIDERS, offline_config  # noqa: PLC0415

    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    commands = ["/" + spec.name for spec in build_registry()]
    rows, worst = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        config = offline_config(Path(tmp))
        for command in commands:
            started = time.perf_counter()
            argv = [sys.executable, "-m", "bot", "--config", str(config), "ask", command]
            done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT,  # noqa: S603
                                  env=env, timeout=60, check=False)
            took = time.perf_counter() - started
            worst = max(worst, took)
            rows.append((command, took, done.returncode, "stale" in done.stdout.lower()))
        started = time.perf_counter()
        argv = [sys.executable, "-m", "bot", "--config", str(config), "doctor"]
        doc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT,  # noqa: S603
                             env=env, timeout=120, check=False)
        doctor_s = time.perf_counter() - started
    print("no network (every provider at a closed loopback port), one process per command:")
    print(table(("command", "seconds", "exit", "marked stale"), rows))
    failing = [line for line in doc.stdout.splitlines() if line.startswith("FAIL")]
    print(f"doctor: exit {doc.returncode}, {len(failing)} FAIL lines for {len(PROVIDERS)} "
          f"providers, {doctor_s:.1f} s")
    ok = worst < 5 and doc.returncode != 0 and len(failing) == len(PROVIDERS)
    print(f"targets: every answer < 5 s (worst {worst:.2f} s), doctor non-zero with one "
          f"line per provider: {'met' if ok else 'MISSED'}")
    return ok


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--skip-offline", action="store_true")
    args = parser.parse_args()
    print(machine(), "\n")
    results = [await budget(args.redis_url), await collection(args.redis_url)]
    if not args.skip_offline:
        results.append(offline())
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
