"""The bundled snapshot's rows, cut at the stand-in's "today"."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERIES = ROOT / "data" / "series"
UPSTREAM = ROOT / "tests" / "fixtures" / "upstream"

Rows = list[tuple[date, float]]


@cache
def _rows(key: str) -> tuple[tuple[date, float], ...]:
    path = SERIES / f"{key}.csv"
    if not path.exists():
        return ()
    with path.open(newline="") as fh:
        return tuple((date.fromisoformat(r["date"]), float(r["close"]))
                     for r in csv.DictReader(fh))


def recorded(rel: str) -> bytes:
    return (UPSTREAM / rel).read_bytes()


@dataclass
class Market:
    """What every stand-in serves: the snapshot up to `today`, with per-test overrides."""

    today: date
    extra: dict[str, Rows] = field(default_factory=dict)
    ends: dict[str, date] = field(default_factory=dict)  # a truncated answer: cut there

    def rows(self, key: str, start: date | None = None, end: date | None = None) -> Rows:
        rows = self.extra.get(key) or list(_rows(key))
        last = min(end or self.today, self.today, self.ends.get(key, self.today))
        return [(d, v) for d, v in rows if d <= last and (start is None or d >= start)]
