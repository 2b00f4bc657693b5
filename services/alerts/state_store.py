"""One alert state per rule, and its transition event written with it in one Lua script.

`commit` is a compare-and-set: the rule's state changes only if it is still what the
evaluator read, and in the same script (so atomically, and on one cluster slot: every key
here carries the `{a}` tag) the transition is appended to the rule-event stream and the
leader's fencing token is checked. A state change without its event, or an event without
its state, cannot exist; an evaluator that lost its lock writes nothing.
"""

from __future__ import annotations

import logging
from typing import Literal

from redis.asyncio import Redis

from services.alerts.leader import Fence
from services.alerts.state import AlertState
from services.keys import Keys

logger = logging.getLogger(__name__)
RULE_EVENTS_MAX_LENGTH = 1_000_000  # approximate cap, far beyond any backlog
Committed = Literal["ok", "conflict", "fenced"]

_COMMIT = """
if ARGV[4] ~= '' and redis.call('get', KEYS[3]) ~= ARGV[4] then return 'fenced' end
local current = redis.call('hget', KEYS[1], ARGV[1]) or ''
if current ~= ARGV[2] then return 'conflict' end
redis.call('hset', KEYS[1], ARGV[1], ARGV[3])
if ARGV[5] ~= '' then
  redis.call('xadd', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'event', ARGV[5])
end
return 'ok'
"""


class AlertStateStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis, self.keys = redis, keys
        self._commit = redis.register_script(_COMMIT)

    async def load_for_update(self, rule_ids: list[str]
                              ) -> dict[str, tuple[str, AlertState | None]]:
        """rule id -> (the stored JSON to compare against, "" if none; the state to step
        from). A rule without a stored state starts from the state its subscribers had
        before states were kept per rule, so an upgrade neither re-fires nor forgets."""
        if not rule_ids:
            return {}
        raws = await self.redis.hmget(self.keys.alert_rule_state(), rule_ids)
        stored = {r: str(raw) for r, raw in zip(rule_ids, raws, strict=True) if raw}
        legacy = await self._legacy([r for r in rule_ids if r not in stored])
        out: dict[str, tuple[str, AlertState | None]] = {}
        for rule_id in rule_ids:
            raw = stored.get(rule_id) or legacy.get(rule_id)
            out[rule_id] = (stored.get(rule_id, ""), AlertState.from_json(raw) if raw else None)
        return out

    async def load(self, rule_ids: list[str]) -> dict[str, AlertState]:
        return {r: state for r, (_, state) in (await self.load_for_update(rule_ids)).items()
                if state is not None}

    async def commit(self, rule_id: str, previous: str, new: AlertState, event: str,
                     fence: Fence | None) -> Committed:
        """Write `new` (and `event` into the rule-event stream) if the state is still
        `previous` ("" when absent) and the fence, if any, still holds."""
        keys = [self.keys.alert_rule_state(), self.keys.alert_rule_events(),
                fence.key if fence else self.keys.alert_rule_state()]
        result = await self._commit(keys=keys, args=[
            rule_id, previous, new.to_json(), fence.token if fence else "", event,
            RULE_EVENTS_MAX_LENGTH])
        return str(result)  # type: ignore[return-value]

    async def forget(self, rule_ids: list[str]) -> None:
        if rule_ids:
            await self.redis.hdel(self.keys.alert_rule_state(), *rule_ids)

    async def _legacy(self, rule_ids: list[str]) -> dict[str, str]:
        """The old per-(rule, chat) state of one subscriber, so an upgrade neither re-fires
        a firing rule nor forgets a pending one. The first commit writes the rule's own."""
        if not rule_ids or not await self.redis.exists(self.keys.alert_state()):
            return {}
        found: dict[str, str] = {}
        for rule_id in rule_ids:
            dest = None
            for key in (self.keys.legacy_alert_subscribers(rule_id),
                        *self.keys.alert_subscriber_shards(rule_id)):  # any one subscriber
                if dest := await self.redis.srandmember(key):
                    break
            if dest and (raw := await self.redis.hget(self.keys.alert_state(),
                                                      f"{rule_id}|{dest!s}")):
                found[rule_id] = str(raw)
        return found
