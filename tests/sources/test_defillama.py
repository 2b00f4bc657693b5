"""DefiLlama: recorded /stablecoins and /summary/fees; synthetic charts and yields."""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd
import pytest

from services.sources.defillama import (
    FeesSource,
    StablecoinSource,
    YieldsSource,
    parse_pool_chart,
    parse_stablecoin_chart,
    parse_stablecoin_list,
    parse_summary_fees,
    tokenized_tbills,
)
from services.sources.http import BadPayload, UpstreamHTTPError
from services.sources.parsing import take_gap_counts
from tests.sources.conftest import FakeUpstream, MakeClient, load, recorded, variant_truncated

LIST = "defillama/stablecoins_includePrices_2024-12-07_trimmed.json"
VENICE_FEES = "defillama/summary_fees_venice_dailyHoldersRevenue_2026-09-19.json"
CHARTS = "synthetic/defillama/stablecoincharts_all"
POOL = "aa70268e-4b52-42bf-a116-608b370f9501"
YIELDS = "synthetic/defillama/yields_chart_aave_usdc.json"


def test_stablecoin_list_reads_usd_pegged_supply_only() -> None:
    supply = parse_stablecoin_list(load(LIST))
    assert supply["1"] == pytest.approx(127670074069.01582)  # USDT
    assert supply["2"] == pytest.approx(36710068118.46206)  # USDC
    assert supply["3"] == 0.0  # USTC: an explicit {"peggedUSD": 0}, a real value
    assert "39" not in supply and "50" not in supply  # peggedVAR, peggedEUR
    # Agora/Reservoir's bare 0 sits in circulatingPrevMonth/Week, which we do not read.
    assert supply["205"] == pytest.approx(66194451.230000004)
    assert tokenized_tbills(supply, ["173", "129"]) == pytest.approx(
        541495401.5799999 + 423703935.15660244)  # BUIDL + USDY
    assert tokenized_tbills(supply, ["999"]) is None


def test_bare_zero_where_an_object_belongs_is_a_gap(caplog: pytest.LogCaptureFixture) -> None:
    body = load(LIST)
    take_gap_counts()
    parse_stablecoin_list(body)
    recorded_gaps = take_gap_counts().get("defillama", 0)
    body["peggedAssets"][0]["circulating"] = 0  # USDT as a bare 0
    supply = parse_stablecoin_list(body)
    assert "1" not in supply
    # counted for the collection's one summary line, not logged one by one
    assert take_gap_counts() == {"defillama": recorded_gaps + 1}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_stablecoin_chart_skips_bare_zero_rows() -> None:
    ts = parse_stablecoin_chart(load(f"{CHARTS}.json"), "stablecoins.total")
    assert ts.values.to_dict() == {pd.Timestamp("2024-12-05"): 193100000000.5,
                                   pd.Timestamp("2024-12-07"): 194200000000.0}


@pytest.mark.parametrize("body", [{"peggedAssets": 0}, 0, [], {"error": "x"}])
def test_bad_stablecoin_list_shapes(body: object) -> None:
    with pytest.raises(BadPayload):
        parse_stablecoin_list(body)


@pytest.mark.parametrize("body", [0, {"error": "x"}, [{"date": "x"}], [0]])
def test_bad_stablecoin_chart_shapes(body: object) -> None:
    with pytest.raises(BadPayload):
        parse_stablecoin_chart(body, "k")


def test_venice_fees_daily_and_total() -> None:
    body = load(VENICE_FEES)
    ts = parse_summary_fees(body, "fees.VVV")
    values = ts.values
    assert len(values) == 286
    assert values.index[0] == pd.Timestamp("2025-12-08") and values.iloc[0] == 64402
    assert values.index[-1] == pd.Timestamp("2026-09-19") and values.iloc[-1] == 14949
    assert values.sum() == pytest.approx(body["totalAllTime"])  # 2,760,921.43
    assert values.sum() == pytest.approx(2760921.43)
    assert (values == 0).sum() > 0  # zero-burn days are real zeros, kept
    assert ts.source == "DefiLlama fees"


def test_fees_bad_shapes() -> None:
    with pytest.raises(BadPayload, match="totalDataChart"):
        parse_summary_fees({"statusCode": 404, "body": "not found"}, "fees.X")
    with pytest.raises(BadPayload, match="expected \\[seconds, usd\\]"):
        parse_summary_fees({"totalDataChart": [[1765152000]]}, "fees.X")


def test_pool_chart_base_apy_with_null_gap() -> None:
    ts = parse_pool_chart(load(YIELDS), "defi.aave_usdc_apy")
    assert ts.values.to_dict() == {pd.Timestamp("2026-01-18"): 3.61,
                                   pd.Timestamp("2026-01-20"): 3.48}
    with pytest.raises(BadPayload, match="status 'error'"):
        parse_pool_chart({"status": "error", "data": "pool not found"}, "k")


async def test_stablecoin_source_full_fetch(upstream: FakeUpstream,
                                            make_client: MakeClient) -> None:
    upstream.serve("/stablecoincharts/all", recorded(f"{CHARTS}.json"))
    upstream.serve("/stablecoincharts/all", recorded(f"{CHARTS}_stablecoin1.json"),
                   query={"stablecoin": "1"})
    upstream.serve("/stablecoincharts/all", recorded(f"{CHARTS}_stablecoin2.json"),
                   query={"stablecoin": "2"})
    upstream.serve("/stablecoins", recorded(LIST))
    source = StablecoinSource(make_client("defillama"), today=lambda: date(2024, 12, 7))
    data = await source.fetch(date(2024, 12, 7))
    assert set(data) == {"stablecoins.total", "stablecoins.usdt", "stablecoins.usdc",
                         "stablecoins.tbills"}
    assert data["stablecoins.usdt"].values.iloc[-1] == pytest.approx(127670074069.02)
    assert data["stablecoins.tbills"].values.to_dict() == {
        pd.Timestamp("2024-12-07"): pytest.approx(965199336.7365)}
    assert data["stablecoins.total"].source == "DefiLlama"


async def test_stablecoin_source_keeps_good_parts(upstream: FakeUpstream,
                                                  make_client: MakeClient) -> None:
    upstream.serve("/stablecoincharts/all", variant_truncated(f"{CHARTS}.json"))
    upstream.serve("/stablecoins", recorded(LIST))
    source = StablecoinSource(make_client("defillama"), {"stablecoins.total": None},
                              today=lambda: date(2024, 12, 7))
    assert set(await source.fetch(date(2024, 12, 7))) == {"stablecoins.tbills"}


async def test_yields_and_fees_sources(upstream: FakeUpstream, make_client: MakeClient) -> None:
    upstream.serve(f"/chart/{POOL}", recorded(YIELDS))
    upstream.serve("/summary/fees/venice", recorded(VENICE_FEES))
    client = make_client("defillama")
    yields = await YieldsSource(client).fetch(date(2026, 1, 20))
    assert set(yields) == {"defi.aave_usdc_apy"}
    fees = await FeesSource(client).fetch(date(2026, 9, 19))
    assert set(fees) == {"fees.VVV"}
    assert upstream.hits[-1].query == {"dataType": "dailyHoldersRevenue"}
    upstream.serve("/summary/fees/bittensor", recorded("yahoo/chart_error_404_not_found.json",
                                                       404))
    with pytest.raises(UpstreamHTTPError):
        await FeesSource(client, {"TAO": "bittensor"}).fetch(date(2026, 9, 19))
