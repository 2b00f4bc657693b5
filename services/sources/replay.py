"""The bundled snapshot under data/ served as if live, at an as-of date."""

from __future__ import annotations

import asyncio
import csv
import logging
from datetime import date
from pathlib import Path

import pandas as pd

from services.catalog import FILING_LAG
from services.series import MarketData, TimeSeries
from services.sources import SourceError

logger = logging.getLogger(__name__)

# Short source tags in data/series/*.csv and the names shown to users.
SOURCE_NAMES = {
    "yahoo": "Yahoo Finance",
    "yfinance": "Yahoo Finance",
    "stooq": "Stooq",
    "fred-sp500": "FRED SP500",
    "coinbase": "Coinbase",
    "bybit-perp": "Bybit perp",
    "kraken": "Kraken",
    "ohlc-agg": "OHLC aggregator",
    "binance-spot": "Binance spot",
    "defillama": "DefiLlama",
    "defillama-fees": "DefiLlama fees",
    "fred-dtb3": "FRED DTB3",
    "dune-aave": "Aave v3 (Dune)",
    "coingecko": "CoinGecko",
    "coingecko-category": "CoinGecko categories",
}
# Series that decide the default as-of date: the latest day they all cover.
CORE_KEYS = ("NVDA", "AMD", "MU", "DELL", "SMH", "SOXX", "000660.KS", "SPX", "BTC", "ETH",
             "stablecoins.total")


def source_name(tag: str) -> str:
    if tag.startswith("sec-xbrl"):
        return "SEC EDGAR XBRL"
    return SOURCE_NAMES.get(tag, tag)


class SnapshotData:
    """All series of data/series/, loaded once, with each row's source tag."""

    def __init__(self, series_dir: Path) -> None:
        if not series_dir.is_dir():
            raise SourceError(f"snapshot folder {series_dir} not found")
        self.values: dict[str, pd.Series] = {}
        # Per series: each source name with the date it first appears, in that order, so a
        # cut names its sources without a pass over its rows (upto runs once per as-of date).
        self.first_seen: dict[str, list[tuple[pd.Timestamp, str]]] = {}
        for path in sorted(series_dir.glob("*.csv")):
            self._load(path)
        if not self.values:
            raise SourceError(f"no series in {series_dir}")

    def _load(self, path: Path) -> None:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if not rows or set(rows[0]) != {"date", "close", "source"}:
            raise SourceError(f"{path.name}: expected columns date,close,source")
        index = pd.DatetimeIndex([r["date"] for r in rows])
        key = path.stem
        self.values[key] = pd.Series([float(r["close"]) for r in rows], index=index, name=key)
        first: dict[str, pd.Timestamp] = {}
        for day, row in zip(index, rows, strict=True):
            first.setdefault(source_name(row["source"]), day)
        self.first_seen[key] = sorted(((day, name) for name, day in first.items()),
                                      key=lambda item: item[0])

    def default_asof(self) -> date:
        missing = [k for k in CORE_KEYS if k not in self.values]
        if missing:
            raise SourceError(f"snapshot lacks core series {', '.join(missing)}")
        return min(_last_day(self.values[k]) for k in CORE_KEYS)

    def first_date(self) -> date:
        return min(_first_day(self.values[k]) for k in CORE_KEYS if k in self.values)

    def last_date(self) -> date:
        return max(_last_day(v) for v in self.values.values())

    def upto(self, asof: date) -> MarketData:
        out: MarketData = {}
        for key, values in self.values.items():
            cutoff = pd.Timestamp(asof - FILING_LAG if key.startswith("capex.") else asof)
            cut = values.loc[:cutoff]
            if cut.empty:
                continue
            names = [name for day, name in self.first_seen[key] if day <= cutoff]
            out[key] = TimeSeries(key, cut.astype("float64"), ", ".join(names))
        return out


def _first_day(values: pd.Series) -> date:
    return pd.Timestamp(values.index[0]).date()


def _last_day(values: pd.Series) -> date:
    return pd.Timestamp(values.index[-1]).date()


class ReplaySource:
    """SeriesSource over the bundled snapshot; nothing after `asof` leaks out."""

    name = "snapshot"

    def __init__(self, data_dir: Path) -> None:
        self.series_dir = data_dir / "series"
        self._data: SnapshotData | None = None

    async def load(self) -> SnapshotData:
        if self._data is None:
            self._data = await asyncio.to_thread(SnapshotData, self.series_dir)
            logger.info("snapshot loaded: %d series from %s", len(self._data.values),
                        self.series_dir)
        return self._data

    async def fetch(self, asof: date) -> MarketData:
        data = await self.load()
        return data.upto(asof)
