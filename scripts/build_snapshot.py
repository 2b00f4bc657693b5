#!/usr/bin/env python3
"""Build the bundled offline data snapshot in ``data/`` from ``../shared/data/``.

Standard library only. The output is deterministic: running the script twice
gives byte-identical files.

    python3 scripts/build_snapshot.py                 # reads ../shared/data
    python3 scripts/build_snapshot.py --shared PATH   # another source tree

Writes ``data/series/<KEY>.csv`` (header ``date,close,source``) and
``data/README.md`` (whose ranges, row counts and splice jumps are computed from
the files just written).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = "../shared/data"  # relative to the repo root

NUMERIC = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")

# --------------------------------------------------------------------------
# Source tags: tag -> (origin, provenance "owner/repo @ commit : path")
# --------------------------------------------------------------------------
SB = "SungKyu-Kim39/BackTester39 @ 34050dce3d22b6d0097c6254e522d86ef2b267be"
LANDON = "landon-io/stocks-ai-agent @ cddea30262c7fa7b6cd80cc415b9dcb3cf45e755"
DRROB = "DrRobAnthony/market-data @ 005b3915a0af95392f0afce186c91535710e1e67"
DYLAN = "dylanlayden/finance-terminal @ b562d735e638516c3af8f97f9abc0a7e1b5189b6"
BYBIT = "jumpotsa/Bybit_Cross_Momentum @ 2e938a3b9c728885a41a58f8248b735db642919d"
AKOI = "akoiralaa/statistical-arbitrage @ 2e50ed9c55f08aaeabcf738a5d7621770579153f"
MARK6 = "RobBudaghyan/mark6 @ 0af2c2b2ccfd7d0a9323c42fae8a15dc39aec2ce"
SALONI = "ssalonisingghal/stablecoin-depeg-risk @ 743738ab3cdb7132ca61d74e9411205b132e4740"
SWAPLAB = "anishsenapati-collab/SwapLab @ e324017781d263d967b81dc78e3674b596ed84ef"
DUNE = "dobbobalina2/Crypto_US_yields @ ea9d4b214454fce5ca7c2f5519ad335d7cc54a77"
MICHAL = "michaltakac/cryptoeconomy-for-ai-agents @ 00b89194889c7bf10f06c6c0e7bb320c50e842d1"
ORION = "masha256/orion @ d2a15c5b5852fc3f437b440e69435b1bed1b809f"
CAPEX_A = "Paray01/capex-watch @ 05e658eaaec4bf19ca5d7a9608398e18843240a9"
CAPEX_B = "danyu1/bridgewater_forecasting @ 7b5b1ae6253e9f13e9e8922970efeb58f8b34c8f"
CAPEX_B_PATH = "BW2026_Q11_HYPERSCALER_CAPEX_Q4_2025/capex_history_quarterly.csv"

TAGS = {
    "yahoo": ("Yahoo chart-API daily close (v8/finance/chart)", f"`{SB} : data/<SYM>.csv`"),
    "yfinance": ("yfinance daily, auto_adjust=False", f"`{LANDON} : data/{{SMH,SOXX}}.csv`"),
    "stooq": ("Stooq daily close (per the shared file name), KRW, rounded here half-up to whole won", f"`{DRROB} : data/000660.KS.csv`"),
    "fred-sp500": ("FRED SP500 (S&P 500 index close)", f"`{DYLAN} : data/sp500.csv`"),
    "coinbase": ("Coinbase daily close, UTC day", f"`{DYLAN} : data/watch_btcusd.csv`, `data/watch_ethusd.csv`"),
    "bybit-perp": ("Bybit USDT linear perpetual daily kline close, UTC day", f"`{BYBIT} : data/<SYM>USDT.csv`"),
    "kraken": ("Kraken <SYM>/USD daily close via CryptoCompare, UTC day", f"`{DRROB} : data/{{TAO,NEAR,VVV}}.csv`"),
    "ohlc-agg": ("Daily OHLC close, exchange/aggregator not stated", f"`{AKOI} : data/{{NEAR,ICP,FET}}.csv`"),
    "binance-spot": ("Close of the 23:00 UTC hourly bar, USDT pair (matches Binance spot)", f"`{MARK6} : data/FETUSDT.csv`"),
    "defillama": ("DefiLlama stablecoin circulating supply, USD", f"`{DYLAN} : data/stablecoin_supply.csv`; `{SALONI} : data/usdt_supply.csv`, `data/usdc_supply.csv`"),
    "fred-dtb3": ("FRED DTB3", f"`{SWAPLAB} : DTB3.csv`"),
    "dune-aave": ("Dune query 4280536 (Aave supply APY)", f"`{DUNE} : data/crypto_us_yields.parquet`"),
    "coingecko-category": ("CoinGecko /coins/categories snapshot 2026-06-30 15:58:34Z", f"`{MICHAL} : data/ai_agent_tokens.json`"),
    "coingecko": ("CoinGecko /coins/venice-token/market_chart (days=120)", f"`{ORION} : tests/fixtures/ingest/research-2026-09-19/cg_venice_120_last121.json`"),
    "defillama-fees": ("DefiLlama /summary/fees/venice dailyHoldersRevenue", f"`{ORION} : tests/fixtures/ingest/research-2026-09-19/llama_venice.json`"),
    "sec-xbrl-A": ("SEC XBRL companyconcept, YTD 10-Q facts differenced (source A)", f"`{CAPEX_A} : data.js`"),
    "sec-xbrl-B": ("SEC XBRL companyfacts frames + YTD differencing (source B)", f"`{CAPEX_B} : {CAPEX_B_PATH}`"),
    "sec-xbrl-B-derived": ("Source B FY total minus its Q1-Q3 (2023Q4 AMZN, GOOGL)", f"`{CAPEX_B} : {CAPEX_B_PATH}`"),
}


class BuildError(Exception):
    pass


# --------------------------------------------------------------------------
# Reading helpers
# --------------------------------------------------------------------------
def read_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def parse_date(s: str) -> dt.date:
    return dt.date.fromisoformat(s.strip())


def clean_value(v: str | None) -> str | None:
    """Return the stripped value if numeric, else None (row is dropped)."""
    if v is None:
        return None
    v = v.strip()
    if not v or not NUMERIC.match(v):
        return None
    return v


def round_whole(v: str) -> str:
    return str(int(Decimal(v).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def load(path: Path, value_col: str, date_col: str = "date", transform=None) -> list[tuple[dt.date, str]]:
    """Read one column of a daily CSV into sorted (date, value) pairs."""
    out: dict[dt.date, str] = {}
    for row in read_rows(path):
        v = clean_value(row.get(value_col))
        if v is None:
            continue
        d = parse_date(row[date_col])
        if d in out:
            raise BuildError(f"{path.name}: duplicate date {d}")
        out[d] = transform(v) if transform else v
    return sorted(out.items())


# --------------------------------------------------------------------------
# Series construction
# --------------------------------------------------------------------------
class Seg:
    def __init__(self, path: str, col: str, tag: str, end: str | None = None,
                 expect_start: str | None = None, transform=None):
        self.path, self.col, self.tag = path, col, tag
        self.end = dt.date.fromisoformat(end) if end else None
        self.expect_start = dt.date.fromisoformat(expect_start) if expect_start else None
        self.transform = transform


def splice(shared: Path, segs: list[Seg]):
    """Concatenate segments; each later segment starts the day after the
    previous segment's last date. Returns (rows, splice_info)."""
    rows: list[tuple[dt.date, str, str]] = []
    splices = []
    for _i, s in enumerate(segs):
        data = load(shared / s.path, s.col, transform=s.transform)
        all_data = dict(data)
        if rows:
            start = rows[-1][0] + dt.timedelta(days=1)
            if s.expect_start and start != s.expect_start:
                raise BuildError(f"{s.path}: splice starts {start}, expected {s.expect_start}")
            data = [(d, v) for d, v in data if d >= start]
        if s.end:
            data = [(d, v) for d, v in data if d <= s.end]
        if not data:
            raise BuildError(f"{s.path}: empty segment")
        if rows:
            last_d, last_v, last_tag = rows[-1]
            first_d, first_v = data[0]
            same = all_data.get(last_d)
            splices.append({
                "from": last_tag, "to": s.tag,
                "last_date": last_d, "last": last_v,
                "first_date": first_d, "first": first_v,
                "jump_pct": pct(first_v, last_v),
                "same_day_pct": pct(same, last_v) if same is not None else None,
            })
        rows.extend((d, v, s.tag) for d, v in data)
    return rows, splices


def pct(new: str, old: str) -> float:
    return (float(new) / float(old) - 1.0) * 100.0


def build_all(shared: Path):
    H = "history/"
    out: dict[str, tuple[list, list]] = {}

    def single(key, path, col, tag, **kw):
        out[key] = splice(shared, [Seg(path, col, tag, **kw)])

    for sym in ("NVDA", "AMD", "MU", "DELL"):
        single(sym, H + f"{sym}.csv", "close", "yahoo")
    for sym in ("SMH", "SOXX"):
        single(sym, H + f"{sym}.csv", "close", "yfinance")
        single(f"{sym}_adj", H + f"{sym}.csv", "adj_close", "yfinance")
    out["000660.KS"] = splice(shared, [
        Seg(H + "000660.KS.csv", "close", "yahoo"),
        Seg(H + "000660.KS_2026-06_2026-09_stooq.csv", "close", "stooq", transform=round_whole),
    ])
    # the stooq extension is specified to start 2026-06-01
    first_stooq = next(d for d, _, t in out["000660.KS"][0] if t == "stooq")
    if first_stooq != dt.date(2026, 6, 1):
        raise BuildError(f"000660.KS stooq segment starts {first_stooq}")
    single("SPX", H + "SP500_index_FRED.csv", "close", "fred-sp500")
    for sym in ("BTC", "ETH"):
        single(sym, H + f"{sym}-USD_coinbase_close.csv", "close", "coinbase")
    out["TAO"] = splice(shared, [
        Seg(H + "bybit_perp_TAOUSDT.csv", "close", "bybit-perp", end="2025-11-12"),
        Seg(H + "TAO-USD_kraken_2025-11_2026-09.csv", "close", "kraken", expect_start="2025-11-13"),
    ])
    out["NEAR"] = splice(shared, [
        Seg(H + "bybit_perp_NEARUSDT.csv", "close", "bybit-perp", end="2025-11-12"),
        Seg(H + "NEAR-USD_daily_ohlc.csv", "close", "ohlc-agg", end="2025-12-09", expect_start="2025-11-13"),
        Seg(H + "NEAR-USD_kraken_2025-12_2026-09.csv", "close", "kraken", expect_start="2025-12-10"),
    ])
    out["ICP"] = splice(shared, [
        Seg(H + "bybit_perp_ICPUSDT.csv", "close", "bybit-perp", end="2025-11-12"),
        Seg(H + "ICP-USD_daily_ohlc.csv", "close", "ohlc-agg", expect_start="2025-11-13"),
    ])
    out["FET"] = splice(shared, [
        Seg(H + "binance_spot_daily_close_from_hourly.csv", "FET", "binance-spot", end="2025-06-12"),
        Seg(H + "FET-USD_daily_ohlc.csv", "close", "ohlc-agg", expect_start="2025-06-13"),
    ])
    for sym in ("RENDER", "WLD", "VIRTUAL"):
        single(sym, H + f"bybit_perp_{sym}USDT.csv", "close", "bybit-perp")
    single("VVV", H + "VVV-USD_kraken.csv", "close", "kraken")
    single("stablecoins.total", H + "stablecoin_total_supply_defillama.csv", "total_circulating_usd", "defillama")
    single("stablecoins.usdt", H + "USDT_supply_defillama.csv", "circulating_usd", "defillama")
    single("stablecoins.usdc", H + "USDC_supply_defillama.csv", "circulating_usd", "defillama")
    single("rates.tbill_3m", H + "DTB3.csv", "dtb3_pct", "fred-dtb3")
    single("defi.aave_usdc_apy", "defi/aave_usdc_ethereum_apy_daily_dune.csv", "supply_apy_pct", "dune-aave")

    # AI sector market cap: one snapshot row
    cat = [r for r in read_rows(shared / "ai_tokens/coingecko_ai_category_totals_2026-06-30.csv")
           if r["category_id"].strip() == "artificial-intelligence"]
    if len(cat) != 1 or clean_value(cat[0]["market_cap_usd"]) is None:
        raise BuildError("artificial-intelligence category row not found")
    out["aitokens.sector_cap"] = (
        [(dt.date(2026, 6, 30), clean_value(cat[0]["market_cap_usd"]), "coingecko-category")], [])

    # VVV market cap: D 00:00Z point is the close of day D-1; drop intraday "now" point
    mc: dict[dt.date, str] = {}
    dropped = []
    for r in read_rows(shared / "ai_tokens/VVV_coingecko_market_chart_daily.csv"):
        ts = r["timestamp_utc"].strip()
        if not ts.endswith("T00:00:00Z"):
            dropped.append(ts)
            continue
        v = clean_value(r["market_cap_usd"])
        if v is None:
            continue
        d = parse_date(ts[:10]) - dt.timedelta(days=1)
        if d in mc:
            raise BuildError(f"mcap.VVV duplicate {d}")
        mc[d] = v
    if dropped != ["2026-09-19T19:27:50Z"]:
        raise BuildError(f"mcap.VVV: unexpected non-midnight points {dropped}")
    out["mcap.VVV"] = ([(d, v, "coingecko") for d, v in sorted(mc.items())], [])

    single("fees.VVV", "defi/venice_holders_revenue_daily_defillama.csv", "holders_revenue_usd", "defillama-fees")

    # Capex: USD (musd * 1e6), tag by method, skip missing
    capex_missing = []
    capex: dict[str, dict[dt.date, tuple[str, str]]] = {}
    for r in read_rows(shared / "capex/hyperscaler_capex_quarterly.csv"):
        t, method = r["ticker"].strip(), r["method"].strip()
        v = clean_value(r["capex_musd"])
        if method == "missing" or v is None:
            capex_missing.append((t, r["calendar_quarter"].strip(), r["note"].strip()))
            continue
        d = parse_date(r["period_end"])
        usd = Decimal(v) * 1_000_000
        if usd != usd.to_integral_value():
            raise BuildError(f"capex {t} {d}: non-integer USD")
        capex.setdefault(t, {})
        if d in capex[t]:
            raise BuildError(f"capex {t} duplicate {d}")
        capex[t][d] = (str(int(usd)), f"sec-xbrl-{method}")
    for t in ("AMZN", "MSFT", "GOOGL", "META"):
        out[f"capex.{t}"] = ([(d, v, tag) for d, (v, tag) in sorted(capex[t].items())], [])

    return out, capex_missing


# --------------------------------------------------------------------------
# Writing and checking
# --------------------------------------------------------------------------
def write_series(path: Path, rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["date", "close", "source"])
        for d, v, tag in rows:
            w.writerow([d.isoformat(), v, tag])


def check_series(path: Path) -> tuple[str, str, int, list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if rows[0] != ["date", "close", "source"]:
        raise BuildError(f"{path.name}: bad header {rows[0]}")
    prev = None
    tags = []
    for r in rows[1:]:
        if len(r) != 3 or any(not x or x != x.strip() for x in r):
            raise BuildError(f"{path.name}: bad row {r}")
        d = dt.date.fromisoformat(r[0])
        if d.isoformat() != r[0]:
            raise BuildError(f"{path.name}: non-ISO date {r[0]}")
        if prev is not None and d <= prev:
            raise BuildError(f"{path.name}: dates not strictly ascending at {r[0]}")
        if not NUMERIC.match(r[1]) or r[2] not in TAGS:
            raise BuildError(f"{path.name}: bad value/tag {r}")
        if not tags or tags[-1] != r[2]:
            tags.append(r[2])
        prev = d
    if len(rows) < 2:
        raise BuildError(f"{path.name}: empty")
    return rows[1][0], rows[-1][0], len(rows) - 1, tags


# --------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------
B_ = "`bybit-perp`: Bybit USDT perpetual-futures close, close to spot (BTC: median abs. diff vs Coinbase 0.05%)."
AGG = "`ohlc-agg`: aggregator not stated, day cut-off unknown (BTC/ETH closes median 0.23%, max 4.4% off Coinbase)."
KRAKEN = "`kraken`: Kraken via CryptoCompare fallback."
ETF_LAST = (" Last row (2026-07-02) may be an intraday snapshot: its source volume is unrounded,"
            " unlike every other row.")

INFO = {  # key -> (contents/units, caveats)
    "NVDA": ("NVIDIA close, USD", "Split-adjusted (10:1 on 2024-06-10), not dividend-adjusted."),
    "AMD": ("AMD close, USD", "Split-adjusted, not dividend-adjusted."),
    "MU": ("Micron close, USD", "Split-adjusted, not dividend-adjusted."),
    "DELL": ("Dell close, USD", "Split-adjusted, not dividend-adjusted."),
    "SMH": ("VanEck Semiconductor ETF close, USD", "Split-adjusted price (price return)." + ETF_LAST),
    "SMH_adj": ("SMH adj_close, USD", "Split- and dividend-adjusted (total return); equals close on the latest rows." + ETF_LAST),
    "SOXX": ("iShares Semiconductor ETF close, USD", "3:1 split of March 2024 applied (price return)." + ETF_LAST),
    "SOXX_adj": ("SOXX adj_close, USD", "Split- and dividend-adjusted (total return)." + ETF_LAST),
    "000660.KS": ("SK Hynix close, **KRW**", "Unadjusted; KRX calendar. Stooq values to 2026-08-27 are source-adjusted (~0.9998x raw) and rounded half-up to whole won here."),
    "SPX": ("S&P 500 index level", "US holidays absent."),
    "BTC": ("Bitcoin close, USD", "UTC days, no gaps."),
    "ETH": ("Ether close, USD", "UTC days, no gaps."),
    "TAO": ("Bittensor close, USD(T)", B_ + " Kraken overlap 2025-11-01..12 within 0.2%."),
    "NEAR": ("NEAR close, USD(T)", B_ + " " + AGG + " Kraken overlap 2025-12-10..24 within ~1%."),
    "ICP": ("Internet Computer close, USD(T)", B_ + " " + AGG + " 2025-10-18 missing. Ends 2025-12-24 (no later source)."),
    "FET": ("Fetch.ai/ASI close, USD(T)", "`binance-spot` is derived from 23:00 UTC hourly bars of a USDT pair (exchange inferred). " + AGG + " 2025-10-18 missing. Ends 2025-12-24 (no later source)."),
    "RENDER": ("Render close, USDT", B_ + " Listed 2024-07-26; no data after 2025-11-12."),
    "WLD": ("Worldcoin close, USDT", B_ + " Listed 2023-07-24; no data after 2025-11-12."),
    "VIRTUAL": ("Virtuals Protocol close, USDT", B_ + " Listed 2024-11-01; no data after 2025-11-12."),
    "VVV": ("Venice token close, USD", KRAKEN + " Volumes often < $1k: 2025 prints are thin-market prices."),
    "stablecoins.total": ("Total USD-pegged stablecoin supply, USD", "Stored at 6 significant figures (about +/-$0.1B)."),
    "stablecoins.usdt": ("USDT circulating supply, USD", "DefiLlama id 1."),
    "stablecoins.usdc": ("USDC circulating supply, USD", "DefiLlama id 2."),
    "rates.tbill_3m": ("3-month T-bill rate, **percent**", "Discount basis, not bond-equivalent yield. Holidays (blank in source) dropped."),
    "defi.aave_usdc_apy": ("Aave USDC supply APY, **percent**", "Asset/market not stated in source; treated as Aave v3 USDC on Ethereum (30-day mean matches DefiLlama pool to 1 bp). Spike 24.5% on 2023-07-30 (Curve incident)."),
    "aitokens.sector_cap": ("CoinGecko `artificial-intelligence` category market cap, USD", "**A single snapshot** (2026-06-30 15:58:34Z); no history exists."),
    "mcap.VVV": ("Venice token market cap, USD", "CoinGecko point stamped D 00:00Z written as the close of D-1; final intraday point (2026-09-19T19:27:50Z) dropped."),
    "fees.VVV": ("Venice daily holders revenue (buy-and-burn), USD", "On-chain buy-backs only, subscription revenue excluded; many zeros before Apr 2026 (monthly lump sums); starts mid-history."),
}
CAPEX_NOTE = ("Cash purchases of PP&E in **USD** (source musd x 1e6), date = quarter end. "
              "Excludes finance leases.")
CAPEX_INFO = {
    "capex.AMZN": ("Amazon capex, USD", CAPEX_NOTE + " `PaymentsToAcquireProductiveAssets`, **gross** (before proceeds/incentives; e.g. 83.0B vs 77.7B net in 2024)."),
    "capex.MSFT": ("Microsoft capex, USD", CAPEX_NOTE + " Calendar quarters (fiscal year ends June). 2023Q2 missing (FY2023 total 28,107M would imply 8,943M)."),
    "capex.GOOGL": ("Alphabet capex, USD", CAPEX_NOTE),
    "capex.META": ("Meta capex, USD", CAPEX_NOTE + " 2023Q1-2024Q1 missing (FY2024 37,256M minus Q2-Q4 would imply 6,400M for 2024Q1)."),
}
INFO.update(CAPEX_INFO)

FILE_PROV = {  # key -> {tag: provenance override}
    "NVDA": {"yahoo": f"`{SB} : data/NVDA.csv`"},
    "AMD": {"yahoo": f"`{SB} : data/AMD.csv`"},
    "MU": {"yahoo": f"`{SB} : data/MU.csv`"},
    "DELL": {"yahoo": f"`{SB} : data/DELL.csv`"},
    "SMH": {"yfinance": f"`{LANDON} : data/SMH.csv` (close)"},
    "SMH_adj": {"yfinance": f"`{LANDON} : data/SMH.csv` (adj_close)"},
    "SOXX": {"yfinance": f"`{LANDON} : data/SOXX.csv` (close)"},
    "SOXX_adj": {"yfinance": f"`{LANDON} : data/SOXX.csv` (adj_close)"},
    "000660.KS": {"yahoo": f"`{SB} : data/000660.KS.csv`"},
    "BTC": {"coinbase": f"`{DYLAN} : data/watch_btcusd.csv`"},
    "ETH": {"coinbase": f"`{DYLAN} : data/watch_ethusd.csv`"},
    "TAO": {"bybit-perp": f"`{BYBIT} : data/TAOUSDT.csv`", "kraken": f"`{DRROB} : data/TAO.csv`"},
    "NEAR": {"bybit-perp": f"`{BYBIT} : data/NEARUSDT.csv`", "ohlc-agg": f"`{AKOI} : data/NEAR.csv`",
             "kraken": f"`{DRROB} : data/NEAR.csv`"},
    "ICP": {"bybit-perp": f"`{BYBIT} : data/ICPUSDT.csv`", "ohlc-agg": f"`{AKOI} : data/ICP.csv`"},
    "FET": {"binance-spot": f"`{MARK6} : data/FETUSDT.csv`", "ohlc-agg": f"`{AKOI} : data/FET.csv`"},
    "RENDER": {"bybit-perp": f"`{BYBIT} : data/RENDERUSDT.csv`"},
    "WLD": {"bybit-perp": f"`{BYBIT} : data/WLDUSDT.csv`"},
    "VIRTUAL": {"bybit-perp": f"`{BYBIT} : data/VIRTUALUSDT.csv`"},
    "VVV": {"kraken": f"`{DRROB} : data/VVV.csv`"},
    "stablecoins.total": {"defillama": f"`{DYLAN} : data/stablecoin_supply.csv`"},
    "stablecoins.usdt": {"defillama": f"`{SALONI} : data/usdt_supply.csv`"},
    "stablecoins.usdc": {"defillama": f"`{SALONI} : data/usdc_supply.csv`"},
}


def provenance(key: str, tag: str) -> str:
    return FILE_PROV.get(key, {}).get(tag, TAGS[tag][1])


def fmt_pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.2f}%"


def render_readme(summary, splices, capex_missing) -> str:
    L = []
    L.append("# Bundled offline data snapshot")
    L.append("")
    L.append("Daily (and quarterly) series that flowwatch uses when it runs offline. "
             "They are real public data that other people committed to public GitHub "
             "repositories, normalized from `../shared/data/` (see the READMEs there). "
             "No live API was called.")
    L.append("")
    L.append("**Rebuild** (from the repo root, standard library only, deterministic):")
    L.append("")
    L.append("```")
    L.append("python3 scripts/build_snapshot.py            # or --shared PATH")
    L.append("```")
    L.append("")
    L.append("This file is generated by the script; ranges, row counts and splice jumps "
             "below are computed from the written files.")
    L.append("")
    L.append("**Format.** `series/<KEY>.csv`, header `date,close,source`; ISO dates, "
             "strictly ascending, one row per date, no blanks. `close` is the source "
             "value as published (stripped only; exceptions: stooq KRW rounded to whole "
             "won, capex converted to USD). Rows with blank/non-numeric values are "
             "dropped, so gaps are possible. Crypto dates are UTC days; equities use "
             "exchange-local trading days. `source` names the origin of each row.")
    L.append("")
    L.append("## Files")
    L.append("")
    L.append("| key | contents / units | first | last | rows | source tag: provenance (`owner/repo @ commit : path`) | caveats |")
    L.append("|---|---|---|---|---|---|---|")
    for key, first, last, n, tags in summary:
        contents, cav = INFO[key]
        prov = "<br>".join(f"`{t}`: {provenance(key, t)}" for t in dict.fromkeys(tags))
        if key.startswith("capex."):
            prov = "<br>".join(f"`{t}`: {TAGS[t][1]}" for t in sorted(set(tags)))
        if splices.get(key):
            sp = "; ".join(
                f"{s['from']}->{s['to']} from {s['first_date']}, jump {fmt_pct(s['jump_pct'])}"
                for s in splices[key])
            cav = f"{cav} **Splice** {sp} (see Splices)."
        L.append(f"| `{key}` | {contents} | {first} | {last} | {n} | {prov} | {cav} |")
    L.append("")
    L.append("## Splices")
    L.append("")
    L.append("Each later segment starts on the day after the previous segment's last date; "
             "every row keeps the tag of its file. *Jump* = first row of the new segment / "
             "last row of the old one - 1 (includes the market move between those dates). "
             "*Same-day* = the new source's own value on the old segment's last date vs the "
             "old value (pure source difference), where the new source has that date.")
    L.append("")
    L.append("| key | from -> to | last old row | first new row | jump | same-day |")
    L.append("|---|---|---|---|---|---|")
    for key, sps in splices.items():
        for s in sps:
            L.append(f"| `{key}` | `{s['from']}` -> `{s['to']}` | {s['last_date']} {s['last']} | "
                     f"{s['first_date']} {s['first']} | {fmt_pct(s['jump_pct'])} | {fmt_pct(s['same_day_pct'])} |")
    L.append("")
    L.append("## Source tags")
    L.append("")
    L.append("| tag | origin | provenance |")
    L.append("|---|---|---|")
    for tag, (origin, prov) in TAGS.items():
        L.append(f"| `{tag}` | {origin} | {prov} |")
    L.append("")
    L.append("## Capex rows skipped (no value in any source)")
    L.append("")
    for t, q, note in capex_missing:
        L.append(f"* {t} {q}: {note}")
    L.append("")
    L.append("## Not included")
    L.append("")
    L.append("* No AI-sector market-cap **history** exists; `aitokens.sector_cap` is one point.")
    L.append("* Equity total return (other than `SMH_adj`/`SOXX_adj`) needs "
             "`../shared/data/history/equity_dividends.csv`, which is not bundled.")
    L.append("* No data after the `last` dates above (e.g. RENDER/WLD/VIRTUAL after 2025-11-12, "
             "ICP/FET after 2025-12-24).")
    L.append("")
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=DEFAULT_SHARED,
                    help="source data dir (relative paths are relative to the repo root)")
    ap.add_argument("--out", default="data", help="output dir (relative to the repo root)")
    args = ap.parse_args(argv)
    shared = (REPO_ROOT / args.shared).resolve()
    out_dir = (REPO_ROOT / args.out).resolve()
    series_dir = out_dir / "series"
    if not shared.is_dir():
        print(f"shared data dir not found: {shared}", file=sys.stderr)
        return 2

    try:
        built, capex_missing = build_all(shared)
        series_dir.mkdir(parents=True, exist_ok=True)
        wanted = {f"{k}.csv" for k in built}
        for stale in sorted(series_dir.glob("*.csv")):
            if stale.name not in wanted:
                stale.unlink()
        summary, splices = [], {}
        for key, (rows, sps) in built.items():
            path = series_dir / f"{key}.csv"
            write_series(path, rows)
            first, last, n, tags = check_series(path)
            summary.append((key, first, last, n, tags))
            if sps:
                splices[key] = sps
        (out_dir / "README.md").write_text(render_readme(summary, splices, capex_missing),
                                           encoding="utf-8")
    except BuildError as e:
        print(f"build failed: {e}", file=sys.stderr)
        return 1

    w = max(len(k) for k, *_ in summary)
    print(f"{'key':<{w}}  {'first':<10}  {'last':<10}  {'rows':>5}  sources")
    for key, first, last, n, tags in summary:
        print(f"{key:<{w}}  {first}  {last}  {n:>5}  {','.join(tags)}")
    for key, sps in splices.items():
        for s in sps:
            print(f"splice {key}: {s['from']}->{s['to']} {s['last_date']} {s['last']} -> "
                  f"{s['first_date']} {s['first']} jump {fmt_pct(s['jump_pct'])} "
                  f"same-day {fmt_pct(s['same_day_pct'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
