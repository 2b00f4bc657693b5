"""A chat that proved gone (blocked, kicked, deactivated, not found) is parked, not deleted.

Parking takes it off every rule's subscriber list and the digest schedule, so nothing is
sent there, and keeps a record of what it had for `KEEP` (30 days): its subscriptions and
its digest. Its custom rules, alert states and mute stay where they are. When the bot is
back in the chat (it is added again, or the chat sends a command), `restore` puts it all
back. A chat still gone after `KEEP` is purged: its custom rules, states and mute go too.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis

from services.digest.store import DigestStore
from services.keys import Keys

logger = logging.getLogger(__name__)
KEEP = timedelta(days=30)


@dataclass(frozen=True)
class Parked:
    since: datetime
    rule_ids: tuple[str, ...]
    digest: str | None  # the digest subscription's raw JSON

    def to_json(self) -> str:
        return json.dumps({"since": self.since.isoformat(), "rules": list(self.rule_ids),
                           "digest": self.digest})

    @classmethod
    def from_json(cls, raw: str) -> Parked:
        body = json.loads(raw)
        return cls(datetime.fromisoformat(body["since"]), tuple(body["rules"]), body["digest"])


class DormantChats:
    def __init__(self, redis: Redis, keys: Keys, digests: DigestStore) -> None:
        self.redis, self.keys, self.digests = redis, keys, digests

    async def park(self, dest: str, rule_ids: set[str], now: datetime) -> None:
        """Stop sending to `dest`; keep what it set up for KEEP. Parking twice keeps the
        first record (what the chat had, not the empty lists left after the first)."""
        existing = await self.get(dest)
        digest = await self.redis.hget(self.keys.digest_subscriptions(), dest)
        record = Parked(existing.since if existing else now,
                        tuple(sorted({*rule_ids, *(existing.rule_ids if existing else ())})),
                        str(digest) if digest is not None else
                        (existing.digest if existing else None))
        pipe = self.redis.pipeline(transaction=True)  # the shared {a} keys, atomically
        pipe.set(self.keys.alert_dormant(dest), record.to_json(), ex=KEEP + timedelta(days=1))
        pipe.zadd(self.keys.alert_dormant_index(), {dest: record.since.timestamp()})
        pipe.hdel(self.keys.digest_subscriptions(), dest)
        await pipe.execute()
        async with self.redis.pipeline(transaction=False) as chat:  # its shards: other slots
            for rule_id in rule_ids:
                chat.srem(self.keys.alert_subscriber_set(rule_id, dest), dest)
            chat.delete(self.keys.alert_chat_rules(dest))
            await chat.execute()
        logger.info("alert destination parked: dest=%s rules=%d digest=%s", dest,
                    len(record.rule_ids), record.digest is not None)

    async def get(self, dest: str) -> Parked | None:
        raw = await self.redis.get(self.keys.alert_dormant(dest))
        return Parked.from_json(str(raw)) if raw else None

    async def restore(self, dest: str) -> Parked | None:
        """The bot is back in `dest`: its subscriptions and digest come back."""
        record = await self.get(dest)
        if record is None:
            return None
        async with self.redis.pipeline(transaction=False) as chat:  # its keys and shards
            if record.rule_ids:
                chat.sadd(self.keys.alert_chat_rules(dest), *record.rule_ids)
            for rule_id in record.rule_ids:
                chat.sadd(self.keys.alert_subscriber_set(rule_id, dest), dest)
            await chat.execute()
        pipe = self.redis.pipeline(transaction=True)
        if record.digest is not None:
            pipe.hsetnx(self.keys.digest_subscriptions(), dest, record.digest)
        pipe.delete(self.keys.alert_dormant(dest))
        pipe.zrem(self.keys.alert_dormant_index(), dest)
        await pipe.execute()
        logger.info("alert destination restored: dest=%s rules=%d digest=%s", dest,
                    len(record.rule_ids), record.digest is not None)
        return record

    async def expired(self, now: datetime) -> list[str]:
        """Destinations parked longer than KEEP, to be purged."""
        cutoff = (now - KEEP).timestamp()
        found = await self.redis.zrangebyscore(self.keys.alert_dormant_index(), "-inf", cutoff)
        return [str(d) for d in found]

    async def forget(self, dest: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.keys.alert_dormant(dest))
        pipe.zrem(self.keys.alert_dormant_index(), dest)
        await pipe.execute()
