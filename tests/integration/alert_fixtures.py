"""Shared builders for alert tests: a list outbox, services, evaluators, history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from redis.asyncio import Redis

from bot.app import App
from services.alerts.config import AlertsConfig, DefaultRule
from services.alerts.evaluator import AlertEvaluator
from services.alerts.events import AlertEvent
from services.alerts.fanout import FanOut
from services.alerts.outbox import RedisOutbox
from services.alerts.service import AlertService
from services.baskets import Baskets
from services.digest.store import DigestStore
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
                        build_catalog(Baskets(), ThesisConfig()),
                        DigestStore(redis, Keys(prefix)))


@dataclass
class EvaluateAndFanOut:
    """An evaluation pass followed by the fan-out of its rule events, as the collector and
    a worker do it: the per-destination events also land in `outbox.events`."""

    evaluator: AlertEvaluator
    fanout: FanOut
    outbox: ListOutbox

    async def evaluate(self, now: datetime) -> list[AlertEvent]:
        await self.evaluator.evaluate(now)
        events = await self.fanout.drain_once()
        self.outbox.events += events
        return events


def evaluator(service: AlertService, redis: Redis, prefix: str,
              outbox: ListOutbox) -> EvaluateAndFanOut:
    evaluate = service.evaluator(MetricStore(redis, Keys(prefix + "m:")))
    fanout = service.fanout(RedisOutbox(redis, Keys(prefix)), f"test-{uuid.uuid4().hex[:6]}")
    return EvaluateAndFanOut(evaluate, fanout, outbox)


async def save_btc(redis: Redis, prefix: str, points: dict[str, float]) -> None:
    store = MetricStore(redis, Keys(prefix + "m:"))
    await store.save_history({"BTC": series("BTC", points, "Coinbase")})


def app_evaluator(app: App, outbox: ListOutbox) -> EvaluateAndFanOut:
    """The app's own evaluator, followed by a fan-out into the app's Redis outbox."""
    if app.hub.alerts is None or app.outbox is None:
        raise RuntimeError("alerts are not wired in this app")
    evaluate = app.hub.alerts.evaluator(app.store)
    return EvaluateAndFanOut(evaluate, app.hub.alerts.fanout(app.outbox, "test"), outbox)
