from datetime import date

import pytest

from services.windows import Window, WindowError, parse_window
from tests.helpers import d


@pytest.mark.parametrize(
    ("text", "label", "cutoff", "strict"),
    [
        ("ytd", "ytd", "2026-01-01", True),
        ("YTD", "ytd", "2026-01-01", True),
        ("30d", "30d", "2026-04-29", False),
        ("90d", "90d", "2026-02-28", False),
        ("1y", "1y", "2025-05-29", False),
        ("since:2024-01-01", "since:2024-01-01", "2024-01-01", True),
    ],
)
def test_parse_window_and_cutoff(text: str, label: str, cutoff: str, strict: bool) -> None:
    window = parse_window(text)
    assert window.label == label
    assert window.cutoff(d("2026-05-29")) == (d(cutoff), strict)


def test_one_year_back_from_leap_day() -> None:
    assert Window("years").cutoff(date(2024, 2, 29)) == (date(2023, 2, 28), False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("banana", "unknown window 'banana'"),
        ("since:2024-13-45", "bad date in 'since:2024-13-45'"),
        ("0d", "between 1d and 3660d"),
        ("x" * 5000, "unknown window 'xxxxxxxx"),
    ],
)
def test_bad_windows_name_the_value(text: str, message: str) -> None:
    with pytest.raises(WindowError, match=message) as info:
        parse_window(text)
    assert "\n" not in str(info.value)
    assert len(str(info.value)) < 120
