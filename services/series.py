"""The canonical frame every source produces and every metric consumes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd


@dataclass(frozen=True)
class TimeSeries:
    """One named daily (or quarterly) series with the source it came from.

    `values` is a float Series on a tz-naive DatetimeIndex of UTC calendar dates,
    sorted ascending with no duplicates and no NaN.
    """

    key: str
    values: pd.Series
    source: str

    @classmethod
    def from_pairs(cls, key: str, pairs: list[tuple[date, float]], source: str) -> TimeSeries:
        index = pd.DatetimeIndex([pd.Timestamp(d) for d, _ in pairs])
        values = pd.Series([float(v) for _, v in pairs], index=index, dtype="float64")
        return cls.build(key, values, source)

    @classmethod
    def build(cls, key: str, values: pd.Series, source: str) -> TimeSeries:
        """Normalize any date-indexed series into the canonical shape."""
        index = pd.DatetimeIndex(pd.to_datetime(values.index))
        if index.tz is not None:
            index = index.tz_convert("UTC").tz_localize(None)
        clean = pd.Series(pd.to_numeric(values.to_numpy(), errors="coerce"),
                          index=index.normalize())
        clean = clean.dropna()
        clean = clean[~clean.index.duplicated(keep="last")].sort_index().astype("float64")
        clean.name = key
        return cls(key=key, values=clean, source=source)

    def upto(self, asof: date) -> TimeSeries:
        """The part known on or before `asof` (nothing later may leak)."""
        cut = self.values.loc[: pd.Timestamp(asof)]
        return TimeSeries(self.key, cut, self.source)

    @property
    def first_date(self) -> date | None:
        return None if self.values.empty else self.values.index[0].date()

    @property
    def last_date(self) -> date | None:
        return None if self.values.empty else self.values.index[-1].date()


def merge_series(old: TimeSeries | None, new: TimeSeries) -> TimeSeries:
    """Stored history extended by a fresh fetch; the fresh value wins on a shared date.

    Upstreams often return only a recent window (CoinGecko: 365 days without a paid key),
    so a fetch must never shorten the history that returns since 2024 are measured on.
    """
    if old is None or old.values.empty:
        return new
    values = pd.concat([old.values, new.values])
    values = values[~values.index.duplicated(keep="last")].sort_index()
    sources = dict.fromkeys([*old.source.split(", "), *new.source.split(", ")])
    return TimeSeries(new.key, values.rename(new.key), ", ".join(sources))


MarketData = dict[str, TimeSeries]
"""Series by key, e.g. "NVDA", "BTC", "stablecoins.total", "rates.tbill_3m"."""
