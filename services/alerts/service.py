"""What chat commands call for alerts: rules with their state, subscriptions, mutes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from redis.asyncio import Redis

from services.alerts.admission import Admission
from services.alerts.conditions import Observation, observation, observe_all, rule_series
from services.alerts.config import AlertsConfig
from services.alerts.dormant import Parked
from services.alerts.evaluator import AlertEvaluator
from services.alerts.fanout import DeliverySink, FanOut
from services.alerts.guided import Guide
from services.alerts.muted import MutedLog
from services.alerts.now import standing
from services.alerts.rule_chart import draw_rule_chart
from services.alerts.rules import RuleError, parse_duration, parse_rule
from services.alerts.send_now import SentNow, send_now
from services.alerts.state import AlertState
from services.alerts.state_store import AlertStateStore
from services.alerts.subscriptions import AlertRule, SubscriptionError, Subscriptions
from services.digest.store import DigestStore
from services.keys import Keys
from services.metrics.catalog import MetricCatalog
from services.metrics.common import MetricDef, sources_of
from services.store import MetricStore

logger = logging.getLogger(__name__)
MAX_MUTE = timedelta(days=30)


@dataclass(frozen=True)
class RuleStatus:
    rule: AlertRule
    subscribed: bool
    state: AlertState | None


@dataclass(frozen=True)
class Standing:
    rule_id: str
    text: str  # one sentence: value, threshold, what makes it fire
    holds: bool  # the condition holds now on fresh data (a "Send it now" is offered)


@dataclass(frozen=True)
class ChatAlerts:
    """Everything /alerts shows for one destination."""

    rules: tuple[RuleStatus, ...]
    muted_for: timedelta | None
    custom_count: int
    custom_cap: int


class AlertService:
    def __init__(self, redis: Redis, keys: Keys, config: AlertsConfig, catalog: MetricCatalog,
                 digests: DigestStore, clock: Callable[[], datetime] | None = None,
                 history: MetricStore | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.history = history  # metric history, for where rules stand and their charts
        defaults = [AlertRule(d.id, d.parsed(), d.description) for d in config.defaults]
        self.catalog = catalog
        self.redis = redis
        self.keys = keys
        self.config = config
        self.subscriptions = Subscriptions(redis, keys, defaults, digests)
        self.states = AlertStateStore(redis, keys)

    def evaluator(self, store: MetricStore) -> AlertEvaluator:
        """The evaluator over these rules, reading metric history from `store`."""
        return AlertEvaluator(self.subscriptions, self.states, store, self.catalog)

    def fanout(self, sink: DeliverySink, consumer: str, batch_size: int = 500) -> FanOut:
        """Rule events -> one outbox entry per subscriber (mutes and daily cap applied)."""
        return FanOut(self.redis, self.keys, self.subscriptions, sink,
                      Admission(self.redis, self.keys, self.config.max_alerts_per_day),
                      consumer=consumer, batch_size=batch_size)

    async def find_rule(self, rule_id: str, dest: str | None = None) -> AlertRule:
        """A rule by id: among those `dest` sees, or any rule when dest is None."""
        rules = (await self.subscriptions.all_rules() if dest is None
                 else await self.subscriptions.visible_rules(dest))
        found = next((r for r in rules if r.id == rule_id.lower()), None)
        if found is None:
            raise SubscriptionError(f"no rule '{rule_id[:30]}' in this chat; see /alerts")
        return found

    async def rule_chart(self, rule_id: str, asof: date, dest: str | None = None) -> bytes:
        """The rule's own chart (its window, threshold and crossing) as a PNG."""
        if self.history is None:
            raise SubscriptionError("charts are not set up on this bot")
        rule, catalog = await self.find_rule(rule_id, dest), self.catalog
        keys = catalog.inputs(rule.rule.metrics)
        data = await self.history.load_history(keys)
        title = rule.description or rule.rule.subject

        def draw() -> bytes:
            series = rule_series(rule.rule, data, catalog, asof)
            return draw_rule_chart(rule.rule, title, series, asof, sources_of(data, keys))

        return await asyncio.to_thread(draw)

    async def observe(self, rules: list[AlertRule], asof: date | None = None
                      ) -> dict[str, Observation | None]:
        """Each rule's observation now, from the stored history (what the evaluator sees);
        with `asof`, marked `stale_since` when one of its inputs is stale on that date."""
        if self.history is None or not rules:
            return {r.id: None for r in rules}
        catalog = self.catalog
        keys = catalog.inputs(m for r in rules for m in r.rule.metrics)
        data = await self.history.load_history(keys)

        def stale_since(rule: AlertRule) -> str | None:
            if asof is None:
                return None
            since = [d for m in rule.rule.metrics
                     if (d := catalog.age(m, data, asof).stale_since) is not None]
            return min(since) if since else None

        def one(rule: AlertRule) -> Observation | None:
            try:
                series = rule_series(rule.rule, data, catalog)
                seen = observation(observe_all(rule.rule, series))
                return seen and replace(seen, stale_since=stale_since(rule))
            except Exception:  # one rule's missing data must not hide the others
                logger.exception("alert rule not observable now: rule=%s", rule.id)
                return None

        def read() -> dict[str, Observation | None]:
            return {r.id: one(r) for r in rules}

        return await asyncio.to_thread(read)

    async def standing_rows(self, dest: str, rule_ids: list[str], asof: date | None = None
                            ) -> list[Standing]:
        """Where each rule this chat sees stands now, and whether its condition holds."""
        rules = [r for r in await self.subscriptions.visible_rules(dest) if r.id in rule_ids]
        seen = await self.observe(rules, asof)
        states = await self.states.load([r.id for r in rules])  # one state per rule
        return [Standing(r.id, standing(r.rule, obs, states.get(r.id)),
                         obs is not None and obs.holds and obs.stale_since is None)
                for r in rules for obs in [seen[r.id]]]

    async def send_now(self, dest: str, rule_id: str) -> SentNow:
        """Queue the alert of a rule whose condition holds now for this chat, once."""
        if self.history is None:
            raise SubscriptionError("alerts are not set up on this bot")
        rule = await self.find_rule(rule_id, dest)
        return await send_now(self.redis, self.keys, self.history, self.catalog, rule, dest,
                              self.clock())

    def metrics(self) -> list[MetricDef]:
        return list(self.catalog.values())

    async def current_value(self, metric: str) -> float | None:
        """The metric's value now (the last stored point), None without data."""
        probe = AlertRule("probe", parse_rule(f"{metric} above 0", self.catalog))
        seen = (await self.observe([probe]))["probe"]
        return seen.level if seen is not None else None

    def guide(self) -> Guide:
        """The steps of a guided /alert add (buttons instead of the rule grammar)."""
        return Guide(self.redis, self.keys, self.metrics(), self.current_value)

    async def overview(self, dest: str) -> ChatAlerts:
        rules = await self.subscriptions.visible_rules(dest)
        subscribed = await self.subscriptions.subscribed(dest)
        states = await self.states.load([r.id for r in rules if r.id in subscribed])
        rows = tuple(RuleStatus(r, r.id in subscribed, states.get(r.id)) for r in rules)
        return ChatAlerts(rows, await self.subscriptions.muted_for(dest),
                          sum(1 for r in rules if r.owner),
                          self.config.max_custom_rules_per_chat)

    async def subscribe(self, dest: str, target: str = "all") -> list[str]:
        """Subscribe to one rule id or 'all'; RuleError/SubscriptionError name the problem."""
        ids = await self.subscriptions.resolve_ids(dest, target.lower())
        await self.subscriptions.subscribe(dest, ids)
        return ids

    async def unsubscribe(self, dest: str, target: str = "all") -> list[str]:
        ids = await self.subscriptions.resolve_ids(dest, target.lower())
        await self.subscriptions.unsubscribe(dest, ids)
        return ids

    async def add_rule(self, dest: str, text: str) -> AlertRule:
        return await self.subscriptions.add_rule(dest, parse_rule(text, self.catalog),
                                                 self.config.max_custom_rules_per_chat)

    async def remove_rule(self, dest: str, rule_id: str) -> AlertRule:
        return await self.subscriptions.remove_rule(dest, rule_id.lower())

    async def mute(self, dest: str, text: str) -> timedelta:
        try:
            span = parse_duration(text.lower(), "duration")
        except RuleError as exc:
            raise SubscriptionError(exc.problem) from None
        if not timedelta(minutes=1) <= span <= MAX_MUTE:
            raise SubscriptionError(f"mute '{text[:20]}' must be between 1m and 30d")
        await self.subscriptions.mute(dest, span, until=self.clock() + span)
        return span

    async def unmute(self, dest: str) -> bool:
        return await self.subscriptions.unmute(dest)

    async def take_muted(self, dest: str) -> list[str]:
        """The alerts that fired here while muted (one line each), forgotten once taken."""
        return await MutedLog(self.redis, self.keys).take(dest)

    async def release_ended_mutes(self, outbox_stream: str, max_length: int) -> list[str]:
        """Mutes that ran out (by this service's clock) with alerts kept: each destination
        gets the summary of what fired meanwhile, through the outbox."""
        return await MutedLog(self.redis, self.keys).release_ended(self.clock(), outbox_stream,
                                                                   max_length)

    async def move_destination(self, old: str, new: str) -> None:
        await self.subscriptions.move_destination(old, new)

    async def drop_destination(self, dest: str) -> None:
        await self.subscriptions.drop_destination(dest)

    async def park_destination(self, dest: str) -> None:
        """The notifier's on_gone: stop sending there, keep the set-up for 30 days."""
        await self.subscriptions.park_destination(dest, self.clock())

    async def restore_destination(self, dest: str) -> Parked | None:
        return await self.subscriptions.restore_destination(dest)

    async def purge_parked(self) -> list[str]:
        return await self.subscriptions.purge_parked(self.clock())
