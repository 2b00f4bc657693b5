import csv
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.app import App
from handlers.registry import Chat
from services.metrics.stablecoins import compute_stablecoins
from services.metrics.usage import UsageReading, compute_usage
from tests.helpers import d, series

DATA = Path(__file__).resolve().parents[2] / "data" / "series"


def _daily(start: str, days: int, value: float) -> dict[str, float]:
    first = date.fromisoformat(start)
    return {(first + timedelta(days=i)).isoformat(): value for i in range(days)}


def test_usage_annualizes_30_days_of_fees_against_market_cap() -> None:
    data = {
        "fees.VVV": series("fees.VVV", _daily("2026-01-01", 40, 1000.0), "DefiLlama fees"),
        "mcap.VVV": series("mcap.VVV", {"2026-02-09": 365e6}, "CoinGecko"),
        "fees.FET": series("fees.FET", _daily("2026-01-01", 40, 0.0)),
        "VVV": series("VVV", {"2025-11-10": 10.0, "2026-02-09": 15.0}),
    }
    r = compute_usage(data, d("2026-02-09"), ["VVV", "FET", "TAO"])
    vvv, fet, tao = r.rows
    assert vvv.status == "usage-backed"
    assert vvv.fees_30d_usd == pytest.approx(30_000.0)
    assert vvv.annualized_usd == pytest.approx(365_000.0)
    assert vvv.fee_yield_pct == pytest.approx(0.1)
    assert vvv.return_90d_pct == pytest.approx(50.0)
    assert (fet.status, fet.annualized_usd) == ("narrative", 0.0)
    assert (tao.status, tao.annualized_usd, tao.fee_yield_pct) == ("not covered", None, None)


def test_usage_needs_a_full_30_day_window() -> None:
    data = {"fees.VVV": series("fees.VVV", _daily("2026-01-01", 10, 1000.0))}
    row = compute_usage(data, d("2026-01-10"), ["VVV"]).rows[0]
    assert row.status == "usage-backed" and row.annualized_usd is None


def test_tbill_share_of_stablecoin_supply() -> None:
    data = {"stablecoins.total": series("stablecoins.total", {"2026-01-01": 300e9}),
            "stablecoins.tbills": series("stablecoins.tbills", {"2026-01-01": 7.5e9})}
    r = compute_stablecoins(data, d("2026-01-01"))
    assert r.tbills is not None and r.tbill_share_pct == pytest.approx(2.5)
    assert compute_stablecoins({}, d("2026-01-01")).tbill_share_pct is None


async def test_usage_in_replay_matches_the_csv(replay_app: App) -> None:
    with (DATA / "fees.VVV.csv").open() as fh:
        fees = {r["date"]: float(r["close"]) for r in csv.DictReader(fh)}
    asof = replay_app.hub.asof
    assert asof is not None
    days = [(asof - timedelta(days=i)).isoformat() for i in range(30)]
    expected = sum(fees[day] for day in days) * 365 / 30
    got = (await replay_app.hub.readings.get("usage", UsageReading)).reading
    vvv = next(row for row in got.rows if row.key == "VVV")
    assert vvv.annualized_usd == pytest.approx(expected)
    reply = await replay_app.registry.run_text(replay_app.context(Chat("console", "u")), "/usage")
    assert not reply.error and "Not covered by the fees source: TAO" in reply.notes[1]
