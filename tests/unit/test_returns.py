import pandas as pd
import pytest

from services.returns import (
    change_over,
    drawdown,
    equal_weight_index,
    is_new_high,
    period_return,
)
from services.series import merge_series
from services.windows import YTD, Window, parse_window
from tests.helpers import d, series

PRICES = series("X", {
    "2023-12-28": 90.0, "2023-12-29": 100.0, "2024-01-02": 110.0, "2024-01-03": 120.0,
    "2024-02-01": 150.0, "2024-03-01": 135.0,
}).values


def test_since_uses_last_close_strictly_before_start() -> None:
    result = period_return(PRICES, parse_window("since:2024-01-02"), d("2024-03-01"))
    assert result is not None
    assert result.base_date == d("2023-12-29")
    assert result.pct == pytest.approx(35.0)


def test_ytd_base_is_last_close_of_previous_year() -> None:
    result = period_return(PRICES, YTD, d("2024-02-15"))
    assert result is not None
    assert (result.base_close, result.end_close) == (100.0, 150.0)
    assert result.pct == pytest.approx(50.0)


def test_day_window_base_is_on_or_before_asof_minus_days() -> None:
    result = period_return(PRICES, Window("days", days=30), d("2024-03-01"))
    # 2024-03-01 minus 30 days = 2024-01-31: last close on or before is 2024-01-03 (120).
    assert result is not None
    assert result.base_date == d("2024-01-03")
    assert result.pct == pytest.approx(12.5)


def test_nothing_after_asof_is_used() -> None:
    result = period_return(PRICES, YTD, d("2024-01-02"))
    assert result is not None
    assert result.end_close == 110.0


def test_no_return_when_series_does_not_reach_back() -> None:
    assert period_return(PRICES, parse_window("since:2023-01-01"), d("2024-03-01")) is None


def test_drawdown_against_max_up_to_asof() -> None:
    dd = drawdown(PRICES, d("2024-03-01"))
    assert dd is not None
    assert dd.peak_date == d("2024-02-01")
    assert dd.pct == pytest.approx(-10.0)
    assert drawdown(PRICES, d("2024-02-01")).pct == 0.0  # type: ignore[union-attr]


def test_new_high_is_latest_at_or_above_all_earlier() -> None:
    assert is_new_high(PRICES, d("2024-02-01"))
    assert not is_new_high(PRICES, d("2024-03-01"))
    flat = series("F", {"2024-01-01": 5.0, "2024-01-02": 5.0}).values
    assert is_new_high(flat, d("2024-01-02"))


def test_change_over_days() -> None:
    supply = series("S", {"2024-01-01": 100.0, "2024-01-08": 110.0, "2024-01-10": 121.0}).values
    assert change_over(supply, 7, d("2024-01-10")) == pytest.approx((21.0, 21.0))
    assert change_over(supply, 30, d("2024-01-10")) is None


def test_equal_weight_index_chains_members_present_on_both_days() -> None:
    a = series("A", {"2024-01-01": 10.0, "2024-01-02": 11.0, "2024-01-03": 11.0}).values
    b = series("B", {"2024-01-02": 50.0, "2024-01-03": 40.0}).values
    index = equal_weight_index([a, b], d("2024-01-03"))
    # day 2: only A has a return (+10%); day 3: A 0%, B -20% -> mean -10%.
    assert index.tolist() == pytest.approx([100.0, 110.0, 99.0])
    assert isinstance(index.index, pd.DatetimeIndex)


def test_merge_keeps_older_history_and_prefers_fresh_values() -> None:
    old = series("BTC", {"2024-01-01": 1.0, "2024-01-02": 2.0}, "Coinbase")
    new = series("BTC", {"2024-01-02": 2.5, "2024-01-03": 3.0}, "CoinGecko")
    merged = merge_series(old, new)
    assert merged.values.tolist() == [1.0, 2.5, 3.0]
    assert merged.source == "Coinbase, CoinGecko"
    assert merge_series(None, new) is new
