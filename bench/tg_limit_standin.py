"""A Bot API stand-in that enforces Telegram's send limits, for bench.reply_pacing.

tests/e2e/telegram_standin.py's Bot API, strict like bench/limit_standin.py: every message a
bot sends (sendMessage, sendPhoto, editMessageText) counts against the bot's 30 per second
and the chat's 1 per second, each a sliding window; one beyond either is answered 429 with
`retry_after` (whole seconds, as Telegram gives it) and not counted. Run alone so nothing
else in its process delays the arrival stamps:
    python -m bench.tg_limit_standin
prints its base URL (for TELEGRAM_API_BASE_URL), then serves the Bot API and one extra
method, /bot<token>/benchResults: every accepted send and the 429s answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import time
from collections import Counter
from typing import Any

from bench.limit_standin import PLATFORM_RULES, _Window
from tests.e2e.telegram_standin import TOKEN, ApiError, BotApiStandIn

RULES = PLATFORM_RULES["telegram"]


class StrictBotApi(BotApiStandIn):
    def __init__(self) -> None:
        super().__init__(TOKEN)
        self.overall = _Window(RULES.overall)
        self.chats: dict[int, _Window] = {}
        self.accepted: list[tuple[int, float, int | None]] = []  # chat, arrived, reply_to
        self.rejected: Counter[str] = Counter()  # "global" | "chat" -> 429s answered

    def admit(self, params: dict[str, Any]) -> None:
        """Count a send, or answer 429 when it would exceed a limit."""
        arrived = time.monotonic()
        chat_id = int(params["chat_id"])
        chat = self.chats.setdefault(chat_id, _Window(RULES.per_chat))
        global_wait, chat_wait = self.overall.wait(arrived), chat.wait(arrived)
        if global_wait or chat_wait:
            self.rejected["global" if global_wait >= chat_wait else "chat"] += 1
            retry = max(1, math.ceil(max(global_wait, chat_wait)))
            raise ApiError(429, f"Too Many Requests: retry after {retry}",
                           {"retry_after": retry})
        self.overall.sent.append(arrived)
        chat.sent.append(arrived)
        reply_to = (params.get("reply_parameters") or {}).get("message_id")
        self.accepted.append((chat_id, arrived, None if reply_to is None else int(reply_to)))

    async def api_sendMessage(self, params: dict[str, Any]) -> Any:
        self.admit(params)
        return await super().api_sendMessage(params)

    async def api_sendPhoto(self, params: dict[str, Any]) -> Any:
        self.admit(params)
        return await super().api_sendPhoto(params)

    async def api_editMessageText(self, params: dict[str, Any]) -> Any:
        self.admit(params)
        return await super().api_editMessageText(params)

    async def api_benchResults(self, params: dict[str, Any]) -> Any:
        return {"accepted": self.accepted, "rejected": dict(self.rejected),
                "chat_actions": len(self.chat_actions)}


async def serve() -> None:
    gc.freeze()  # no long collector pauses between a request's arrival and its stamp
    standin = StrictBotApi()
    await standin.start()
    print(standin.base_url, flush=True)
    try:
        await asyncio.Event().wait()  # until terminated
    finally:
        await standin.stop()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
