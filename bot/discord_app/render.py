"""Render a neutral Reply as Discord messages: embeds within every Discord limit.

A table that fits a phone (PHONE_WIDTH monospace characters) is an aligned code block; a
wider one becomes embed fields or markdown cards (bot/discord_app/cards.py)."""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord.utils import escape_markdown

from bot.discord_app.cards import PHONE_WIDTH, Field, card_blocks, table_fields
from bot.text import render_table
from handlers.reply import Reply, Table

# Discord's documented limits (characters, unless named otherwise).
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000  # per message, summed over all its embeds
EMBEDS_PER_MESSAGE = 10
CONTENT_MAX = 2000

COLOUR = discord.Colour(0x2B6CB0)
CHART_NAME = "chart.png"
PAGE_SUFFIX_MAX = len(" (99/99)")
FENCE_OPEN, FENCE_CLOSE = "```\n", "\n```"
BACKTICK_LOOKALIKE = "\u02cb"  # a ` inside a cell would end the code block early


@dataclass(frozen=True)
class _Part:
    """One embed's body: a description, or a heading over fields."""

    description: str = ""
    fields: tuple[Field, ...] = ()

    @property
    def size(self) -> int:
        return len(self.description) + sum(f.size for f in self.fields)


@dataclass(frozen=True)
class OutgoingMessage:
    """One Discord message: plain content (errors) or embeds, optionally with the chart."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = ()
    chart_png: bytes | None = None


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str, limit: int = CONTENT_MAX) -> str:
    return clip(" ".join(text.split()), limit)


def _split_text(text: str, limit: int) -> list[str]:
    """Split prose at line or word boundaries into pieces of at most `limit` characters."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip()
    return [*pieces, text] if text else pieces


def _table_blocks(table: Table, limit: int) -> list[str]:
    """A table as monospace code blocks of at most `limit` characters, split on whole rows."""
    lines = [line.replace("`", BACKTICK_LOOKALIKE) for line in render_table(table)]
    if table.heading:
        lines = lines[1:]
    header = [clip(lines.pop(0), limit // 4)] if any(table.columns) and lines else []
    heading = f"**{escape_markdown(clip(table.heading, 200))}**\n" if table.heading else ""
    fixed = len(heading) + len(FENCE_OPEN) + len(FENCE_CLOSE) + sum(len(h) + 1 for h in header)
    room = limit - fixed - len(" (cont.)")
    blocks: list[str] = []
    chunk: list[str] = []
    for line in (clip(x, room) for x in lines):
        if chunk and sum(len(c) + 1 for c in chunk) + len(line) > room:
            blocks.append(_fence(heading, header, chunk, cont=bool(blocks)))
            chunk = []
        chunk.append(line)
    if chunk or not blocks:
        blocks.append(_fence(heading, header, chunk, cont=bool(blocks)))
    return blocks


def _fence(heading: str, header: list[str], rows: list[str], cont: bool) -> str:
    if heading and cont:
        heading = heading.rstrip("\n") + " (cont.)\n"
    return heading + FENCE_OPEN + "\n".join([*header, *rows]) + FENCE_CLOSE


def fits_phone(table: Table) -> bool:
    return all(len(line) <= PHONE_WIDTH for line in render_table(table)[bool(table.heading):])


def _parts(reply: Reply, limit: int) -> list[_Part]:
    """Embed bodies in reply order: runs of text blocks packed into descriptions, and each
    wide table that fits one embed's fields as its own embed."""
    parts: list[_Part] = []
    text: list[str] = []

    def flush() -> None:
        parts.extend(_Part(description=d) for d in _pack(text, limit))
        text.clear()

    for table in reply.tables:
        if fits_phone(table):
            text.extend(_table_blocks(table, limit))
            continue
        fields = table_fields(table)
        heading = f"**{escape_markdown(clip(table.heading, 200))}**" if table.heading else ""
        if fields is None:
            text.extend([heading] if heading else [])
            text.extend(piece for card in card_blocks(table) for piece in _split_text(card, limit))
            continue
        flush()
        parts.append(_Part(description=heading, fields=tuple(fields)))
    text.extend(piece for note in reply.notes for piece in _split_text(escape_markdown(note),
                                                                       limit))
    flush()
    return parts


def _pack(items: list[str], limit: int, sep: str = "\n") -> list[str]:
    """Greedily join items (each within `limit`) into as few strings within `limit` as fit."""
    packed: list[str] = []
    for item in items:
        if packed and len(packed[-1]) + len(sep) + len(item) <= limit:
            packed[-1] += sep + item
        else:
            packed.append(item)
    return packed


def _pages(parts: list[_Part], budget: int) -> list[list[_Part]]:
    """Group embed bodies into messages: at most 10 embeds and `budget` characters each."""
    pages: list[list[_Part]] = []
    used = 0
    for part in parts:
        if not pages or len(pages[-1]) == EMBEDS_PER_MESSAGE or used + part.size > budget:
            pages.append([])
            used = 0
        pages[-1].append(part)
        used += part.size
    return pages or [[_Part()]]


def _embed(part: _Part) -> discord.Embed:
    embed = discord.Embed(description=part.description or None, colour=COLOUR)
    for field in part.fields:
        embed.add_field(name=field.name, value=field.value, inline=field.inline)
    return embed


def render_messages(reply: Reply) -> list[OutgoingMessage]:
    """Every message needed to show `reply`, in order; each one within Discord's limits."""
    if reply.error:
        return [OutgoingMessage(content=one_line(reply.title))]
    title = clip(reply.title, TITLE_MAX - PAGE_SUFFIX_MAX)
    footer = clip(reply.footer, FOOTER_MAX)
    budget = EMBED_TOTAL_MAX - len(title) - PAGE_SUFFIX_MAX - len(footer)
    room = min(DESCRIPTION_MAX, budget)
    pages = _pages(_parts(reply, room), budget)
    messages = []
    for number, page in enumerate(pages, start=1):
        paged = title if len(pages) == 1 else f"{title} ({number}/{len(pages)})"
        embeds = [_embed(part) for part in page]
        embeds[0].title = paged
        chart = reply.chart_png if number == 1 else None
        if chart is not None:
            embeds[0].set_image(url=f"attachment://{CHART_NAME}")
        if number == len(pages) and footer:
            embeds[-1].set_footer(text=footer)
        messages.append(OutgoingMessage(embeds=tuple(embeds), chart_png=chart))
    return messages
