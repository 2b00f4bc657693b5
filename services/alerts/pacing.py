"""Per-platform pacing at the platforms' published limits: waits for a slot, never drops.

Two kinds of limit, paced differently:
- Platform-wide (`overall`: Telegram 30 msg/s, Discord 50 req/s) is one budget for every
  notifier worker. With a `SharedSchedule` (the notifier attaches one on its Redis) all
  workers take their send slots from one schedule in Redis: together they keep to the limit
  whatever their number, and a worker alone (the others idle, starting or dead) may use all
  of it. Without one, each process keeps its own schedule at 1/`workers` of the rate.
- Per chat (and per Telegram group): kept in the process, charged at the actual send, with
  one send at a time per chat. A chat's entries may reach any worker, so across workers this
  is best effort; a 429 from the platform pauses that chat.

A send takes its platform-wide slot just before it goes out and gives up a slot it reached
late; every rate is paced at `headroom` (96%) of the published one. So a send that reaches
the platform a little late or early (scheduling, network) still never puts more than `count`
in any window of `period_s`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from redis.asyncio import Redis

from services.keys import Keys

MAX_CHAT_BUCKETS = 10_000  # idle per-chat buckets are pruned beyond this
HEADROOM = 0.96
MAX_LATE_SLOTS = 4  # slots a send may give up for being late, before it goes late anyway
# The platform's next free slot, in Redis microseconds: take one (ARGV[2] = 0), or push the
# schedule past a pause (ARGV[2] = pause length). Returns the slot and Redis' time now.
_SLOT = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('get', KEYS[1]) or 0)
local interval, pause = tonumber(ARGV[1]), tonumber(ARGV[2])
local at = math.max(now, tat)
if pause > 0 then
  at, interval = math.max(tat, now + pause), 0
end
redis.call('set', KEYS[1], string.format('%d', at + interval), 'PX',
           math.floor((at + interval - now) / 1000) + 60000)
return {string.format('%d', at), string.format('%d', now)}
"""
OFFSET_REFRESH_S = 10.0  # re-estimate the Redis clock's offset at least this often


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


class SharedSchedule:
    """Platform-wide send slots shared by every worker through Redis (GCRA on Redis' clock).

    Slots are converted to the local clock with the offset seen on the quickest recent round
    trip, so a reply that reached this process late does not make its send late unseen.
    """

    def __init__(self, redis: Redis, keys: Keys,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.keys = keys
        self.clock = clock
        self._slot = redis.register_script(_SLOT)
        self._offset = 0.0  # Redis' clock minus ours, in seconds
        self._offset_rtt = float("inf")
        self._offset_at = 0.0

    async def take(self, platform: str, interval_s: float) -> float:
        """Reserve the next slot; return when it comes, on the local clock."""
        return await self._call(platform, max(1, round(interval_s * 1e6)), 0)

    async def pause(self, platform: str, seconds: float) -> None:
        """No slot for anyone before `seconds` from now (the platform said 429)."""
        await self._call(platform, 1, max(1, round(seconds * 1e6)))

    async def _call(self, platform: str, interval_us: int, pause_us: int) -> float:
        sent = self.clock()
        at_us, now_us = await self._slot(keys=[self.keys.alert_pacing(platform)],
                                         args=[interval_us, pause_us])
        received = self.clock()
        if received - sent <= self._offset_rtt or received - self._offset_at > OFFSET_REFRESH_S:
            self._offset = int(now_us) / 1e6 - (sent + received) / 2
            self._offset_rtt, self._offset_at = received - sent, received
        return int(at_us) / 1e6 - self._offset


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
                 clock: Callable[[], float] = time.monotonic) -> None:
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
                await self._chat_ready(platform, chat_id)
                yield
        finally:
            turn.users -= 1
            if not turn.users:
                del self._turns[key]

    async def slot(self, platform: str, chat_id: str) -> None:
        """Right before a send (inside its turn): wait for the platform-wide slot, then
        charge the chat's limits. A slot reached too late (the process or its loop stalled)
        is given up for a new one, a few times: sent late, it would bunch with the next."""
        overall = self.limits.get(platform, PlatformLimits()).overall
        if overall is not None:
            late_ok = (1 - self.headroom) * overall.period_s / 4  # the rest is for transit
            for tries_left in reversed(range(MAX_LATE_SLOTS)):
                due = await self._take(platform, overall)
                await self._sleep_until(max(due, self._paused.get((platform, None), 0.0)))
                if self.clock() - due <= late_ok or not tries_left:
                    break
        now = self.clock()
        for bucket in self._chat_buckets(platform, chat_id):
            bucket.take(now)

    async def _sleep_until(self, at: float) -> None:
        if (wait := at - self.clock()) > 0:
            await asyncio.sleep(wait)

    async def _take(self, platform: str, overall: Rate) -> float:
        """Reserve the next platform-wide slot; when it comes, on this pacer's clock."""
        if self.shared is not None:
            return await self.shared.take(platform, overall.interval(self.headroom))
        bucket = self._overall[platform]
        at = max(bucket.earliest(self.clock()), self._paused.get((platform, None), 0.0))
        bucket.take(at)
        return at

    async def pause(self, platform: str, chat_id: str | None, seconds: float) -> None:
        """Honour a 429: nothing goes to this chat (or platform, for None) for `seconds`."""
        now = self.clock()
        if len(self._paused) >= MAX_CHAT_BUCKETS:
            self._paused = {k: t for k, t in self._paused.items() if t > now}
        scope = (platform, chat_id)
        self._paused[scope] = max(self._paused.get(scope, 0.0), now + seconds)
        if chat_id is None and self.shared is not None and platform in self._overall:
            await self.shared.pause(platform, seconds)

    async def _chat_ready(self, platform: str, chat_id: str) -> None:
        while True:
            now = self.clock()
            at = max([now, self._paused.get((platform, chat_id), 0.0),
                      *(b.earliest(now) for b in self._chat_buckets(platform, chat_id))])
            if at <= now:
                return
            await asyncio.sleep(at - now)

    def _chat_buckets(self, platform: str, chat_id: str) -> list[_Bucket]:
        limits = self.limits.get(platform)
        if limits is None:
            return []
        scopes = [("chat", limits.per_chat)]
        if chat_id.startswith("-"):
            scopes.append(("group", limits.per_group))
        return [self._chat_bucket((platform, scope, chat_id), rate)
                for scope, rate in scopes if rate is not None]

    def _chat_bucket(self, key: tuple[str, str, str], rate: Rate) -> _Bucket:
        bucket = self._chats.get(key)
        if bucket is None:
            if len(self._chats) >= MAX_CHAT_BUCKETS:
                now = self.clock()
                self._chats = {k: b for k, b in self._chats.items() if b.tat > now}
            bucket = self._chats[key] = _Bucket(rate, self.headroom)
        return bucket
