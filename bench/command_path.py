"""Command path from Redis: flowwatch handlers vs a bare Redis GET of the same snapshot.

Usage: .venv/bin/python -m bench.command_path [--n 2000] [--redis-url URL]
Prints commands/s for each, their ratio, and p50/p99 handler latency. The baseline
(one GET of the stored snapshot per request) is measured in the same run, on the same
Redis, so the ratio is what the handler layer (decode, format, registry) costs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from pathlib import Path

from redis.asyncio import Redis

from bot.app import build_app
from handlers.registry import Chat
from services.settings import Secrets, load_settings

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("/divergence", "/btc", "/stablecoins", "/yields", "/aitokens", "/capex")


async def measure(n: int, call) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    latencies = []
    start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        await call(i)
        latencies.append(time.perf_counter() - t0)
    return n / (time.perf_counter() - start), latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


async def main(n: int, redis_url: str) -> None:
    settings = load_settings(ROOT / "config.yaml")
    redis = Redis.from_url(redis_url, decode_responses=True)
    prefix = f"fwbench:{uuid.uuid4().hex[:8]}:"
    settings = settings.model_copy(update={"store": settings.store.model_copy(
        update={"prefix": prefix})})
    app = await build_app(settings, Secrets(redis_url=redis_url), redis=redis)
    await app.refresh()
    ctx = app.context(Chat("bench", "bench"))
    snapshot_key = app.store.keys.snapshot("divergence")

    async def baseline(i: int) -> None:
        await redis.get(snapshot_key)

    async def flowwatch(i: int) -> None:
        reply = await app.registry.run_text(ctx, COMMANDS[i % len(COMMANDS)])
        assert not reply.error, reply.title

    await measure(200, flowwatch)  # warm-up
    base_rate, base_lat = await measure(n, baseline)
    fw_rate, fw_lat = await measure(n, flowwatch)
    print(f"machine: {__import__('platform').platform()}, redis {redis_url}")
    print(f"baseline bare GET      : {base_rate:8.0f} req/s  p50 {pct(base_lat, 50):.2f} ms  "
          f"p99 {pct(base_lat, 99):.2f} ms")
    print(f"flowwatch handlers     : {fw_rate:8.0f} cmd/s  p50 {pct(fw_lat, 50):.2f} ms  "
          f"p99 {pct(fw_lat, 99):.2f} ms")
    print(f"ratio flowwatch/baseline: {fw_rate / base_rate:.3f}")
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
    if keys:
        await redis.delete(*keys)
    await app.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.redis_url))
