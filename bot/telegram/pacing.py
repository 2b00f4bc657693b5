"""Replies paced on the bot's one send budget, and retried after 429 so nothing is dropped.

The budget is services/alerts/budget.py's schedule in Redis, shared with the alert notifier
and every other process of this bot (the front-end attaches it): overall, per chat and per
group, with a 429 pausing everyone. Without one (tests, tools) the same limits are kept in
this process. One message at a time per chat; other chats never wait on it (see replies.py
for the per-chat queues that keep a busy chat from holding the bot's update slots).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from telegram.error import RetryAfter

from services.alerts.pacing import Pacer as SchedulePacer
from services.alerts.pacing import PlatformLimits, Rate, SharedSchedule
from services.clock import SYSTEM_CLOCK, Clock

logger = logging.getLogger(__name__)
T = TypeVar("T")
PLATFORM = "telegram"


@dataclass(frozen=True)
class PacingLimits:
    """Messages per period; Telegram's documented limits by default."""

    overall: tuple[int, float] = (30, 1.0)
    per_chat: tuple[int, float] = (1, 1.0)
    per_group: tuple[int, float] = (20, 60.0)
    max_attempts: int = 5

    def platform(self) -> PlatformLimits:
        return PlatformLimits(Rate(*self.overall), Rate(*self.per_chat), Rate(*self.per_group))


class Pacer:
    """Waits before each send until the bot's budget has a slot for it."""

    def __init__(self, limits: PacingLimits | None = None,
                 clock: Clock = SYSTEM_CLOCK,
                 schedule: SharedSchedule | None = None) -> None:
        self.limits = limits or PacingLimits()
        self.schedule = SchedulePacer({PLATFORM: self.limits.platform()}, clock=clock)
        if schedule is not None:
            self.share(schedule)

    def share(self, schedule: SharedSchedule) -> None:
        """Take every slot from the bot's budget in Redis (all processes, alerts too)."""
        self.schedule.share(schedule)

    @property
    def shared(self) -> bool:
        return self.schedule.shared is not None

    async def acquire(self, chat_id: int | str) -> None:
        """Wait for this chat's next slot and take it."""
        async with self.schedule.turn(PLATFORM, str(chat_id)):
            await self.schedule.slot(PLATFORM, str(chat_id))

    async def hold(self, seconds: float) -> None:
        """Pause every send for `seconds` (Telegram said 429 to the bot)."""
        await self.schedule.pause(PLATFORM, None, seconds)

    async def send(self, chat_id: int | str, call: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API call for `chat_id` paced, retrying after each 429."""
        attempts = self.limits.max_attempts
        chat = str(chat_id)
        for attempt in range(1, attempts + 1):
            async with self.schedule.turn(PLATFORM, chat):
                await self.schedule.slot(PLATFORM, chat)
                try:
                    return await call()
                except RetryAfter as exc:
                    if attempt == attempts:
                        raise
                    delay = retry_seconds(exc)
                    logger.warning("telegram 429: chat=%s retry_after=%.1fs attempt=%d/%d",
                                   chat_id, delay, attempt, attempts)
                    await self.hold(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def retry_seconds(exc: RetryAfter) -> float:
    value: int | float | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
