"""Where series come from: the bundled snapshot (replay) or upstream APIs (live)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from services.series import MarketData


class SourceError(Exception):
    """An upstream or snapshot failure, typed so the collector can report it per source."""


class SeriesSource(Protocol):
    """A port: anything that yields canonical series known on or before `asof`."""

    name: str

    async def fetch(self, asof: date) -> MarketData: ...
