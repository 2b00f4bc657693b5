import pytest

from services.metrics.btc import compute_btc
from services.metrics.capex import compute_capex
from services.metrics.divergence import compute_divergence
from services.metrics.stablecoins import compute_stablecoins
from services.metrics.yields import compute_yields
from services.windows import YTD
from tests.helpers import d, series


def _market() -> dict:
    return {
        "NVDA": series("NVDA", {"2023-12-29": 50.0, "2024-06-28": 125.0}, "yahoo"),
        "AMD": series("AMD", {"2023-12-29": 100.0, "2024-06-28": 150.0}, "yahoo"),
        "BTC": series("BTC", {"2023-12-31": 40000.0, "2024-03-14": 73000.0,
                              "2024-06-28": 60000.0}, "coinbase"),
        "ETH": series("ETH", {"2023-12-31": 2000.0, "2024-06-28": 3000.0}, "coinbase"),
        "SPX": series("SPX", {"2023-12-29": 4800.0, "2024-06-28": 5400.0}, "fred"),
    }


def test_divergence_baskets_and_spread_by_hand() -> None:
    r = compute_divergence(_market(), d("2024-06-30"), YTD, ["NVDA", "AMD"], ["BTC", "ETH"],
                           "SPX")
    assert [a.pct for a in r.ai] == pytest.approx([150.0, 50.0])
    assert r.ai_basket_pct == pytest.approx(100.0)
    assert r.crypto_basket_pct == pytest.approx(50.0)  # (+50% BTC, +50% ETH)
    assert r.spread_pp == pytest.approx(50.0)
    assert r.benchmark.pct == pytest.approx(12.5)
    assert r.sources == ("yahoo", "coinbase", "fred")


def test_basket_is_none_when_a_member_has_no_return() -> None:
    data = _market()
    data["MU"] = series("MU", {"2024-03-01": 10.0, "2024-06-28": 12.0})
    r = compute_divergence(data, d("2024-06-30"), YTD, ["NVDA", "MU"], ["BTC"], "SPX")
    assert r.ai_basket_pct is None
    assert r.spread_pp is None


def test_stale_member_is_flagged() -> None:
    r = compute_divergence(_market(), d("2024-07-31"), YTD, ["NVDA"], ["BTC"], "SPX")
    assert r.ai[0].stale and r.ai[0].end_date == "2024-06-28"


def test_btc_drawdown_ytd_and_spx() -> None:
    r = compute_btc(_market(), d("2024-06-30"))
    assert r.btc.price is not None and r.btc.price.value == 60000.0
    assert r.btc.ath == 73000.0 and r.btc.ath_date == "2024-03-14"
    assert r.btc.drawdown_pct == pytest.approx((60000 / 73000 - 1) * 100)
    assert r.btc.ytd_pct == pytest.approx(50.0)
    assert r.spx_ytd_pct == pytest.approx(12.5)


def test_stablecoin_changes_ath_and_issuance() -> None:
    total = series("stablecoins.total", {
        "2024-01-01": 100e9, "2024-01-24": 120e9, "2024-01-30": 118e9, "2024-01-31": 119e9})
    r = compute_stablecoins({"stablecoins.total": total}, d("2024-01-31"))
    changes = {c.days: c for c in r.total.changes}
    assert changes[7].abs_usd == pytest.approx(-1e9)  # vs 2024-01-24
    assert changes[30].pct == pytest.approx(19.0)  # vs 2024-01-01
    assert 90 not in changes
    assert not r.total.at_ath
    assert r.total.from_ath_pct == pytest.approx((119 / 120 - 1) * 100)
    assert r.total.net_issuance_usd == pytest.approx(1e9)
    assert r.usdt.latest is None


def test_yields_spread_in_bp_and_missing_defi() -> None:
    tbill = series("rates.tbill_3m", {"2024-01-02": 5.25})
    apy = series("defi.aave_usdc_apy", {"2024-01-02": 7.5})
    r = compute_yields({"rates.tbill_3m": tbill, "defi.aave_usdc_apy": apy}, d("2024-01-03"))
    # The 5.25% discount rate as an APY: price 1 - 0.0525 * 91/360 for 1 at maturity,
    # compounded over 365/91 terms: 5.505%; the spread is 7.5% minus that.
    as_apy = ((1 / (1 - 0.0525 * 91 / 360)) ** (365 / 91) - 1) * 100
    assert as_apy == pytest.approx(5.5047, abs=1e-3)
    assert r.tbill_apy_pct == pytest.approx(as_apy)
    assert r.spread_bp == pytest.approx((7.5 - as_apy) * 100)
    assert compute_yields({"rates.tbill_3m": tbill}, d("2024-01-03")).spread_bp is None


def test_capex_latest_quarter_and_trailing_four() -> None:
    q = {"2024-03-31": 10e9, "2024-06-30": 11e9, "2024-09-30": 12e9, "2024-12-31": 13e9,
         "2025-03-31": 14e9}
    data = {"capex.AMZN": series("capex.AMZN", q),
            "capex.MSFT": series("capex.MSFT", {"2025-03-31": 5e9})}
    r = compute_capex(data, d("2025-06-01"), ["AMZN", "MSFT"])
    amzn, msft = r.companies
    assert amzn.quarter_usd == 14e9 and amzn.ttm_usd == pytest.approx(50e9)
    assert msft.ttm_usd is None  # only one quarter known
    assert r.common_quarter_end == "2025-03-31"
    assert r.common_quarter_usd == pytest.approx(19e9)
    assert r.sector_cap is None and r.capex_to_sector_cap is None
