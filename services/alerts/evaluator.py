"""Evaluate every subscribed rule once per collection: one state and one event per rule.

The condition of a rule is computed once (pandas, off the event loop). Its state moves
through `step`, and a transition is committed together with its event in one script
(state_store.py): evaluation cost grows with rules, not chats, and an evaluation stopped at
any point (SIGTERM, SIGKILL, Redis dying) leaves every rule either untouched (the next pass
evaluates it again) or moved with its event recorded. Workers fan each event out to the
rule's subscribers (fanout.py); mutes and the daily cap apply there, per destination.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from redis.exceptions import RedisError

from services.alerts.conditions import Observation, observation, observe_all, rule_series
from services.alerts.events import RuleEvent
from services.alerts.leader import Fence, LeaderLost
from services.alerts.messages import alert_text
from services.alerts.state import AlertState, Transition, changed, step
from services.alerts.state_store import AlertStateStore
from services.alerts.subscriptions import AlertRule, Subscriptions
from services.metrics.catalog import MetricCatalog
from services.metrics.common import sources_of
from services.series import MarketData
from services.store import MetricStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleReading:
    """What one rule sees in this collection."""

    observation: Observation | None
    sources: str


class AlertEvaluator:
    def __init__(self, subscriptions: Subscriptions, states: AlertStateStore,
                 store: MetricStore, catalog: MetricCatalog) -> None:
        self.subscriptions, self.states = subscriptions, states
        self.store, self.catalog = store, catalog

    async def evaluate(self, now: datetime, fence: Fence | None = None) -> list[RuleEvent]:
        """One pass over every rule with subscribers; returns the events committed. With a
        `fence`, every write checks the leader's token (LeaderLost when it is gone)."""
        rules = [r for r in await self.subscriptions.subscribed_rules() if self._known(r)]
        keys = self.catalog.inputs(m for rule in rules for m in rule.rule.metrics)
        data = await self.store.load_history(keys)
        readings = await asyncio.to_thread(self._read_all, rules, data)
        states = await self.states.load_for_update([r.id for r in rules])
        events: list[RuleEvent] = []
        for rule in rules:
            stored, prev = states[rule.id]
            try:
                event = await self._evaluate_rule(rule, stored, prev, readings[rule.id], now,
                                                  fence)
            except (RedisError, LeaderLost):
                raise  # the store or the lock is gone for every rule: end the pass
            except Exception:
                logger.exception("alert rule failed: rule=%s", rule.id)
                continue
            if event is not None:
                events.append(event)
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

    async def _evaluate_rule(self, rule: AlertRule, stored: str, prev: AlertState | None,
                             reading: RuleReading, now: datetime,
                             fence: Fence | None) -> RuleEvent | None:
        if reading.observation is None:
            return None
        new, change = step(rule.rule, prev, reading.observation, now)
        if stored and not changed(prev, new):
            return None
        event = self._event(rule, change, reading, now) if change else None
        if fence is not None:
            fence.check()
        result = await self.states.commit(rule.id, stored, new,
                                          event.to_json() if event else "", fence)
        if result == "fenced":
            raise LeaderLost(f"leader lock {fence.key if fence else ''} is no longer ours")
        if result == "conflict":  # another evaluator moved it first; it emitted the event
            logger.info("alert state changed meanwhile: rule=%s", rule.id)
            return None
        if event is not None:
            logger.info("alert %s: rule=%s value=%s event_id=%s", event.kind, rule.id,
                        change.value if change else "", event.event_id)
        return event

    @staticmethod
    def _event(rule: AlertRule, change: Transition, reading: RuleReading,
               now: datetime) -> RuleEvent:
        return RuleEvent(
            event_id=f"{rule.id}|{change.kind}|{now.isoformat()}", rule_id=rule.id,
            kind=change.kind, created_at=now.isoformat(),
            text=alert_text(rule.id, rule.rule, change, reading.sources,
                            change.point.isoformat(), rule.description),
            metrics=tuple(rule.rule.metrics))
