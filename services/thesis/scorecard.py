"""The scorecard: each claim's verdict at the as-of date, the numbers behind it, and since
when the verdict has stood."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from services.alerts.messages import shown, threshold
from services.metrics.catalog import MetricCatalog
from services.series import MarketData
from services.thesis.config import Claim
from services.thesis.published import PublishedCheck, check
from services.thesis.verdicts import Flip, claim_verdicts, flips

HOLDS, FAILS, NO_DATA, STALE = "holds", "does not hold", "no data", "stale"


@dataclass(frozen=True)
class Number:
    metric: str
    description: str
    value: str  # formatted with its unit
    day: str  # date of its newest input
    stale_since: str | None = None
    coverage: str = ""  # "3 of 8 inputs current" for a basket whose members drop out


@dataclass(frozen=True)
class ClaimResult:
    n: int
    title: str
    verdict: str  # holds | does not hold | no data | stale
    day: str | None  # date of the newest input the verdict is read at
    since: str | None  # date the verdict last flipped (or the first date with data)
    since_start: bool  # the verdict has not changed since the history starts
    test: str  # the threshold, in words: "btc.ytd below +0.0%"
    numbers: tuple[Number, ...]
    flips: tuple[Flip, ...]
    no_data: str
    stale_since: str | None = None  # a rule's metric is stale: its inputs end here
    stale_inputs: tuple[str, ...] = ()  # "rates.tbill_3m 2026-03-26"
    last_fresh: str | None = None  # the verdict on the last day its data was current
    published: tuple[PublishedCheck, ...] = ()  # the articles' figures against the data


def threshold_text(claim: Claim) -> str:
    return " and ".join(f"{r.subject} {r.condition.replace('_', ' ')} {threshold(r)}"
                        if r.condition != "new_ath" else f"{r.subject} at {threshold(r)}"
                        for r in claim.rules())


def _number(metric_id: str, data: MarketData, catalog: MetricCatalog, asof: date) -> Number:
    metric = catalog[metric_id]
    values = catalog.series(metric_id, data, asof)
    age = catalog.age(metric_id, data, asof)
    coverage = f"{age.current} of {len(age.inputs)} inputs current" if age.members else ""
    at = pd.Timestamp(asof)
    if at not in values.index:  # no value on the as-of date: withheld or no data yet
        return Number(metric_id, metric.description, "n/a", age.newest or "",
                      age.stale_since, coverage)
    return Number(metric_id, metric.description, shown(float(values.loc[at]), metric.unit),
                  age.newest or "", age.stale_since, coverage)


def _staleness(claim: Claim, data: MarketData, catalog: MetricCatalog, asof: date
               ) -> tuple[str | None, tuple[str, ...]]:
    """The date the claim's data went stale (the earliest stale rule metric), and which
    inputs are stale."""
    ages = [catalog.age(m, data, asof) for r in claim.rules() for m in r.metrics]
    since = [a.stale_since for a in ages if a.stale and a.stale_since]
    inputs = dict.fromkeys(f"{i.key} {i.last or 'no data'}" for a in ages if a.stale
                           for i in a.stale_inputs())
    if not any(a.stale for a in ages):
        return None, ()
    return (min(since) if since else None), tuple(inputs)


def published_checks(claim: Claim, data: MarketData, catalog: MetricCatalog, asof: date
                     ) -> tuple[PublishedCheck, ...]:
    return tuple(check(p, catalog.series(p.metric, data, asof), asof) for p in claim.published)


def score_claim(claim: Claim, data: MarketData, catalog: MetricCatalog, asof: date
                ) -> ClaimResult:
    verdicts = claim_verdicts(claim.rules(), data, catalog, asof).loc[: pd.Timestamp(asof)]
    history = tuple(flips(verdicts))
    numbers = tuple(_number(m, data, catalog, asof) for m in claim.show)
    stale_since, stale_inputs = _staleness(claim, data, catalog, asof)
    newest = max((catalog.age(m, data, asof).newest or "" for r in claim.rules()
                  for m in r.metrics), default="") or None
    if verdicts.empty:
        verdict = STALE if stale_since else NO_DATA
        return ClaimResult(claim.n, claim.title, verdict, newest, stale_since, False,
                           threshold_text(claim), numbers, (), claim.no_data, stale_since,
                           stale_inputs)
    holds = HOLDS if bool(verdicts.iloc[-1] >= 0.5) else FAILS
    if stale_since:
        return ClaimResult(claim.n, claim.title, STALE, newest, stale_since, False,
                           threshold_text(claim), numbers, history, claim.no_data,
                           stale_since, stale_inputs, holds)
    return ClaimResult(
        claim.n, claim.title, holds, newest, history[-1].day.isoformat(), len(history) == 1,
        threshold_text(claim), numbers, history, claim.no_data)


def score(claims: list[Claim], data: MarketData, catalog: MetricCatalog, asof: date
          ) -> tuple[ClaimResult, ...]:
    return tuple(replace(score_claim(c, data, catalog, asof),
                         published=published_checks(c, data, catalog, asof)) for c in claims)


def inputs(claims: list[Claim], catalog: MetricCatalog) -> list[str]:
    """Every series the claims (their rules and shown numbers) read."""
    ids = {m for c in claims for r in c.rules() for m in r.metrics} | {
        m for c in claims for m in c.show} | {p.metric for c in claims for p in c.published}
    return catalog.inputs(ids)

