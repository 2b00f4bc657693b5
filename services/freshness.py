"""Each stored series' last data date and age at the as-of date, against its staleness limit
(services.catalog.STALE_LIMITS): what /status lists and what replies name when series end
before the as-of date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.catalog import known_after, series_kind, stale_after
from services.series import MarketData


@dataclass(frozen=True)
class SeriesAge:
    key: str
    kind: str
    last: str | None  # latest point on or before the as-of date
    age_days: int | None
    limit_days: int
    source: str

    @property
    def stale(self) -> bool:
        return self.age_days is None or self.age_days > self.limit_days


def series_ages(data: MarketData, keys: list[str], asof: date) -> list[SeriesAge]:
    out = []
    for key in keys:
        ts = data.get(key)
        known = ts.upto(asof - known_after(key)) if ts is not None else None
        last = known.last_date if known is not None else None
        out.append(SeriesAge(key, series_kind(key), last.isoformat() if last else None,
                             (asof - last).days if last else None, stale_after(key),
                             ts.source if ts is not None else "no data"))
    return out


def ended_note(ages: list[SeriesAge], keys: tuple[str, ...] | None = None) -> str:
    """'Series that end before the as-of date: NVDA 2026-05-29, ...' (empty when none)."""
    ended = [a for a in ages if a.stale and a.last and (keys is None or a.key in keys)]
    if not ended:
        return ""
    by_day: dict[str, list[str]] = {}
    for age in ended:
        by_day.setdefault(age.last or "", []).append(age.key)
    parts = [f"{', '.join(k)} end {day}" for day, k in sorted(by_day.items())]
    return "Series that end before the as-of date (stale, never filled in): " + "; ".join(
        parts) + "."
