"""A local HTTP stand-in of a chat platform that records every send it receives.

Speaks `HttpSender`'s protocol: POST /<platform>/send {"chat_id", "text"} with an
Idempotency-Key header. It never deduplicates: every request is recorded, so a repeated send
shows up as a repeat. Answers can be scripted per chat (429 with retry_after, 403, a
migration, 5xx), a whole platform can be made to fail, and every answer can be slowed down.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.helpers import serve_on_loopback
from tests.waiting import until

Answer = tuple[int, dict[str, Any]]
OK: Answer = (200, {"ok": True})


def rate_limited(seconds: float) -> Answer:
    return 429, {"ok": False, "description": "Too Many Requests",
                 "parameters": {"retry_after": seconds}}


def forbidden() -> Answer:
    return 403, {"ok": False, "description": "Forbidden: bot was blocked by the user"}


def migrated(new_chat_id: str) -> Answer:
    return 400, {"ok": False, "description": "Bad Request: group chat was upgraded",
                 "parameters": {"migrate_to_chat_id": new_chat_id}}


def server_error() -> Answer:
    return 502, {"ok": False, "description": "Bad Gateway"}


async def wait_until(check: Callable[[], bool], timeout_s: float = 5.0,
                     describe: Callable[[], str] = lambda: "condition not met") -> None:
    await until(check, max(timeout_s, 30.0), describe)


@dataclass(frozen=True)
class Received:
    platform: str
    chat_id: str
    key: str  # the Idempotency-Key header: "<event_id>:<destination>"
    text: str
    status: int
    at: float  # time.monotonic() in the test process when the request arrived


class DeliveryStandin:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s  # before answering; the send counts as arrived on receipt
        self.received: list[Received] = []
        self.failing: dict[str, Answer] = {}  # platform -> answer to every send
        self._scripts: dict[str, deque[Answer]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def script(self, chat_id: str, *answers: Answer) -> None:
        """Answer the next sends to this chat with these, in order; then OK again."""
        self._scripts[chat_id].extend(answers)

    def delivered(self, platform: str | None = None) -> list[Received]:
        return [r for r in self.received
                if r.status == 200 and (platform is None or r.platform == platform)]

    def repeats(self) -> int:
        """Accepted sends beyond the first per idempotency key."""
        return sum(n - 1 for n in Counter(r.key for r in self.delivered()).values())

    async def wait_for(self, count: int, timeout_s: float = 10.0) -> None:
        await wait_until(lambda: len(self.delivered()) >= count, timeout_s,
                         lambda: f"{len(self.delivered())} of {count} delivered")

    async def __aenter__(self) -> DeliveryStandin:
        app = web.Application()
        app.router.add_post("/{platform}/send", self._send)
        self._runner, port = await serve_on_loopback(app)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _send(self, request: web.Request) -> web.Response:
        platform = request.match_info["platform"]
        arrived = time.monotonic()
        body = await request.json()
        chat_id = str(body["chat_id"])
        script = self._scripts.get(chat_id)
        status, payload = self.failing.get(platform) or (script.popleft() if script else OK)
        self.received.append(Received(platform, chat_id, request.headers.get(
            "Idempotency-Key", ""), str(body["text"]), status, arrived))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return web.json_response(payload, status=status)
