"""The terminal chat: type commands, read plain-text replies.

On a terminal the prompt is prompt_toolkit's: line editing, history (Up/Down, kept across
sessions in HISTORY_FILE when it can be written) and command completion, on the bot's own
event loop, so Ctrl-C or Ctrl-D leave at once. Piped input is read line by line as before.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import WordCompleter
from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from bot.app import App
from bot.text import render_text
from handlers.registry import Chat
from handlers.reply import Reply

PROMPT = "flowwatch> "
QUIT = {"/quit", "/exit", "quit", "exit"}
CHART_DIR = Path("charts-out")
HISTORY_ENV = "FLOWWATCH_HISTORY"  # a file path, or empty for history in memory only
HISTORY_FILE = Path.home() / ".flowwatch_history"
logger = logging.getLogger(__name__)


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


LineReader = Callable[[], Awaitable[str | None]]


async def run_console(app: App, after_each: Callable[[], Awaitable[None]] | None = None,
                      read_line: LineReader | None = None) -> None:
    """The read-answer loop; `after_each` runs after every answer (the alert check)."""
    print(f"flowwatch terminal chat — replay snapshot as of {app.hub.asof}. "
          "Type /help, or /quit to leave.", flush=True)
    read = read_line or terminal_reader(f"/{s.name}" for s in app.registry)
    while True:
        try:
            line = await read()
        except KeyboardInterrupt:  # Ctrl-C at the prompt: leave now, not after Enter
            return
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


def terminal_reader(commands: Iterable[str]) -> LineReader:
    """prompt_toolkit's prompt on a terminal; plain line reads for piped input."""
    if not sys.stdin.isatty():
        return _piped_line
    session: PromptSession[str] = PromptSession(
        history=_history(), completer=WordCompleter(sorted(commands), sentence=True))

    async def read() -> str | None:
        try:
            return await session.prompt_async(PROMPT)
        except EOFError:  # Ctrl-D
            return None

    return read


def _history() -> History:
    """History kept in a file across sessions (FLOWWATCH_HISTORY, default ~/.flowwatch_history);
    in memory when that cannot be written."""
    where = os.environ.get(HISTORY_ENV, str(HISTORY_FILE))
    if not where:
        return InMemoryHistory()
    path = Path(where).expanduser()
    try:
        path.touch(exist_ok=True)
    except OSError as exc:
        logger.warning("console history kept in memory: %s: %s", path, exc.strerror)
        return InMemoryHistory()
    return FileHistory(str(path))


async def _piped_line() -> str | None:
    line = await asyncio.to_thread(sys.stdin.readline)
    return line if line else None
