"""Reply pacing: 300 commands from 300 chats answered by one and by two web processes,
against a Bot API stand-in that enforces Telegram's 30 msg/s (bench/tg_limit_standin.py).

Usage: .venv/bin/python -m bench.reply_pacing [--commands 300] [--webs 1,2] [--redis-url URL]
Each web process is the real bot (`python -m bot run --role web --replay`) in webhook mode,
on its own port, all on one Redis prefix, so their replies draw on the one send budget in
Redis (bot/telegram/pacing.py over services/alerts/budget.py). The bench plays Telegram in
front of a load balancer: it posts every command update at once, round robin over the web
processes, each from its own private chat. The baseline is the allowed rate, 30/s. Targets,
per run: achieved / allowed >= 0.95 (first to last accepted send), no 429, every command
answered. Also shown, not a target: the ratio after the first 30 sends (the start, where
replies wait on the first handlers, left out).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench.command_path import COMMANDS
from bench.common import PYTHON, REDIS_URL, ROOT, bench_redis, child_env, machine, table, verdict
from bench.tg_limit_standin import RULES
from bot.telegram.webhook import SECRET_HEADER
from tests.e2e.telegram_standin import TOKEN, command_update

TARGET = 0.95
SECRET = "bench-secret"  # noqa: S105 (a local stand-in's webhook secret)
FIRST_CHAT = 20_000
STEADY_AFTER = 30  # sends


@dataclass(frozen=True)
class PacingRun:
    webs: int
    seconds: float  # first update posted to the last reply accepted
    results: dict[str, Any]  # the stand-in's
    message_ids: range

    @property
    def sends(self) -> list[float]:
        return sorted(at for _, at, _ in self.results["accepted"])

    @property
    def rate(self) -> float:
        at = self.sends
        return (len(at) - 1) / (at[-1] - at[0]) if len(at) > 1 else 0.0

    @property
    def steady_rate(self) -> float:
        """The rate after the first second's sends (STEADY_AFTER): pacing alone, without
        the start, where the replies wait on the first handlers rather than on the budget."""
        at = self.sends[STEADY_AFTER:]
        return (len(at) - 1) / (at[-1] - at[0]) if len(at) > 1 else 0.0

    @property
    def rejected(self) -> int:
        return sum(self.results["rejected"].values())

    @property
    def unanswered(self) -> int:
        answered = {reply_to for _, _, reply_to in self.results["accepted"]}
        return sum(1 for m in self.message_ids if m not in answered)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def web_config(tmp: Path, prefix: str, port: int) -> Path:
    """config.yaml with webhook mode on `port` and the run's store prefix."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    raw["store"] = {**(raw.get("store") or {}), "prefix": prefix}
    raw["telegram"] = {**(raw.get("telegram") or {}), "mode": "webhook", "listen_port": port,
                       "webhook_url": f"http://127.0.0.1:{port}/telegram"}
    path = tmp / f"config-{port}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


async def start(log: Path, argv: list[str], env: dict[str, str]
                ) -> asyncio.subprocess.Process:
    with log.open("w") as stderr:
        return await asyncio.create_subprocess_exec(
            PYTHON, *argv, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=stderr)


async def wait_healthy(http: aiohttp.ClientSession, ports: list[int], logs: Path) -> None:
    for _ in range(1200):
        try:
            for port in ports:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    response.raise_for_status()
            return
        except aiohttp.ClientError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"web processes not up within 120 s; see {logs}")


async def results(http: aiohttp.ClientSession, base_url: str) -> dict[str, Any]:
    async with http.post(f"{base_url}{TOKEN}/benchResults") as response:
        return dict((await response.json())["result"])


async def wait_answered(http: aiohttp.ClientSession, base_url: str, message_ids: range,
                        stall_s: float = 30) -> dict[str, Any]:
    """Until every command got its reply, or nothing new is accepted for `stall_s`."""
    last, last_change = -1, time.monotonic()
    while True:
        found = await results(http, base_url)
        answered = {reply_to for _, _, reply_to in found["accepted"]}
        if all(m in answered for m in message_ids):
            return found
        if len(found["accepted"]) != last:
            last, last_change = len(found["accepted"]), time.monotonic()
        elif time.monotonic() - last_change > stall_s:
            print(f"  stalled at {len(answered & set(message_ids))} of {len(message_ids)}")
            return found
        await asyncio.sleep(0.2)


async def run(args: argparse.Namespace, webs: int) -> PacingRun:
    logs = Path(tempfile.mkdtemp(prefix="fwbench-replies-"))
    standin = await start(logs / "standin.log", ["-m", "bench.tg_limit_standin"], child_env())
    procs: list[asyncio.subprocess.Process] = []
    try:
        assert standin.stdout is not None
        base_url = (await asyncio.wait_for(standin.stdout.readline(), 60)).decode().strip()
        async with bench_redis(args.redis_url) as (_, prefix), \
                aiohttp.ClientSession() as http:
            env = {**child_env(), "REDIS_URL": args.redis_url, "TELEGRAM_BOT_TOKEN": TOKEN,
                   "TELEGRAM_API_BASE_URL": base_url, "TELEGRAM_WEBHOOK_SECRET": SECRET}
            ports = [free_port() for _ in range(webs)]
            procs = [await start(logs / f"web{k}.log", [
                "-m", "bot", "--config", str(web_config(logs, prefix, port)), "run",
                "--role", "web", "--replay"], env) for k, port in enumerate(ports)]
            await wait_healthy(http, ports, logs)
            await asyncio.sleep(2)  # past start-up (command menus, first collection)
            ids = range(1_000_000, 1_000_000 + args.commands)
            started = time.monotonic()
            await asyncio.gather(*(post(http, ports[i % webs], command_update(
                COMMANDS[i % len(COMMANDS)], m, chat_id=FIRST_CHAT + i,
                user_id=FIRST_CHAT + i))
                for i, m in enumerate(ids)))
            found = await wait_answered(http, base_url, ids)
    finally:
        for proc in [*procs, standin]:
            proc.terminate()
            await proc.wait()
    seconds = max((at for _, at, _ in found["accepted"]), default=started) - started
    scopes = ", ".join(f"{n} {s}" for s, n in sorted(found["rejected"].items()))
    print(f"  {webs} web process(es): {seconds:.1f} s, 429s: {scopes or 'none'}, "
          f"logs in {logs}")
    return PacingRun(webs, seconds, found, ids)


async def post(http: aiohttp.ClientSession, port: int, update: dict[str, Any]) -> None:
    async with http.post(f"http://127.0.0.1:{port}/telegram", json={"update_id": update[
            "message"]["message_id"], **update}, headers={SECRET_HEADER: SECRET}) as response:
        response.raise_for_status()


async def main(args: argparse.Namespace) -> int:
    runs = [await run(args, int(w)) for w in args.webs.split(",")]
    allowed = RULES.overall.count / RULES.overall.period_s
    print(machine())
    print(f"{args.commands} commands from {args.commands} private chats, all at once, round "
          f"robin over the web processes; Telegram limits 30/s per bot, 1/s per chat\n")
    print(table(("web processes", "replies accepted", "seconds", "achieved/s",
                 "allowed/s (baseline)", "ratio", f"ratio after {STEADY_AFTER} sends",
                 "429s", "unanswered"),
                [(r.webs, len(r.sends), r.seconds, r.rate, allowed, r.rate / allowed,
                  r.steady_rate / allowed, r.rejected, r.unanswered) for r in runs]))
    return verdict([(f"{r.webs} web process(es): achieved/allowed {r.rate / allowed:.3f} >= "
                     f"{TARGET}, no 429, every command answered",
                     r.rate / allowed >= TARGET and not r.rejected and not r.unanswered)
                    for r in runs])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--webs", default="1,2", help="web process counts to run, in order")
    parser.add_argument("--redis-url", default=REDIS_URL)
    raise SystemExit(asyncio.run(main(parser.parse_args())))
