"""The scorecard: each claim's verdict at the as-of date, the numbers behind it, and since
when the verdict has stood."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from services.alerts.messages import shown, threshold
from services.alerts.metrics import METRICS, metric_series
from services.baskets import Baskets
from services.series import MarketData
from services.thesis.config import Claim
from services.thesis.verdicts import Flip, claim_verdicts, flips

HOLDS, FAILS, NO_DATA = "holds", "does not hold", "no data"


@dataclass(frozen=True)
class Number:
    metric: str
    description: str
    value: str  # formatted with its unit
    day: str  # date of the data point


@dataclass(frozen=True)
class ClaimResult:
    n: int
    title: str
    verdict: str  # holds | does not hold | no data
    day: str | None  # date of the data point the verdict is read at
    since: str | None  # date the verdict last flipped (or the first date with data)
    since_start: bool  # the verdict has not changed since the history starts
    test: str  # the threshold, in words: "btc.ytd below +0.0%"
    numbers: tuple[Number, ...]
    flips: tuple[Flip, ...]
    no_data: str


def threshold_text(claim: Claim) -> str:
    return " and ".join(f"{r.subject} {r.condition.replace('_', ' ')} {threshold(r)}"
                        if r.condition != "new_ath" else f"{r.subject} at {threshold(r)}"
                        for r in claim.rules())


def _number(metric_id: str, data: MarketData, baskets: Baskets, asof: date) -> Number:
    metric = METRICS[metric_id]
    values = metric_series(metric_id, data, baskets).loc[: pd.Timestamp(asof)]
    if values.empty:
        return Number(metric_id, metric.description, "n/a", "")
    return Number(metric_id, metric.description, shown(float(values.iloc[-1]), metric.unit),
                  values.index[-1].date().isoformat())


def score_claim(claim: Claim, data: MarketData, baskets: Baskets, asof: date) -> ClaimResult:
    verdicts = claim_verdicts(claim.rules(), data, baskets).loc[: pd.Timestamp(asof)]
    history = tuple(flips(verdicts))
    numbers = tuple(_number(m, data, baskets, asof) for m in claim.show)
    if verdicts.empty:
        return ClaimResult(claim.n, claim.title, NO_DATA, None, None, False,
                           threshold_text(claim), numbers, (), claim.no_data)
    holds = bool(verdicts.iloc[-1] >= 0.5)
    return ClaimResult(
        claim.n, claim.title, HOLDS if holds else FAILS, verdicts.index[-1].date().isoformat(),
        history[-1].day.isoformat(), len(history) == 1, threshold_text(claim), numbers,
        history, claim.no_data)


def score(claims: list[Claim], data: MarketData, baskets: Baskets, asof: date
          ) -> tuple[ClaimResult, ...]:
    return tuple(score_claim(c, data, baskets, asof) for c in claims)


def inputs(claims: list[Claim], baskets: Baskets) -> list[str]:
    """Every series the claims (their rules and shown numbers) read."""
    ids = {m for c in claims for r in c.rules() for m in r.metrics} | {
        m for c in claims for m in c.show}
    return sorted({k for m in ids for k in METRICS[m].inputs(baskets)})

