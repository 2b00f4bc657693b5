"""Return windows (ytd, 30d, 90d, 1y, since:YYYY-MM-DD) and their base dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

WINDOW_HELP = "ytd, 30d, 90d, 1y, since:YYYY-MM-DD"
DEFAULT_SINCE = date(2024, 1, 1)
_DAYS = re.compile(r"^(\d{1,4})d$")


class WindowError(ValueError):
    """A window the user typed cannot be understood."""


@dataclass(frozen=True)
class Window:
    """How far back a return is measured.

    kind "since": base is the last close strictly before `start`.
    kind "ytd": base is the last close of the previous year.
    kind "days"/"years": base is the last close on or before asof minus the span.
    """

    kind: str
    start: date | None = None
    days: int = 0

    @property
    def label(self) -> str:
        if self.kind == "since" and self.start is not None:
            return f"since:{self.start.isoformat()}"
        if self.kind == "ytd":
            return "ytd"
        if self.kind == "years":
            return "1y"
        return f"{self.days}d"

    def describe(self, asof: date) -> str:
        if self.kind == "ytd":
            return f"year to date ({asof.year})"
        if self.kind == "since" and self.start is not None:
            return f"since {self.start.isoformat()}"
        return f"last {self.label}"

    def cutoff(self, asof: date) -> tuple[date, bool]:
        """(date, strict): base = last close before (strict) or on that date."""
        if self.kind == "ytd":
            return date(asof.year, 1, 1), True
        if self.kind == "since" and self.start is not None:
            return self.start, True
        if self.kind == "years":
            try:
                return asof.replace(year=asof.year - 1), False
            except ValueError:  # 29 February
                return asof.replace(year=asof.year - 1, day=28), False
        return asof - timedelta(days=self.days), False

    def bases(self, calendar: pd.DatetimeIndex) -> pd.DatetimeIndex:
        """For each date, the day whose last close on or before it is the base (the
        vectorized `cutoff`: a strict cutoff looks one day earlier)."""
        if self.kind == "ytd":
            return calendar.to_period("Y").to_timestamp() - pd.Timedelta(days=1)
        if self.kind == "since" and self.start is not None:
            return pd.DatetimeIndex([pd.Timestamp(self.start) - pd.Timedelta(days=1)]
                                    * len(calendar))
        if self.kind == "years":
            return calendar - pd.DateOffset(years=1)  # 29 February -> 28 February
        return calendar - pd.Timedelta(days=self.days)


YTD = Window("ytd")
SINCE_2024 = Window("since", start=DEFAULT_SINCE)
STANDARD_WINDOWS = (YTD, Window("days", days=30), Window("days", days=90), Window("years"),
                    SINCE_2024)


def parse_window(text: str) -> Window:
    """Parse a window argument; raises WindowError with a message naming the bad value."""
    raw = text.strip().lower()
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    if raw == "ytd":
        return YTD
    if raw == "1y":
        return Window("years")
    if raw.startswith("since:"):
        return Window("since", start=_parse_date(raw[6:], shown))
    match = _DAYS.match(raw)
    if match:
        days = int(match.group(1))
        if not 1 <= days <= 3660:
            raise WindowError(f"window '{shown}' must be between 1d and 3660d")
        return Window("days", days=days)
    raise WindowError(f"unknown window '{shown}'; try {WINDOW_HELP}")


def _parse_date(text: str, shown: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise WindowError(f"bad date in '{shown}'; use since:YYYY-MM-DD") from None
