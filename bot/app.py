"""The composition root: builds every client and service once and hands them out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

import aiohttp
from redis.asyncio import Redis
from redis.exceptions import RedisError

from handlers.catalog import build_registry
from handlers.registry import Chat, CommandContext, Registry
from services.alerts.evaluator import AlertEvaluator
from services.alerts.health import DeliveryMonitor
from services.alerts.outbox import RedisOutbox
from services.alerts.service import AlertService
from services.charts.service import ChartService
from services.collector import CollectionResult, Collector
from services.digest.store import Clock, DigestStore, wall_clock
from services.engine import build_catalog
from services.hub import ServiceHub
from services.keys import Keys
from services.readings import ReadingsService
from services.redis_client import RedisUrlError, connect_redis
from services.settings import ConfigError, Secrets, Settings
from services.sources import SeriesSource
from services.sources.browser import browser_session
from services.sources.chain import Chain
from services.sources.live import build_live_chains
from services.sources.replay import ReplaySource
from services.store import MetricStore
from services.thesis.service import ThesisService

logger = logging.getLogger(__name__)
# A replay keeps its own copy of the metrics per as-of date; each collection (every
# `collector.interval_seconds`, at most a day) renews it, and a date no longer run expires.
REPLAY_KEEP_S = 7 * 86_400


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
    outbox: RedisOutbox  # alert events awaiting delivery
    evaluator: AlertEvaluator  # the alert rules over this app's metrics (built once)
    session: aiohttp.ClientSession | None = None
    browser: Any = None  # curl_cffi session for browser-impersonated providers (Yahoo)
    collections: int = 0  # collections this app completed (the loop's record)
    evaluations: int = 0  # alert evaluation passes it completed
    collections_skipped: int = 0  # loop passes whose collection a store outage skipped
    evaluations_skipped: int = 0  # loop passes whose evaluation a store outage skipped

    def context(self, chat: Chat) -> CommandContext:
        return CommandContext(hub=self.hub, chat=chat, registry=self.registry)

    async def refresh(self, deadline: float | None = None,
                      force: bool = False) -> CollectionResult:
        """One collection; `deadline` (seconds) bounds the wait for upstreams, after which
        commands answer from stored or bundled data, marked stale. Live chains whose
        cadence is not due are skipped unless `force`."""
        result = await self.collector.collect(self.hub.asof, deadline=deadline, force=force)
        self.collections += 1
        return result

    async def aclose(self) -> None:
        if self.browser is not None:
            await self.browser.close()
        if self.session is not None:
            await self.session.close()
        await self.redis.aclose()


async def build_app(settings: Settings, secrets: Secrets, asof: date | None = None,
                    redis: Redis | None = None, replay: bool | None = None,
                    digest_clock: Clock = wall_clock) -> App:
    """Build the app: replay of the bundled snapshot at `asof` (default: latest common
    date) when asked for, when an as-of date is given, or when config says mode: replay;
    otherwise live upstream sources."""
    if replay is None:
        replay = asof is not None or settings.mode == "replay"
    session = browser = seed = None
    if replay:
        source = ReplaySource(settings.data_dir())
        asof = await _replay_asof(source, asof)
        sources: list[SeriesSource] | list[Chain] = [cast(SeriesSource, source)]
        # Replay keys live under their own prefix so they never mix with live metrics.
        keys = Keys(f"{settings.store.prefix}replay:{asof.isoformat()}:")
    else:
        keys = Keys(settings.store.prefix)
    try:
        redis = redis or connect_redis(secrets.redis_url)
    except RedisUrlError as exc:
        raise ConfigError(str(exc)) from None
    if not replay:
        session, browser = aiohttp.ClientSession(), browser_session()
        try:  # budgets count calls in Redis, shared by every process of the deployment
            sources = build_live_chains(session, settings.sources, secrets.provider_keys(),
                                        redis, keys, browser)
        except ValueError as exc:
            await session.close()
            await browser.close()
            raise ConfigError(f"config: {exc}") from None
        if settings.sources.backfill_from_snapshot:
            seed = ReplaySource(settings.data_dir()).fetch
    store = MetricStore(redis, keys, REPLAY_KEEP_S if replay else None)
    collector = Collector(sources, store, settings.baskets, today=_today, seed=seed)
    mode = "replay" if replay else "live"
    catalog = build_catalog(settings.baskets, settings.thesis)  # every metric, built once
    charts = ChartService(store, redis, keys, settings.baskets)
    # Alert rules, subscriptions and state persist across replays: the plain prefix.
    alert_keys = Keys(settings.store.prefix)
    digests = DigestStore(redis, alert_keys, digest_clock)
    alerts = AlertService(redis, alert_keys, settings.alerts, catalog, digests, history=store)
    outbox = RedisOutbox(redis, alert_keys)
    try:  # subscriptions of a store from before the sharded layout: moved once
        await alerts.subscriptions.migrate_layout()
    except RedisError as exc:  # Redis down at start: the next start moves them
        logger.warning("alert key layout not checked: store unavailable (%s)", exc)
    hub = ServiceHub(ReadingsService(store, settings.baskets), settings, mode, asof, charts,
                     alerts=alerts, delivery=DeliveryMonitor(outbox), digest=digests,
                     thesis=ThesisService(store, catalog, settings.thesis))
    logger.info("app built: mode=%s asof=%s sources=%s store=%s", mode, asof or "today",
                ",".join(s.name for s in sources), "redis" if secrets.redis_url else "embedded")
    return App(settings, redis, store, collector, hub, build_registry(), outbox,
               alerts.evaluator(store), session, browser)


async def _replay_asof(source: ReplaySource, asof: date | None) -> date:
    snapshot = await source.load()
    first, last = snapshot.first_date(), snapshot.last_date()
    if asof is None:
        return snapshot.default_asof()
    if not first <= asof <= last:
        raise AsofError(f"as-of {asof} is outside the snapshot ({first} to {last})")
    return asof


def _today() -> date:
    return datetime.now(UTC).date()
