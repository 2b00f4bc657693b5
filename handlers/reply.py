"""The neutral reply every front-end renders (Telegram HTML, Discord embeds, plain text)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Table:
    """Aligned rows; adapters may split a long table only between rows."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    heading: str = ""


@dataclass(frozen=True)
class Button:
    """A button under a reply; its data (at most 64 bytes) comes back when it is pressed."""

    label: str
    data: str


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
    buttons: tuple[tuple[Button, ...], ...] = ()  # rows; where set, in place of Refresh

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


def reply_to_json(reply: Reply) -> str:
    """The reply as JSON, without its chart (that travels on its own), for a message built
    now and rendered later by a platform (the daily digest in the outbox)."""
    fields = asdict(replace(reply, chart_png=None))
    fields.pop("chart_png")
    return json.dumps(fields, separators=(",", ":"))


def reply_from_json(text: str) -> Reply | None:
    """The reply `reply_to_json` wrote, or None when `text` is not one."""
    try:
        fields: dict[str, Any] = json.loads(text)
        tables = tuple(Table(tuple(t["columns"]), tuple(tuple(r) for r in t["rows"]),
                             t.get("heading", "")) for t in fields.pop("tables", ()))
        buttons = tuple(tuple(Button(b["label"], b["data"]) for b in row)
                        for row in fields.pop("buttons", ()))
        return Reply(**{**fields, "tables": tables, "buttons": buttons,
                        "notes": tuple(fields.get("notes", ())),
                        "sources": tuple(fields.get("sources", ()))})
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
