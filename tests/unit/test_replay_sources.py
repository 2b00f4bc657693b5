"""A replay cut names exactly the sources of the rows it keeps, in order of first use."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from services.sources.replay import FILING_LAG, SnapshotData, source_name

SERIES = Path(__file__).resolve().parents[2] / "data" / "series"


def sources_from_csv(key: str, asof: date) -> str:
    """Plain csv: distinct source names of the rows on or before the cut, as first seen."""
    cutoff = asof - FILING_LAG if key.startswith("capex.") else asof
    with (SERIES / f"{key}.csv").open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if date.fromisoformat(r["date"]) <= cutoff]
    return ", ".join(dict.fromkeys(source_name(r["source"]) for r in rows))


@pytest.mark.parametrize("asof", [date(2023, 7, 1), date(2024, 6, 3), date(2025, 11, 20),
                                  date(2026, 8, 20)])
def test_each_cut_names_the_sources_of_its_rows(asof: date) -> None:
    data = SnapshotData(SERIES)
    cut = data.upto(asof)
    assert cut
    for key, series in cut.items():
        assert series.source == sources_from_csv(key, asof), key
        assert series.values.index[-1] <= pd.Timestamp(asof)


def test_spliced_series_name_every_source_they_use() -> None:
    cut = SnapshotData(SERIES).upto(date(2026, 8, 20))
    spliced = {k: s.source for k, s in cut.items() if ", " in s.source}
    assert spliced  # the snapshot splices sources (data/README.md), so this is exercised
    for key, names in spliced.items():
        assert names == sources_from_csv(key, date(2026, 8, 20))
