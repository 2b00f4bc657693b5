"""Ordered provider chains: each series from the first provider that has it, the rest as
fallbacks, and a cross-check against the next provider where two overlap.

A provider answers for a set of series keys from a start date. A chain asks its providers
in order for whatever is still missing, so a refusing Yahoo hands its symbols to Stooq and
FRED, and a token Coinbase does not list goes on to Kraken. Every provider's outcome is
kept so /status can say who served what and who failed.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

import pandas as pd

from services.series import MarketData
from services.sources import SourceError

logger = logging.getLogger(__name__)

OVERLAP_DAYS = 3  # re-fetch a few stored days: late prints and today's moving close
CHECK_DAYS = 10  # the window a cross-check compares
ADJ = "_adj"


class Provider(Protocol):
    name: str

    def covers(self) -> Collection[str]: ...

    async def fetch(self, asof: date, keys: Collection[str], start: date) -> MarketData: ...


@dataclass(frozen=True)
class ProviderOutcome:
    provider: str
    ok: bool
    served: tuple[str, ...] = ()
    error: str = ""
    check: str = ""  # the cross-check result, when one ran
    disagrees: bool = False


@dataclass
class ChainResult:
    data: MarketData = field(default_factory=dict)
    outcomes: list[ProviderOutcome] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)
    moved_back: dict[str, str] = field(default_factory=dict)  # key -> "data end moved back"

    @property
    def errors(self) -> str:
        return "; ".join([*(f"{o.provider}: {o.error}" for o in self.outcomes if not o.ok),
                          *(why for k, why in self.moved_back.items() if k in self.missing)])


@dataclass
class Chain:
    """One family of series with its providers in order of preference."""

    name: str
    providers: list[Provider]
    cadence: timedelta
    history_days: int = 1200
    tolerance: float = 0.03  # relative disagreement a cross-check flags
    check_every: timedelta = timedelta(days=1)
    _checked_at: datetime | None = None

    def series_keys(self) -> set[str]:
        return {k for p in self.providers for k in p.covers()}

    def due(self, now: datetime, last_attempt: datetime | None) -> bool:
        return last_attempt is None or now - last_attempt >= self.cadence

    def start_for(self, keys: Collection[str], since: Mapping[str, date], asof: date) -> date:
        """Top up from the oldest last-stored day among `keys`; a key never stored gets the
        whole history window."""
        full = asof - timedelta(days=self.history_days)
        starts = [since[k] - timedelta(days=OVERLAP_DAYS) if k in since else full for k in keys]
        return max(full, min(starts, default=full))

    async def fetch(self, asof: date, since: Mapping[str, date],
                    now: datetime | None = None) -> ChainResult:
        result = ChainResult()
        remaining = self.series_keys()
        for provider in self.providers:
            want = remaining & set(provider.covers())
            if not want:
                continue
            part, errors = await self._ask(provider, want, since, asof)
            if errors and not part:
                reason = errors[0][:300]
                logger.warning("provider failed: chain=%s provider=%s error=%s", self.name,
                               provider.name, reason)
                result.outcomes.append(ProviderOutcome(provider.name, False, error=reason))
                continue
            got = sorted(k for k, ts in part.items() if k in want and not ts.values.empty)
            behind = moved_back(part, got, since)
            got = [k for k in got if k not in behind]
            # a provider may add a total-return twin (NVDA_adj) to a key it serves
            extras = [f"{k}{ADJ}" for k in got if f"{k}{ADJ}" in part]
            result.data.update({k: part[k] for k in (*got, *extras)})
            remaining -= set(got)
            unserved = sorted(want - set(got) - set(behind))
            note = "; ".join([*([f"no data for {', '.join(unserved)}"] if unserved else []),
                              *behind.values()])
            if behind and not got:  # nothing usable: a failure, the next provider is asked
                logger.warning("provider failed: chain=%s provider=%s error=%s", self.name,
                               provider.name, note)
                result.outcomes.append(ProviderOutcome(provider.name, False, error=note[:300]))
                continue
            result.moved_back.update(behind)  # said in the chain's error if no one serves them
            result.outcomes.append(ProviderOutcome(provider.name, True, tuple(got), note))
        result.missing = remaining
        if now is not None and self._check_due(now):
            await self._cross_check(asof, result)
            self._checked_at = now
        return result

    async def _ask(self, provider: Provider, want: set[str], since: Mapping[str, date],
                   asof: date) -> tuple[MarketData, list[str]]:
        """Keys grouped by the day they top up from, one fetch per group: a series that
        stopped updating (a delisted token) never drags the others back to its last day."""
        groups: dict[date, list[str]] = {}
        for key in sorted(want):
            groups.setdefault(self.start_for([key], since, asof), []).append(key)
        data: MarketData = {}
        errors: list[str] = []
        for start, keys in sorted(groups.items(), reverse=True):
            try:
                data.update(await provider.fetch(asof, keys, start))
            except SourceError as exc:
                errors.append(f"{exc.__class__.__name__}: {exc}")
        return data, errors

    def _check_due(self, now: datetime) -> bool:
        return self._checked_at is None or now - self._checked_at >= self.check_every

    async def _cross_check(self, asof: date, result: ChainResult) -> None:
        """Ask the first unused provider that also covers a served key for the last days,
        and compare the dates both have. A disagreement is flagged, never silently mixed."""
        served = {k: o.provider for o in result.outcomes if o.ok for k in o.served}
        refused = {o.provider for o in result.outcomes if not o.ok}
        for index, outcome in enumerate(result.outcomes):
            if not outcome.ok or not outcome.served:
                continue
            other = self._checker(outcome.provider, set(outcome.served), served)
            if other is None or other.name in refused:
                continue
            keys = sorted(set(outcome.served) & set(other.covers()))
            try:
                theirs = await other.fetch(asof, keys, asof - timedelta(days=CHECK_DAYS))
            except SourceError as exc:
                text = f"cross-check vs {other.name} failed: {exc.__class__.__name__}"
                result.outcomes[index] = _with_check(outcome, text, False)
                continue
            text, bad = compare(result.data, theirs, keys, other.name, self.tolerance)
            if bad:
                logger.warning("cross-check disagreement: chain=%s provider=%s %s",
                               self.name, outcome.provider, text)
            result.outcomes[index] = _with_check(outcome, text, bad)

    def _checker(self, name: str, keys: set[str], served: Mapping[str, str]) -> Provider | None:
        """The next provider in order that covers these keys (and did not fail to), else the
        nearest one before it."""
        names = [p.name for p in self.providers]
        at = names.index(name)
        for provider in [*self.providers[at + 1:], *reversed(self.providers[:at])]:
            if keys & set(provider.covers()):
                return provider
        return None


def moved_back(part: MarketData, keys: Collection[str], since: Mapping[str, date]
               ) -> dict[str, str]:
    """Keys whose answer ends before the day already stored: a truncated answer (a CSV cut
    short), not news. Such a key is not taken from this provider; its stored history stays."""
    return {k: f"{k}: data end moved back from {since[k]} to {last} (truncated answer?)"
            for k in keys if k in since and (last := part[k].last_date) is not None
            and last < since[k]}


def _with_check(outcome: ProviderOutcome, text: str, bad: bool) -> ProviderOutcome:
    return ProviderOutcome(outcome.provider, outcome.ok, outcome.served, outcome.error, text,
                           bad)


def compare(ours: MarketData, theirs: MarketData, keys: Collection[str], other: str,
            tolerance: float) -> tuple[str, bool]:
    """'vs kraken: max 0.4% (BTC) over 9 days' and whether any key is beyond `tolerance`."""
    worst_key, worst, days = "", 0.0, 0
    for key in keys:
        if key not in ours or key not in theirs:
            continue
        both = pd.concat([ours[key].values, theirs[key].values], axis=1, join="inner").dropna()
        # today's candle is still moving on every exchange: compare settled days only
        both = both.iloc[:-1] if len(both) > 1 else both
        if both.empty:
            continue
        gap = float(((both.iloc[:, 0] - both.iloc[:, 1]).abs() / both.iloc[:, 1].abs()).max())
        days = max(days, len(both))
        if gap >= worst:
            worst_key, worst = key, gap
    if not days:
        return f"vs {other}: no common days", False
    bad = worst > tolerance
    verdict = "DISAGREES" if bad else "agrees"
    return (f"{verdict} vs {other}: max {worst:.1%} ({worst_key}) over {days} days"
            f"{f' > {tolerance:.0%}' if bad else ''}"), bad
