"""The terminal chat: type commands, read plain-text replies."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.app import App
from bot.text import render_text
from handlers.registry import Chat
from handlers.reply import Reply

PROMPT = "flowwatch> "
QUIT = {"/quit", "/exit", "quit", "exit"}
CHART_DIR = Path("charts-out")


async def ask_once(app: App, text: str) -> tuple[str, bool]:
    """Answer one command: (plain text, is_error)."""
    reply = await app.registry.run_text(app.context(Chat("console", "console")), text)
    answer = render_text(reply)
    if reply.chart_png:
        path = await asyncio.to_thread(save_chart, reply, reply.chart_png)
        answer += f"\nchart: {path}"
    return answer, reply.error


def save_chart(reply: Reply, png: bytes) -> Path:
    """Write a chart under ./charts-out, named after the title and as-of date."""
    slug = re.sub(r"[^a-z0-9]+", "-", f"{reply.title} {reply.asof[:10]}".lower()).strip("-")
    CHART_DIR.mkdir(exist_ok=True)
    path = CHART_DIR / f"{slug}.png"
    path.write_bytes(png)
    return path


async def run_console(app: App, after_each: Callable[[], Awaitable[None]] | None = None
                      ) -> None:
    """The read-answer loop; `after_each` runs after every answer (the alert check)."""
    print(f"flowwatch terminal chat — replay snapshot as of {app.hub.asof}. "
          "Type /help, or /quit to leave.")
    while True:
        line = await asyncio.to_thread(_read_line)
        if line is None or line.strip().lower() in QUIT:
            return
        text = line.strip()
        if not text:
            continue
        if not text.startswith("/"):
            text = "/" + text
        answer, _ = await ask_once(app, text)
        print(answer, flush=True)
        print(flush=True)
        if after_each is not None:
            await after_each()


def _read_line() -> str | None:
    try:
        if sys.stdin.isatty():
            return input(PROMPT)
        line = sys.stdin.readline()
        return line if line else None
    except EOFError:
        return None
