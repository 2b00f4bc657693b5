"""Alert state per (rule, destination) in the alert_state hash, written with WATCH/MULTI.

A transition is emitted only by the evaluator whose compare-and-set committed, so two
evaluators running at once emit each event once (the loser re-reads and finds nothing new).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import WatchError

from services.alerts.state import AlertState, changed
from services.keys import Keys

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 50
T = TypeVar("T")
Update = Callable[[str, AlertState | None], tuple[AlertState, T | None]]


class StateConflict(RuntimeError):
    """Other writers kept changing the state; this evaluation gave up (it will run again)."""


def state_field(rule_id: str, destination: str) -> str:
    return f"{rule_id}|{destination}"


class AlertStateStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def load(self, rule_ids: list[str], destination: str) -> dict[str, AlertState]:
        if not rule_ids:
            return {}
        fields = [state_field(r, destination) for r in rule_ids]
        raws = await self.redis.hmget(self.keys.alert_state(), fields)
        return {r: AlertState.from_json(str(raw))
                for r, raw in zip(rule_ids, raws, strict=True) if raw}

    async def update(self, rule_id: str, destinations: list[str],
                     update: Update[T]) -> list[tuple[str, T]]:
        """Apply `update(destination, previous)` to every destination's state atomically;
        returns (destination, result) for the results of the committed attempt."""
        key = self.keys.alert_state()
        fields = [state_field(rule_id, d) for d in destinations]
        for _ in range(MAX_ATTEMPTS):
            async with self.redis.pipeline(transaction=True) as pipe:
                await pipe.watch(key)
                raws = await pipe.hmget(key, fields)
                writes: dict[str, str] = {}
                results: list[tuple[str, T]] = []
                for dest, field, raw in zip(destinations, fields, raws, strict=True):
                    prev = AlertState.from_json(str(raw)) if raw else None
                    new, result = update(dest, prev)
                    if changed(prev, new):
                        writes[field] = new.to_json()
                    if result is not None:
                        results.append((dest, result))
                if not writes:
                    return results
                pipe.multi()  # type: ignore[no-untyped-call]
                for field, body in writes.items():
                    pipe.hset(key, field, body)
                try:
                    await pipe.execute()
                except WatchError:
                    logger.debug("alert state changed meanwhile, retrying: rule=%s", rule_id)
                    continue
                return results
        raise StateConflict(f"alert state of rule {rule_id} kept changing; try again")

    async def forget(self, fields: list[str]) -> None:
        if fields:
            await self.redis.hdel(self.keys.alert_state(), *fields)
