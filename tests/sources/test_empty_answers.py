"""An answer with no usable value is a failed fetch (BadPayload), never "no new data"."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
import pytest

from services.series import MarketData, TimeSeries
from services.sources.coingecko import parse_category_cap, parse_market_chart
from services.sources.defillama import (
    parse_pool_chart,
    parse_stablecoin_chart,
    parse_stablecoin_list,
    parse_summary_fees,
)
from services.sources.fred import FredSource, parse_fredgraph_csv
from services.sources.http import BadPayload, fetch_each
from services.sources.sec import parse_companyfacts
from services.sources.yahoo import parse_chart
from tests.sources.conftest import Canned, FakeUpstream, MakeClient, load

NVDA = "yahoo/chart_NVDA_1d_2021-02-01_2022-01-31_split.json"
SNOW = "sec/companyfacts_SNOW_CIK0001640147_trimmed.json"
DAY_MS = 86_400_000
CAPEX = "PaymentsToAcquirePropertyPlantAndEquipment"


def yahoo_all_null() -> Any:
    body = load(NVDA)
    quote = body["chart"]["result"][0]["indicators"]["quote"][0]
    quote["close"] = [None] * len(quote["close"])
    return body


def yahoo_no_bars() -> Any:
    body = load(NVDA)
    result = body["chart"]["result"][0]
    del result["timestamp"]
    result["indicators"] = {"quote": [{"close": []}], "adjclose": [{"adjclose": []}]}
    return body


def sec_facts(*facts: dict[str, Any]) -> dict[str, Any]:
    return {"facts": {"us-gaap": {CAPEX: {"units": {"USD": list(facts)}}}}}


CASES: dict[str, tuple[Callable[[], object], str]] = {
    "coingecko empty": (lambda: parse_market_chart({"prices": [], "market_caps": []}, "BTC"),
                        "coingecko market_chart BTC: empty answer"),
    "coingecko zeros": (lambda: parse_market_chart(
        {"prices": [[DAY_MS, 0]], "market_caps": [[DAY_MS, None]]}, "BTC"),
                        "coingecko market_chart BTC: no values"),
    "coingecko categories": (lambda: parse_category_cap([], "ai", "k"),
                             "coingecko categories: empty answer"),
    "stablecoin chart": (lambda: parse_stablecoin_chart([], "stablecoins.total"),
                         "defillama stablecoincharts stablecoins.total: empty answer"),
    "stablecoin chart nulls": (lambda: parse_stablecoin_chart(
        [{"date": "1733529600", "totalCirculating": {"peggedUSD": None}}], "s"),
                               "defillama stablecoincharts s: no values"),
    "stablecoin list": (lambda: parse_stablecoin_list({"peggedAssets": []}),
                        "defillama stablecoins: empty answer"),
    "stablecoin list nulls": (lambda: parse_stablecoin_list(
        {"peggedAssets": [{"id": "1", "circulating": {"peggedUSD": None}}]}),
                              "defillama stablecoins: no values"),
    "yields": (lambda: parse_pool_chart({"status": "success", "data": []}, "apy"),
               "defillama yields apy: empty answer"),
    "yields nulls": (lambda: parse_pool_chart({"status": "success", "data": [
        {"timestamp": "2026-01-18T00:00:00.000Z", "apyBase": None}]}, "apy"),
                     "defillama yields apy: no values"),
    "fees": (lambda: parse_summary_fees({"totalDataChart": []}, "fees.VVV"),
             "defillama fees fees.VVV: empty answer"),
    "fees nulls": (lambda: parse_summary_fees({"totalDataChart": [[1765152000, None]]}, "f"),
                   "defillama fees f: no values"),
    "fred csv header only": (lambda: parse_fredgraph_csv("observation_date,DTB3\n", "DTB3",
                                                         "k"),
                             "fred csv DTB3: empty answer"),
    "fred csv all dots": (lambda: parse_fredgraph_csv(
        "DATE,DTB3\n2024-12-24,.\n2024-12-25,.\n", "DTB3", "k"),
                          "fred csv DTB3: no values (2 rows"),
    "sec empty": (lambda: parse_companyfacts(sec_facts(), "capex.X"),
                  "sec companyfacts capex.X: empty answer"),
    "sec nulls": (lambda: parse_companyfacts(sec_facts({
        "start": "2024-01-01", "end": "2024-03-31", "val": None, "filed": "2024-04-30"}),
        "capex.X"), "sec companyfacts capex.X: no values"),
    "yahoo all null": (lambda: parse_chart(yahoo_all_null(), "NVDA"),
                       "yahoo chart NVDA: no values"),
    "yahoo no bars": (lambda: parse_chart(yahoo_no_bars(), "NVDA"),
                      "yahoo chart NVDA: empty answer"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_answer_without_a_value_is_bad_payload(case: str) -> None:
    parse, message = CASES[case]
    with pytest.raises(BadPayload, match="^" + re.escape(message)) as info:
        parse()
    assert "\n" not in str(info.value)


def test_some_missing_values_among_real_ones_are_fine() -> None:
    ts, skipped = parse_fredgraph_csv("DATE,DTB3\n2024-12-24,4.28\n2024-12-25,.\n", "DTB3", "k")
    assert (len(ts.values), skipped) == (1, 1)
    out = parse_market_chart({"prices": [[DAY_MS, 5.0]], "market_caps": [[DAY_MS, 0]]}, "X")
    assert len(out["X"].values) == 1 and out["mcap.X"].values.empty  # a cap gap, not a failure
    fees = parse_summary_fees({"totalDataChart": [[1765152000, 0]]}, "f")
    assert fees.values.tolist() == [0.0]  # a zero-fee day is a value


def test_sec_facts_all_filed_after_asof_are_a_gap_not_a_failure() -> None:
    ts = parse_companyfacts(load(SNOW), "capex.SNOW", asof=date(2019, 1, 1))
    assert ts.values.empty


async def test_fred_json_without_a_value_fails(upstream: FakeUpstream,
                                               make_client: MakeClient) -> None:
    upstream.serve("/fred/series/observations", Canned(json.dumps({
        "count": 2, "observations": [{"date": "2024-12-25", "value": "."},
                                     {"date": "2024-12-26", "value": "."}]}).encode()))
    source = FredSource(make_client("fred"), api_key="KEY", api_base_url=upstream.url)
    with pytest.raises(BadPayload, match=r"^fred json DTB3: no values \(2 rows"):
        await source.fetch(date(2024, 12, 31))


def series(key: str, *values: float) -> TimeSeries:
    days = [date(2024, 1, 1 + i) for i in range(len(values))]
    return TimeSeries.from_pairs(key, list(zip(days, values, strict=True)), "test")


async def test_fetch_each_fails_when_no_item_yielded_a_point() -> None:
    async def empty() -> MarketData:
        return {"capex.A": series("capex.A")}  # e.g. every fact filed after asof

    async def broken() -> MarketData:
        raise BadPayload("sec companyfacts capex.B: empty answer")

    async def good() -> MarketData:
        return {"capex.C": series("capex.C", 1.0)}

    with pytest.raises(BadPayload, match=r"capex\.B: empty answer"):
        await fetch_each("sec", {"A": empty(), "B": broken()})
    out = await fetch_each("sec", {"B": broken(), "C": good()})
    assert out["capex.C"].values.to_dict() == {pd.Timestamp("2024-01-01"): 1.0}
