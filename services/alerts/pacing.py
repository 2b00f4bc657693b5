"""Per-platform pacing at the platforms' published limits: waits for a slot, never drops.

Pacing is per process. With N notifier workers, give each `workers=N`: every worker then
keeps to 1/N of the platform-wide rate, while per-chat limits stay whole (a chat's entries
may reach any worker, so per-chat pacing is best effort across workers; a 429 from the
platform pauses that chat, or the whole platform, in the worker that received it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

MAX_CHAT_BUCKETS = 10_000  # idle per-chat buckets are pruned beyond this


@dataclass(frozen=True)
class Rate:
    """`count` messages per `period_s` seconds, spread evenly; `burst` may go back to back.

    The default burst of 1 never exceeds `count` in any window of `period_s`, which is the
    safe reading of limits like Telegram's "20 messages per minute in a group".
    """

    count: int
    period_s: float
    burst: int = 1

    def faster(self, factor: float) -> Rate:
        return Rate(self.count, self.period_s / factor, self.burst)

    def shared_by(self, workers: int) -> Rate:
        return Rate(self.count, self.period_s * workers, self.burst)


@dataclass(frozen=True)
class PlatformLimits:
    overall: Rate | None = None
    per_chat: Rate | None = None
    per_group: Rate | None = None  # Telegram group chats (negative ids), on top of per_chat

    def faster(self, factor: float) -> PlatformLimits:
        """The same limits `factor` times faster (tests and benchmarks)."""
        return PlatformLimits(*(r.faster(factor) if r else None
                                for r in (self.overall, self.per_chat, self.per_group)))


TELEGRAM_LIMITS = PlatformLimits(overall=Rate(30, 1.0), per_chat=Rate(1, 1.0),
                                 per_group=Rate(20, 60.0))
DISCORD_LIMITS = PlatformLimits(overall=Rate(50, 1.0), per_chat=Rate(5, 5.0))
DEFAULT_LIMITS: Mapping[str, PlatformLimits] = {"telegram": TELEGRAM_LIMITS,
                                                "discord": DISCORD_LIMITS}


@dataclass
class _Bucket:
    """Generic cell rate algorithm: `tat` is when the bucket would be empty again."""

    rate: Rate
    tat: float = 0.0
    interval: float = field(init=False)

    def __post_init__(self) -> None:
        self.interval = self.rate.period_s / self.rate.count

    def earliest(self, now: float) -> float:
        return max(now, self.tat - (self.rate.burst - 1) * self.interval)

    def take(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.interval


class Pacer:
    def __init__(self, limits: Mapping[str, PlatformLimits] = DEFAULT_LIMITS, *,
                 workers: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = dict(limits)
        self.clock = clock
        self._overall = {platform: _Bucket(limit.overall.shared_by(workers))
                         for platform, limit in self.limits.items() if limit.overall}
        self._chats: dict[tuple[str, str, str], _Bucket] = {}
        self._paused: dict[tuple[str, str | None], float] = {}  # (platform, chat) -> until

    async def wait(self, platform: str, chat_id: str) -> None:
        """Return when a message to this chat may go out; reserves that slot."""
        while True:
            buckets = self._buckets(platform, chat_id)
            now = self.clock()
            at = max([now, self._paused_until(platform, chat_id),
                      *(b.earliest(now) for b in buckets)])
            for bucket in buckets:
                bucket.take(at)
            if at > now:
                await asyncio.sleep(at - now)
            # A 429 may have paused this chat or platform while the slot was waiting.
            if self._paused_until(platform, chat_id) <= self.clock():
                return

    def pause(self, platform: str, chat_id: str | None, seconds: float) -> None:
        """Honour a 429: nothing goes to this chat (or platform, for None) for `seconds`."""
        now = self.clock()
        if len(self._paused) >= MAX_CHAT_BUCKETS:
            self._paused = {k: t for k, t in self._paused.items() if t > now}
        scope = (platform, chat_id)
        self._paused[scope] = max(self._paused.get(scope, 0.0), now + seconds)

    def _paused_until(self, platform: str, chat_id: str) -> float:
        return max(self._paused.get((platform, None), 0.0),
                   self._paused.get((platform, chat_id), 0.0))

    def _buckets(self, platform: str, chat_id: str) -> list[_Bucket]:
        limits = self.limits.get(platform)
        if limits is None:
            return []
        buckets = [self._overall[platform]] if platform in self._overall else []
        scopes = [("chat", limits.per_chat)]
        if chat_id.startswith("-"):
            scopes.append(("group", limits.per_group))
        for scope, rate in scopes:
            if rate is not None:
                buckets.append(self._chat_bucket((platform, scope, chat_id), rate))
        return buckets

    def _chat_bucket(self, key: tuple[str, str, str], rate: Rate) -> _Bucket:
        bucket = self._chats.get(key)
        if bucket is None:
            if len(self._chats) >= MAX_CHAT_BUCKETS:
                now = self.clock()
                self._chats = {k: b for k, b in self._chats.items() if b.tat > now}
            bucket = self._chats[key] = _Bucket(rate)
        return bucket
