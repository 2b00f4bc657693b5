"""Replay a rule over the bundled snapshot, day by day, through the live transition function."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pandas as pd

from services.alerts.conditions import observation, observe_all, rule_series
from services.alerts.messages import shown, unit_of
from services.alerts.rules import Rule
from services.alerts.state import AlertState, Transition, step
from services.metrics.catalog import MetricCatalog
from services.series import MarketData
from services.settings import Settings
from services.sources.replay import ReplaySource

Progress = Callable[[int, int], None]


class BacktestError(ValueError):
    """The requested range cannot be replayed (no data, dates the wrong way round)."""


@dataclass(frozen=True)
class BacktestResult:
    rule: Rule
    transitions: tuple[Transition, ...]
    start: date
    end: date

    @property
    def firings(self) -> int:
        return sum(1 for t in self.transitions if t.kind == "firing")

    @property
    def resolves(self) -> int:
        return sum(1 for t in self.transitions if t.kind == "resolved")

    def lines(self) -> list[str]:
        unit = unit_of(self.rule)
        return [f"{t.point.isoformat()} {t.kind} {self.rule.subject} {shown(t.value, unit)}"
                f" ({self.rule.condition_text})" for t in self.transitions]

    def summary(self) -> str:
        return (f"{_count(self.firings, 'firing')}, {_count(self.resolves, 'resolve')} "
                f"from {self.start.isoformat()} to {self.end.isoformat()}")


def replay(rule: Rule, series: pd.Series, start: date | None = None, end: date | None = None,
           progress: Progress | None = None) -> BacktestResult:
    """Step through every data point in [start, end]; earlier points only warm the state."""
    frame = observe_all(rule, series.loc[: pd.Timestamp(end)] if end else series)
    if frame.empty:
        raise BacktestError(f"no data for {rule.subject} in that range")
    first, last = frame.index[0].date(), frame.index[-1].date()
    start = max(start or first, first)
    end = min(end or last, last)
    if start > end:
        raise BacktestError(f"no data for {rule.subject} from {start} to {end}")
    state: AlertState | None = None
    found: list[Transition] = []
    rows = [i for i, ts in enumerate(frame.index) if start <= ts.date() <= end]
    for done, row in enumerate(rows, 1):
        obs = observation(frame, row)
        assert obs is not None  # noqa: S101 - the frame is not empty
        now = datetime.combine(obs.point, time(), tzinfo=UTC)
        state, event = step(rule, state, obs, now)
        if event is not None and (event.kind == "firing" or rule.resolved):
            found.append(event)
        if progress is not None:
            progress(done, len(rows))
    return BacktestResult(rule, tuple(found), start, end)


async def run_backtest(settings: Settings, catalog: MetricCatalog, rule: Rule,
                       start: date | None, end: date | None,
                       progress: Progress | None = None) -> BacktestResult:
    """Backtest on the snapshot under settings' data dir; `end` defaults to its as-of date."""
    if start and end and start > end:
        raise BacktestError(f"--from {start} is after --to {end}")
    snapshot = await ReplaySource(settings.data_dir()).load()
    end = end or snapshot.default_asof()
    data: MarketData = snapshot.upto(end)
    series = await asyncio.to_thread(rule_series, rule, data, catalog, end)
    return await asyncio.to_thread(replay, rule, series, start, end, progress)


def terminal_progress(done: int, total: int) -> None:
    """A one-line progress indicator on stderr (only used when stdout is a terminal)."""
    if done == total or done % 25 == 0:
        end = "\n" if done == total else ""
        print(f"\rbacktest {done}/{total} days", end=end, file=sys.stderr, flush=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")

