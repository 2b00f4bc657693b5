"""One staleness table: the code's STALE_LIMITS are what README and /help conventions say."""

from __future__ import annotations

import re
from pathlib import Path

from handlers.conventions import conventions_reply
from services.baskets import Baskets
from services.catalog import STALE_LIMITS, stale_after

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_prints_the_staleness_table_of_the_code() -> None:
    rows = re.findall(r"^\| (\d+) days \| (.+) \|$", README.read_text(encoding="utf-8"), re.M)
    assert [(int(days), what) for days, what in rows] == [(s.days, s.what)
                                                          for s in STALE_LIMITS]


def test_help_conventions_prints_the_same_table() -> None:
    reply = conventions_reply(Baskets(), "2023-06-01")
    stale = next(t for t in reply.tables if t.heading == "Staleness limits")
    assert stale.rows == tuple((f"{s.days} days", s.what) for s in STALE_LIMITS)
    text = " ".join(f"{a} {b}" for t in reply.tables for a, b in t.rows)
    for phrase in ("previous year's last close", "same calendar date one year earlier",
                   "history starts 2023-06-01", "45 days after the quarter ends",
                   "Amazon gross of proceeds", "Microsoft without finance leases",
                   "becomes an APY", "equal weight; AI: NVDA"):
        assert phrase in text


def test_each_series_kind_has_its_limit() -> None:
    assert stale_after("defi.aave_usdc_apy") == 3
    assert stale_after("stablecoins.total") == 2
    assert stale_after("rates.tbill_3m") == 7
    assert stale_after("TAO") == 2 and stale_after("NVDA") == 6
    assert stale_after("capex.AMZN") == 200
