"""Number formatting shared by every reply (DESIGN.md: one decimal, $309.3B)."""

from __future__ import annotations

from handlers.reply import Reply, Table
from services.store import Snapshot

NA = "n/a"


def pct(value: float | None) -> str:
    return NA if value is None else f"{value:+.1f}%"


def pp(value: float | None) -> str:
    return NA if value is None else f"{value:+.1f} pp"


def bp(value: float | None) -> str:
    return NA if value is None else f"{value:+.0f} bp"


def rate(value: float | None) -> str:
    return NA if value is None else f"{value:.2f}%"


def usd(value: float | None, signed: bool = False) -> str:
    """$309.3B, $1.2T, $845.0M; signed adds + or -."""
    if value is None:
        return NA
    sign = ("+" if value >= 0 else "-") if signed else ("-" if value < 0 else "")
    size = abs(value)
    for bound, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= bound:
            return f"{sign}${size / bound:.1f}{suffix}"
    return f"{sign}${size:.2f}"


def price(value: float | None, currency: str = "USD") -> str:
    if value is None:
        return NA
    if currency == "KRW":
        return f"₩{value:,.0f}"
    if value >= 1000:
        return f"${value:,.0f}"
    if value >= 1:
        return f"${value:,.2f}"
    return f"${value:.4f}"


def stamp_reply(title: str, tables: list[Table], notes: list[str], snap: Snapshot,
                sources: tuple[str, ...], mode: str) -> Reply:
    """Attach source names, the as-of time and any staleness to a metric reply."""
    all_notes = list(notes)
    if snap.stale:
        all_notes.append(f"⚠ stale: {snap.stale_reason} (last computed {snap.computed_at})")
    asof = f"{snap.asof} (replay snapshot)" if mode == "replay" else snap.computed_at
    return Reply(title=title, tables=tuple(tables), notes=tuple(all_notes),
                 sources=sources, asof=asof)


def stale_notes(items: list[tuple[str, str | None, bool]]) -> list[str]:
    """'NVDA last quote 2026-05-29' for every (label, day, stale) that lags the as-of date."""
    lagging = [f"{label} {day}" for label, day, stale in items if stale and day]
    if not lagging:
        return []
    return ["stale (last data on or before as-of): " + ", ".join(lagging)]
