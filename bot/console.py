"""The terminal chat: type commands, read plain-text replies."""

from __future__ import annotations

import asyncio
import sys

from bot.app import App
from bot.text import render_text
from handlers.registry import Chat

PROMPT = "flowwatch> "
QUIT = {"/quit", "/exit", "quit", "exit"}


async def ask_once(app: App, text: str) -> tuple[str, bool]:
    """Answer one command: (plain text, is_error)."""
    reply = await app.registry.run_text(app.context(Chat("console", "console")), text)
    return render_text(reply), reply.error


async def run_console(app: App) -> None:
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


def _read_line() -> str | None:
    try:
        if sys.stdin.isatty():
            return input(PROMPT)
        line = sys.stdin.readline()
        return line if line else None
    except EOFError:
        return None
