"""Rules (config defaults + per-chat custom ones), subscriptions and mutes, all in Redis."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import WatchError

from services.alerts.dormant import DormantChats, Parked
from services.alerts.rules import Rule, RuleError, parse_rule
from services.digest.store import DigestStore
from services.keys import Keys

logger = logging.getLogger(__name__)


class SubscriptionError(ValueError):
    """A subscription request that cannot be done (unknown rule, cap reached)."""


@dataclass(frozen=True)
class AlertRule:
    id: str
    rule: Rule
    description: str = ""
    owner: str = ""  # the destination that added it; "" for config defaults

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "rule": self.rule.describe(), "owner": self.owner})


class Subscriptions:
    def __init__(self, redis: Redis, keys: Keys, defaults: list[AlertRule],
                 digests: DigestStore) -> None:
        self.redis = redis
        self.keys = keys
        self.defaults = defaults
        self.digests = digests  # a chat's digest follows it too
        self.dormant = DormantChats(redis, keys, self.digests)

    async def custom_rules(self) -> list[AlertRule]:
        raw = await self.redis.hgetall(self.keys.alert_rules())
        rules = []
        for rule_id, body in sorted(raw.items(), key=lambda kv: int(kv[0][1:])):
            data = json.loads(body)
            try:
                rules.append(AlertRule(str(rule_id), parse_rule(data["rule"]), "", data["owner"]))
            except RuleError:
                logger.exception("stored rule no longer parses: rule=%s", rule_id)
        return rules

    async def all_rules(self) -> list[AlertRule]:
        return [*self.defaults, *await self.custom_rules()]

    async def visible_rules(self, dest: str) -> list[AlertRule]:
        """The config defaults plus this destination's own custom rules."""
        return [*self.defaults, *(r for r in await self.custom_rules() if r.owner == dest)]

    async def add_rule(self, dest: str, rule: Rule, cap: int) -> AlertRule:
        """Store a custom rule for `dest` (at most `cap` per destination) and subscribe it."""
        new_id = f"c{await self.redis.incr(self.keys.alert_rule_seq())}"
        key = self.keys.alert_rules()
        for _ in range(20):
            async with self.redis.pipeline(transaction=True) as pipe:
                await pipe.watch(key)
                owned = [r for r in (json.loads(v) for v in await pipe.hvals(key))
                         if r["owner"] == dest]
                same = next((r["id"] for r in owned if r["rule"] == rule.describe()), None)
                if same:
                    raise SubscriptionError(f"this chat already has that rule as {same}")
                if len(owned) >= cap:
                    raise SubscriptionError(f"this chat has {len(owned)} custom rules, the "
                                            f"limit is {cap}; remove one with /alert rm <id>")
                added = AlertRule(new_id, rule, "", dest)
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.hset(key, new_id, added.to_json())
                try:
                    await pipe.execute()
                except WatchError:
                    continue
                await self.subscribe(dest, [new_id])  # the chat's keys: another slot
                return added
        raise SubscriptionError("rules are changing too fast; try again")

    async def remove_rule(self, dest: str, rule_id: str) -> AlertRule:
        rule = next((r for r in await self.visible_rules(dest) if r.id == rule_id), None)
        if rule is None:
            raise SubscriptionError(f"no rule '{rule_id[:30]}' in this chat; see /alerts")
        if not rule.owner:
            raise SubscriptionError(f"'{rule_id}' is a built-in rule; use /unsubscribe "
                                    f"{rule_id}")
        subscribers = await self.subscribers(rule_id)
        await self.redis.hdel(self.keys.alert_rules(), rule_id)  # no longer evaluated
        async with self.redis.pipeline(transaction=False) as pipe:  # keys of many slots
            pipe.delete(*self.keys.alert_subscriber_shards(rule_id))
            for sub in subscribers:
                pipe.srem(self.keys.alert_chat_rules(sub), rule_id)
            pipe.hdel(self.keys.alert_rule_state(), rule_id)
            await pipe.execute()
        return rule

    async def resolve_ids(self, dest: str, target: str) -> list[str]:
        """'all' or one rule id -> the rule ids it names for this destination."""
        visible = [r.id for r in await self.visible_rules(dest)]
        if target == "all":
            return visible
        if target not in visible:
            raise SubscriptionError(f"no rule '{target[:30]}' in this chat; see /alerts")
        return [target]

    # A chat's subscriptions are written in two places with different hash tags: its own
    # set first (what /alerts shows), then the rules' subscriber shards (what fan-out reads);
    # removal in the opposite order. Not one transaction (a cluster cannot span slots), but
    # each write is idempotent, so repeating a command repairs a half-done one.

    async def subscribe(self, dest: str, rule_ids: list[str]) -> None:
        if not rule_ids:
            return
        await self.redis.sadd(self.keys.alert_chat_rules(dest), *rule_ids)
        async with self.redis.pipeline(transaction=False) as pipe:
            for rule_id in rule_ids:
                pipe.sadd(self.keys.alert_subscriber_set(rule_id, dest), dest)
            await pipe.execute()

    async def unsubscribe(self, dest: str, rule_ids: list[str]) -> None:
        """Take `dest` off these rules (alert state is per rule: nothing of it is kept per
        chat, so nothing is left behind)."""
        if not rule_ids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for rule_id in rule_ids:
                pipe.srem(self.keys.alert_subscriber_set(rule_id, dest), dest)
            await pipe.execute()
        await self.redis.srem(self.keys.alert_chat_rules(dest), *rule_ids)

    async def subscribed(self, dest: str) -> set[str]:
        return {str(m) for m in await self.redis.smembers(self.keys.alert_chat_rules(dest))}

    async def subscribers(self, rule_id: str) -> set[str]:
        """Every subscriber of a rule (all shards). Fan-out reads `subscriber_batches`."""
        return {d async for batch, _ in self.subscriber_batches(rule_id, "", 1000)
                for d in batch}

    async def subscriber_count(self, rule_id: str) -> int:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in self.keys.alert_subscriber_shards(rule_id):
                pipe.scard(key)
            return sum(int(n) for n in await pipe.execute())

    async def subscribed_rules(self) -> list[AlertRule]:
        """Every rule with at least one subscriber (what the evaluator evaluates)."""
        rules = await self.all_rules()
        async with self.redis.pipeline(transaction=False) as pipe:
            for rule in rules:
                for key in self.keys.alert_subscriber_shards(rule.id):
                    pipe.scard(key)
            counts = await pipe.execute()
        per = len(counts) // len(rules) if rules else 0
        return [r for i, r in enumerate(rules) if any(counts[i * per:(i + 1) * per])]

    async def subscriber_batches(self, rule_id: str, cursor: str = "", size: int = 500
                                 ) -> AsyncIterator[tuple[list[str], str]]:
        """The rule's subscribers in batches of about `size`, each with the cursor to resume
        after it ("" once the last batch is out). Start from "" or from a cursor this
        iterator gave. A subscriber present throughout is yielded at least once; one
        added or removed meanwhile may or may not be. The cursor ("<shard>:<position>") is
        opaque to callers: shard by shard, SSCAN within each, no set read whole."""
        shard, _, position = (cursor or "0:0").partition(":")
        shards = self.keys.alert_subscriber_shards(rule_id)
        for n in range(int(shard), len(shards)):
            at = int(position or 0) if n == int(shard) else 0
            while True:
                reply = await self.redis.sscan(shards[n], at, count=size)
                at, members = int(reply[0]), [str(m) for m in reply[1]]
                resume = f"{n}:{at}" if at else (f"{n + 1}:0" if n + 1 < len(shards) else "")
                if members or not resume:
                    yield members, resume
                if not at:
                    break

    async def mute(self, dest: str, span: timedelta, until: datetime | None = None) -> None:
        """Mute for `span` (the key's TTL); its value is the end time, when given."""
        value = until.isoformat() if until is not None else "1"
        await self.redis.set(self.keys.alert_mute(dest), value, ex=span)

    async def unmute(self, dest: str) -> bool:
        return bool(await self.redis.delete(self.keys.alert_mute(dest)))

    async def muted_for(self, dest: str) -> timedelta | None:
        ttl = await self.redis.ttl(self.keys.alert_mute(dest))
        return timedelta(seconds=ttl) if ttl > 0 else None

    async def move_destination(self, old: str, new: str) -> None:
        """A migrated chat (Telegram group -> supergroup) keeps rules, mute, digest.
        Touches only the two chats' keys and their subscriber shards."""
        rule_ids = await self.subscribed(old)
        owned = [r for r in await self.custom_rules() if r.owner == old]
        ttl = await self.redis.ttl(self.keys.alert_mute(old))
        until = await self.redis.get(self.keys.alert_mute(old))
        await self.subscribe(new, sorted(rule_ids))
        async with self.redis.pipeline(transaction=False) as pipe:
            for rule in owned:
                moved = AlertRule(rule.id, rule.rule, rule.description, new)
                pipe.hset(self.keys.alert_rules(), rule.id, moved.to_json())
            if ttl > 0 and until is not None:
                pipe.set(self.keys.alert_mute(new), until, ex=ttl)
            await pipe.execute()
        await self.unsubscribe(old, sorted(rule_ids))
        await self.redis.delete(self.keys.alert_chat_rules(old), self.keys.alert_mute(old))
        await self.digests.move(old, new)
        logger.info("alert destination moved: from=%s to=%s rules=%d", old, new, len(rule_ids))

    async def park_destination(self, dest: str, now: datetime) -> None:
        """A chat that proved gone: nothing is sent there, its set-up is kept for 30 days."""
        await self.dormant.park(dest, await self.subscribed(dest), now)

    async def restore_destination(self, dest: str) -> Parked | None:
        """The bot is back in a parked chat: its subscriptions and digest come back."""
        return await self.dormant.restore(dest)

    async def purge_parked(self, now: datetime) -> list[str]:
        """Forget every chat parked for longer than 30 days; returns them."""
        gone = await self.dormant.expired(now)
        for dest in gone:
            await self.drop_destination(dest)
            await self.dormant.forget(dest)
        return gone

    async def drop_destination(self, dest: str) -> None:
        """Forget a chat's subscriptions, rules, states, mute and digest (a chat parked for
        30 days; see park_destination for one that just went). Touches only its own keys,
        its subscriber shards and its state fields: no scan of anything shared."""
        rule_ids = await self.subscribed(dest)
        owned = [r.id for r in await self.custom_rules() if r.owner == dest]
        await self.unsubscribe(dest, sorted(rule_ids))
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(self.keys.alert_chat_rules(dest), self.keys.alert_mute(dest))
            if owned:
                pipe.hdel(self.keys.alert_rules(), *owned)
                pipe.hdel(self.keys.alert_rule_state(), *owned)
                for rule_id in owned:
                    pipe.delete(*self.keys.alert_subscriber_shards(rule_id))
            await pipe.execute()
        await self.digests.drop(dest)
        logger.info("alert destination dropped: dest=%s rules=%d", dest, len(rule_ids))

    async def migrate_layout(self) -> int:
        """Move subscriptions from the one-set-per-rule layout (before sharding) to the
        sharded one, once per store; returns how many chats moved. Runs at start."""
        if await self.redis.get(self.keys.key_layout()) == "2":
            return 0
        moved = 0
        for rule in await self.all_rules():
            legacy = self.keys.legacy_alert_subscribers(rule.id)
            for dest in sorted(str(d) for d in await self.redis.smembers(legacy)):
                ids = {str(r) for r in await self.redis.smembers(
                    self.keys.legacy_alert_chat_rules(dest))} | {rule.id}
                await self.subscribe(dest, sorted(ids))
                await self.redis.delete(self.keys.legacy_alert_chat_rules(dest))
                moved += 1
            await self.redis.delete(legacy)
        await self.redis.set(self.keys.key_layout(), "2")
        if moved:
            logger.info("alert subscriptions moved to the sharded layout: %d", moved)
        return moved
