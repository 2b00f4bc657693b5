"""Alerts that fire while a chat is muted are kept, and summarised when the mute ends.

Each kept alert is one line (its headline and data date) in a capped Redis list per
destination. `/unmute` takes them at once; a mute that runs out is noticed by the next
evaluation, which sends the summary as one message.
"""

from __future__ import annotations

from datetime import timedelta

from redis.asyncio import Redis

from services.keys import Keys

MAX_KEPT = 50
KEEP = timedelta(days=31)  # a mute lasts at most 30 days


class MutedLog:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis, self.keys = redis, keys

    async def keep(self, dest: str, line: str) -> None:
        key = self.keys.alert_muted(dest)
        pipe = self.redis.pipeline(transaction=True)
        pipe.rpush(key, line)
        pipe.ltrim(key, -MAX_KEPT, -1)
        pipe.expire(key, KEEP)
        pipe.sadd(self.keys.alert_muted_index(), dest)
        await pipe.execute()

    async def take(self, dest: str) -> list[str]:
        """The kept lines, oldest first, and forget them."""
        key = self.keys.alert_muted(dest)
        pipe = self.redis.pipeline(transaction=True)
        pipe.lrange(key, 0, -1)
        pipe.delete(key)
        pipe.srem(self.keys.alert_muted_index(), dest)
        lines, _, _ = await pipe.execute()
        return [str(line) for line in lines]

    async def unmuted(self) -> list[str]:
        """Destinations with kept alerts whose mute has ended."""
        dests = sorted(str(d) for d in await self.redis.smembers(self.keys.alert_muted_index()))
        if not dests:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for dest in dests:
                pipe.exists(self.keys.alert_mute(dest))
            muted = await pipe.execute()
        return [d for d, still in zip(dests, muted, strict=True) if not still]


def summary_text(lines: list[str]) -> str:
    """The message when a mute ends: how many fired, then each one."""
    count = len(lines)
    head = f"While muted, {count} alert{'s' if count != 1 else ''} fired here"
    shown = lines if count <= MAX_KEPT else lines[-MAX_KEPT:]
    return "\n".join((head, *shown, "/alerts shows each rule's state now."))
