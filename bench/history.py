"""Longer synthetic history for bench.refresh: the bundled series tiled backwards in time.

Each series becomes `factor` blocks: the real one last, and before it copies of the real
history, every other one time-reversed, so each value stays in the real range, returns stay
sane and block edges meet the same value. Blocks are shifted back by whole multiples of four
years (longer than the snapshot's span), so quarter ends stay quarter ends, leap days stay
leap days and blocks never overlap.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

SHIFT_YEARS = 4  # a multiple of 4 longer than any series' span


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _back(day: str, years: int) -> str:
    d = date.fromisoformat(day)
    return d.replace(year=d.year - years).isoformat()


def stretch(src_dir: Path, dst_dir: Path, factor: int) -> int:
    """Write `src_dir`/series/*.csv into `dst_dir`/series, `factor` times as long; rows."""
    out_dir = dst_dir / "series"
    out_dir.mkdir(parents=True, exist_ok=True)
    total = 0
    for path in sorted((src_dir / "series").glob("*.csv")):
        rows = _rows(path)
        spans = date.fromisoformat(rows[-1]["date"]) - date.fromisoformat(rows[0]["date"])
        if spans.days >= SHIFT_YEARS * 365:
            raise ValueError(f"{path.name} spans more than {SHIFT_YEARS} years")
        tiled: list[tuple[str, str, str]] = []
        for block in range(factor - 1, 0, -1):  # oldest first
            values = rows[::-1] if block % 2 else rows
            tiled += [(_back(r["date"], block * SHIFT_YEARS), v["close"], v["source"])
                      for r, v in zip(rows, values, strict=True)]
        tiled += [(r["date"], r["close"], r["source"]) for r in rows]
        with (out_dir / path.name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(("date", "close", "source"))
            writer.writerows(tiled)
        total += len(tiled)
    return total
