"""Per-platform pacing at the platforms' published limits: waits for a slot, never drops.

With a `SharedSchedule` (budget.py; the notifier and the Telegram reply sender attach one on
the app's Redis) every limit is one budget for every process, replies and alerts together:
the platform's (Telegram 30 msg/s, Discord 50 req/s), each chat's and each Telegram group's,
reserved together for each send, and a 429 pauses the platform (or the chat) for all. A
process alone (the others idle, starting or dead) may use all of it. Without one (the
worker's `--local-pacing`), each process keeps its own schedule at 1/`workers` of the
platform rate and its own per-chat buckets, charged at the actual send. Either way a process
sends one message at a time per chat (`turn`).

A send takes its platform-wide slot just before it goes out and gives up a slot it reached
late; every rate is paced at `headroom` (96%) of the published one. So a send that reaches
the platform a little late or early (scheduling, network) still never puts more than `count`
in any window of `period_s`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from services.alerts.budget import SharedSchedule
from services.clock import SYSTEM_CLOCK, Clock

__all__ = ["DEFAULT_LIMITS", "DISCORD_LIMITS", "HEADROOM", "MAX_LATE_SLOTS", "TELEGRAM_LIMITS",
           "Pacer", "PlatformLimits", "Rate", "SharedSchedule"]

MAX_CHAT_BUCKETS = 10_000  # idle per-chat buckets are pruned beyond this
HEADROOM = 0.96
MAX_LATE_SLOTS = 4  # slots a send may give up for being late, before it goes late anyway


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

    def interval(self, headroom: float = 1.0) -> float:
        return self.period_s / self.count / headroom


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
    headroom: float
    tat: float = 0.0
    interval: float = field(init=False)

    def __post_init__(self) -> None:
        self.interval = self.rate.interval(self.headroom)

    def earliest(self, now: float) -> float:
        return max(now, self.tat - (self.rate.burst - 1) * self.interval)

    def take(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.interval


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class Pacer:
    def __init__(self, limits: Mapping[str, PlatformLimits] = DEFAULT_LIMITS, *,
                 workers: int = 1, headroom: float = HEADROOM,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.limits = dict(limits)
        self.headroom = headroom
        self.clock = clock
        self.shared: SharedSchedule | None = None
        self._overall = {platform: _Bucket(limit.overall.shared_by(workers), headroom)
                         for platform, limit in self.limits.items() if limit.overall}
        self._chats: dict[tuple[str, str, str], _Bucket] = {}
        self._turns: dict[tuple[str, str], _Turn] = {}
        self._paused: dict[tuple[str, str | None], float] = {}  # (platform, chat) -> until

    def share(self, schedule: SharedSchedule) -> None:
        """Take platform-wide slots from `schedule` (whole rate, shared by all workers)."""
        self.shared = schedule

    @asynccontextmanager
    async def turn(self, platform: str, chat_id: str) -> AsyncIterator[None]:
        """One send at a time per chat; enter when the chat's own limits allow a send."""
        key = (platform, chat_id)
        turn = self._turns.setdefault(key, _Turn())
        turn.users += 1
        try:
            async with turn.lock:
                if not self._shared(platform):  # else the chat's limits are on the schedule
                    await self._chat_ready(platform, chat_id)
                yield
        finally:
            turn.users -= 1
            if not turn.users:
                del self._turns[key]

    async def slot(self, platform: str, chat_id: str) -> None:
        """Right before a send (inside its turn): wait for the platform-wide slot (on the
        shared schedule: the chat's and group's too), then charge the chat's limits. A slot
        reached too late (the process or its loop stalled) is given up for a new one, a few
        times: sent late, it would bunch with the next."""
        overall = self.limits.get(platform, PlatformLimits()).overall
        if overall is not None:
            late_ok = (1 - self.headroom) * overall.period_s / 4  # the rest is for transit
            for tries_left in reversed(range(MAX_LATE_SLOTS)):
                # A retake is for the platform-wide slot only: the chat's was reserved with
                # the first (charging it again would push the chat back a whole interval).
                first = tries_left == MAX_LATE_SLOTS - 1
                due = await self._take(platform, chat_id if first else None, overall)
                await self._sleep_until(max(due, self._paused.get((platform, None), 0.0)))
                if self.clock.monotonic() - due <= late_ok or not tries_left:
                    break
        if self._shared(platform):
            return
        now = self.clock.monotonic()
        for bucket in self._chat_buckets(platform, chat_id):
            bucket.take(now)

    def _shared(self, platform: str) -> bool:
        """Whether this platform's limits are on the shared schedule (it has one, and the
        platform a platform-wide rate)."""
        return self.shared is not None and platform in self._overall

    async def _sleep_until(self, at: float) -> None:
        if (wait := at - self.clock.monotonic()) > 0:
            await self.clock.sleep(wait)

    async def _take(self, platform: str, chat_id: str | None, overall: Rate) -> float:
        """Reserve the next platform-wide slot (on the shared schedule with the chat's, when
        given); when it comes, on this pacer's clock."""
        if self.shared is not None:
            scopes = self._scopes(platform, chat_id) if chat_id is not None else []
            return await self.shared.take(platform, overall.interval(self.headroom), scopes)
        bucket = self._overall[platform]
        at = max(bucket.earliest(self.clock.monotonic()), self._paused.get((platform, None), 0.0))
        bucket.take(at)
        return at

    async def pause(self, platform: str, chat_id: str | None, seconds: float) -> None:
        """Honour a 429: nothing goes to this chat (or platform, for None) for `seconds`."""
        now = self.clock.monotonic()
        if len(self._paused) >= MAX_CHAT_BUCKETS:
            self._paused = {k: t for k, t in self._paused.items() if t > now}
        scope = (platform, chat_id)
        self._paused[scope] = max(self._paused.get(scope, 0.0), now + seconds)
        if self.shared is not None and self._shared(platform):
            await self.shared.pause(platform, seconds, chat_id)

    async def _chat_ready(self, platform: str, chat_id: str) -> None:
        while True:
            now = self.clock.monotonic()
            at = max([now, self._paused.get((platform, chat_id), 0.0),
                      *(b.earliest(now) for b in self._chat_buckets(platform, chat_id))])
            if at <= now:
                return
            await self.clock.sleep(at - now)

    def _chat_rates(self, platform: str, chat_id: str) -> list[tuple[str, Rate]]:
        limits = self.limits.get(platform)
        if limits is None:
            return []
        scopes = [("chat", limits.per_chat)]
        if chat_id.startswith("-"):  # Telegram groups, supergroups and channels
            scopes.append(("group", limits.per_group))
        return [(scope, rate) for scope, rate in scopes if rate is not None]

    def _scopes(self, platform: str, chat_id: str) -> list[tuple[str, str, float, int]]:
        return [(scope, chat_id, rate.interval(self.headroom), rate.burst)
                for scope, rate in self._chat_rates(platform, chat_id)]

    def _chat_buckets(self, platform: str, chat_id: str) -> list[_Bucket]:
        return [self._chat_bucket((platform, scope, chat_id), rate)
                for scope, rate in self._chat_rates(platform, chat_id)]

    def _chat_bucket(self, key: tuple[str, str, str], rate: Rate) -> _Bucket:
        bucket = self._chats.get(key)
        if bucket is None:
            if len(self._chats) >= MAX_CHAT_BUCKETS:
                now = self.clock.monotonic()
                self._chats = {k: b for k, b in self._chats.items() if b.tat > now}
            bucket = self._chats[key] = _Bucket(rate, self.headroom)
        return bucket
