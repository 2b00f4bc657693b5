"""The composition root: builds every client and service once and hands them out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from redis.asyncio import Redis

from handlers.catalog import build_registry
from handlers.registry import Chat, CommandContext, Registry
from services.collector import CollectionResult, Collector
from services.hub import ServiceHub
from services.keys import Keys
from services.readings import ReadingsService
from services.redis_client import connect_redis
from services.settings import Secrets, Settings
from services.sources.replay import ReplaySource
from services.store import MetricStore

logger = logging.getLogger(__name__)


class AsofError(ValueError):
    """The requested as-of date is outside the snapshot."""


@dataclass
class App:
    settings: Settings
    redis: Redis
    store: MetricStore
    collector: Collector
    hub: ServiceHub
    registry: Registry

    def context(self, chat: Chat) -> CommandContext:
        return CommandContext(hub=self.hub, chat=chat, registry=self.registry)

    async def refresh(self) -> CollectionResult:
        return await self.collector.collect(self.hub.asof)

    async def aclose(self) -> None:
        await self.redis.aclose()


async def build_app(settings: Settings, secrets: Secrets, asof: date | None = None,
                    redis: Redis | None = None) -> App:
    """Build the app on the replay snapshot at `asof` (default: latest common date)."""
    source = ReplaySource(settings.data_dir())
    snapshot = await source.load()
    first, last = snapshot.first_date(), snapshot.last_date()
    if asof is None:
        asof = snapshot.default_asof()
    elif not first <= asof <= last:
        raise AsofError(f"as-of {asof} is outside the snapshot ({first} to {last})")
    redis = redis or connect_redis(secrets.redis_url)
    # Replay keys live under their own prefix so they never mix with live metrics.
    store = MetricStore(redis, Keys(f"{settings.store.prefix}replay:{asof.isoformat()}:"))
    collector = Collector([source], store, settings.baskets, today=_today)
    hub = ServiceHub(ReadingsService(store, settings.baskets), settings, "replay", asof)
    logger.info("app built: mode=replay asof=%s store=%s", asof,
                "redis" if secrets.redis_url else "embedded")
    return App(settings, redis, store, collector, hub, build_registry())


def _today() -> date:
    return datetime.now(UTC).date()
