"""Alerts that fire while a chat is muted are kept, and summarised when the mute ends.

Each kept alert is one line (its headline and data date) in a capped Redis list per
destination. `/unmute` takes them at once; a mute that runs out is noticed by the next
evaluation pass (`release_ended`), which puts the summary in the outbox as one message. A
mute key holds its end time, so a pass finds a mute over by its own clock even before Redis
has expired the key; the lines are taken and the summary written in one transaction
(watched: an alert kept meanwhile, or a second pass, makes it retry or find nothing).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import WatchError

from services.alerts.events import AlertEvent
from services.keys import Keys

logger = logging.getLogger(__name__)

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

    async def release_ended(self, now: datetime, outbox_stream: str, max_length: int
                            ) -> list[str]:
        """For each destination with kept alerts whose mute has ended by `now`: the summary
        appended to the outbox, the kept lines and the ended mute removed, at once. Returns
        the destinations told."""
        told = []
        for dest in sorted(str(d) for d in await self.redis.smembers(
                self.keys.alert_muted_index())):
            try:
                if await self._release(dest, now, outbox_stream, max_length):
                    told.append(dest)
            except WatchError:  # an alert kept meanwhile: the next pass sends it all
                logger.info("mute summary deferred: dest=%s (changed meanwhile)", dest)
        if told:
            logger.info("mute summaries queued: destinations=%d", len(told))
        return told

    async def _release(self, dest: str, now: datetime, stream: str, max_length: int) -> bool:
        mute, kept = self.keys.alert_mute(dest), self.keys.alert_muted(dest)
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(mute, kept)
            until = await pipe.get(mute)
            if until is not None and not ended(str(until), now):
                return False
            lines = [str(line) for line in await pipe.lrange(kept, 0, -1)]
            pipe.multi()  # type: ignore[no-untyped-call]
            if lines:
                event = AlertEvent(f"muted|{now:%Y%m%dT%H%M%S}|{len(lines)}", "", "muted",
                                   dest, summary_text(lines), now.isoformat())
                pipe.xadd(stream, event.to_fields(), maxlen=max_length)  # type: ignore[arg-type]
            pipe.delete(mute, kept)
            pipe.srem(self.keys.alert_muted_index(), dest)
            await pipe.execute()
        return bool(lines)


def ended(until: str, now: datetime) -> bool:
    """Whether a mute key's value (its end, ISO 8601) is past at `now`; a value without a
    time (set before mutes kept one) ends only when Redis expires the key."""
    try:
        return datetime.fromisoformat(until) <= now
    except ValueError:
        return False


def summary_text(lines: list[str]) -> str:
    """The message when a mute ends: how many fired, then each one."""
    count = len(lines)
    head = f"While muted, {count} alert{'s' if count != 1 else ''} fired here"
    shown = lines if count <= MAX_KEPT else lines[-MAX_KEPT:]
    return "\n".join((head, *shown, "/alerts shows each rule's state now."))
