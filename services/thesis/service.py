"""The scorecard from stored history: the same series the metric commands and alerts read."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from redis.exceptions import RedisError

from services.errors import Unavailable
from services.metrics.catalog import MetricCatalog
from services.metrics.common import sources_of
from services.series import MarketData
from services.thesis.config import Claim, ThesisConfig
from services.thesis.scorecard import ClaimResult, inputs, score


class HistoryReader(Protocol):
    async def load_history(self, keys: list[str]) -> MarketData: ...


@dataclass(frozen=True)
class Scorecard:
    asof: str
    claims: tuple[ClaimResult, ...]
    sources: tuple[str, ...]


class ThesisService:
    def __init__(self, store: HistoryReader, catalog: MetricCatalog, config: ThesisConfig,
                 ) -> None:
        self.store = store
        self.catalog = catalog
        self.config = config

    def claims(self) -> list[Claim]:
        return self.config.enabled()

    async def scorecard(self, asof: date, claims: list[Claim] | None = None) -> Scorecard:
        """Every (or the given) enabled claim scored at `asof` over the stored history."""
        chosen = self.claims() if claims is None else claims
        keys = inputs(chosen, self.catalog)
        try:
            data = await self.store.load_history(keys)
        except RedisError as exc:
            raise Unavailable("data store temporarily unavailable; try again shortly") from exc
        results = await asyncio.to_thread(score, chosen, data, self.catalog, asof)
        return Scorecard(asof.isoformat(), results, sources_of(data, keys))
