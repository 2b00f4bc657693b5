"""A sweep over as-of dates across the whole snapshot, weekends and holidays included: what
/thesis shows for each number equals what the other commands show, to 0.1 pp, and the
divergence spread equals a recomputation from the csv files with no project code."""

from __future__ import annotations

import csv
from bisect import bisect_left, bisect_right
from datetime import date, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from services.baskets import Baskets
from services.engine import build_catalog
from services.metrics.aitokens import compute_aitokens
from services.metrics.btc import compute_btc
from services.metrics.catalog import MetricCatalog
from services.metrics.divergence import compute_divergence
from services.metrics.stablecoins import compute_stablecoins
from services.metrics.yields import compute_yields
from services.series import MarketData
from services.sources.replay import SnapshotData
from services.thesis.config import ThesisConfig
from services.windows import SINCE_2024, YTD

DATA = Path(__file__).resolve().parents[2] / "data" / "series"
TOLERANCE = 0.1  # pp (bp for the yields spread)
# US and KRX holidays, month and year ends, weekends: where calendars disagree.
SPECIAL = ["2023-07-04", "2023-12-25", "2023-12-31", "2024-01-01", "2024-03-29", "2024-03-30",
           "2024-03-31", "2024-07-04", "2024-11-28", "2024-12-25", "2025-01-01", "2025-04-18",
           "2025-04-20", "2025-07-04", "2025-11-27", "2025-12-25", "2026-01-01", "2026-04-03",
           "2026-05-25", "2026-05-29", "2026-05-30", "2026-05-31", "2026-07-04", "2026-09-28"]


def sweep_dates() -> list[date]:
    every = pd.date_range("2023-06-05", "2026-09-28", freq="11D")  # cycles through weekdays
    days = {d.date() for d in every} | {date.fromisoformat(s) for s in SPECIAL}
    return sorted(days)


@cache
def snapshot() -> SnapshotData:
    return SnapshotData(DATA)


@cache
def catalog() -> MetricCatalog:
    return build_catalog(Baskets(), ThesisConfig())


@cache
def rows(key: str) -> tuple[list[date], list[float]]:
    with (DATA / f"{key}.csv").open(encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    return [date.fromisoformat(r["date"]) for r in got], [float(r["close"]) for r in got]


def hand_since_2024(key: str, asof: date) -> float | None:
    dates, closes = rows(key)
    end, base = bisect_right(dates, asof) - 1, bisect_left(dates, date(2024, 1, 1)) - 1
    if end < 0 or base < 0 or dates[base] >= dates[end]:
        return None
    return (closes[end] / closes[base] - 1) * 100


def thesis_value(metric_id: str, data: MarketData, asof: date) -> float | None:
    """What /thesis shows for a metric at `asof` (services.thesis.scorecard._number)."""
    series = catalog().series(metric_id, data, asof)
    at = pd.Timestamp(asof)
    return float(series.loc[at]) if at in series.index else None


def command_values(data: MarketData, asof: date) -> dict[str, float | None]:
    """The same numbers as /divergence, /btc, /stablecoins, /yields and /aitokens give."""
    b = Baskets()
    since = compute_divergence(data, asof, SINCE_2024, b.ai, b.crypto, b.benchmark)
    ytd = compute_divergence(data, asof, YTD, b.ai, b.crypto, b.benchmark)
    btc = compute_btc(data, asof, b.benchmark)
    st = compute_stablecoins(data, asof)
    yl = compute_yields(data, asof)
    ai = compute_aitokens(data, asof, YTD, b.aitokens, b.min_coverage)
    return {
        "divergence.spread.since": since.spread_pp, "ai_basket.since": since.ai_basket_pct,
        "crypto_basket.since": since.crypto_basket_pct, "divergence.spread.ytd": ytd.spread_pp,
        "btc.ytd": btc.btc.ytd_pct, "spx.ytd": btc.spx_ytd_pct,
        "btc.drawdown": btc.btc.drawdown_pct, "stablecoins.drawdown": st.total.from_ath_pct,
        "stablecoins.supply": st.total.latest.value / 1e9 if st.total.latest else None,
        "yields.spread": yl.spread_bp, "aitokens.median_drawdown": ai.median_drawdown_pct,
        "aitokens.below_half": None if ai.below_half is None else float(ai.below_half),
        "aitokens.drawdown": ai.index_drawdown_pct,
    }


@pytest.mark.parametrize("asof", sweep_dates(), ids=str)
def test_thesis_numbers_equal_the_commands(asof: date) -> None:
    data = snapshot().upto(asof)
    for metric_id, want in command_values(data, asof).items():
        got = thesis_value(metric_id, data, asof)
        if want is None:
            assert got is None, (metric_id, got)
        else:
            assert got is not None, metric_id
            assert abs(got - want) <= TOLERANCE, (metric_id, got, want)


@pytest.mark.parametrize("asof", sweep_dates()[::3], ids=str)
def test_the_spread_equals_a_recomputation_from_the_csvs(asof: date) -> None:
    b = Baskets()
    ai = [hand_since_2024(k, asof) for k in b.ai]
    crypto = [hand_since_2024(k, asof) for k in b.crypto]
    got = thesis_value("divergence.spread.since", snapshot().upto(asof), asof)
    if None in ai or None in crypto:
        assert got is None
        return
    want = sum(ai) / len(ai) - sum(crypto) / len(crypto)  # type: ignore[arg-type]
    assert got is not None and abs(got - want) <= TOLERANCE


def test_the_sweep_covers_weekends_holidays_and_the_whole_snapshot() -> None:
    days = sweep_dates()
    assert {d.weekday() for d in days} == set(range(7))
    assert days[0] <= date(2023, 6, 5) and days[-1] == date(2026, 9, 28)
    assert date(2024, 3, 29) in days and date(2025, 12, 25) in days
    assert len(days) > 100
    assert all(b - a <= timedelta(days=11) for a, b in pairwise(days))
