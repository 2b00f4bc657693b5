"""Shared builders for alert tests: a list outbox, services, evaluators, history."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis

from services.alerts.config import AlertsConfig, DefaultRule
from services.alerts.evaluator import AlertEvaluator
from services.alerts.events import AlertEvent
from services.alerts.service import AlertService
from services.baskets import Baskets
from services.engine import build_catalog
from services.keys import Keys
from services.store import MetricStore
from services.thesis.config import ThesisConfig
from tests.helpers import series


@dataclass
class ListOutbox:
    """The outbox port as a list (the Redis Stream outbox satisfies the same protocol)."""

    events: list[AlertEvent] = field(default_factory=list)

    async def append(self, event: AlertEvent) -> None:
        self.events.append(event)


def alerts_service(redis: Redis, prefix: str, *rules: tuple[str, str],
                   max_per_day: int = 50, max_custom: int = 20) -> AlertService:
    config = AlertsConfig(defaults=[DefaultRule(id=i, rule=r) for i, r in rules],
                          max_alerts_per_day=max_per_day, max_custom_rules_per_chat=max_custom)
    return AlertService(redis, Keys(prefix), config,
                        build_catalog(Baskets(), ThesisConfig()))


def evaluator(service: AlertService, redis: Redis, prefix: str,
              outbox: ListOutbox) -> AlertEvaluator:
    return service.evaluator(MetricStore(redis, Keys(prefix + "m:")), outbox)


async def save_btc(redis: Redis, prefix: str, points: dict[str, float]) -> None:
    store = MetricStore(redis, Keys(prefix + "m:"))
    await store.save_history({"BTC": series("BTC", points, "Coinbase")})
