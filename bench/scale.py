"""Scale: 100,000 subscribed chats on a redis-server of the bench's own.

Usage: .venv/bin/python -m bench.scale [--chats 100000] [--baseline 1000] [--asof 2026-05-08]
Every chat subscribes to every default rule (config.yaml). Measures: Redis memory for the
subscriptions (INFO used_memory, after minus before), the largest subscriber shard against
an even share, reading every rule's audience in fan-out batches, removing a blocked chat
(drop_destination, median of 50), and one evaluation pass and its fan-out. The evaluation
runs the app's own evaluator (bot.app.build_app, the bundled snapshot replayed at --asof and
collected into the store; on that date two default rules cross) over a fresh alert store,
at --chats and, as the baseline in the same run, at --baseline chats under their own
prefix; the fan-out is a worker's (FanOut.drain_once) turning each rule event into one
outbox entry per subscriber. Goals (issue 18): memory <= 150 MB, largest share <= 2x even,
removal <= 10 ms, evaluation pass <= 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from redis.asyncio import Redis

from bench.common import bench_settings, machine, table, verdict
from bot.app import App, build_app
from services.alerts.subscriptions import Subscriptions
from services.redis_client import connect_redis
from services.settings import Secrets
from tests.redis_topology import DATA_ARGS, Node

BATCH = 2000
ASOF = "2026-05-08"  # divergence and stablecoins-ath cross on this day of the snapshot


async def used_memory(redis: Redis) -> int:
    info = await redis.info("memory")
    return int(info["used_memory"])


def destinations(chats: int) -> list[str]:
    """Private chats and (every third) supergroups."""
    return [f"telegram:{-1000000000000 - n if n % 3 == 0 else n}" for n in range(chats)]


async def subscribe_all(redis: Redis, subs: Subscriptions, dests: list[str]) -> None:
    """Every destination to every default rule, as /subscribe all writes it, pipelined."""
    ids = [r.id for r in subs.defaults]
    for i in range(0, len(dests), BATCH):
        async with redis.pipeline(transaction=False) as pipe:
            for dest in dests[i:i + BATCH]:
                pipe.sadd(subs.keys.alert_chat_rules(dest), *ids)
                for rule_id in ids:
                    pipe.sadd(subs.keys.alert_subscriber_set(rule_id, dest), dest)
            await pipe.execute()


async def alert_app(url: str, prefix: str, asof: date) -> App:
    """The app the bot runs, on replay at `asof`, its store collected (snapshot data)."""
    app = await build_app(bench_settings(prefix), Secrets(redis_url=url), asof=asof)
    await app.refresh()
    return app


@dataclass(frozen=True)
class Pass:
    chats: int
    evaluate_s: float
    events: list[str]  # "rule kind" of each rule event
    fanout_s: float
    entries: int  # outbox entries written
    outbox_len: int  # XLEN of the outbox afterwards


async def evaluate_and_fan_out(app: App, chats: int) -> Pass:
    """One evaluation pass of the app's evaluator, then one worker's fan-out of it."""
    assert app.hub.alerts is not None
    started = time.monotonic()
    events = await app.evaluator.evaluate(datetime.now(UTC))
    evaluate_s = time.monotonic() - started
    fanout = app.hub.alerts.fanout(app.outbox, "bench")
    started = time.monotonic()
    written = await fanout.drain_once()
    fanout_s = time.monotonic() - started
    return Pass(chats, evaluate_s, [f"{e.rule_id} {e.kind}" for e in events], fanout_s,
                len(written), int(await app.redis.xlen(app.outbox.stream)))


async def evaluation(url: str, chats: int, asof: date, prefix: str) -> Pass:
    app = await alert_app(url, prefix, asof)
    try:
        assert app.hub.alerts is not None
        await subscribe_all(app.redis, app.hub.alerts.subscriptions, destinations(chats))
        return await evaluate_and_fan_out(app, chats)
    finally:
        await app.aclose()


async def run(chats: int, baseline: int, asof: date) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        node = Node(Path(tmp), list(DATA_ARGS))
        node.start()
        url = f"redis://{node.address}/0"
        redis = connect_redis(url)
        try:
            app = await alert_app(url, "fw:", asof)
            assert app.hub.alerts is not None
            subs = app.hub.alerts.subscriptions
            ids = [r.id for r in subs.defaults]
            dests = destinations(chats)
            before = await used_memory(redis)
            started = time.monotonic()
            await subscribe_all(redis, subs, dests)
            subscribe_s = time.monotonic() - started
            memory = await used_memory(redis) - before
            shares = []
            for rule_id in ids:
                async with redis.pipeline(transaction=False) as pipe:
                    for key in subs.keys.alert_subscriber_shards(rule_id):
                        pipe.scard(key)
                    sizes = [int(n) for n in await pipe.execute()]
                shares.append(max(sizes) / (sum(sizes) / len(sizes)))
            started = time.monotonic()
            read = 0
            for rule_id in ids:
                async for batch, _ in subs.subscriber_batches(rule_id, "", 500):
                    read += len(batch)
            read_s = time.monotonic() - started
            base = await evaluation(url, baseline, asof, "fwbase:")
            full = await evaluate_and_fan_out(app, chats)
            removals = []
            for dest in dests[:50]:
                started = time.monotonic()
                await subs.drop_destination(dest)
                removals.append((time.monotonic() - started) * 1000)
            await app.aclose()
        finally:
            await redis.aclose()
            node.kill()
    removal_ms = statistics.median(removals)
    print(machine())
    print(table(["measure", "value", "goal"], [
        ["chats x rules", f"{chats:,} x {len(ids)}", ""],
        ["subscribe all (pipelined)", f"{subscribe_s:.1f} s", ""],
        ["Redis memory for subscriptions", f"{memory / 1e6:.1f} MB", "<= 150 MB"],
        ["largest subscriber shard / even share", f"{max(shares):.2f}x", "<= 2x"],
        ["read every rule's audience (fan-out batches)",
         f"{read_s:.2f} s for {read:,}", ""],
        ["remove a blocked chat (median of 50)", f"{removal_ms:.2f} ms", "<= 10 ms"],
    ]))
    print(f"\nevaluation at as-of {asof} (rule events: {', '.join(full.events) or 'none'})")
    print(table(["chats", "evaluation pass", "rule events", "fan-out", "outbox entries"], [
        [f"{p.chats:,}{' (baseline)' if p is base else ''}", f"{p.evaluate_s:.3f} s",
         len(p.events), f"{p.fanout_s:.2f} s", f"{p.entries:,}"] for p in (base, full)]))
    print(f"ratio {chats:,} / {baseline:,} chats: evaluation "
          f"{full.evaluate_s / base.evaluate_s:.2f}x, fan-out {full.fanout_s / base.fanout_s:.1f}x"
          f" (chats {chats / baseline:.0f}x)")
    want = len(full.events) * chats
    return verdict([("memory", memory <= 150e6), ("share", max(shares) <= 2),
                    ("removal", removal_ms <= 10), ("all read", read == chats * len(ids)),
                    ("evaluation pass <= 2 s", full.evaluate_s <= 2),
                    ("evaluation emits rule events", bool(full.events)),
                    ("same events at both sizes", full.events == base.events),
                    ("one outbox entry per subscriber and event",
                     full.entries == full.outbox_len == want)])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000,
                        help="chats of the baseline evaluation, in the same run")
    parser.add_argument("--asof", type=date.fromisoformat, default=date.fromisoformat(ASOF),
                        help="replay date of the evaluation (default: one where rules cross)")
    args = parser.parse_args()
    return asyncio.run(run(args.chats, args.baseline, args.asof))


if __name__ == "__main__":
    raise SystemExit(main())
