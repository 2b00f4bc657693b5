"""A chat-platform stand-in that enforces the platforms' rate limits, for bench.fanout.

Speaks `HttpSender`'s protocol (POST /<platform>/send {"chat_id", "text"} with an
Idempotency-Key header), like tests/integration/delivery_standin.py, but strict: each platform
has a global and a per-chat limit, each a sliding window (at most `count` sends accepted in
any `period_s`), all `speedup` times faster. A send beyond either is answered 429 in the
platform's own shape, with the wait until the window has room, and is not counted. Every
accepted send is recorded, never deduplicated.

Run alone so nothing else in its process delays the arrival stamps:
    python -m bench.limit_standin --speedup 5
prints its URL, then serves GET /stats (how many accepted) and GET /results (everything).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.helpers import serve_on_loopback


@dataclass(frozen=True)
class Limit:
    count: int
    period_s: float


@dataclass(frozen=True)
class PlatformRules:
    overall: Limit
    per_chat: Limit


# Published limits: Telegram about 30 messages/s per bot and 1/s per chat; Discord 50
# requests/s per bot (global) and 5 per 5 s per channel.
PLATFORM_RULES = {"telegram": PlatformRules(Limit(30, 1.0), Limit(1, 1.0)),
                  "discord": PlatformRules(Limit(50, 1.0), Limit(5, 5.0))}


@dataclass
class _Window:
    limit: Limit
    sent: deque[float] = field(default_factory=deque)

    def wait(self, now: float) -> float:
        """0 when a send may be accepted now, else the seconds until there is room."""
        while self.sent and self.sent[0] <= now - self.limit.period_s:
            self.sent.popleft()
        return 0.0 if len(self.sent) < self.limit.count else (
            self.sent[0] + self.limit.period_s - now)


@dataclass(frozen=True)
class Accepted:
    platform: str
    chat_id: str
    key: str
    at: float  # time.monotonic() on arrival


def too_many(platform: str, wait_s: float, is_global: bool) -> dict[str, Any]:
    if platform == "discord":
        return {"message": "You are being rate limited.", "retry_after": wait_s,
                "global": is_global}
    return {"ok": False, "error_code": 429, "description": "Too Many Requests: retry later",
            "parameters": {"retry_after": wait_s}}


class LimitStandin:
    def __init__(self, speedup: float = 1.0) -> None:
        self.rules = {p: PlatformRules(*(Limit(lim.count, lim.period_s / speedup)
                                         for lim in (r.overall, r.per_chat)))
                      for p, r in PLATFORM_RULES.items()}
        self.accepted: list[Accepted] = []
        self.rejected: Counter[str] = Counter()  # "<platform> global|chat" -> 429s answered
        self.early_by: list[tuple[float, float]] = []  # per 429: (arrived, s before room)
        self._overall = {p: _Window(r.overall) for p, r in self.rules.items()}
        self._chats: dict[tuple[str, str], _Window] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    def allowed_rate(self, platform: str) -> float:
        limit = self.rules[platform].overall
        return limit.count / limit.period_s

    def results(self) -> dict[str, Any]:
        return {"accepted": [[a.platform, a.chat_id, a.key, a.at] for a in self.accepted],
                "rejected": dict(self.rejected), "early_by": self.early_by}

    async def __aenter__(self) -> LimitStandin:
        app = web.Application()
        app.router.add_post("/{platform}/send", self._send)
        app.router.add_get("/stats", self._stats)
        app.router.add_get("/results", self._results)
        self._runner, port = await serve_on_loopback(app)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _send(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        platform = request.match_info["platform"]
        body = await request.json()
        chat_id = str(body["chat_id"])
        overall = self._overall[platform]
        chat = self._chats.setdefault((platform, chat_id),
                                      _Window(self.rules[platform].per_chat))
        global_wait, chat_wait = overall.wait(arrived), chat.wait(arrived)
        if global_wait or chat_wait:
            scope = "global" if global_wait >= chat_wait else "chat"
            self.rejected[f"{platform} {scope}"] += 1
            self.early_by.append((arrived, max(global_wait, chat_wait)))
            return web.json_response(
                too_many(platform, max(global_wait, chat_wait), scope == "global"), status=429)
        overall.sent.append(arrived)
        chat.sent.append(arrived)
        self.accepted.append(Accepted(platform, chat_id,
                                      request.headers.get("Idempotency-Key", ""), arrived))
        return web.json_response({"ok": True})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({"accepted": len(self.accepted)})

    async def _results(self, request: web.Request) -> web.Response:
        return web.json_response(self.results())


async def serve(speedup: float) -> None:
    gc.freeze()  # no long collector pauses between a request's arrival and its stamp
    async with LimitStandin(speedup) as standin:
        print(standin.url, flush=True)
        await asyncio.Event().wait()  # until terminated


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speedup", type=float, default=1.0)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parser.parse_args().speedup))
