"""Scale: 100,000 subscribed chats on a redis-server of the bench's own.

Usage: .venv/bin/python -m bench.scale [--chats 100000]
Every chat subscribes to every default rule (config.yaml). Measures: Redis memory for the
subscriptions (INFO used_memory, after minus before), the largest subscriber shard against
an even share, reading every rule's audience in fan-out batches, and removing a blocked
chat (drop_destination, median of 50). Goals (issue 18): memory <= 150 MB, largest share
<= 2x even, removal <= 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import bench_settings, machine, table, verdict
from services.alerts.subscriptions import AlertRule, Subscriptions
from services.engine import build_catalog
from services.keys import Keys
from services.redis_client import connect_redis
from tests.redis_topology import DATA_ARGS, Node

BATCH = 2000


async def used_memory(redis: object) -> int:
    info = await redis.info("memory")  # type: ignore[attr-defined]
    return int(info["used_memory"])


async def run(chats: int) -> int:
    settings = bench_settings("fw:")
    catalog = build_catalog(settings.baskets, settings.thesis)
    from services.alerts.service import AlertService  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        node = Node(Path(tmp), list(DATA_ARGS))
        node.start()
        redis = connect_redis(f"redis://{node.address}/0")
        try:
            service = AlertService(redis, Keys("fw:"), settings.alerts, catalog)
            subs: Subscriptions = service.subscriptions
            rules: list[AlertRule] = subs.defaults
            ids = [r.id for r in rules]
            before = await used_memory(redis)
            started = time.monotonic()
            dests = [f"telegram:{-1000000000000 - n if n % 3 == 0 else n}" for n in range(chats)]
            for i in range(0, chats, BATCH):
                async with redis.pipeline(transaction=False) as pipe:
                    for dest in dests[i:i + BATCH]:
                        pipe.sadd(subs.keys.alert_chat_rules(dest), *ids)
                        for rule_id in ids:
                            pipe.sadd(subs.keys.alert_subscriber_set(rule_id, dest), dest)
                    await pipe.execute()
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
            fanout_s = time.monotonic() - started
            removals = []
            for dest in dests[:50]:
                started = time.monotonic()
                await subs.drop_destination(dest)
                removals.append((time.monotonic() - started) * 1000)
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
         f"{fanout_s:.2f} s for {read:,}", ""],
        ["remove a blocked chat (median of 50)", f"{removal_ms:.2f} ms", "<= 10 ms"],
    ]))
    return verdict([("memory", memory <= 150e6), ("share", max(shares) <= 2),
                    ("removal", removal_ms <= 10), ("all read", read == chats * len(ids))])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--chats", type=int, default=100_000)
    return asyncio.run(run(parser.parse_args().chats))


if __name__ == "__main__":
    raise SystemExit(main())
