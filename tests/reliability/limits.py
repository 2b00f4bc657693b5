"""Every way a reply breaks a platform's limits or the one-line error contract, as a list.

A reply is checked as each front-end would send it: Telegram HTML messages (4,096 UTF-16
units after entity parsing, valid HTML, never empty; a chart's caption within 1,024) and
Discord messages (content 2,000; embeds 10 per message, title 256, description 4,096,
footer 2,048, 6,000 in total), using the stand-ins' own checks of what the real servers
refuse.

An error reply ("one-line usage hint") is: `error=True`, no tables, notes or chart, a title
that is one line (no line break of any kind) ending in the command's usage,
"(usage: /name ...)" (a handler may give a more specific usage of its own command), or,
when no command applies, in "try /help"; short enough that
Discord's 2,000-character content limit never clips the hint away, and sent by both
front-ends as exactly one message.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.discord_app.render import OutgoingMessage, render_messages
from bot.telegram.render import render_html
from handlers.registry import APOLOGY
from handlers.reply import Reply
from tests.e2e.discord_standin import message_problems
from tests.e2e.telegram_standin import ApiError, parse_entities, tg_len

TELEGRAM_TEXT = 4096
TELEGRAM_CAPTION = 1024
DISCORD_CONTENT = 2000
HELP_HINT = "try /help"


def telegram_problems(reply: Reply) -> list[str]:
    problems = [f"telegram: {p}" for text in render_html(reply)
                for p in _telegram_text_problems(text, TELEGRAM_TEXT)]
    if reply.chart_png is not None:
        captions = render_html(reply, TELEGRAM_CAPTION)
        if len(captions) == 1:
            problems += [f"telegram caption: {p}"
                         for p in _telegram_text_problems(captions[0], TELEGRAM_CAPTION)]
    return problems


def _telegram_text_problems(text: str, limit: int) -> list[str]:
    if tg_len(text) > limit:
        return [f"{tg_len(text)} UTF-16 units over {limit}"]
    try:
        shown = parse_entities(text, "HTML")
    except ApiError as exc:
        return [exc.description]
    return [] if shown.strip() else ["empty message"]


def discord_payload(message: OutgoingMessage) -> dict[str, Any]:
    """The JSON body discord.py sends for one rendered message."""
    return {"content": message.content, "embeds": [e.to_dict() for e in message.embeds],
            "attachments": [{"filename": "chart.png"}] if message.chart_png else []}


def discord_problems(reply: Reply) -> list[str]:
    return [f"discord: {p}" for m in render_messages(reply)
            for p in message_problems(discord_payload(m))]


def error_problems(reply: Reply, command: str) -> list[str]:
    """How an error reply breaks the one-line contract; `command` is the command's name."""
    title = reply.title
    problems = []
    if reply.tables or reply.notes or reply.chart_png is not None or reply.sources:
        problems.append("an error carries tables, notes, sources or a chart")
    if not title.strip():
        problems.append("empty error")
    if len(title.splitlines()) != 1 or title != " ".join(title.split()):
        problems.append(f"not one line: {title!r}")
    usage = title.rsplit("(usage: ", 1)[-1]
    if not (title.endswith(")") and (usage == f"/{command})" or usage.startswith(
            f"/{command} "))) and not title.endswith(HELP_HINT):
        problems.append(f"no usage hint for /{command}: {title!r}")
    if len(title) > DISCORD_CONTENT:
        problems.append(f"{len(title)} characters: Discord would clip the usage hint")
    telegram = render_html(reply)
    if len(telegram) != 1 or "\n" in telegram[0]:
        problems.append(f"telegram sends it as {len(telegram)} messages / several lines")
    discord = render_messages(reply)
    if len(discord) != 1 or discord[0].content != title:
        problems.append("discord does not send it whole as one message")
    return problems


def reply_problems(reply: Reply, command: str) -> list[str]:
    """Everything wrong with one command's reply (empty when it is fine)."""
    if reply.title == APOLOGY:
        return ["unhandled exception (the generic apology)"]
    problems = telegram_problems(reply) + discord_problems(reply)
    if reply.error:
        problems += error_problems(reply, command)
    return problems


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    """The registry logs every unhandled exception at ERROR: there must be none."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, f"logged at ERROR: {errors[0].getMessage()}"
