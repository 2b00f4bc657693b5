"""The neutral reply every front-end renders (Telegram HTML, Discord embeds, plain text)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Table:
    """Aligned rows; adapters may split a long table only between rows."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    heading: str = ""


@dataclass(frozen=True)
class Reply:
    title: str
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    asof: str = ""
    chart_png: bytes | None = field(default=None, repr=False)
    error: bool = False
    command: str = ""

    @property
    def footer(self) -> str:
        """Source names and the as-of time, ending every metric reply."""
        parts = []
        if self.sources:
            parts.append("Source: " + ", ".join(self.sources))
        if self.asof:
            parts.append(f"as of {self.asof}")
        return " · ".join(parts)

    def with_command(self, command: str) -> Reply:
        return replace(self, command=command)


def error_reply(message: str, usage: str = "") -> Reply:
    """A one-line user error, with the usage when there is one."""
    text = message if not usage else f"{message} (usage: {usage})"
    return Reply(title=text, error=True)
