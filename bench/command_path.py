"""Command path: updates through the real PTB Application, flowwatch vs a bare echo bot.

Usage: .venv/bin/python -m bench.command_path [--n 1000] [--rounds 5] [--redis-url URL]
                                              [--profile FILE]
Each bot (bench.tg_bot) runs in its own process against its own local Bot API stand-in
(tests/e2e/telegram_standin.py) with the same PTB settings; flowwatch answers from real
Redis. A round offers N command updates to one bot, then to the other, and times from the
first update offered to the last reply received. Prints updates/s per bot, the median of
the per-round ratios (target: flowwatch >= 0.9x echo) and p50/p99 handler latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pstats
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    PYTHON,
    REDIS_URL,
    ROOT,
    bench_redis,
    bench_settings,
    child_env,
    machine,
    pct,
    table,
    verdict,
)
from tests.e2e.telegram_standin import TOKEN, BotApiStandIn, command_update, wait_for

COMMANDS = ("/divergence", "/btc", "/stablecoins", "/yields", "/aitokens", "/capex",
            "/divergence ytd", "/aitokens 30d")
CHATS = 200  # private chats the updates come from, round robin
TARGET = 0.9


class TimedStandIn(BotApiStandIn):
    """The stand-in, noting when each command message got its first reply."""

    def __init__(self) -> None:
        super().__init__(TOKEN)
        self.answered: dict[int, float] = {}
        self.next_message_id = 1_000_000

    async def api_sendMessage(self, params: dict[str, Any]) -> Any:
        result = await super().api_sendMessage(params)
        reply_to = (params.get("reply_parameters") or {}).get("message_id")
        if reply_to is not None:
            self.answered.setdefault(int(reply_to), time.monotonic())
        return result

    async def offer(self, n: int) -> Round:
        """Offer n updates at once; wait for every reply."""
        ids = range(self.next_message_id, self.next_message_id + n)
        self.next_message_id += n
        cpu, start = time.process_time(), time.monotonic()
        for i, message_id in enumerate(ids):
            await self.push_update(command_update(COMMANDS[i % len(COMMANDS)], message_id,
                                                  chat_id=10_000 + i % CHATS))
        await wait_for(lambda: all(m in self.answered for m in ids), within=60 + n / 10,
                       what=f"{n} replies")
        return Round(n, start, max(self.answered[m] for m in ids), time.process_time() - cpu)


@dataclass(frozen=True)
class Round:
    n: int
    start: float  # first update offered (monotonic clock, shared with the bot processes)
    end: float  # last reply received
    standin_cpu: float  # seconds of CPU the stand-in (this process) used meanwhile

    @property
    def rate(self) -> float:
        return self.n / (self.end - self.start)


async def start_bot(kind: str, standin: BotApiStandIn, out: Path, *extra: str
                    ) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "bench.tg_bot", "--kind", kind, "--base-url", standin.base_url,
        "--commands", ",".join(sorted({c.split()[0][1:] for c in COMMANDS})),
        "--out", str(out), *extra, cwd=ROOT, env=child_env(), stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=180)
    if line.strip() != b"ready":
        raise RuntimeError(f"{kind} bot did not start (said {line!r})")
    return process


async def stop_bot(process: asyncio.subprocess.Process, out: Path) -> list[list[Any]]:
    process.terminate()
    await process.wait()
    return list(json.loads(await asyncio.to_thread(out.read_text)))


def within(samples: list[list[Any]], rounds: list[Round], kind: str) -> list[float]:
    """Milliseconds of each `kind` sample that started during one of the rounds."""
    return [s[1] * 1000 for s in samples
            if s[2] == kind and any(r.start <= s[0] <= r.end for r in rounds)]


def bot_cpu_ms(samples: list[list[Any]], rounds: list[Round]) -> float:
    """The bot's CPU per update: CPU clock at the first and last callback of each round."""
    total = 0.0
    for r in rounds:
        cpu = [s[3] for s in samples if s[2] == "callback" and r.start <= s[0] <= r.end]
        total += (max(cpu) - min(cpu)) / (len(cpu) - 1) if len(cpu) > 1 else 0.0
    return total / len(rounds) * 1000


async def main(args: argparse.Namespace) -> int:
    runs: dict[str, list[Round]] = {"echo": [], "flowwatch": []}
    async with bench_redis(args.redis_url) as (_, prefix):
        stands = {kind: TimedStandIn() for kind in runs}
        for standin in stands.values():
            await standin.start()
        tmp = Path(tempfile.mkdtemp(prefix="fwbench-"))
        bots = {kind: await start_bot(
                    "echo-rich" if kind == "echo" and args.echo == "rich" else kind,
                    stands[kind], tmp / f"{kind}.json", "--redis-url", args.redis_url,
                    "--prefix", prefix, "--concurrent-updates", str(args.concurrent_updates),
                    "--connections", str(args.connections),
                    *(("--profile", f"{args.profile}.{kind}") if args.profile else ()))
                for kind in runs}
        try:
            for kind in runs:  # warm-up: connections, first renders
                await stands[kind].offer(min(200, args.n))
            for _ in range(args.rounds):
                for kind, rounds in runs.items():
                    rounds.append(await stands[kind].offer(args.n))
        finally:
            samples = {kind: await stop_bot(p, tmp / f"{kind}.json") for kind, p in bots.items()}
            for standin in stands.values():
                await standin.stop()
    return report(args, runs, samples)


def configured(args: argparse.Namespace) -> str:
    """The telegram settings both bots run with: config.yaml's, or the what-if values."""
    telegram = bench_settings("").telegram
    return (f"concurrent_updates {args.concurrent_updates or telegram.concurrent_updates}, "
            f"connections {args.connections or telegram.connections}")


def report(args: argparse.Namespace, runs: dict[str, list[Round]],
           samples: dict[str, list[list[Any]]]) -> int:
    rates = {kind: [r.rate for r in rounds] for kind, rounds in runs.items()}
    ratios = [f / e for f, e in zip(rates["flowwatch"], rates["echo"], strict=True)]
    rows = []
    echo = "echo bot, flowwatch-shaped reply" if args.echo == "rich" else "echo bot"
    for kind, label in (("echo", f"{echo} (baseline)"), ("flowwatch", "flowwatch")):
        callback = within(samples[kind], runs[kind], "callback")
        standin_ms = sum(r.standin_cpu for r in runs[kind]) / sum(r.n for r in runs[kind])
        rows.append((label, statistics.median(rates[kind]),
                     " ".join(f"{r:.0f}" for r in rates[kind]),
                     pct(callback, 50), pct(callback, 99), bot_cpu_ms(samples[kind], runs[kind]),
                     standin_ms * 1000))
    handler = within(samples["flowwatch"], runs["flowwatch"], "handler")
    errors = Counter(s[2] for s in samples["flowwatch"] if s[2].startswith("error"))
    print(machine())
    print(f"{args.n} updates x {args.rounds} rounds (after {min(200, args.n)} warm-up), "
          f"telegram {configured(args)}, "
          f"commands: {' '.join(COMMANDS)}\n")
    print(table(("bot", "updates/s (median)", "per round", "callback p50 ms", "p99 ms",
                 "bot CPU ms/update", "stand-in CPU ms/update"), rows))
    print(f"\nflowwatch handler (registry call incl. Redis reads): p50 "
          f"{pct(handler, 50):.2f} ms  p99 {pct(handler, 99):.2f} ms  ({len(handler)} calls)")
    for reason, count in errors.items():
        print(f"error replies (whole run, warm-up included): {count} x {reason}")
    ratio = statistics.median(ratios)
    print(f"ratio flowwatch/echo updates/s: {ratio:.3f} (median; per round: "
          f"{' '.join(f'{r:.3f}' for r in ratios)})")
    for kind in runs if args.profile else ():
        print(f"\n-- profile of the {kind} bot ({args.profile}.{kind}), by own time --")
        pstats.Stats(f"{args.profile}.{kind}").sort_stats("tottime").print_stats(15)
    return verdict([(f"flowwatch >= {TARGET}x echo updates/s", ratio >= TARGET),
                    ("no error replies", not errors)])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="updates per bot per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--profile", default="", help="cProfile each bot into FILE.<bot>")
    parser.add_argument("--echo", choices=("plain", "rich"), default="plain",
                        help="what-if baseline: 'rich' echoes a flowwatch-shaped reply (HTML, "
                        "~700 characters, buttons) instead of the command's text")
    parser.add_argument("--concurrent-updates", type=int, default=0,
                        help="what-if for both bots: PTB concurrent_updates(N) instead of "
                        "config.yaml's telegram.concurrent_updates")
    parser.add_argument("--connections", type=int, default=0,
                        help="what-if for both bots: N HTTP connections to the Bot API instead "
                        "of config.yaml's telegram.connections")
    raise SystemExit(asyncio.run(main(parser.parse_args())))
