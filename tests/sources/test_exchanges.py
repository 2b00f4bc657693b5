"""Parsers of the keyless candle providers, Stooq and Tiingo, on documented sample bodies
(tests/fixtures/upstream/DOCUMENTED.md) and recorded Stooq downloads."""

from __future__ import annotations

from datetime import date

import pytest

from services.sources.exchanges import parse_binance, parse_coinbase, parse_kraken
from services.sources.http import BadPayload
from services.sources.stooq import parse_stooq_csv
from services.sources.tiingo import parse_tiingo
from tests.sources.conftest import load, text

DOC = "documented"


def test_coinbase_candles_newest_first_are_sorted_by_utc_day() -> None:
    ts = parse_coinbase(load(f"{DOC}/coinbase/candles_BTC-USD_86400_docshape.json"), "BTC")
    assert ts.first_date == date(2023, 11, 15) and ts.last_date == date(2023, 11, 16)
    assert ts.values.tolist() == [36566.2, 37433.1]  # the close column, not open or high


def test_kraken_ohlc_strings_and_its_error_array() -> None:
    ts = parse_kraken(load(f"{DOC}/kraken/ohlc_XBTUSD_1440_docexample.json"), "BTC")
    assert ts.values.tolist() == [37200.0, 37800.0]
    assert ts.first_date == date(2023, 11, 14)
    with pytest.raises(BadPayload, match="Unknown asset pair"):
        parse_kraken(load(f"{DOC}/kraken/ohlc_error_unknown_pair.json"), "X")


def test_binance_klines_milliseconds_and_its_error_object() -> None:
    ts = parse_binance(load(f"{DOC}/binance/klines_BTCUSDT_1d_docshape.json"), "BTC")
    assert ts.values.tolist() == [36566.2, 37433.1]
    assert ts.last_date == date(2023, 11, 16)
    with pytest.raises(BadPayload, match="Invalid symbol"):
        parse_binance(load(f"{DOC}/binance/error_invalid_symbol.json"), "X")


def test_stooq_recorded_csv_both_headers_and_the_keyless_html_page() -> None:
    english = parse_stooq_csv(text("stooq/nvda_us_d_trimmed.csv"), "NVDA")
    polish = parse_stooq_csv(text("stooq/nvda_us_d_stooq_pl_polish_header_trimmed.csv"),
                             "NVDA")
    assert english.last_date == date(2025, 2, 7)
    assert polish.values.iloc[-1] > 0
    with pytest.raises(BadPayload, match="set STOOQ_API_KEY"):
        parse_stooq_csv(text(f"{DOC}/stooq/keyless_html_200.html"), "NVDA")


def test_tiingo_close_and_adjusted_close() -> None:
    data = parse_tiingo(load(f"{DOC}/tiingo/daily_prices_nvda_docshape.json"), "NVDA")
    assert data["NVDA"].values.iloc[0] == 481.68
    assert data["NVDA_adj"].values.iloc[0] == 48.1552  # split-adjusted back in time
    with pytest.raises(BadPayload, match="not found"):
        parse_tiingo({"detail": "Error: Ticker 'X' not found"}, "X")
