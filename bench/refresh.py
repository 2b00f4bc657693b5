"""Refresh: full collection plus compute of every metric family, and replays over the whole
snapshot, at 1x, 4x and 16x the bundled history: time and peak memory, as ratios to 1x.

Usage: .venv/bin/python -m bench.refresh [--factors 1,4,16] [--repeat 3] [--redis-url URL]
Each piece (bench/refresh_child.py) runs in its own process, --repeat times (fewer when a
run is long); the time shown is the fastest run, the memory the largest peak RSS and what
it grew by over the process at start (imports included in neither). Longer histories are
the bundled series tiled backwards in time (bench/history.py). The baseline is the same work
on the bundled (1x) history, measured in the same run. Live collection is measured once, on
the recorded upstream responses (their own, fixed history).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PYTHON, REDIS_URL, ROOT, bench_redis, child_env, machine, table
from bench.history import stretch

WORK = {"live": "collect + compute, live mode, recorded upstream responses",
        "collect": "collect + compute, replay mode (load CSVs, store, 7 families)",
        "monthly": "replay: every family and window at every month end",
        "backtest": "replay: backtest of every default alert rule"}
LONG_RUN_S = 30.0  # stop repeating a piece once its runs took this long


async def child(work: str, data_dir: Path, prefix: str, redis_url: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "bench.refresh_child", work, "--data-dir", str(data_dir),
        "--prefix", prefix, "--redis-url", redis_url, cwd=ROOT, env=child_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"{work} failed:\n{err.decode()[-2000:]}")
    return dict(json.loads(out.decode().splitlines()[-1]))


async def measure(work: str, data_dir: Path, prefix: str, args: argparse.Namespace
                  ) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    started = time.monotonic()
    while len(runs) < args.repeat and (not runs or time.monotonic() - started < LONG_RUN_S):
        runs.append(await child(work, data_dir, prefix, args.redis_url))
    fastest = min(runs, key=lambda r: r["seconds"])
    peak = max(runs, key=lambda r: r["peak_mb"])
    return {**fastest, "peak_mb": peak["peak_mb"], "grew_mb": peak["peak_mb"] - peak["start_mb"],
            "runs": len(runs)}


async def main(args: argparse.Namespace) -> None:
    factors = [int(f) for f in args.factors.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="fwbench-history-"))
    rows_of = {f: stretch(ROOT / "data", tmp / f"x{f}", f) for f in factors}
    results: dict[tuple[str, int], dict[str, Any]] = {}
    async with bench_redis(args.redis_url) as (_, prefix):
        results["live", 1] = await measure("live", ROOT / "data", prefix, args)
        for work in ("collect", "monthly", "backtest"):
            for factor in factors:
                results[work, factor] = await measure(work, tmp / f"x{factor}", prefix, args)
    rows = []
    for (work, factor), r in results.items():
        base = results[work, factors[0]] if work != "live" else r
        history = f"{factor}x ({rows_of[factor]} rows)" if work != "live" else "as recorded"
        ratio = work != "live"
        rows.append((WORK[work] if factor == factors[0] else "", history, r["runs"],
                     r["seconds"], r["seconds"] / base["seconds"] if ratio else "-",
                     r["peak_mb"], r["grew_mb"], r["grew_mb"] / base["grew_mb"] if ratio else "-"))
    print(machine())
    print(f"synthetic histories in {tmp}\n")
    print(table(("work", "history", "runs", "seconds (fastest)", "x baseline (1x)",
                 "peak RSS MB", "grew MB", "x baseline (1x)"), rows))
    print()
    for (work, factor), r in results.items():
        print(f"{work} {factor}x: {r['detail']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", default="1,4,16", help="history lengths, first = baseline")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--redis-url", default=REDIS_URL)
    asyncio.run(main(parser.parse_args()))
