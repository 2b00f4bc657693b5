"""Small shape checks shared by the provider parsers (pure, no I/O)."""

from __future__ import annotations

import logging
import math
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from services.series import MarketData
from services.sources.http import BadPayload

logger = logging.getLogger(__name__)
_gaps: Counter[str] = Counter()  # per provider, summed into one log line per collection


def expect_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadPayload(f"{what}: expected an object, got {type(value).__name__}")
    return value


def expect_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadPayload(f"{what}: expected a list, got {type(value).__name__}")
    return value


def first_dict(value: Any, what: str) -> dict[str, Any]:
    items = expect_list(value, what)
    if not items:
        raise BadPayload(f"{what}: empty list")
    return expect_dict(items[0], f"{what}[0]")


def number_or_none(value: Any) -> float | None:
    """A finite float from a JSON number or numeric string; None for null, '.', '' or junk."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        try:
            out = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return out if math.isfinite(out) else None


def no_values(what: str, rows: int) -> BadPayload:
    """An answer with no usable value is a failed fetch, never "no new data"."""
    if not rows:
        return BadPayload(f"{what}: empty answer")
    return BadPayload(f"{what}: no values ({rows} rows, every value missing)")


def utc_date(seconds: float) -> date:
    return datetime.fromtimestamp(seconds, UTC).date()


def skip_gap(provider: str, what: str) -> None:
    """A bare 0/null where an object belongs: a gap, left out (never a zero), counted; the
    collector logs one summary line instead of one warning per point."""
    _gaps[provider] += 1
    logger.debug("upstream gap skipped: provider=%s item=%s", provider, what)


def take_gap_counts() -> dict[str, int]:
    """Gaps counted since the last call, per provider (and the counter reset)."""
    counts = dict(_gaps)
    _gaps.clear()
    return counts


def known_upto(data: MarketData, asof: date) -> MarketData:
    """Only what was known on or before `asof`; series left empty are dropped."""
    out = {key: ts.upto(asof) for key, ts in data.items()}
    return {key: ts for key, ts in out.items() if not ts.values.empty}
