"""Outbound pacing at Telegram's limits, and retry after 429 so nothing is dropped."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from telegram.error import RetryAfter

logger = logging.getLogger(__name__)
T = TypeVar("T")
_MAX_TRACKED = 10_000


@dataclass(frozen=True)
class PacingLimits:
    """Messages per period; Telegram's documented limits by default."""

    overall: tuple[int, float] = (30, 1.0)
    per_chat: tuple[int, float] = (1, 1.0)
    per_group: tuple[int, float] = (20, 60.0)
    max_attempts: int = 5


class _Window:
    """Sliding window: at most `limit` sends in any `period` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.sent: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.sent and self.sent[0] <= now - self.period:
            self.sent.popleft()
        return 0.0 if len(self.sent) < self.limit else self.sent[0] + self.period - now

    def idle(self, now: float) -> bool:
        self.wait(now)
        return not self.sent


class Pacer:
    """Waits before each send until every window it falls in has room."""

    def __init__(self, limits: PacingLimits | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or PacingLimits()
        self._clock = clock
        self._overall = _Window(*self.limits.overall)
        self._chats: dict[int | str, _Window] = {}
        self._groups: dict[int | str, _Window] = {}
        self._hold_until = 0.0

    def _windows(self, chat_id: int | str) -> list[_Window]:
        windows = [self._overall, self._window(self._chats, chat_id, self.limits.per_chat)]
        if str(chat_id).startswith("-"):  # groups, supergroups and channels
            windows.append(self._window(self._groups, chat_id, self.limits.per_group))
        return windows

    def _window(self, table: dict[int | str, _Window], chat_id: int | str,
                limit: tuple[int, float]) -> _Window:
        if chat_id not in table:
            if len(table) >= _MAX_TRACKED:  # forget chats with nothing in their window
                now = self._clock()
                for key in [k for k, w in table.items() if w.idle(now)]:
                    del table[key]
            table[chat_id] = _Window(*limit)
        return table[chat_id]

    def hold(self, seconds: float) -> None:
        """Pause every send for `seconds` (Telegram said 429 to the bot)."""
        self._hold_until = max(self._hold_until, self._clock() + seconds)

    async def acquire(self, chat_id: int | str) -> None:
        windows = self._windows(chat_id)
        while True:
            now = self._clock()
            delay = max([self._hold_until - now, *(w.wait(now) for w in windows)])
            if delay <= 0:  # no await between the check and the record: atomic in asyncio
                for window in windows:
                    window.sent.append(now)
                return
            await asyncio.sleep(delay)

    async def send(self, chat_id: int | str, call: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API call for `chat_id` paced, retrying after each 429."""
        attempts = self.limits.max_attempts
        for attempt in range(1, attempts + 1):
            await self.acquire(chat_id)
            try:
                return await call()
            except RetryAfter as exc:
                if attempt == attempts:
                    raise
                delay = retry_seconds(exc)
                logger.warning("telegram 429: chat=%s retry_after=%.1fs attempt=%d/%d",
                               chat_id, delay, attempt, attempts)
                self.hold(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def retry_seconds(exc: RetryAfter) -> float:
    value: int | float | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
