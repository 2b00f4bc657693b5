"""The chart cache key; meant to move into services/keys.py as `Keys.chart(...)`."""

from __future__ import annotations

from datetime import date

from services.keys import Keys
from services.windows import Window


def chart_cache_key(keys: Keys, chart: str, window: Window, asof: date) -> str:
    """`{prefix}{c}:chart:<chart>:<window label>:<as-of>`; `{c}` keeps charts in one slot."""
    return f"{keys.prefix}{{c}}:chart:{chart}:{window.label}:{asof.isoformat()}"
