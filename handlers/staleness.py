"""Age and coverage on reply lines: '-23 bp ⚠ stale since 2026-01-20 (T-bill 2026-03-26, Aave
2026-01-20)', and the /brief rows built from the readings with them."""

from __future__ import annotations

from collections.abc import Iterable

from handlers.format import bp, pct, pp, usd
from services.metrics.aitokens import AiTokensReading
from services.metrics.btc import BtcReading
from services.metrics.common import Point
from services.metrics.divergence import AssetReturn, DivergenceReading
from services.metrics.stablecoins import StablecoinReading
from services.metrics.yields import YieldsReading

Lag = tuple[str, str | None]  # (label, date of its last data)


def marked(value: str, lagging: Iterable[Lag]) -> str:
    """The value, and when inputs are stale a marker with the date it went stale and each
    stale input's last date."""
    stale = list(lagging)
    if not stale:
        return value
    days = [d for _, d in stale if d]
    since = min(days) if days else "n/a"
    inputs = ", ".join(f"{label} {day or 'no data'}" for label, day in stale)
    return f"{value} ⚠ stale since {since} ({inputs})"


def point_lag(label: str, point: Point | None) -> list[Lag]:
    if point is None:
        return [(label, None)]
    return [(label, point.day)] if point.stale else []


def member_lags(members: Iterable[AssetReturn]) -> list[Lag]:
    return [(m.key, m.end_date) for m in members if m.stale]


def sector_line(ai: AiTokensReading) -> str:
    """The AI-token sector by its robust figures, with their coverage."""
    n = len(ai.tokens)
    if ai.median_drawdown_pct is None:
        return f"withheld: {ai.covered} of {n} tokens have data (at least {ai.needed} needed)"
    return (f"median token {pct(ai.median_drawdown_pct)} from peak, {ai.below_half} of {n} "
            f"more than 50% below ({ai.covered} of {n} tokens, {ai.current} current)")


def index_line(ai: AiTokensReading) -> str:
    if ai.index_withheld:
        return ai.index_withheld
    return f"{pct(ai.index_drawdown_pct)} ({ai.current} of {len(ai.tokens)} tokens current)"


def brief_rows(d: DivergenceReading, y: DivergenceReading, btc: BtcReading,
               st: StablecoinReading, yl: YieldsReading, ai: AiTokensReading,
               ) -> tuple[tuple[str, str], ...]:
    spx = point_lag("S&P 500", btc.spx_close)
    coin = point_lag("BTC", btc.btc.price)
    supply = st.total.latest
    supply_text = usd(supply.value if supply else None) + (
        " (ATH)" if st.total.at_ath else f" ({pct(st.total.from_ath_pct)} from ATH)")
    yields = [*point_lag("T-bill", yl.tbill_pct), *point_lag("Aave", yl.defi_usdc_pct)]
    return (
        ("AI minus crypto since 2024", marked(pp(d.spread_pp), member_lags((*d.ai, *d.crypto)))),
        ("AI minus crypto YTD", marked(pp(y.spread_pp), member_lags((*y.ai, *y.crypto)))),
        ("BTC from ATH", marked(pct(btc.btc.drawdown_pct), coin)),
        ("BTC YTD / S&P YTD", marked(f"{pct(btc.btc.ytd_pct)} / {pct(btc.spx_ytd_pct)}",
                                     coin + spx)),
        ("Stablecoin supply", marked(supply_text, point_lag("supply", supply))),
        ("DeFi minus T-bill (APY basis)", marked(bp(yl.spread_bp), yields)),
        ("AI-token sector", sector_line(ai)),
        ("AI-token index from peak", index_line(ai)),
    )
