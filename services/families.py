"""The metric families: which series each needs and how it is computed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.baskets import Baskets
from services.metrics.aitokens import SECTOR_CAP, AiTokensReading, compute_aitokens
from services.metrics.btc import BtcReading, compute_btc
from services.metrics.capex import CapexReading, capex_key, compute_capex
from services.metrics.divergence import DivergenceReading, compute_divergence
from services.metrics.stablecoins import (
    SUPPLY_KEYS,
    TBILLS,
    StablecoinReading,
    compute_stablecoins,
)
from services.metrics.usage import UsageReading, compute_usage, fees_key, mcap_key
from services.metrics.yields import DEFI_USDC, TBILL, YieldsReading, compute_yields
from services.series import MarketData
from services.windows import Window

Compute = Callable[[MarketData, date, Baskets, Window], Any]


@dataclass(frozen=True)
class Family:
    name: str
    reading_type: type
    windowed: bool
    inputs: Callable[[Baskets], list[str]]
    compute: Compute


FAMILIES: tuple[Family, ...] = (
    Family(
        "divergence", DivergenceReading, True,
        lambda b: [*b.ai, *b.crypto, b.benchmark],
        lambda d, asof, b, w: compute_divergence(d, asof, w, b.ai, b.crypto, b.benchmark),
    ),
    Family(
        "btc", BtcReading, False,
        lambda b: ["BTC", "ETH", b.benchmark],
        lambda d, asof, b, _w: compute_btc(d, asof, b.benchmark),
    ),
    Family(
        "stablecoins", StablecoinReading, False,
        lambda _b: [*SUPPLY_KEYS, TBILLS],
        lambda d, asof, _b, _w: compute_stablecoins(d, asof),
    ),
    Family(
        "yields", YieldsReading, False,
        lambda _b: [TBILL, DEFI_USDC],
        lambda d, asof, _b, _w: compute_yields(d, asof),
    ),
    Family(
        "aitokens", AiTokensReading, True,
        lambda b: [*b.aitokens, SECTOR_CAP],
        lambda d, asof, b, w: compute_aitokens(d, asof, w, b.aitokens, b.min_coverage),
    ),
    Family(
        "usage", UsageReading, False,
        lambda b: [k for t in b.aitokens for k in (t, fees_key(t), mcap_key(t))],
        lambda d, asof, b, _w: compute_usage(d, asof, b.aitokens),
    ),
    Family(
        "capex", CapexReading, False,
        lambda b: [*(capex_key(t) for t in b.capex), SECTOR_CAP],
        lambda d, asof, b, _w: compute_capex(d, asof, b.capex),
    ),
)
FAMILY_BY_NAME = {f.name: f for f in FAMILIES}
