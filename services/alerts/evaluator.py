"""Evaluate every subscribed rule once per collection; per-destination state, mutes, caps.

The condition of a rule is computed once (pandas, off the event loop) and shared by all its
subscribers; each destination then moves through its own state in Redis. Events go to an
injected outbox (the Redis Stream outbox in production, a list in tests).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.alerts.chart_for import alert_chart
from services.alerts.conditions import Observation, observation, observe_all, rule_series
from services.alerts.events import AlertEvent
from services.alerts.messages import alert_text, limit_text
from services.alerts.state import Transition, step
from services.alerts.state_store import AlertStateStore
from services.alerts.subscriptions import AlertRule, Subscriptions
from services.keys import Keys
from services.metrics.catalog import MetricCatalog
from services.metrics.common import sources_of
from services.series import MarketData
from services.store import MetricStore

logger = logging.getLogger(__name__)
COUNT_TTL = timedelta(days=2)


class Outbox(Protocol):
    async def append(self, event: AlertEvent) -> object: ...  # e.g. the stream entry id


@dataclass(frozen=True)
class RuleReading:
    """What one rule sees in this collection, shared by all its subscribers."""

    observation: Observation | None
    sources: str


class AlertEvaluator:
    def __init__(self, redis: Redis, keys: Keys, subscriptions: Subscriptions,
                 store: MetricStore, catalog: MetricCatalog, outbox: Outbox,
                 max_alerts_per_day: int) -> None:
        self.redis = redis
        self.keys = keys
        self.subscriptions = subscriptions
        self.states = AlertStateStore(redis, keys)
        self.store = store
        self.catalog = catalog
        self.outbox = outbox
        self.max_alerts_per_day = max_alerts_per_day

    async def evaluate(self, now: datetime) -> list[AlertEvent]:
        """One pass over every rule with subscribers; returns the events handed out."""
        targets = []
        for rule in await self.subscriptions.all_rules():
            dests = sorted(await self.subscriptions.subscribers(rule.id))
            if dests:
                targets.append((rule, dests))
        targets = [(r, d) for r, d in targets if self._known(r)]
        keys = self.catalog.inputs(m for rule, _ in targets for m in rule.rule.metrics)
        data = await self.store.load_history(keys)
        readings = await asyncio.to_thread(self._read_all, [r for r, _ in targets], data)
        events: list[AlertEvent] = []
        for rule, dests in targets:
            try:
                events += await self._evaluate_rule(rule, dests, readings[rule.id], now)
            except RedisError:
                raise  # the store is gone for every rule: end the pass, the next one retries
            except Exception:
                logger.exception("alert rule failed: rule=%s", rule.id)
        return events

    def _read_all(self, rules: list[AlertRule], data: MarketData) -> dict[str, RuleReading]:
        readings = {}
        for rule in rules:
            frame = observe_all(rule.rule, rule_series(rule.rule, data, self.catalog))
            inputs = self.catalog.inputs(rule.rule.metrics)
            readings[rule.id] = RuleReading(observation(frame), ", ".join(
                sources_of(data, inputs)))
        return readings

    def _known(self, rule: AlertRule) -> bool:
        """A stored rule over a metric the catalog no longer has (a claim since disabled)."""
        missing = [m for m in rule.rule.metrics if m not in self.catalog]
        if missing:
            logger.warning("alert rule skipped: rule=%s unknown metric=%s", rule.id, missing[0])
        return not missing

    async def _evaluate_rule(self, rule: AlertRule, dests: list[str], reading: RuleReading,
                             now: datetime) -> list[AlertEvent]:
        obs = reading.observation
        if obs is None:
            return []
        changes = await self.states.update(
            rule.id, dests, lambda _dest, prev: step(rule.rule, prev, obs, now))
        events: list[AlertEvent] = []
        for dest, change in changes:
            try:
                events += await self._deliver(rule, dest, change, reading, now)
            except RedisError:
                raise
            except Exception:
                logger.exception("alert delivery failed: rule=%s destination=%s", rule.id, dest)
        return events

    async def _deliver(self, rule: AlertRule, dest: str, change: Transition,
                       reading: RuleReading, now: datetime) -> list[AlertEvent]:
        logger.info("alert %s: rule=%s destination=%s value=%s", change.kind, rule.id, dest,
                    change.value)
        event = AlertEvent(
            event_id=f"{rule.id}|{change.kind}|{now.isoformat()}", rule_id=rule.id,
            kind=change.kind, destination=dest, created_at=now.isoformat(),
            text=alert_text(rule.id, rule.rule, change, reading.sources,
                            change.point.isoformat(), rule.description),
            chart=alert_chart(rule.rule.metrics, dest),
        )
        admitted = await self._admit(dest, now)
        out = [event] if admitted == "send" else []
        if admitted == "limit":
            day = now.date().isoformat()
            out = [AlertEvent(f"limit|{day}", "", "limit", dest,
                              limit_text(self.max_alerts_per_day, day), now.isoformat())]
        for item in out:
            await self.outbox.append(item)
        return out

    async def _admit(self, dest: str, now: datetime) -> str:
        """'send', 'limit' (the one notice that the daily cap was hit) or 'drop'."""
        if await self.redis.exists(self.keys.alert_mute(dest)):
            logger.info("alert muted: destination=%s", dest)
            return "drop"
        key = self.keys.alert_daily_count(dest, now.date().isoformat())
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, COUNT_TTL)
        count, _ = await pipe.execute()
        if count <= self.max_alerts_per_day:
            return "send"
        return "limit" if count == self.max_alerts_per_day + 1 else "drop"
