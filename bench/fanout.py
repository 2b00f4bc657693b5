"""Alert fan-out: one alert to 10,000 destinations through the outbox and 1, 2 and 4
notifier processes (`python -m tests.worker_process`), against a stand-in that enforces the limits.

Usage: .venv/bin/python -m bench.fanout [--destinations 10000] [--speedup 3]
                                        [--workers 1,2,4] [--concurrency 4] [--local-pacing]
                                        [--worker-root DIR]
The stand-in (bench/limit_standin.py, its own process) and the workers (--pacing-speedup) run
every limit `speedup` times faster, so a run is short and the ratio is unchanged. The workers
are up and idle when the alert's events are appended, as in production. The baseline is the
allowed rate: Telegram 30/s, Discord 50/s (times speedup); the default mix (3/8 Telegram)
makes both platforms' shares take equally long. Targets, per platform and worker count:
achieved / allowed >= 0.95, no 429 answered, nothing lost, no duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import PYTHON, REDIS_URL, ROOT, bench_redis, child_env, machine, table, verdict
from bench.limit_standin import PLATFORM_RULES
from services.alerts.events import AlertEvent
from services.alerts.outbox import RedisOutbox
from services.keys import Keys

TARGET = 0.95
EVENT_ID = "bench-rule|firing|2026-05-29T10:00:00+00:00"


def destinations(n: int, telegram_share: float) -> list[str]:
    """Telegram private chats and Discord channels, interleaved evenly."""
    return [f"telegram:{100_000 + i}" if int((i + 1) * telegram_share) > int(i * telegram_share)
            else f"discord:{900_000_000 + i}" for i in range(n)]


async def enqueue(outbox: RedisOutbox, dests: list[str]) -> set[str]:
    """One alert event per destination, as the evaluator appends them; their keys."""
    events = [AlertEvent(EVENT_ID, "bench-rule", "firing", d, "BTC drawdown crossed -30%",
                         "2026-05-29T10:00:00+00:00") for d in dests]
    for i in range(0, len(events), 100):  # pipelined: fewer round trips than append()
        async with outbox.redis.pipeline(transaction=False) as pipe:
            for e in events[i:i + 100]:
                pipe.xadd(outbox.stream, e.to_fields(), maxlen=outbox.max_length)
            await pipe.execute()
    return {f"{EVENT_ID}:{d}" for d in dests}


@dataclass
class FanoutRun:
    workers: int
    speedup: float
    results: dict[str, Any]  # the stand-in's
    expected: set[str]

    def rows(self) -> list[tuple[object, ...]]:
        rows: list[tuple[object, ...]] = []
        for platform, rules in PLATFORM_RULES.items():
            sent = [(key, at) for p, _, key, at in self.results["accepted"] if p == platform]
            keys = Counter(key for key, _ in sent)
            want = {k for k in self.expected if f":{platform}:" in k}
            rate = (len(sent) - 1) / (sent[-1][1] - sent[0][1]) if len(sent) > 1 else 0.0
            allowed = rules.overall.count / rules.overall.period_s * self.speedup
            rejected = sum(n for scope, n in self.results["rejected"].items()
                           if scope.startswith(platform))
            rows.append((self.workers, platform, len(sent), rate, allowed, rate / allowed,
                         rejected, len(want - keys.keys()), sum(keys.values()) - len(keys)))
        return rows


async def start(log: Path, *argv: str, root: Path = ROOT) -> asyncio.subprocess.Process:
    with log.open("w") as stderr:
        return await asyncio.create_subprocess_exec(
            PYTHON, *argv, cwd=root, env=child_env(root), stdout=asyncio.subprocess.PIPE,
            stderr=stderr)


async def wait_started(logs: list[Path]) -> None:
    """Until every worker logged that it started (Redis 7.0 lists a consumer only once it
    has been handed an entry, so the group cannot tell)."""
    for _ in range(600):
        texts = await asyncio.to_thread(lambda: [log.read_text() for log in logs])
        if all("notifier worker started" in text for text in texts):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"workers did not start within 60 s; see {logs[0].parent}")


async def wait_done(http: aiohttp.ClientSession, url: str, outbox: RedisOutbox, n: int,
                    stall_s: float = 30) -> None:
    """Until every destination got its message and nothing is pending, or progress stalls."""
    last, last_change = -1, time.monotonic()
    while True:
        async with http.get(f"{url}/stats") as response:
            count = int((await response.json())["accepted"])
        if count >= n and await outbox.pending_count() == 0:
            return
        if count != last:
            last, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > stall_s:
            print(f"  stalled at {count} of {n} accepted")
            return
        await asyncio.sleep(0.2)


async def run(args: argparse.Namespace, workers: int) -> FanoutRun:
    logs = Path(tempfile.mkdtemp(prefix="fwbench-fanout-"))
    standin = await start(logs / "standin.log", "-m", "bench.limit_standin",
                          "--speedup", str(args.speedup))
    procs: list[asyncio.subprocess.Process] = []
    try:
        assert standin.stdout is not None
        url = (await asyncio.wait_for(standin.stdout.readline(), timeout=60)).decode().strip()
        async with bench_redis(args.redis_url) as (redis, prefix), \
                aiohttp.ClientSession() as http:
            outbox = RedisOutbox(redis, Keys(prefix))
            await outbox.ensure_group()
            procs = [await start(
                logs / f"w{k}.log", "-m", "tests.worker_process", "--redis-url", args.redis_url,
                "--prefix", prefix, "--consumer", f"w{k}", "--http-sender-url", url,
                "--workers", str(workers), "--pacing-speedup", str(args.speedup),
                "--concurrency", str(args.concurrency), "--verbose",
                *(["--local-pacing"] if args.local_pacing else []),
                root=Path(args.worker_root)) for k in range(workers)]
            await wait_started([logs / f"w{k}.log" for k in range(workers)])
            started = time.monotonic()
            expected = await enqueue(outbox, destinations(args.destinations,
                                                          args.telegram_share))
            await wait_done(http, url, outbox, args.destinations)
            seconds = time.monotonic() - started
            async with http.get(f"{url}/results") as response:
                results = await response.json()
            dead = len(await outbox.dead_letters(limit=10))
    finally:
        for proc in [*procs, standin]:
            proc.terminate()
            await proc.wait()
    scopes = ", ".join(f"{n} {scope}" for scope, n in sorted(results["rejected"].items()))
    print(f"  {workers} worker(s): {seconds:.1f} s, 429s: {scopes or 'none'}, dead letters: "
          f"{dead}, logs in {logs}")
    return FanoutRun(workers, args.speedup, results, expected)


async def main(args: argparse.Namespace) -> int:
    runs = [await run(args, int(w)) for w in args.workers.split(",")]
    rows = [row for r in runs for row in r.rows()]
    print(machine())
    pacing = "per-process 1/N" if args.local_pacing else "shared (Redis)"
    if args.worker_root != str(ROOT):
        pacing = f"(workers from {args.worker_root})"
    print(f"{args.destinations} destinations ({args.telegram_share:.3f} Telegram), limits and "
          f"pacing x{args.speedup}, --concurrency {args.concurrency}, {pacing} platform-wide "
          f"pacing\n")
    print(table(("workers", "platform", "accepted", "achieved/s", "allowed/s (baseline)",
                 "ratio", "429s", "lost", "duplicates"), rows))
    return verdict([(f"{w} worker(s) {p}: achieved/allowed {ratio:.3f} >= {TARGET}, no 429, "
                     "none lost, no duplicates",
                     ratio >= TARGET and not (rejected or lost or dup))
                    for w, p, _, _, _, ratio, rejected, lost, dup in rows])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--destinations", type=int, default=10_000)
    parser.add_argument("--telegram-share", type=float, default=30 / 80)
    parser.add_argument("--speedup", type=float, default=3.0)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=4, help="sends per platform")
    parser.add_argument("--local-pacing", action="store_true", help="workers pace the "
                        "platform-wide limits each at 1/N, not on the shared Redis schedule")
    parser.add_argument("--worker-root", default=str(ROOT), help="run the workers from this "
                        "checkout (before/after comparisons, e.g. a `git archive` of HEAD)")
    parser.add_argument("--redis-url", default=REDIS_URL)
    raise SystemExit(asyncio.run(main(parser.parse_args())))
