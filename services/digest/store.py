"""Per-destination digest subscriptions in Redis, and the day each last got its digest.

Keys (services/keys.py, `{a}` hash tag like the alert outbox): one hash of destination ->
subscription JSON, and per destination a "last day" string (ISO local date, with a TTL far
beyond the ~50 hours in which the same local day can still be due) that the scheduler sets
in the same transaction as it appends the digest to the outbox.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from redis.asyncio import Redis
from redis.exceptions import WatchError

from services.digest.schedule import ScheduleError, due_day, next_due, parse_zone, zone_info
from services.keys import Keys

logger = logging.getLogger(__name__)

LAST_DAY_TTL_S = 8 * 86_400
Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Digest:
    """A daily digest at `at` in `zone`; days scheduled before `since` are never sent."""

    at: time
    zone: str  # a canonical name from parse_zone
    since: datetime

    def due_day(self, now: datetime) -> date | None:
        return due_day(now, self.at, zone_info(self.zone), self.since)

    def next_due(self, now: datetime) -> datetime:
        return next_due(now, self.at, zone_info(self.zone))

    def to_json(self) -> str:
        return json.dumps({"time": self.at.strftime("%H:%M"), "tz": self.zone,
                           "since": self.since.isoformat(timespec="seconds")})

    @classmethod
    def from_json(cls, raw: str) -> Digest:
        data = json.loads(raw)
        return cls(time.fromisoformat(data["time"]), parse_zone(data["tz"]),
                   datetime.fromisoformat(data["since"]))


class DigestStore:
    def __init__(self, redis: Redis, keys: Keys, clock: Clock = wall_clock) -> None:
        self.redis, self.keys, self.clock = redis, keys, clock
        self.hash = keys.digest_subscriptions()

    async def get(self, dest: str) -> Digest | None:
        raw = await self.redis.hget(self.hash, dest)
        return None if raw is None else Digest.from_json(str(raw))

    async def switch_on(self, dest: str, at: time, zone: str) -> Digest:
        """Store the digest; a changed schedule starts now, so a time already past today
        waits for tomorrow, while repeating the same schedule keeps its start."""
        current = await self.get(dest)
        keep = current is not None and (current.at, current.zone) == (at, zone)
        digest = Digest(at, zone, current.since if keep and current else self.clock())
        await self.redis.hset(self.hash, dest, digest.to_json())
        return digest

    async def switch_off(self, dest: str) -> bool:
        # The last day stays (with its TTL), so switching off and on again the same day
        # cannot send that day twice.
        return bool(await self.redis.hdel(self.hash, dest))

    async def all(self) -> dict[str, tuple[str, Digest]]:
        """destination -> (raw JSON, digest) of every readable subscription."""
        found = {}
        for dest, raw in (await self.redis.hgetall(self.hash)).items():
            try:
                found[str(dest)] = (str(raw), Digest.from_json(str(raw)))
            except (KeyError, TypeError, ValueError, ScheduleError):
                logger.warning("digest: unreadable subscription dest=%s", dest)
        return found

    async def last_days(self, dests: list[str]) -> dict[str, str]:
        """destination -> the latest local day enqueued for it (ISO), where there is one."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for dest in dests:
                pipe.get(self.keys.digest_last_day(dest))
            days = await pipe.execute()
        return {d: str(day) for d, day in zip(dests, days, strict=True) if day}

    async def drop(self, dest: str) -> None:
        """A chat that blocked or removed the bot loses its digest."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self.hash, dest)
            pipe.delete(self.keys.digest_last_day(dest))
            await pipe.execute()

    async def move(self, old: str, new: str) -> None:
        """A migrated chat keeps its digest (unless the new id has its own) and last day."""
        old_last, new_last = self.keys.digest_last_day(old), self.keys.digest_last_day(new)
        for _ in range(20):
            async with self.redis.pipeline(transaction=True) as pipe:
                await pipe.watch(self.hash, old_last, new_last)
                raw = await pipe.hget(self.hash, old)
                days = [d for d in (await pipe.get(old_last), await pipe.get(new_last)) if d]
                pipe.multi()  # type: ignore[no-untyped-call]
                if raw is not None:
                    pipe.hsetnx(self.hash, new, raw)
                    pipe.hdel(self.hash, old)
                if days:
                    pipe.set(new_last, max(days), ex=LAST_DAY_TTL_S)
                pipe.delete(old_last)
                try:
                    await pipe.execute()
                except WatchError:
                    continue
                return
        raise RuntimeError(f"digest of {old} kept changing while moving it to {new}")
