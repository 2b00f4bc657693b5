"""Render a neutral Reply as Telegram HTML messages, each within Telegram's 4,096 limit.

Laid out for a phone: a table whose lines fit PHONE_WIDTH monospace characters stays an
aligned <pre> block; a wider one becomes cards (a bold heading per row, one "label: value"
line per cell), which wrap gracefully in a proportional font. Chosen per table, by width."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from html import escape

from bot.text import render_table
from handlers.reply import Reply, Table

MESSAGE_LIMIT = 4096
RENDERED_REPLIES_KEPT = 256
PHONE_WIDTH = 34  # monospace characters a phone shows on one line (35-40), with a margin
_WRAP = {"b": ("<b>", "</b>"), "i": ("<i>", "</i>"), "pre": ("<pre>", "</pre>"), "": ("", "")}


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class _Line:
    """One raw (unescaped) line of a block; a message never splits inside one."""

    block: int
    style: str  # a key of _WRAP
    text: str
    header: str = ""  # table column line, repeated when a table continues in a new message


def _lines(reply: Reply) -> list[_Line]:
    out = [_Line(0, "b", reply.title)]
    block = 1
    for table in reply.tables:
        if table.heading:
            out.append(_Line(block, "b", table.heading))
            block += 1
        rendered = render_table(replace(table, heading=""))
        if all(len(line) <= PHONE_WIDTH for line in rendered):
            header = rendered[0] if _has_columns(table) and rendered else ""
            out += [_Line(block, "pre", line, header if i else "")
                    for i, line in enumerate(rendered)]
            block += 1
        else:
            cards, block = _cards(table, block)
            out += cards
    if reply.notes:
        out += [_Line(block, "", note) for note in reply.notes]
        block += 1
    if reply.footer:
        out.append(_Line(block, "i", reply.footer))
    return out


def _has_columns(table: Table) -> bool:
    return any(table.columns)


def _pair(label: str, value: str) -> str:
    return f"{label}: {value}" if label and value else label or value


def _cards(table: Table, block: int) -> tuple[list[_Line], int]:
    """A wide table as cards: 'label: value' lines (two columns: one line per row), else a
    bold heading per row (its first cell) over one line per other non-empty cell."""
    if max(map(len, table.rows), default=0) <= 2:  # a label and a value
        lines = [_Line(block, "", _pair(row[0], " ".join(row[1:]))) for row in table.rows]
        return lines, block + 1
    out: list[_Line] = []
    for head, *cells in table.rows:
        out.append(_Line(block, "b", head))
        labels = [*table.columns[1:], *[""] * len(cells)]
        out += [_Line(block, "", _pair(label, cell))
                for label, cell in zip(labels, cells, strict=False) if cell]
        block += 1
    return out, block


def _render(lines: list[_Line]) -> str:
    """HTML for consecutive lines: one wrapped element per run of one style in a block, runs
    a line apart, blocks a blank line apart."""
    if lines and lines[0].header:
        lines = [replace(lines[0], text=lines[0].header, header=""), *lines]
    html: list[str] = []
    current: list[str] = []
    for i, line in enumerate(lines):
        current.append(escape(line.text, quote=False))
        following = lines[i + 1] if i + 1 < len(lines) else None
        if following is None or (following.block, following.style) != (line.block, line.style):
            start, end = _WRAP[line.style]
            html.append(start + "\n".join(current) + end)
            if following is not None:
                html.append("\n\n" if following.block != line.block else "\n")
            current = []
    return "".join(html)


def _cut(line: _Line, limit: int) -> list[_Line]:
    """Split one over-long line into pieces that each fit a message on their own."""
    pieces: list[_Line] = []
    rest = line.text
    while rest:
        size = len(rest)
        while size > 1 and tg_len(_render([replace(line, text=rest[:size])])) > limit:
            size = size * 3 // 4
        pieces.append(replace(line, text=rest[:size], header=""))
        rest = rest[size:]
    return pieces


def pack(lines: list[_Line], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Greedily fill messages with whole lines, in order."""
    messages: list[str] = []
    current: list[_Line] = []
    for line in lines:
        if current and tg_len(_render([*current, line])) <= limit:
            current.append(line)
            continue
        if current:
            messages.append(_render(current))
        if tg_len(_render([line])) <= limit:
            current = [line]
            continue
        *whole, last = _cut(line, limit)
        messages += [_render([piece]) for piece in whole]
        current = [last]
    if current:
        messages.append(_render(current))
    return messages


def render_html(reply: Reply, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The messages for one reply: an error is one plain line, a result titled and footed."""
    if reply.chart_png is not None:  # not worth hashing (or keeping) the image for the cache
        return list(_render_reply(reply, limit))
    try:
        return list(_render_cached(reply, limit))
    except TypeError:  # an unhashable field (a list where a tuple belongs): render anew
        return list(_render_reply(reply, limit))


def _render_reply(reply: Reply, limit: int) -> tuple[str, ...]:
    if reply.error:
        return tuple(pack([_Line(0, "", " ".join(reply.title.split()))], limit))
    return tuple(pack(_lines(reply), limit))


# Every chat asking the same command between two collections gets an equal Reply; rendering
# it again is wasted work. Equal replies render equally, so this cache is never stale.
_render_cached = lru_cache(maxsize=RENDERED_REPLIES_KEPT)(_render_reply)
