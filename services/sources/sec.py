"""SEC EDGAR XBRL companyconcept (and companyfacts): quarterly capex (PP&E cash), USD.

10-Q cash-flow facts are year-to-date: a quarter is YTD(end) minus the YTD fact one
quarter shorter with the same fiscal-year start (Q4 = FY - 9M). A period reported in
several filings keeps the value of the latest `filed`. Facts filed after `asof` are
ignored, so nothing a replay at `asof` could not have known leaks in.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any

from services.series import MarketData, TimeSeries
from services.sources.http import BadPayload, HttpClient, UpstreamHTTPError, fetch_each
from services.sources.parsing import expect_dict, known_upto, no_values, number_or_none

SOURCE = "SEC EDGAR XBRL"
DAYS_PER_QUARTER = 91.3
CAPEX_CONCEPTS = ("PaymentsToAcquirePropertyPlantAndEquipment",
                  "PaymentsToAcquireProductiveAssets")
DEFAULT_COMPANIES: dict[str, str] = {
    "AMZN": "0001018724", "MSFT": "0000789019", "GOOGL": "0001652044", "META": "0001326801"}
# Amazon reports gross capex only as ProductiveAssets; prefer it there.
DEFAULT_CONCEPTS: dict[str, tuple[str, ...]] = {"AMZN": tuple(reversed(CAPEX_CONCEPTS))}

Period = tuple[date, date]  # (start, end)


def latest_facts(facts: Iterable[Any], asof: date | None = None) -> dict[Period, float]:
    """USD duration facts by period; duplicates resolved by the latest `filed`."""
    best: dict[Period, tuple[str, float]] = {}
    for fact in facts:
        if not isinstance(fact, dict) or "start" not in fact:
            continue
        value = number_or_none(fact.get("val"))
        filed = str(fact.get("filed", ""))
        try:
            period = (date.fromisoformat(fact["start"]), date.fromisoformat(fact["end"]))
            filed_on = date.fromisoformat(filed)
        except (KeyError, TypeError, ValueError):
            raise BadPayload(f"sec companyfacts: bad fact {str(fact)[:120]}") from None
        if value is None or (asof is not None and filed_on > asof):
            continue
        if period not in best or filed >= best[period][0]:
            best[period] = (filed, value)
    return {period: value for period, (_, value) in best.items()}


def _has_value(fact: Any) -> bool:
    """A duration fact with a number, whenever it was filed."""
    if not isinstance(fact, dict) or "start" not in fact:
        return False
    return number_or_none(fact.get("val")) is not None


def quarters_spanned(period: Period) -> int:
    return round(((period[1] - period[0]).days + 1) / DAYS_PER_QUARTER)


def discrete_quarters(facts: Mapping[Period, float]) -> dict[date, float]:
    """Quarter-end -> value: 3-month facts as they are, longer YTD facts differenced."""
    out = {end: v for (start, end), v in facts.items() if quarters_spanned((start, end)) == 1}
    ytd: dict[tuple[date, int], tuple[date, float]] = {
        (start, quarters_spanned((start, end))): (end, v) for (start, end), v in facts.items()}
    for (start, n), (end, value) in sorted(ytd.items()):
        if n < 2 or n > 4 or end in out:
            continue
        shorter = ytd.get((start, n - 1))
        if shorter is not None:
            out[end] = value - shorter[1]
    return dict(sorted(out.items()))


def parse_companyfacts(body: Any, key: str, concepts: Iterable[str] = CAPEX_CONCEPTS,
                       asof: date | None = None) -> TimeSeries:
    """companyfacts JSON -> quarterly series; earlier concepts win where both report."""
    gaap = expect_dict(expect_dict(expect_dict(body, "sec companyfacts").get("facts"),
                                   "sec companyfacts: facts").get("us-gaap", {}),
                       "sec companyfacts: us-gaap")
    merged: dict[date, float] = {}
    found = []
    usable = rows = 0
    for concept in concepts:
        if concept not in gaap:
            continue
        units = expect_dict(expect_dict(gaap[concept], concept).get("units"), f"{concept} units")
        facts = units.get("USD")
        if not isinstance(facts, list):
            raise BadPayload(f"sec companyfacts {key}: {concept} has no USD facts")
        found.append(concept)
        rows += len(facts)
        usable += sum(1 for fact in facts if _has_value(fact))
        for end, value in discrete_quarters(latest_facts(facts, asof)).items():
            merged.setdefault(end, value)
    if not found:
        raise BadPayload(f"sec companyfacts {key}: none of {', '.join(concepts)} reported")
    if not usable:  # facts filed after `asof` are a legitimate gap, an answer of none is not
        raise no_values(f"sec companyfacts {key}", rows)
    return TimeSeries.from_pairs(key, sorted(merged.items()), SOURCE)


def parse_companyconcept(body: Any, key: str, asof: date | None = None
                         ) -> tuple[dict[date, float], int]:
    """`/api/xbrl/companyconcept/CIK##########/us-gaap/{tag}.json` -> (quarter-end -> value,
    count of usable facts). The answer is one concept's `units`, the same facts companyfacts
    nests under `facts.us-gaap.{tag}`."""
    data = expect_dict(body, f"sec companyconcept {key}")
    units = expect_dict(data.get("units"), f"sec companyconcept {key}: units")
    facts = units.get("USD")
    if not isinstance(facts, list):
        raise BadPayload(f"sec companyconcept {key}: {data.get('tag')} has no USD facts")
    usable = sum(1 for fact in facts if _has_value(fact))
    return discrete_quarters(latest_facts(facts, asof)), usable


class SecCapexSource:
    """Provider over the per-concept endpoint, `capex.<TICKER>`: a few KB per concept where
    companyfacts is megabytes per company. A concept the company never reported is a 404."""

    name = "sec"

    def __init__(self, client: HttpClient, user_agent: str,
                 companies: Mapping[str, str] | None = None,
                 concepts: Mapping[str, Iterable[str]] | None = None) -> None:
        if "@" not in user_agent or len(user_agent.split()) < 2:
            raise ValueError("SEC requires a User-Agent naming you and an email address, "
                             "e.g. 'flowwatch ops@example.org'")
        self.client = client.with_headers({"User-Agent": user_agent})
        self.companies = dict(companies or DEFAULT_COMPANIES)
        self.concepts = {**DEFAULT_CONCEPTS, **(concepts or {})}

    def covers(self) -> Collection[str]:
        return [f"capex.{t}" for t in self.companies]

    async def fetch_company(self, ticker: str, cik: str, asof: date) -> MarketData:
        key = f"capex.{ticker}"
        concepts = tuple(self.concepts.get(ticker, CAPEX_CONCEPTS))
        merged: dict[date, float] = {}
        found = usable = 0
        for concept in concepts:
            path = f"/api/xbrl/companyconcept/CIK{int(cik):010d}/us-gaap/{concept}.json"
            try:
                body = await self.client.get_json(path)
            except UpstreamHTTPError as exc:
                if exc.status == 404:  # not reported under this concept
                    continue
                raise
            quarters, count = parse_companyconcept(body, key, asof)
            found, usable = found + 1, usable + count
            for end, value in quarters.items():
                merged.setdefault(end, value)  # earlier concepts win
        if not found:
            raise BadPayload(f"sec companyconcept {key}: none of {', '.join(concepts)} "
                             "reported")
        if not usable:
            raise no_values(f"sec companyconcept {key}", 0)
        return {key: TimeSeries.from_pairs(key, sorted(merged.items()), SOURCE)}

    async def fetch(self, asof: date, keys: Collection[str] | None = None,
                    start: date | None = None) -> MarketData:
        jobs = {t: self.fetch_company(t, cik, asof) for t, cik in self.companies.items()
                if keys is None or f"capex.{t}" in keys}
        return known_upto(await fetch_each(self.name, jobs), asof)
