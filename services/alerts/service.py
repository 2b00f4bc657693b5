"""What chat commands call for alerts: rules with their state, subscriptions, mutes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from services.alerts.config import AlertsConfig
from services.alerts.dormant import Parked
from services.alerts.evaluator import AlertEvaluator, Outbox
from services.alerts.rules import RuleError, parse_duration, parse_rule
from services.alerts.state import AlertState
from services.alerts.state_store import AlertStateStore
from services.alerts.subscriptions import AlertRule, SubscriptionError, Subscriptions
from services.keys import Keys
from services.metrics.catalog import MetricCatalog
from services.metrics.common import MetricDef
from services.store import MetricStore

MAX_MUTE = timedelta(days=30)


@dataclass(frozen=True)
class RuleStatus:
    rule: AlertRule
    subscribed: bool
    state: AlertState | None


@dataclass(frozen=True)
class ChatAlerts:
    """Everything /alerts shows for one destination."""

    rules: tuple[RuleStatus, ...]
    muted_for: timedelta | None
    custom_count: int
    custom_cap: int


class AlertService:
    def __init__(self, redis: Redis, keys: Keys, config: AlertsConfig, catalog: MetricCatalog,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        defaults = [AlertRule(d.id, d.parsed(), d.description) for d in config.defaults]
        self.catalog = catalog
        self.redis = redis
        self.keys = keys
        self.config = config
        self.subscriptions = Subscriptions(redis, keys, defaults)
        self.states = AlertStateStore(redis, keys)

    def evaluator(self, store: MetricStore, outbox: Outbox) -> AlertEvaluator:
        """The evaluator over these rules, reading metric history from `store`."""
        return AlertEvaluator(self.redis, self.keys, self.subscriptions, store, self.catalog,
                              outbox, self.config.max_alerts_per_day)

    def metrics(self) -> list[MetricDef]:
        return list(self.catalog.values())

    async def overview(self, dest: str) -> ChatAlerts:
        rules = await self.subscriptions.visible_rules(dest)
        subscribed = await self.subscriptions.subscribed(dest)
        states = await self.states.load([r.id for r in rules], dest)
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
        await self.subscriptions.mute(dest, span)
        return span

    async def unmute(self, dest: str) -> bool:
        return await self.subscriptions.unmute(dest)

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
