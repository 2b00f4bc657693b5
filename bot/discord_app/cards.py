"""A table too wide for a phone's code block, as Discord shows it without monospace: embed
fields (one per row) when they fit one embed, else bold-headed markdown cards."""

from __future__ import annotations

from dataclasses import dataclass

from discord.utils import escape_markdown

from handlers.reply import Table

PHONE_WIDTH = 34  # monospace characters a phone shows on one line (as in Telegram)
FIELDS_PER_EMBED = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
BLANK = "\u200b"  # Discord refuses an empty field name or value


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    inline: bool

    @property
    def size(self) -> int:
        return len(self.name) + len(self.value)


def _pair(label: str, value: str) -> str:
    return f"{label}: {value}" if label and value else label or value


def _row_lines(table: Table, cells: tuple[str, ...]) -> list[str]:
    labels = [*table.columns[1:], *[""] * len(cells)]
    return [_pair(escape_markdown(label), escape_markdown(cell))
            for label, cell in zip(labels, cells, strict=False) if cell]


def _is_pairs(table: Table) -> bool:
    return max(map(len, table.rows), default=0) <= 2  # a label and a value


def table_fields(table: Table) -> list[Field] | None:
    """One field per row (name: first cell; value: the rest), or None when they do not fit
    one embed's fields."""
    if not table.rows or len(table.rows) > FIELDS_PER_EMBED:
        return None
    pairs = _is_pairs(table)
    fields = []
    for head, *cells in table.rows:
        value = "\n".join(_row_lines(table, tuple(cells))) if not pairs else \
            escape_markdown(" ".join(cells))
        name = escape_markdown(head)
        if len(name) > FIELD_NAME_MAX or len(value) > FIELD_VALUE_MAX:
            return None
        fields.append(Field(name or BLANK, value or BLANK, inline=pairs))
    return fields


def card_blocks(table: Table) -> list[str]:
    """Markdown cards, one block per row (a message splits only between them)."""
    if _is_pairs(table):
        return [_pair(f"**{escape_markdown(row[0])}**" if row[0] else "",
                      escape_markdown(" ".join(row[1:]))) for row in table.rows]
    return ["\n".join([f"**{escape_markdown(head)}**" if head else BLANK,
                       *_row_lines(table, tuple(cells))]) for head, *cells in table.rows]
